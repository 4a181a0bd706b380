import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientLike } from './dynamodb-client.js';
import { type CapacityMeter, METERED_OPERATIONS } from './capacity.js';
import { withinBound } from './bounded-call.js';
import { CallAbandonedError, OperationTimeoutError, ThrottledError } from './errors.js';
import { type DynamoDBCallTraceMessage, type OperationObserver, dynamodbChannel, traced } from './trace-points.js';

export const BATCH_TIMEOUT_FACTOR = 5;
const MANY_ITEM_OPERATIONS: ReadonlySet<string> = new Set(['BatchGetItem', 'BatchWriteItem', 'Scan']);
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * Who is told of each call: filled in by the cache that owns the store (its name) and by the
 * OpenTelemetry bridge (a span and a latency histogram per call). Empty, a call costs one check.
 */
export interface SendHooks {
  cacheName?: string;
  observer?: OperationObserver<DynamoDBCallTraceMessage>;
}

/** What the store's DynamoDB helpers need of a client: only `send`. */
export type CommandSender = Pick<DynamoDBClient, 'send'>;

/** The store's own sender: it can also abandon every call it has in flight, when the store disconnects. */
export interface TimedSender extends CommandSender {
  abandonInFlight(): void;
}

/**
 * Bounds every call as a whole by `timeoutMs` (credentials, middleware and socket: see
 * `withinBound`), so that neither a socket that accepts and never answers nor a credentials
 * provider that never resolves can hold a request: the SDK's own timeouts are off by default, and a
 * client the app passes in is not ours to reconfigure. A call past its bound rejects with an
 * OperationTimeoutError that names the table and the command. A batch or scan call moves up to
 * 16 MB (25 items of 400 KB written, or a 16 MB page read), which takes seconds where one item
 * takes milliseconds: it gets `BATCH_TIMEOUT_FACTOR` times the bound.
 *
 * With a meter, every data call asks DynamoDB what it consumed (the answer costs no capacity) and
 * the meter adds it up.
 */
export function timedSender(
  client: DynamoDBClientLike,
  tableName: string,
  timeoutMs: number,
  meter?: CapacityMeter,
  hooks: SendHooks = {},
): TimedSender {
  // Replaced once aborted, so that a store used again after `disconnect` (a cache that is) sends again.
  let inFlight = new AbortController();
  const send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const operation = command.constructor.name.replace(/Command$/, '');
    const message = () => ({ cache: hooks.cacheName, operation, tableName });
    return traced(hooks.observer, dynamodbChannel, message, () => sendTimed(command, operation));
  };
  const sendTimed = async (command: { input: Record<string, unknown> }, operation: string) => {
    const bound = MANY_ITEM_OPERATIONS.has(operation) ? timeoutMs * BATCH_TIMEOUT_FACTOR : timeoutMs;
    const metered = meter !== undefined && METERED_OPERATIONS.has(operation);
    if (metered) command.input.ReturnConsumedCapacity ??= 'TOTAL';
    try {
      const output = await withinBound(
        bound,
        (signal) => client.send(command as never, { abortSignal: signal }),
        () => new OperationTimeoutError(tableName, operation, bound),
        inFlight.signal,
      );
      if (metered) meter.record(operation, tableName, (output as { ConsumedCapacity?: never }).ConsumedCapacity);
      return output;
    } catch (error) {
      // The client has already retried a throttled call with backoff; what reaches here is its last answer.
      if (THROTTLING_ERRORS.has((error as Error).name)) {
        throw new ThrottledError(tableName, operation, (error as { $metadata?: { attempts?: number } }).$metadata?.attempts, {
          cause: error,
        });
      }
      throw error;
    }
  };
  const abandonInFlight = () => {
    inFlight.abort(new CallAbandonedError(tableName));
    inFlight = new AbortController();
  };
  return { send, abandonInFlight } as unknown as TimedSender;
}

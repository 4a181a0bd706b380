import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientLike } from './dynamodb-client.js';
import { type CapacityMeter, METERED_OPERATIONS } from './capacity.js';
import { OperationTimeoutError, ThrottledError } from './errors.js';

export const BATCH_TIMEOUT_FACTOR = 5;
const MANY_ITEM_OPERATIONS: ReadonlySet<string> = new Set(['BatchGetItem', 'BatchWriteItem', 'Scan']);
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/** What the store's DynamoDB helpers need of a client: only `send`. */
export type CommandSender = Pick<DynamoDBClient, 'send'>;

/**
 * Bounds every call by `timeoutMs` with an abort signal, so that a socket that accepts and never
 * answers cannot hold a request: the SDK's own timeouts are off by default, and a client the app
 * passes in is not ours to reconfigure. A call past its bound rejects with an OperationTimeoutError
 * that names the table and the command. A batch or scan call moves up to 16 MB (25 items of 400 KB
 * written, or a 16 MB page read), which takes seconds where one item takes milliseconds: it gets
 * `BATCH_TIMEOUT_FACTOR` times the bound.
 *
 * With a meter, every data call asks DynamoDB what it consumed (the answer costs no capacity) and
 * the meter adds it up.
 */
export function timedSender(client: DynamoDBClientLike, tableName: string, timeoutMs: number, meter?: CapacityMeter): CommandSender {
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const operation = command.constructor.name.replace(/Command$/, '');
    const bound = MANY_ITEM_OPERATIONS.has(operation) ? timeoutMs * BATCH_TIMEOUT_FACTOR : timeoutMs;
    const metered = meter !== undefined && METERED_OPERATIONS.has(operation);
    if (metered) command.input.ReturnConsumedCapacity ??= 'TOTAL';
    const signal = AbortSignal.timeout(bound);
    try {
      const output = await client.send(command as never, { abortSignal: signal });
      if (metered) meter.record(operation, tableName, (output as { ConsumedCapacity?: never }).ConsumedCapacity);
      return output;
    } catch (error) {
      if (signal.aborted) throw new OperationTimeoutError(tableName, operation, bound, { cause: error });
      // The client has already retried a throttled call with backoff; what reaches here is its last answer.
      if (THROTTLING_ERRORS.has((error as Error).name)) {
        throw new ThrottledError(tableName, operation, (error as { $metadata?: { attempts?: number } }).$metadata?.attempts, {
          cause: error,
        });
      }
      throw error;
    }
  };
  return { send } as unknown as CommandSender;
}

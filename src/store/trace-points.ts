import { tracingChannel } from 'node:diagnostics_channel';

/**
 * The operations this library traces, as `node:diagnostics_channel` tracing channels (so that an
 * APM agent can subscribe without OpenTelemetry) and as an observer slot the OpenTelemetry bridge
 * fills. This file imports nothing of the library: the store and the cache publish through it, and
 * the bridge above them subscribes.
 */

/** A get-or-set miss running its factory, or a background refresh running it. */
export interface FactoryTraceMessage {
  /** The cache's name. */
  readonly cache: string;
  /** The cache key: channel subscribers run in this process; the span gets it only with `recordKeys`. */
  readonly key: string;
  /** True for an eager or wrap refresh run after the caller already had its value. */
  readonly background: boolean;
}

/** One call to DynamoDB, after the store's own retries: what the SDK's `send` was asked. */
export interface DynamoDBCallTraceMessage {
  /** The cache whose store sent it; undefined for a store no cache owns. */
  readonly cache: string | undefined;
  /** The API operation: `GetItem`, `BatchWriteItem`, … */
  readonly operation: string;
  /** The table the call was sent to. */
  readonly tableName: string;
}

/**
 * What this library uses of a Node `TracingChannel`, typed here rather than by @types/node: its type
 * parameters changed order in @types/node 26 (`<Context, Store>`, was `<Store, Context>`), so a
 * declaration naming `TracingChannel<…>` fails an app's type-check (TS2344, skipLibCheck off) under
 * one of them. The shipped .d.ts names only this, and the channels are made without type arguments,
 * which either order accepts.
 */
export interface TraceChannel<M extends object> {
  readonly hasSubscribers: boolean;
  tracePromise<R>(run: () => Promise<R>, context: M): Promise<R>;
}

/** A message as a tracing channel's subscribers see it: Node adds the error or the result. */
type Traced<M> = M & { error?: unknown; result?: unknown };

/** `tracing:nest-dynamo-cache:factory:start`, `…:asyncEnd`, `…:error`: see Node's TracingChannel. */
export const factoryChannel: TraceChannel<Traced<FactoryTraceMessage>> = tracingChannel('nest-dynamo-cache:factory');
export const dynamodbChannel: TraceChannel<Traced<DynamoDBCallTraceMessage>> = tracingChannel('nest-dynamo-cache:dynamodb');

/** Wraps an operation (a span around it, a duration recorded after it), as the OpenTelemetry bridge does. */
export interface OperationObserver<M> {
  observe<R>(message: M, run: () => Promise<R>): Promise<R>;
}

/**
 * Runs `run` traced by the observer and the channel, whichever is there. With neither (the default),
 * it is `run()` and nothing is allocated: `message` is only called when someone listens.
 */
export function traced<M extends object, R>(
  observer: OperationObserver<M> | undefined,
  channel: TraceChannel<M>,
  message: () => M,
  run: () => Promise<R>,
): Promise<R> {
  const heard = channel.hasSubscribers;
  if (observer === undefined && !heard) return run();
  const context = message();
  const published = heard ? () => channel.tracePromise(run, context) : run;
  return observer === undefined ? published() : observer.observe(context, published);
}

import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { from, lastValueFrom, type Observable, of, toArray } from 'rxjs';
import { describe } from '../burst-warning.js';
import { checkedKey } from '../cache-calls.js';
import { type CallKey, type ContextCalls, unstorableValue } from '../contexts/context-calls.js';
import { encodedValue } from '../contexts/default-key.js';
import { bodyForHit } from '../http/cached-response.js';
import type { CacheableOptions } from '../interfaces/cacheable-options.js';
import { isEventHandler, PATTERN_METADATA } from './pattern-metadata.js';

/** A handler's Observable that emitted other than one value: answered as it came, never stored. */
class Emissions {
  constructor(readonly values: readonly unknown[]) {}
}

/**
 * Message handlers (`context.getType() === 'rpc'`, any transport): a `@MessagePattern` handler's
 * answer is cached, keyed by the pattern and the message's data; an `@EventPattern` handler's never
 * is (an event has no answer, and each one must reach its handler).
 */
export const messageCalls: ContextCalls = {
  keyOf(options: CacheableOptions, context: ExecutionContext): CallKey {
    if (isEventHandler(context.getHandler())) return { bypass: 'an event handler', warn: 'never' };
    const rpc = context.switchToRpc();
    try {
      return { key: messageKey(options, context.getHandler(), rpc.getData(), rpc.getContext()), headers: {} };
    } catch (error) {
      return { bypass: `its key could not be made: ${describe(error)}`, warn: 'per burst' };
    }
  },
  // A handler's Observable may answer with several messages: only a single answer is stored.
  run: async (next: CallHandler) => {
    const values = await lastValueFrom(next.handle().pipe(toArray()));
    return values.length === 1 ? values[0] : new Emissions(values);
  },
  unstorable: (value: unknown) => {
    if (!(value instanceof Emissions)) return unstorableValue(value);
    const count = value.values.length;
    return { reason: `it answered with ${count} values; only a single answer is cached`, deliberate: count === 0 };
  },
  answer: (value: unknown): Observable<unknown> => (value instanceof Emissions ? from(value.values) : of(bodyForHit(value, false))),
};

/** The key given (a function of the data and the transport's context), or `message <pattern> <data>`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function messageKey(options: CacheableOptions, handler: Function, data: unknown, context: unknown): string | Promise<string> {
  if (typeof options.key === 'string') return options.key;
  if (typeof options.key === 'function') return checkedKey(options.key(data, context));
  return `message ${encodedValue(patternOf(handler, context), 'its pattern')} ${encodedValue(data, 'its data')}`;
}

// The transports' contexts name the pattern a message came by: TCP and RabbitMQ getPattern, NATS getSubject, Kafka and MQTT getTopic, Redis getChannel.
const PATTERN_GETTERS = ['getPattern', 'getSubject', 'getTopic', 'getChannel'] as const;

/** The pattern a message came by: the handler's own, or of a handler of several, the one its transport names. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function patternOf(handler: Function, context: unknown): unknown {
  const patterns = (Reflect.getMetadata(PATTERN_METADATA, handler) ?? []) as unknown[];
  if (patterns.length === 1) return patterns[0];
  for (const getter of PATTERN_GETTERS) {
    const get = (context as Record<string, unknown> | undefined)?.[getter];
    if (typeof get === 'function') return (get as () => unknown).call(context);
  }
  throw new TypeError(`it handles ${patterns.length} patterns and its transport's context does not say which one this message came by`);
}

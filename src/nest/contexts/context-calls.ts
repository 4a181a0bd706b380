import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { type Unstorable, unstorableReason } from '../http/cached-response.js';
import type { CacheableOptions, CacheableRequest } from '../interfaces/cacheable-options.js';

/** The entry a call is cached under (with the headers `vary` reads), or why it is answered without the cache. */
export type CallKey =
  | { readonly key: string | Promise<string>; readonly headers: CacheableRequest['headers']; readonly bypass?: undefined }
  | {
      readonly bypass: string;
      /**
       * Whether a warning says so: `once` per handler for a fact of its set-up, `per burst` for what
       * may change from call to call (a key that could not be made), `never` where bypassing is the design.
       */
      readonly warn: 'once' | 'per burst' | 'never';
    };

/**
 * How one kind of Nest context other than HTTP is cached (GraphQL resolvers, message handlers):
 * the key of a call, the handler's value as stored, and that value as the caller expects it back.
 */
export interface ContextCalls {
  keyOf(options: CacheableOptions, context: ExecutionContext): CallKey;
  /** Runs the handler (`next.handle()`) to its value, as the cache stores it. */
  run(next: CallHandler): Promise<unknown>;
  /** Why a value must not be stored, if it must not. */
  unstorable(value: unknown): Unstorable | undefined;
  /** A value, stored or just made, as the handler's caller receives it. */
  answer(value: unknown): Observable<unknown>;
}

/** A resolver's or handler's value judged as a route's body is (no status, no headers): plain data only, and a value. */
export const unstorableValue = (value: unknown): Unstorable | undefined => unstorableReason(value, 200, [200], () => undefined);

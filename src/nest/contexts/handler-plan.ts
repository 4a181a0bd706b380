import type { GetOrSetOptions } from '../../cache/cache-options.js';
import { CACHE_EVICT_METADATA, CACHEABLE_METADATA, NO_CACHE_METADATA } from '../dynamo-cache.constants.js';
import type { CacheableOptions, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { methodGetOrSetOptions } from '../methods/cached-method.js';

/**
 * What a GraphQL resolver or a message handler does with the cache, worked out once per handler
 * from its decorators (the method's options over its class's), as a route's plan is.
 */
export interface HandlerPlan {
  /** `Class.method`, as warnings name it. */
  readonly where: string;
  readonly cacheable?: CacheableOptions;
  readonly evict?: CacheEvictOptions;
  readonly cacheName?: string;
  readonly getOrSet?: GetOrSetOptions;
}

/** The handler's plan, or null when the cache has no part in it. */
// Nest's ExecutionContext hands out the class and handler as `Function`.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function handlerPlan(owner: Function, handler: Function): HandlerPlan | null {
  const onClass = Reflect.getMetadata(CACHEABLE_METADATA, owner) as CacheableOptions | undefined;
  const onMethod = Reflect.getMetadata(CACHEABLE_METADATA, handler) as CacheableOptions | undefined;
  const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, handler) as CacheEvictOptions | undefined;
  const where = `${owner.name}.${handler.name}`;
  if (evict !== undefined) return { where, evict, cacheName: evict.cache ?? onMethod?.cache ?? onClass?.cache };
  if ((onClass === undefined && onMethod === undefined) || Reflect.getMetadata(NO_CACHE_METADATA, handler) === true) return null;
  const cacheable = { ...onClass, ...onMethod };
  return { where, cacheable, cacheName: cacheable.cache, getOrSet: methodGetOrSetOptions(cacheable) };
}

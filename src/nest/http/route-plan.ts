import { RESPONSE_PASSTHROUGH_METADATA, ROUTE_ARGS_METADATA, SSE_METADATA } from '@nestjs/common/constants.js';
import type { GetOrSetOptions } from '../../cache/cache-options.js';
import type { CachedResponse } from './cached-response.js';
import { CACHE_EVICT_METADATA, CACHEABLE_METADATA, NO_CACHE_METADATA } from '../dynamo-cache.constants.js';
import { getOrSetOptionsOf } from '../get-or-set-options.js';
import type { CacheableOptions, CacheEvictOptions } from '../interfaces/cacheable-options.js';

/** What a route does with the cache, worked out once per route from its decorators. */
export interface RoutePlan {
  readonly where: string;
  readonly cacheable?: CacheableOptions;
  readonly evict?: CacheEvictOptions;
  /** The cache the route's entries live in, resolved on first use (named caches register as the app starts). */
  readonly cacheName?: string;
  readonly statuses: readonly number[];
  /** The route's get-or-set options (fail-safe, timeouts…), without those that only the route reads. */
  readonly getOrSet?: GetOrSetOptions<CachedResponse>;
}

// Route parameter types of @Res() and @Next() in Nest's RouteParamtypes: the handler writes the response itself.
const RESPONSE_PARAM = 1;
const NEXT_PARAM = 2;

/**
 * The route's decorators merged (the method's options over the controller's), or null when the
 * cache has no part in it. Made at start-up for every route (the explorer checks their caches), so
 * that an option found wrong here fails the deploy, naming the route.
 */
// Nest's ExecutionContext hands out the controller and handler as `Function`.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function routePlan(controller: Function, handler: Function): RoutePlan | null {
  const onClass = Reflect.getMetadata(CACHEABLE_METADATA, controller) as CacheableOptions | undefined;
  const onMethod = Reflect.getMetadata(CACHEABLE_METADATA, handler) as CacheableOptions | undefined;
  const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, handler) as CacheEvictOptions | undefined;
  const where = `${controller.name}.${handler.name}`;
  const cacheName = onMethod?.cache ?? onClass?.cache;
  if (evict !== undefined) return { where, evict, cacheName, statuses: [] };
  if (onClass === undefined && onMethod === undefined) return null;
  if (Reflect.getMetadata(NO_CACHE_METADATA, handler) === true) return null;
  // A handler that writes the response itself (@Res, @Next) or streams events (@Sse) has no value to store.
  if (Reflect.getMetadata(SSE_METADATA, handler)) return null;
  if (writesResponse(controller, handler)) return null;
  const cacheable = { ...onClass, ...onMethod };
  return { where, cacheable, cacheName, statuses: cacheable.statuses ?? [200], getOrSet: getOrSetOptions(cacheable) };
}

/**
 * Whether the handler sends the response itself, by Nest's own rule (RouterExecutionContext's
 * isResponseHandled): @Res() or @Next() without `passthrough`. A passthrough handler returns its
 * value for Nest to send, having set a header or a status on the way: that value is stored.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
function writesResponse(controller: Function, handler: Function): boolean {
  const params = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<string, unknown>;
  const takesResponse = Object.keys(params).some((param) => [RESPONSE_PARAM, NEXT_PARAM].includes(Number(param.split(':')[0])));
  return takesResponse && Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, handler.name) !== true;
}

/** A stored answer's own ttl, which eager refresh measures a hit against (the cache's default is not the route's). */
const answerTtl = (answer: CachedResponse) => (answer.expiresAt === undefined ? 0 : answer.expiresAt - answer.storedAt);

function getOrSetOptions(options: CacheableOptions): GetOrSetOptions<CachedResponse> {
  return { ...getOrSetOptionsOf(options), ttl: answerTtl };
}

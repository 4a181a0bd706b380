import { randomBytes } from 'node:crypto';
import type { DynamoCache } from '../../cache/dynamo-cache.js';
import { checkedKey } from '../cache-calls.js';
import type { CacheableOptions, CacheableRequest } from '../interfaces/cacheable-options.js';
import type { CachedResponse } from './cached-response.js';
import { defaultRouteKey, varySuffix } from './http-cache-key.js';

type Headers = CacheableRequest['headers'];

/** The route's key: a string at once unless the key function is async. */
export function routeKeyOf(
  options: CacheableOptions,
  request: CacheableRequest,
  method: string,
  url: () => string,
): string | Promise<string> {
  if (options.key === undefined) return defaultRouteKey(method, url());
  if (typeof options.key === 'string') return options.key;
  return checkedKey(options.key(request));
}

/**
 * The key of the request's variant of a route that varies by headers. A table without a sort key
 * cannot list the variants of a key (one per value of the `vary` headers), so the key itself holds a
 * generation that every variant's key contains: evicting the key starts a new generation, and old
 * variants are never read again (their TTL removes them).
 */
export async function variantKey(cache: DynamoCache, base: string, options: CacheableOptions, headers: Headers): Promise<string> {
  const routeTtl = typeof options.ttl === 'number' ? options.ttl : (cache.forRoutes().defaultTtlMs ?? 0);
  // Twice the entries' ttl: a generation that expired early would only cost a recomputation.
  const generation = await cache.getOrSet<unknown>(base, () => randomBytes(6).toString('base64url'), { ttl: routeTtl * 2 });
  return variantOf(base, typeof generation === 'string' ? generation : '0', headers, options.vary!);
}

/** The stored answer this instance holds in memory, fresh, or undefined: then the slow path asks DynamoDB. */
export function answerInMemory(cache: DynamoCache, base: string, options: CacheableOptions, headers: Headers): CachedResponse | undefined {
  const route = cache.forRoutes();
  let key = base;
  if (options.vary !== undefined && options.vary.length > 0) {
    const generation = route.peekHit(base);
    if (typeof generation !== 'string') return undefined;
    key = variantOf(base, generation, headers, options.vary);
  }
  const stored = route.peekHit<CachedResponse>(key);
  return typeof stored === 'object' && stored !== null && typeof stored.storedAt === 'number' ? stored : undefined;
}

function variantOf(base: string, generation: string, headers: Headers, vary: readonly string[]): string {
  return `${base} @${generation}${varySuffix(headers, vary)}`;
}

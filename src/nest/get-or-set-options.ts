import type { GetOrSetOptions } from '../cache/cache-options.js';
import type { CacheableOptions } from './interfaces/cacheable-options.js';

/**
 * `@Cacheable`'s options that get-or-set reads (fail-safe, timeouts, eager refresh, jitter, lock),
 * for routes and provider methods alike: one list of what only the decorator reads, so that an
 * option added to it is left out of both. The ttl is each caller's to give (a route's is its
 * answer's own), since eager refresh measures a hit against it.
 */
export function getOrSetOptionsOf(options: CacheableOptions): Omit<GetOrSetOptions, 'ttl'> {
  const {
    cache: _cache,
    ttl: _ttl,
    key: _key,
    vary: _vary,
    shared: _shared,
    statuses: _statuses,
    credentialHeaders: _credentials,
    skipIf: _skipIf,
    tags,
    ...getOrSet
  } = options;
  // A tags function is called by the route or method with what it is a function of.
  return typeof tags === 'function' || tags === undefined ? getOrSet : { ...getOrSet, tags };
}

/** Injects the default DynamoCache: `constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}` */
export const CACHE = 'NEST_DYNAMO_CACHE';

/**
 * `@nestjs/cache-manager`'s token (the same string), provided as the default cache, so that code
 * written for `CacheModule` (`@Inject(CACHE_MANAGER) cache: Cache`) keeps working unchanged.
 */
export const CACHE_MANAGER = 'CACHE_MANAGER';

/** The injection token of a named cache (`CACHE` for the default one), for `inject: [...]` and tests. */
export function getCacheToken(name?: string): string {
  return name === undefined || name === 'default' ? CACHE : `${CACHE}:${name}`;
}

/** Where `@Cacheable()` and `@CacheEvict()` keep their options, on a class or a method. */
export const CACHEABLE_METADATA = 'nest-dynamo-cache:cacheable';
export const CACHE_EVICT_METADATA = 'nest-dynamo-cache:cache-evict';
export const NO_CACHE_METADATA = 'nest-dynamo-cache:no-cache';

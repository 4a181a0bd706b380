import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CACHE_NAME, resolveCallOptions } from '../cache/cache-options.js';
import { InvalidOptionError } from '../store/errors.js';
import { checkTags } from '../store/tags.js';
import { isBoolean, isDuration, optional } from '../store/store-options.js';
import { CACHE_EVICT_METADATA, CACHEABLE_METADATA, NO_CACHE_METADATA } from './dynamo-cache.constants.js';
import { DynamoCacheInterceptor } from './http/http-cache.interceptor.js';
import type { CacheableOptions, CacheEvictOptions } from './interfaces/cacheable-options.js';

/**
 * Caches what a route (or every GET route of a controller) answers, or what a provider's method
 * returns, through get-or-set. On a route it applies DynamoCacheInterceptor itself, so there is
 * nothing to register; on a provider the method is wrapped at start-up.
 */
export function Cacheable(options: CacheableOptions = {}): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(CACHEABLE_METADATA, checkCacheableOptions(options)), UseInterceptors(DynamoCacheInterceptor));
}

/** Leaves one route of a controller marked `@Cacheable()` out of the cache: it always runs its handler. */
export function NoCache(): MethodDecorator {
  return SetMetadata(NO_CACHE_METADATA, true);
}

/** After the route or method succeeds, deletes `keys` (or, with `allEntries`, every entry) of its cache. */
export function CacheEvict(options: CacheEvictOptions): MethodDecorator {
  return applyDecorators(SetMetadata(CACHE_EVICT_METADATA, checkCacheEvictOptions(options)), UseInterceptors(DynamoCacheInterceptor));
}

// Node lowercases incoming header names; so do these lists, so that 'X-Api-Key' matches.
const lowercased = (names: readonly string[] | undefined) => names && Object.freeze(names.map((name) => name.toLowerCase()));
const isCacheName = (value: unknown) => typeof value === 'string' && CACHE_NAME.test(value);
const isKey = (value: unknown) => (typeof value === 'string' && value.length > 0) || typeof value === 'function';
const isHeaderList = (value: unknown) =>
  Array.isArray(value) && value.every((name) => typeof name === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name));
const isSuccessList = (value: unknown) =>
  Array.isArray(value) && value.length > 0 && value.every((status) => Number.isInteger(status) && status >= 200 && status <= 299);

/** Checked where the decorator is written, so that a mistake fails when the class loads and names itself. */
export function checkCacheableOptions(options: CacheableOptions): CacheableOptions {
  return named('@Cacheable', () => {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object.');
    const raw = options as Record<string, unknown>;
    optional(raw, 'cache', isCacheName, 'the name of a cache registered with forFeature');
    optional(raw, 'ttl', (value) => isDuration(value) || typeof value === 'function', 'a duration in ms >= 0 or a function of the value');
    optional(raw, 'key', isKey, 'a non-empty string or a function');
    const vary = optional<string[]>(raw, 'vary', isHeaderList, 'a list of header names');
    const credentialHeaders = optional<string[]>(raw, 'credentialHeaders', isHeaderList, 'a list of header names');
    optional(raw, 'shared', isBoolean, 'true or false');
    optional(raw, 'statuses', isSuccessList, 'a non-empty list of 2xx statuses');
    optional(raw, 'skipIf', (value) => typeof value === 'function', 'a function of the ExecutionContext');
    optional(raw, 'tags', isTags, 'a list of tags or a function');
    checkTagList(raw.tags);
    resolveCallOptions({ ...raw, tags: undefined });
    return Object.freeze({ ...options, vary: lowercased(vary), credentialHeaders: lowercased(credentialHeaders) });
  });
}

export function checkCacheEvictOptions(options: CacheEvictOptions): CacheEvictOptions {
  return named('@CacheEvict', () => {
    if (options === null || typeof options !== 'object')
      throw new InvalidOptionError('options', 'must be { keys } or { allEntries: true }.');
    const raw = options as Record<string, unknown>;
    optional(raw, 'cache', isCacheName, 'the name of a cache registered with forFeature');
    const keys = optional(
      raw,
      'keys',
      (value) => typeof value === 'function' || (Array.isArray(value) && value.every((key) => typeof key === 'string' && key.length > 0)),
      'a list of non-empty keys or a function',
    );
    const allEntries = optional(raw, 'allEntries', isBoolean, 'true or false');
    const tags = optional(raw, 'tags', isTags, 'a list of tags or a function');
    checkTagList(tags);
    if (keys === undefined && tags === undefined && allEntries !== true)
      throw new InvalidOptionError('keys', 'tags or allEntries: true is needed: there is nothing to evict.');
    return Object.freeze({ ...options });
  });
}

/** A list of tags is checked where it is written, as an option: the same rules as a write's tags. */
function checkTagList(tags: unknown): void {
  if (!Array.isArray(tags)) return;
  try {
    checkTags(tags, 'its tags');
  } catch (error) {
    throw new InvalidOptionError('tags', (error as Error).message.replace(/^its tags: /, ''));
  }
}

const isTags = (value: unknown) => typeof value === 'function' || (Array.isArray(value) && value.every((tag) => typeof tag === 'string'));

/** `option "ttl"` becomes `option "@Cacheable ttl"`, so that the message says which decorator is wrong. */
function named<T>(decorator: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InvalidOptionError)
      throw new InvalidOptionError(`${decorator} ${error.option}`, error.message.replace(/^.*?" /, ''));
    throw error;
  }
}

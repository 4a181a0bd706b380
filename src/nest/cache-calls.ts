import type { DynamoCache } from '../cache/dynamo-cache.js';
import { describe } from './burst-warning.js';
import type { CacheableOptions, CacheEvictOptions } from './interfaces/cacheable-options.js';

/**
 * Wraps an error the route's handler or the cached method threw, so that it reaches its caller as
 * it is (`error`), never mistaken for a cache failure. It is an Error that names the route or
 * method, since the cache still reports it when fail-safe answers in its place (or a background
 * refresh fails): `cache:error` listeners and the logger then say what failed, not "[object Object]".
 */
export class CallerFailure extends Error {
  /** Always `'CallerFailure'`: branch on it without importing the class (it survives bundling and a second copy of the package). */
  override readonly name = 'CallerFailure';

  constructor(
    /** The route or method that threw (`GET /weather/:city`, `Weather.forecast`). */
    readonly where: string,
    /** What the handler or method threw, as it threw it (also the `cause`). */
    readonly error: unknown,
  ) {
    super(`${where} failed (its own error, not the cache's): ${describe(error)}`, { cause: error });
  }
}

/**
 * The tags `@Cacheable` gives an answer: its function's result (called with `self` and `args`) or its
 * list; a TypeError that says what the function gave instead of a list of strings.
 */
export function tagsFor(tags: CacheableOptions['tags'], self: unknown, args: unknown[]): readonly string[] | undefined {
  if (typeof tags !== 'function') return undefined;
  const made: unknown = tags.apply(self, args);
  if (!Array.isArray(made) || !made.every((tag) => typeof tag === 'string'))
    throw new TypeError(`its tags function returned ${JSON.stringify(made) ?? String(made)}, not a list of strings`);
  return made as string[];
}

/** A key function's result, or a TypeError that says what it returned instead. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError(`its key function returned ${JSON.stringify(key) ?? String(key)}, not a non-empty string`);
  return key;
}

/** `key` as it came from a key function: a string at once, or a promise of one when the function is async. */
export function checkedKey(key: unknown): string | Promise<string> {
  return typeof (key as PromiseLike<unknown>)?.then === 'function' ? Promise.resolve(key).then(checkKey) : checkKey(key);
}

/**
 * What `@CacheEvict` does, for routes (its keys function gets the request) and provider methods
 * (the method's arguments, with the provider as `this`): clear the cache, delete the keys, or both.
 */
export async function evictEntries(cache: DynamoCache, options: CacheEvictOptions, self: unknown, args: unknown[]): Promise<void> {
  if (options.allEntries) await cache.clear();
  if (options.tags !== undefined) {
    const tags = typeof options.tags === 'function' ? await options.tags.apply(self, args) : options.tags;
    if (!Array.isArray(tags)) throw new TypeError(`its tags function returned ${JSON.stringify(tags) ?? String(tags)}, not a list of tags`);
    if (tags.length > 0) await cache.deleteByTag(tags);
  }
  if (options.keys === undefined) return;
  const keys = typeof options.keys === 'function' ? await options.keys.apply(self, args) : options.keys;
  if (!Array.isArray(keys)) throw new TypeError(`its keys function returned ${JSON.stringify(keys) ?? String(keys)}, not a list of keys`);
  if (keys.length > 0) await cache.mdel([...keys]);
}

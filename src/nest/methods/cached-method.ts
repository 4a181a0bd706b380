import type { GetOrSetOptions } from '../../cache/cache-options.js';
import type { DynamoCache } from '../../cache/dynamo-cache.js';
import type { FactoryContext } from '../../cache/factory-run.js';
import { type BurstWarning, describe } from '../burst-warning.js';
import { stamp } from '../../store/tags.js';
import { CallerFailure, checkedKey, evictEntries, tagsFor } from '../cache-calls.js';
import { getOrSetOptionsOf } from '../get-or-set-options.js';
import { entryTtl } from '../entry-ttl.js';
import type { Unstorable } from '../http/cached-response.js';
import type { CacheableOptions, CacheEvictOptions } from '../interfaces/cacheable-options.js';
import { argumentsKey } from './method-key.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

// Marks a method already wrapped, so that a provider exported to several modules is wrapped once.
const WRAPPED = Symbol('nest-dynamo-cache:wrapped');

export const isWrapped = (method: unknown) => typeof method === 'function' && WRAPPED in method;

export interface MethodSite {
  readonly where: string;
  readonly cache: DynamoCache;
  readonly warning: BurstWarning;
  /** Why a value must not be stored, if it must not (resolvers and message handlers: plain data only, as routes). */
  readonly unstorable?: (value: unknown) => Unstorable | undefined;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> => typeof (value as PromiseLike<unknown>)?.then === 'function';
const AsyncFunction = (async () => undefined).constructor;

/**
 * A provider method cached through get-or-set. An `async` method (or one whose first call returns a
 * promise) is cached in both tiers, with stampede protection. A method that returns its value
 * synchronously keeps its signature: it is answered from this instance's memory when that holds
 * the key, and otherwise runs and stores its value in the background, since DynamoDB cannot be awaited.
 * A key that cannot be made, or a cache that fails, never fails the call: the method runs uncached.
 */
export function cachedMethod(original: Method, options: CacheableOptions, site: MethodSite): Method {
  const getOrSetOptions = methodGetOrSetOptions(options);
  let returnsPromise: boolean | undefined = original instanceof AsyncFunction ? true : undefined;

  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let key: string | Promise<string>;
    try {
      key = methodKey(options, site.where, this, args);
    } catch (error) {
      site.warning.warn(site.where, `called without the cache, its key could not be made: ${describe(error)}`);
      return original.apply(this, args);
    }
    if (returnsPromise === true) return cachedAsync(original, this, args, key, options, getOrSetOptions, site);
    if (returnsPromise === false && typeof key === 'string') return cachedSync(original, this, args, key, options, site);
    const startedAt = stamp();
    const result = original.apply(this, args);
    returnsPromise = isThenable(result);
    if (returnsPromise) {
      // A hit in DynamoDB leaves this promise unused: its rejection must not go unhandled.
      (result as PromiseLike<unknown>).then(undefined, () => undefined);
      return cachedAsync(() => result, this, args, key, options, getOrSetOptions, site);
    }
    if (typeof key === 'string') storeInBackground(key, result, this, args, options, site, startedAt);
    return result;
  };
  return Object.assign(wrapped, { [WRAPPED]: true });
}

/**
 * get-or-set's options for a method's calls. The factory sets each value's ttl and tags by the rule
 * sync methods follow too (storedAs); get-or-set still reads a valid ttl for eager refresh.
 */
export function methodGetOrSetOptions(options: CacheableOptions): GetOrSetOptions {
  const { ttl } = options;
  const { tags: _tags, ...shared } = getOrSetOptionsOf(options);
  return {
    ...shared,
    ...(ttl !== undefined && { ttl: typeof ttl === 'number' ? ttl : (value: unknown) => entryTtl(ttl, value).ttl ?? 0 }),
  };
}

/**
 * One call through get-or-set under `key`: `run` is the factory, its value stored by the method's
 * rule (storedAs), its own error rethrown as it is; a failing cache answers from `run`, with a warning.
 */
export async function cachedAsync(
  run: Method,
  self: unknown,
  args: unknown[],
  key: string | Promise<string>,
  options: CacheableOptions,
  getOrSetOptions: GetOrSetOptions,
  site: MethodSite,
): Promise<unknown> {
  let produced: { value: unknown } | undefined;
  let resolvedKey: string;
  try {
    resolvedKey = await key;
  } catch (error) {
    site.warning.warn(site.where, `called without the cache, its key could not be made: ${describe(error)}`);
    return run.apply(self, args);
  }
  const factory = async (context: FactoryContext<unknown>) => {
    try {
      produced = { value: await run.apply(self, args) };
    } catch (error) {
      throw new CallerFailure(site.where, error);
    }
    const stored = storedAs(options, produced.value, self, args, resolvedKey, site);
    if (stored === null) context.skip();
    else {
      if (stored.ttl !== undefined) context.setTtl(stored.ttl);
      if (stored.tags !== undefined) context.addTags(...stored.tags);
    }
    return produced.value;
  };
  try {
    return await site.cache.getOrSet(resolvedKey, factory, getOrSetOptions);
  } catch (error) {
    if (error instanceof CallerFailure) throw error.error;
    site.warning.warn(site.where, `answered without the cache, which failed for key "${resolvedKey}": ${describe(error)}`);
    return produced !== undefined ? produced.value : run.apply(self, args);
  }
}

function cachedSync(run: Method, self: unknown, args: unknown[], key: string, options: CacheableOptions, site: MethodSite): unknown {
  const remembered = site.cache.peek(key);
  if (remembered !== undefined) return remembered;
  const startedAt = stamp();
  const value = run.apply(self, args);
  storeInBackground(key, value, self, args, options, site, startedAt);
  return value;
}

function storeInBackground(
  key: string,
  value: unknown,
  self: unknown,
  args: unknown[],
  options: CacheableOptions,
  site: MethodSite,
  startedAt: number,
): void {
  if (value === undefined) return;
  const stored = storedAs(options, value, self, args, key, site);
  if (stored === null) return;
  try {
    site.cache
      .forMethods()
      .setMadeAt(key, value, stored.tags === undefined ? stored.ttl : { ttl: stored.ttl, tags: stored.tags }, startedAt)
      .catch((error: unknown) => site.warning.warn(site.where, `not cached under key "${key}": ${describe(error)}`));
  } catch (error) {
    site.warning.warn(site.where, `not cached under key "${key}": ${describe(error)}`);
  }
}

/**
 * How a method's value is stored, by one rule for sync and async methods alike (a sync method's tags
 * function was once called with the value alone, and its entries went where no eviction reached):
 * the ttl by storableTtl, and the tags listed or made by the tags function, called with the result
 * and the method's arguments, the provider as `this`. Null, with a warning, to store nothing.
 */
function storedAs(
  options: CacheableOptions,
  value: unknown,
  self: unknown,
  args: unknown[],
  key: string,
  site: MethodSite,
): { readonly ttl: number | undefined; readonly tags: readonly string[] | undefined } | null {
  const unstorable = site.unstorable?.(value);
  if (unstorable !== undefined) {
    if (!unstorable.deliberate) site.warning.warn(site.where, `its value is returned and not cached: ${unstorable.reason}.`);
    return null;
  }
  const ttl = storableTtl(options, value, key, site);
  if (ttl === null) return null;
  try {
    return { ttl, tags: Array.isArray(options.tags) ? options.tags : tagsFor(options.tags, self, [value, ...args]) };
  } catch (error) {
    site.warning.warn(site.where, `its result is returned and not cached under key "${key}": ${describe(error)}`);
    return null;
  }
}

/** After the method succeeds (its promise resolves), evicts its keys; a failed eviction is logged, never thrown. */
export function evictingMethod(original: Method, options: CacheEvictOptions, site: MethodSite): Method {
  const evict = async (self: unknown, args: unknown[]) => {
    try {
      await evictEntries(site.cache, options, self, args);
    } catch (error) {
      site.warning.warn(site.where, `@CacheEvict failed, the entries may stay until they expire: ${describe(error)}`);
    }
  };
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (isThenable(result)) return Promise.resolve(result).then(async (value) => (await evict(this, args), value));
    // A synchronous method keeps its signature: memory forgets the keys at once, DynamoDB a moment later.
    void evict(this, args);
    return result;
  };
  return Object.assign(wrapped, { [WRAPPED]: true });
}

/** The value's ttl by the rule routes follow too: ms, undefined for the cache's default, or null (with a warning) to store nothing. */
function storableTtl(options: CacheableOptions, value: unknown, key: string, site: MethodSite): number | undefined | null {
  const ttl = entryTtl(options.ttl, value);
  if (ttl.problem === undefined) return ttl.ttl;
  site.warning.warn(site.where, `its value is returned and not cached under key "${key}": ${ttl.problem}.`);
  return null;
}

/** A method's arguments that no key can tell apart exactly (a function, a class instance, a cycle). */
export class UnkeyableArgumentsError extends TypeError {
  override readonly name = 'UnkeyableArgumentsError';

  constructor(where: string, problem: string) {
    super(`${where}: ${problem}, so the call has no exact default key; give @Cacheable a key function to cache it`);
  }
}

/** The key given, or one made of the class, the method and its arguments (see method-key.ts). */
function methodKey(options: CacheableOptions, where: string, self: unknown, args: unknown[]): string | Promise<string> {
  if (typeof options.key === 'string') return options.key;
  if (typeof options.key === 'function') {
    const key = options.key.apply(self, args);
    return checkedKey(key);
  }
  const encoded = argumentsKey(args);
  if (encoded.unencodable !== undefined) throw new UnkeyableArgumentsError(where, encoded.unencodable);
  return `${where}(${encoded.key})`;
}

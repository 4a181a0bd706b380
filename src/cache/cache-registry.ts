import type { BackplaneStats } from '../backplane/backplane.js';
import { isDeepStrictEqual } from 'node:util';
import { DynamoStore } from '../store/dynamo-store.js';
import { InvalidOptionError } from '../store/errors.js';
import { MEMORY_ONLY_TABLE, MemoryStore, memoryOnlySettings } from '../store/memory-store.js';
import { isResolvedStoreOptions, resolveStoreOptions, withStoreOverrides } from '../store/resolve-store-options.js';
import type { DynamoStoreOptions, ResolvedStoreOptions } from '../store/store-options.js';
import {
  CACHE_NAME,
  DEFAULT_CACHE_NAME,
  type CacheOverrides,
  type DynamoCacheOptions,
  type ResolvedCacheOptions,
  checkCacheOptions,
  namedCacheOptions,
  resolveCacheOptions,
} from './cache-options.js';
import { DynamoCache } from './dynamo-cache.js';
import { CacheRegistrationError } from './errors.js';

export { DEFAULT_CACHE_NAME } from './cache-options.js';

/** A named cache: its own key prefix, defaults and memory tier, in the default cache's table. */
export interface NamedCacheOptions extends Omit<DynamoCacheOptions, 'name' | 'cacheId'> {
  /**
   * The cache's name: `@InjectCache(name)` injects it, and events, logs and metrics name it. 1 to 64
   * letters, digits, `_`, `-` or `.`.
   */
  name: string;
  /**
   * Time to live of its entries, in ms, for writes that say nothing about expiry; 0: never expire.
   * @defaultValue the module's `ttl`
   */
  ttl?: number;
  /**
   * Its key prefix inside the table's `partitionKeyPrefix`, ending in `:`.
   * @defaultValue `<name>:`
   */
  keyPrefix?: string;
  /**
   * How its values are compressed, as the store's `compression`.
   * @defaultValue the module's
   */
  compression?: DynamoStoreOptions['compression'];
  /**
   * How its values are serialized, as the store's `serializer`.
   * @defaultValue the module's
   */
  serializer?: DynamoStoreOptions['serializer'];
  /**
   * The largest serialized value it accepts, in bytes, as the store's `maxValueBytes`.
   * @defaultValue the module's
   */
  maxValueBytes?: number;
}

/** The options of a module's caches, resolved once where the module's options arrived (see `resolveModuleConfig`). */
export interface ResolvedRootOptions {
  readonly store: ResolvedStoreOptions;
  /** The default cache's: named `default` whatever the module's options say. */
  readonly cache: ResolvedCacheOptions;
}

/** A module's options for its caches; `tableName` may be absent only with `distributed: false` (see `withTableName`). */
export type RootOptions = Omit<DynamoStoreOptions, 'tableName'> & DynamoCacheOptions & { tableName?: string };

/** Resolves a module's (or a bare registry's) options once: its store's, and its default cache's. */
export function resolveRootOptions(options: RootOptions): ResolvedRootOptions {
  return {
    store: resolveStoreOptions(withTableName(options)),
    cache: resolveCacheOptions({ ...options, name: DEFAULT_CACHE_NAME }),
  };
}

// One ':' and only at the end: no prefix can then be the start of another cache's prefix.
const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,64}:$/;

/**
 * The caches of one table, by name: the default one (built from the module's options) and those that
 * `forFeature` registers, like FusionCache's IFusionCacheProvider. Every cache's items sit under
 * `<partitionKeyPrefix><cache prefix>`, so one cache's `clear()` never reaches another's entries.
 */
export class DynamoCacheRegistry {
  private readonly caches = new Map<string, { cache: DynamoCache; options: NamedCacheOptions; partitionKeyPrefix: string }>();
  private readonly root: ResolvedRootOptions;
  /** The module's own cache, named `default`: what `@Inject(CACHE)` gives. */
  readonly default: DynamoCache;
  /** False when the module is memory-only (`distributed: false`): then no cache of it has a table. */
  readonly distributed: boolean;
  /** The backplane the module started, if any: `backplane.stats()` gives its state and lag. */
  backplane?: {
    /** The backplane's state, lag and counters, read without a DynamoDB call. */
    stats(): BackplaneStats;
  };
  private readonly registrationListeners = new Set<(cache: DynamoCache) => void>();

  /** Takes the module's options resolved (`resolveRootOptions`), or resolves options as a user writes them, once. */
  constructor(options: ResolvedRootOptions | RootOptions) {
    this.root = isResolvedRoot(options) ? options : resolveRootOptions(options);
    this.distributed = this.root.cache.distributed;
    const partitionKeyPrefix = `${this.root.store.partitionKeyPrefix}${DEFAULT_CACHE_NAME}:`;
    const store = this.distributed
      ? new DynamoStore(withStoreOverrides(this.root.store, { partitionKeyPrefix }))
      : memoryOnlyStore(this.root.store, partitionKeyPrefix, this.root.cache);
    this.default = new DynamoCache(store, this.root.cache);
    this.caches.set(DEFAULT_CACHE_NAME, { cache: this.default, options: { name: DEFAULT_CACHE_NAME }, partitionKeyPrefix });
  }

  /** The cache of that name; the default cache without one. */
  get(name: string = DEFAULT_CACHE_NAME): DynamoCache {
    const found = this.caches.get(name);
    if (found === undefined) {
      throw new CacheRegistrationError(
        name,
        `no such cache. Register it with DynamoCacheModule.forFeature({ name: '${name}' }); known: ${[...this.caches.keys()].join(', ')}.`,
      );
    }
    return found.cache;
  }

  /** Tells `listener` of each cache registered from now on (the telemetry bridge instruments it); returns the unsubscription. */
  onRegistered(listener: (cache: DynamoCache) => void): () => void {
    this.registrationListeners.add(listener);
    return () => this.registrationListeners.delete(listener);
  }

  /** Every cache, the default one first. */
  all(): DynamoCache[] {
    return [...this.caches.values()].map(({ cache }) => cache);
  }

  /**
   * Registers a named cache, or returns the one already registered under that name with the same
   * options (several modules may import the same `forFeature`). Other options under a taken name,
   * or a key prefix another cache has, are start-up errors. `overrides` are the options checked
   * where they were written (`forFeature`); without, they are checked here.
   */
  register(options: NamedCacheOptions, overrides?: CacheOverrides): DynamoCache {
    const name = validateName(options);
    const existing = this.caches.get(name);
    if (existing !== undefined) {
      if (name === DEFAULT_CACHE_NAME)
        throw new CacheRegistrationError(name, 'is the default cache; configure it with DynamoCacheModule.forRoot().');
      if (isDeepStrictEqual(existing.options, options)) return existing.cache;
      throw new CacheRegistrationError(
        name,
        'is registered twice with different options; give both forFeature() calls the same options, or different names.',
      );
    }
    const keyPrefix = options.keyPrefix ?? `${name}:`;
    if (!KEY_PREFIX.test(keyPrefix)) {
      throw new InvalidOptionError(
        'keyPrefix',
        `of cache "${name}" must be 1 to 64 letters, digits, "_", "-" or "." followed by one ":", got ${JSON.stringify(keyPrefix)}.`,
      );
    }
    const fullPrefix = this.root.store.partitionKeyPrefix + keyPrefix;
    for (const other of this.caches.values()) {
      if (other.partitionKeyPrefix === fullPrefix) {
        throw new CacheRegistrationError(
          name,
          `key prefix "${keyPrefix}" is already cache "${other.cache.name}"'s; choose another keyPrefix.`,
        );
      }
    }
    const { ttl, compression, serializer, maxValueBytes } = options;
    const own = { ttl, compression, serializer, maxValueBytes };
    const cacheOptions = namedCacheOptions(this.root.cache, overrides ?? checkCacheOptions(options));
    if (cacheOptions.distributed && !this.distributed) {
      throw new InvalidOptionError(
        'distributed',
        `of cache "${name}" is true, but the module is memory-only (distributed: false in forRoot) and has no table.`,
      );
    }
    const parent = this.default.store;
    const store =
      cacheOptions.distributed && parent instanceof DynamoStore
        ? parent.withPrefix(fullPrefix, own)
        : memoryOnlyStore(withStoreOverrides(this.root.store, own), fullPrefix, cacheOptions);
    const cache = new DynamoCache(store, cacheOptions);
    this.caches.set(name, { cache, options, partitionKeyPrefix: fullPrefix });
    for (const listener of this.registrationListeners) listener(cache);
    return cache;
  }
}

function isResolvedRoot(options: object): options is ResolvedRootOptions {
  return 'store' in options && isResolvedStoreOptions(options.store);
}

/** A memory-only cache's store, bounded as its memory tier is (or would be, with the tier off). */
function memoryOnlyStore(settings: ResolvedStoreOptions, partitionKeyPrefix: string, cache: ResolvedCacheOptions): MemoryStore {
  const bounds = cache.memory === undefined ? {} : { maxEntries: cache.memory.maxEntries, maxBytes: cache.memory.maxBytes };
  return MemoryStore.withSettings(memoryOnlySettings(settings, partitionKeyPrefix), bounds);
}

/** A memory-only module needs no table; its store options are still checked, under a name that says so. */
export function withTableName<O extends { tableName?: string; distributed?: boolean }>(options: O): O & { tableName: string } {
  return options?.distributed === false ? { ...options, tableName: MEMORY_ONLY_TABLE } : (options as O & { tableName: string });
}

function validateName(options: NamedCacheOptions): string {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('forFeature', 'takes { name, ...options }.');
  if (typeof options.name !== 'string' || !CACHE_NAME.test(options.name)) {
    throw new InvalidOptionError('name', `must be 1 to 64 letters, digits, "_", "-" or ".", got ${JSON.stringify(options.name)}.`);
  }
  return options.name;
}

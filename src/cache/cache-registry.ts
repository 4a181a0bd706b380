import type { BackplaneStats } from '../backplane/backplane.js';
import { isDeepStrictEqual } from 'node:util';
import { DynamoStore } from '../store/dynamo-store.js';
import { InvalidOptionError } from '../store/errors.js';
import { MEMORY_ONLY_TABLE, MemoryStore } from '../store/memory-store.js';
import { type DynamoStoreOptions, resolveStoreOptions } from '../store/store-options.js';
import { CACHE_NAME, type DynamoCacheOptions, resolveCacheOptions } from './cache-options.js';
import { DynamoCache, engineOf } from './dynamo-cache.js';
import { CacheRegistrationError } from './errors.js';

export const DEFAULT_CACHE_NAME = 'default';

/** A named cache: its own key prefix, defaults and memory tier, in the default cache's table. */
export interface NamedCacheOptions extends Omit<DynamoCacheOptions, 'name' | 'cacheId'> {
  name: string;
  /** Default time to live of its entries, in ms. Default: the module's `ttl`. */
  ttl?: number;
  /** Its key prefix inside the table's `partitionKeyPrefix`, ending in ':'. Default `<name>:`. */
  keyPrefix?: string;
  /** How its values are stored; each defaults to the module's. */
  compression?: DynamoStoreOptions['compression'];
  serializer?: DynamoStoreOptions['serializer'];
  maxValueBytes?: number;
}

// One ':' and only at the end: no prefix can then be the start of another cache's prefix.
const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,64}:$/;

/**
 * The caches of one table, by name: the default one (built from the module's options) and those that
 * `forFeature` registers, like FusionCache's IFusionCacheProvider. Every cache's items sit under
 * `<partitionKeyPrefix><cache prefix>`, so one cache's `clear()` never reaches another's entries.
 */
export class DynamoCacheRegistry {
  private readonly caches = new Map<string, { cache: DynamoCache; options: NamedCacheOptions }>();
  private readonly tablePrefix: string;
  readonly default: DynamoCache;
  /** False when the module is memory-only (`distributed: false`): then no cache of it has a table. */
  readonly distributed: boolean;
  /** The backplane the module started, if any: `backplane.stats()` gives its state and lag. */
  backplane?: { stats(): BackplaneStats };
  private readonly registrationListeners = new Set<(cache: DynamoCache) => void>();

  constructor(private readonly rootOptions: DynamoStoreOptions & DynamoCacheOptions) {
    this.distributed = resolveCacheOptions(rootOptions).distributed;
    this.tablePrefix = resolveStoreOptions(withTableName(rootOptions)).partitionKeyPrefix;
    const partitionKeyPrefix = `${this.tablePrefix}${DEFAULT_CACHE_NAME}:`;
    const store = this.distributed
      ? new DynamoStore({ ...rootOptions, partitionKeyPrefix })
      : this.memoryStore(partitionKeyPrefix, rootOptions, rootOptions.memory);
    this.default = new DynamoCache(store, { ...rootOptions, name: DEFAULT_CACHE_NAME });
    this.caches.set(DEFAULT_CACHE_NAME, { cache: this.default, options: { name: DEFAULT_CACHE_NAME } });
  }

  private memoryStore(
    partitionKeyPrefix: string,
    options: DynamoStoreOptions & DynamoCacheOptions,
    memory: DynamoCacheOptions['memory'],
  ): MemoryStore {
    return new MemoryStore(memoryStoreOptions(partitionKeyPrefix, options, memory));
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
   * or a key prefix another cache has, are start-up errors.
   */
  register(options: NamedCacheOptions): DynamoCache {
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
    const fullPrefix = this.tablePrefix + keyPrefix;
    for (const other of this.caches.values()) {
      if (engineOf(other.cache).config.partitionKeyPrefix === fullPrefix) {
        throw new CacheRegistrationError(
          name,
          `key prefix "${keyPrefix}" is already cache "${other.cache.name}"'s; choose another keyPrefix.`,
        );
      }
    }
    const { keyPrefix: _prefix, ttl, memory, compression, serializer, maxValueBytes, ...cacheOptions } = options;
    const own = {
      ttl: ttl ?? engineOf(this.default).config.defaultTtlMs,
      ...(compression === undefined ? {} : { compression }),
      ...(serializer === undefined ? {} : { serializer }),
      ...(maxValueBytes === undefined ? {} : { maxValueBytes }),
    };
    const cacheMemory = mergeMemory(this.rootOptions.memory, memory);
    const distributed = options.distributed ?? this.distributed;
    if (distributed && !this.distributed) {
      throw new InvalidOptionError(
        'distributed',
        `of cache "${name}" is true, but the module is memory-only (distributed: false in forRoot) and has no table.`,
      );
    }
    const parent = this.default.store;
    const store =
      distributed && parent instanceof DynamoStore
        ? parent.withPrefix(fullPrefix, own)
        : this.memoryStore(fullPrefix, { ...this.rootOptions, ...own }, cacheMemory);
    const cache = new DynamoCache(store, {
      ...this.rootOptions,
      ...cacheOptions,
      memory: cacheMemory,
      cacheId: undefined,
    });
    this.caches.set(name, { cache, options });
    for (const listener of this.registrationListeners) listener(cache);
    return cache;
  }
}

/** A memory-only cache's store, bounded as its memory tier is (or would be, with the tier off). */
function memoryStoreOptions(
  partitionKeyPrefix: string,
  options: DynamoStoreOptions & DynamoCacheOptions,
  memory: DynamoCacheOptions['memory'],
) {
  const bounds = memory === false ? undefined : { maxEntries: memory?.maxEntries, maxBytes: memory?.maxBytes };
  const { ttl, serializer, maxValueBytes, slidingRenewThreshold, logger } = options;
  return { partitionKeyPrefix, ttl, serializer, maxValueBytes, slidingRenewThreshold, logger, ...bounds };
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

function mergeMemory(root: DynamoCacheOptions['memory'], own: DynamoCacheOptions['memory']): DynamoCacheOptions['memory'] {
  if (own === undefined) return root;
  if (own === false || root === false || root === undefined) return own;
  return { ...root, ...own };
}

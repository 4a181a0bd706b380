import { resolveStoreOptions, withStoreOverrides } from './resolve-store-options.js';
import type { DynamoStoreOptions, ResolvedStoreOptions, StoreOverrides } from './store-options.js';

/** What names a memory-only cache where a DynamoDB cache names its table: in errors, logs and `cacheId()`. */
export const MEMORY_ONLY_TABLE = 'memory-only';

/** The bounds of a memory-only store where none are given; the memory tier's defaults are these too. */
export const MEMORY_BOUNDS_DEFAULTS = Object.freeze({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 });

/** How much a memory-only store keeps (`MemoryStoreOptions`); its defaults are the memory tier's. */
export interface MemoryBounds {
  /** Most entries kept; the oldest written go first. */
  maxEntries?: number;
  /** Most bytes kept, counted as the serialized value plus the key. */
  maxBytes?: number;
}

/**
 * What `new MemoryStore(options)` takes: a store held in this process only (for memory-only caches
 * and tests), with the store options that shape entries and its own bounds.
 */
export interface MemoryStoreOptions
  extends
    Pick<DynamoStoreOptions, 'ttl' | 'serializer' | 'maxValueBytes' | 'slidingRenewThreshold' | 'logger' | 'partitionKeyPrefix'>,
    MemoryBounds {
  /** Shown where a DynamoDB store shows its table: in errors, logs and `cacheId()`. */
  tableName?: string;
}

// Filled by `presettled` only: the options a store was handed with settings resolved already.
const alreadyResolved = new WeakMap<MemoryStoreOptions, ResolvedStoreOptions>();

/** Options that carry settings resolved already, which `MemoryStore` takes without resolving again. */
export function presettled(settings: ResolvedStoreOptions, bounds: MemoryBounds): MemoryStoreOptions {
  const options: MemoryStoreOptions = { maxEntries: bounds.maxEntries, maxBytes: bounds.maxBytes };
  alreadyResolved.set(options, settings);
  return options;
}

/** The settings `presettled` gave these options, else these options resolved. */
export function settingsOf(options: MemoryStoreOptions): ResolvedStoreOptions {
  const { maxEntries: _entries, maxBytes: _bytes, ...storeOptions } = options;
  return alreadyResolved.get(options) ?? resolveStoreOptions({ ...storeOptions, tableName: options.tableName ?? MEMORY_ONLY_TABLE });
}

// What a memory-only store takes where no option of its module applies (tableName, timeouts, batches).
const MEMORY_ONLY_BASE = resolveStoreOptions({ tableName: MEMORY_ONLY_TABLE });

/**
 * A memory-only cache's store settings, from its module's (or its named cache's) resolved ones: only
 * what shapes entries (ttl, serializer, size limit, sliding renewal, logger) is kept, the rest are
 * the defaults under the memory-only table name.
 */
export function memoryOnlySettings(from: ResolvedStoreOptions, partitionKeyPrefix: string): ResolvedStoreOptions {
  const { ttl, serializer, maxValueBytes, slidingRenewThreshold, logger } = from;
  const kept: StoreOverrides = { partitionKeyPrefix, ttl, serializer, maxValueBytes, slidingRenewThreshold, logger };
  return withStoreOverrides(MEMORY_ONLY_BASE, kept);
}

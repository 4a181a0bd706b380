import type { EventEmitter } from 'node:events';
import type { CapacityUnits } from './capacity.js';
import type { PreparedEntry, ReadOptions, SetManyEntry, WriteOptions } from './dynamo-store.js';
import type { CacheEntry } from './entry-reader.js';
import type { EntryOptions } from './expiry.js';
import type { ResolvedStoreOptions } from './store-options.js';
import type { CurrentCheck } from './tags.js';

/**
 * What a cache runs on, whichever holds its entries: DynamoDB (`DynamoStore`) or this process's
 * memory (`MemoryStore`, for `distributed: false`). The cache, its handlers and the keyv bridge use
 * only this, so that a memory-only cache runs the same code as a distributed one.
 */
export interface EntryStore extends EventEmitter {
  readonly opts: ResolvedStoreOptions & { readonly dialect: string; readonly url: string };
  namespace?: string;
  readonly tableName: string;
  readonly capacity: CapacityUnits;
  get<T = unknown>(key: string): Promise<T | undefined>;
  getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined>;
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>>;
  getManyEntries<T = unknown>(keys: readonly string[]): Promise<Array<CacheEntry<T> | undefined>>;
  has(key: string): Promise<boolean>;
  set(key: string, value: unknown, ttl?: number | EntryOptions): Promise<boolean>;
  setEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): Promise<PreparedEntry>;
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry;
  putEntry(prepared: PreparedEntry): Promise<void>;
  setMany(entries: ReadonlyArray<SetManyEntry>): Promise<boolean[]>;
  putEntries(prepared: readonly PreparedEntry[]): Promise<void>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: readonly string[]): Promise<boolean>;
  deleteKeys(keys: readonly string[]): Promise<void>;
  clear(): Promise<void>;
  keys(): AsyncGenerator<string[]>;
  refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean>;
  acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean>;
  releaseLease(key: string, owner: string): Promise<void>;
  readTagTimes(tags: readonly string[]): Promise<Map<string, number>>;
  writeTagTimes(tags: readonly string[], at: number): Promise<void>;
  readVersion(): Promise<number>;
  bumpVersion(): Promise<number>;
  disconnect(): Promise<void>;
}

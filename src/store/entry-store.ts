import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EventEmitter } from 'node:events';
import type { CapacityUnits } from './capacity.js';
import type { CacheEntry } from './entry-reader.js';
import type { EntryOptions } from './expiry.js';
import type { ResolvedStoreOptions } from './store-options.js';
import type { CurrentCheck } from './tags.js';
import type { ValueWrite } from './stored-value.js';

/**
 * A write made ready by `prepareEntry`: checked, serialized, its expiry resolved. Published as a
 * type only because the engine's own declarations name it.
 */
export interface PreparedEntry extends ValueWrite {
  /** When its value was made (epoch ms): an invalidation at or after it retires the entry. */
  readonly storedAt: number;
  /** The encoded item, when the table's schema was known at preparation. */
  readonly item?: Record<string, AttributeValue>;
}

export interface ReadOptions {
  /** Return an entry past its expiry that is kept for fail-safe (its `expiresAt` is then in the past). */
  allowStale?: boolean;
}

export interface WriteOptions {
  /** Keep the entry this many ms past its expiry, for fail-safe reads. */
  keepStaleFor?: number;
  /** When the value was made, if before this write (a factory's start); default now. */
  storedAt?: number;
  /** Tags besides those of the entry options (a factory's own). */
  tags?: readonly string[];
}

/** One entry of keyv's `setMany`. */
export interface SetManyEntry<T = unknown> {
  /** The entry's key. */
  key: string;
  /** The value to store. */
  value: T;
  /** Its time to live in ms (0: never expires) or entry options; the store's `ttl` when absent. */
  ttl?: number | EntryOptions;
}

/** keyv's store adapter protocol, which both stores speak so that a Keyv (or cache-manager) can hold them. */
export interface KeyvStoreProtocol extends EventEmitter {
  /** Keyv reads `dialect` and `url` of any store that has an iterator (and throws without). */
  readonly opts: ResolvedStoreOptions & { readonly dialect: string; readonly url: string };
  /** Set by Keyv to its namespace; `clear()` then deletes that namespace's keys only. */
  namespace?: string;
  get<T = unknown>(key: string): Promise<T | undefined>;
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>>;
  has(key: string): Promise<boolean>;
  set(key: string, value: unknown, ttl?: number | EntryOptions): Promise<boolean>;
  setMany(entries: ReadonlyArray<SetManyEntry>): Promise<boolean[]>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: readonly string[]): Promise<boolean>;
  clear(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The entries a cache runs on, whichever holds them: DynamoDB (`DynamoStore`) or this process's
 * memory (`MemoryStore`, for `distributed: false`). The cache, its handlers, the session store and
 * the keyv bridge use only this (and, for leases, versions and tag times, `StoreCoordination`), so
 * that a memory-only cache runs the same code as a distributed one.
 */
export interface EntryStore extends KeyvStoreProtocol {
  readonly tableName: string;
  readonly capacity: CapacityUnits;
  getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined>;
  getManyEntries<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<CacheEntry<T> | undefined>>;
  setEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): Promise<PreparedEntry>;
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry;
  putEntry(prepared: PreparedEntry): Promise<void>;
  putEntries(prepared: readonly PreparedEntry[]): Promise<void>;
  deleteKeys(keys: readonly string[]): Promise<void>;
  keys(): AsyncGenerator<string[]>;
  refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean>;
  /** Moves a live entry's expiry to `at`, keeping it until `keepUntil` for fail-safe; false when none was live. */
  expireEntry(key: string, at: number, keepUntil: number): Promise<boolean>;
}

/** An `expire(key)` owed since an outage: an entry made at or before `madeAt` is stale from `at`, kept until `keepUntil`. */
export interface OwedEntryExpiry {
  readonly madeAt: number;
  readonly at: number;
  readonly keepUntil: number;
}

/**
 * Writes that land only over an item made before them: a DynamoStore's, for the changes a cache owes
 * since an outage (a MemoryStore never fails, so never owes one).
 */
export interface NewerWrites {
  /** Resolves to whether the entry landed: false when the item there was made at or after its `storedAt`. */
  putEntryIfNewer(prepared: PreparedEntry): Promise<boolean>;
  /** Resolves to false when the item there was made after `at`, and is left. */
  deleteUnlessNewer(key: string, at: number): Promise<boolean>;
  /** `expireEntry` of a live entry made at or before `expiry.madeAt`; resolves to whether one was there. */
  expireEntryUnlessNewer(key: string, expiry: OwedEntryExpiry): Promise<boolean>;
}

import { EventEmitter } from 'node:events';
import type { StoreCoordination } from './coordination.js';
import type { PreparedEntry, ReadOptions, SetManyEntry, WriteOptions } from './entry-store.js';
import type { CacheEntry } from './entry-reader.js';
import type { EntryOptions } from './expiry.js';

/**
 * keyv's store methods, written once over the primitives every store has (`getEntry`, `prepareEntry`,
 * `putEntry`, …): DynamoDB's and the memory-only one alike; and the coordination methods, handed to
 * the store's own `coordination` (DynamoDB's reserved items, or this process's maps).
 */
export abstract class EntryStoreMethods extends EventEmitter {
  protected abstract readonly coordination: StoreCoordination;

  abstract getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined>;
  abstract getManyEntries<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<CacheEntry<T> | undefined>>;
  /** @internal */
  abstract prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry;
  /** @internal */
  abstract putEntry(prepared: PreparedEntry): Promise<void>;
  /** @internal */
  abstract putEntries(prepared: readonly PreparedEntry[]): Promise<void>;

  /** keyv's: the value under `key`, or undefined for a miss or an expired entry. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.getEntry<T>(key))?.value;
  }

  /** Every key that holds a value gets it (DynamoDB: one BatchGetItem per 100 keys, unprocessed keys retried). */
  async getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return (await this.getManyEntries<T>(keys)).map((entry) => entry?.value);
  }

  /** keyv's: whether `key` holds a live entry (a read of it). */
  async has(key: string): Promise<boolean> {
    return (await this.getEntry(key)) !== undefined;
  }

  /**
   * `ttl` is a duration in ms (0: never expires; absent: the store's default) or entry options with
   * absolute and sliding expiration and tags. A value that cannot be stored throws before anything is sent.
   */
  async set(key: string, value: unknown, ttl?: number | EntryOptions): Promise<boolean> {
    await this.setEntry(key, value, ttl);
    return true;
  }

  /**
   * As `set`, resolving to what was written: the expiry and the value's bytes.
   * @internal
   */
  async setEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): Promise<PreparedEntry> {
    const prepared = this.prepareEntry(key, value, ttl, options);
    await this.putEntry(prepared);
    return prepared;
  }

  /** Every entry is checked before the first write, so one bad entry writes nothing. The last of duplicate keys wins. */
  async setMany(entries: ReadonlyArray<SetManyEntry>): Promise<boolean[]> {
    await this.setManyEntries(entries);
    return entries.map(() => true);
  }

  /**
   * As `setMany`, resolving to what was written for each entry, in order.
   * @internal
   */
  async setManyEntries(entries: ReadonlyArray<SetManyEntry>): Promise<PreparedEntry[]> {
    if (!Array.isArray(entries)) throw new TypeError(`setMany expects an array of { key, value, ttl? }, got ${typeof entries}.`);
    const prepared = entries.map(({ key, value, ttl }) => this.prepareEntry(key, value, ttl));
    await this.putEntries(prepared);
    return prepared;
  }

  /**
   * Takes the distributed lock on `key` for `leaseMs` unless another owner holds it (DynamoDB: one
   * conditional write on a lease item in the cache's reserved key space, which no caller's key can address).
   * @internal
   */
  acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.coordination.acquireLease(key, owner, leaseMs);
  }

  /** @internal Gives the lease back early, only if `owner` still holds it. */
  releaseLease(key: string, owner: string): Promise<void> {
    return this.coordination.releaseLease(key, owner);
  }

  /** @internal The counter of this cache's version item, which the poll backplane reads (see `version-item.ts`). */
  readVersion(): Promise<number> {
    return this.coordination.readVersion();
  }

  /** @internal Adds one to this cache's version item, atomically, and resolves to its new value. */
  bumpVersion(): Promise<number> {
    return this.coordination.bumpVersion();
  }

  /** @internal When each tag was last invalidated (`CLEARED_TAG`: the cache cleared); absent if never. */
  readTagTimes(tags: readonly string[]): Promise<Map<string, number>> {
    return this.coordination.readTagTimes(tags);
  }

  /** @internal Records `at` as the tags' invalidation instant, moving each tag's time forward only. */
  writeTagTimes(tags: readonly string[], at: number): Promise<void> {
    return this.coordination.writeTagTimes(tags, at);
  }

  /** @internal Records `at` as the tags' expired-at instant (`expireByTag`), moving each forward only. */
  writeTagExpiries(tags: readonly string[], at: number): Promise<void> {
    return this.coordination.writeTagExpiries(tags, at);
  }
}

import type { CapacityUnits } from './capacity.js';
import { EntryStoreMethods } from './entry-store-methods.js';
import { MemoryCoordination } from './memory-coordination.js';
import type { PreparedEntry, ReadOptions, WriteOptions } from './entry-store.js';
import type { CacheEntry } from './entry-reader.js';
import { ValueTooLargeError } from './errors.js';
import { type EntryOptions, type Expiration, isPast, resolveExpiration, slidingRenewal } from './expiry.js';
import { assertValidKey, partitionKeyFor } from './keys.js';
import { MEMORY_BOUNDS_DEFAULTS, type MemoryBounds, type MemoryStoreOptions, presettled, settingsOf } from './memory-store-options.js';
import { withStoreOverrides } from './resolve-store-options.js';
import type { ResolvedStoreOptions } from './store-options.js';

export { MEMORY_ONLY_TABLE, type MemoryStoreOptions, memoryOnlySettings } from './memory-store-options.js';
import { CLEARED_TAG, type CurrentCheck, entryTags, stamp } from './tags.js';
import { type SerializedPayload, readPayload, serializeValue } from './value-serializer.js';

interface StoredEntry {
  readonly payload: SerializedPayload;
  expiration: Expiration;
  readonly bytes: number;
  readonly tags?: readonly string[];
  readonly storedAt: number;
}

const NO_CAPACITY: CapacityUnits = Object.freeze({ readUnits: 0, writeUnits: 0 });
// A Map entry and its record, beside the payload and the key.
const ENTRY_OVERHEAD_BYTES = 120;

/**
 * The store of a memory-only cache (`distributed: false`): the contract of `DynamoStore` (entries,
 * their absolute, sliding and fail-safe expiry, leases, keyv's methods) held in this process, so
 * that the cache above it runs the same code as with DynamoDB: the same key and value checks, the
 * same serialization (a read returns its own copy), get-or-set, fail-safe and eager refresh. For
 * development and an app's own tests: nothing is shared between processes, nothing outlives one.
 */
export class MemoryStore extends EntryStoreMethods {
  /** Its options resolved, with `dialect` and `url`, which Keyv 5 reads of any store that has an `iterator`. */
  readonly opts: ResolvedStoreOptions & {
    /** Always `'memory'`. */
    readonly dialect: 'memory';
    /** `memory:<partitionKeyPrefix>`. */
    readonly url: string;
  };
  /** Set by Keyv to its namespace; `clear()` then deletes that namespace's keys only. */
  namespace?: string;
  /** Most entries it keeps (`maxEntries`); the oldest written go first. */
  readonly maxEntries: number;
  /** Most bytes it keeps (`maxBytes`), counted as the serialized values plus the keys. */
  readonly maxBytes: number;
  // Insertion order is write order: the first entries are the first to evict.
  private readonly entries = new Map<string, StoredEntry>();
  protected readonly coordination = new MemoryCoordination((tags, at) => this.dropInvalidated(tags, at));
  private bytes = 0;

  private readonly settings: ResolvedStoreOptions;

  /** Options as a user writes them are resolved here, once; a cache's store is made with `withSettings` instead. */
  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.settings = settingsOf(options);
    this.opts = { ...this.settings, dialect: 'memory', url: `memory:${this.settings.partitionKeyPrefix}` };
    this.maxEntries = options.maxEntries ?? MEMORY_BOUNDS_DEFAULTS.maxEntries;
    this.maxBytes = options.maxBytes ?? MEMORY_BOUNDS_DEFAULTS.maxBytes;
  }

  /** @internal A store on settings resolved already (see `memoryOnlySettings`), within `bounds`. */
  static withSettings(settings: ResolvedStoreOptions, bounds: MemoryBounds = {}): MemoryStore {
    return new MemoryStore(presettled(settings, bounds));
  }

  /** What it shows where a DynamoDB store shows its table: `memory-only` unless `tableName` says otherwise. */
  get tableName(): string {
    return this.opts.tableName;
  }

  /** Always zero: nothing is billed. */
  get capacity(): CapacityUnits {
    return NO_CAPACITY;
  }

  /** @internal A store for another memory-only cache: its own entries, the same bounds and settings unless given. */
  withPrefix(partitionKeyPrefix: string, own: Pick<MemoryStoreOptions, 'ttl' | 'serializer' | 'maxValueBytes'>): MemoryStore {
    const settings = withStoreOverrides(this.settings, { ...own, partitionKeyPrefix });
    return MemoryStore.withSettings(settings, { maxEntries: this.maxEntries, maxBytes: this.maxBytes });
  }

  /** The entry under `key` with its expiry, or undefined for a miss (`allowStale`: an entry kept for fail-safe too). */
  async getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined> {
    return this.read<T>(key, options?.allowStale ?? false);
  }

  /** `getEntry` for several keys, in their order. */
  async getManyEntries<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<CacheEntry<T> | undefined>> {
    if (!Array.isArray(keys)) throw new TypeError(`getMany expects an array of keys, got ${typeof keys}.`);
    for (const key of keys) assertValidKey(key);
    return keys.map((key) => this.read<T>(key, options?.allowStale ?? false));
  }

  /** @internal The same checks and serialization as DynamoStore's, so that bad input fails here as it would there. */
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry {
    assertValidKey(key);
    const partitionKey = partitionKeyFor(this.opts.partitionKeyPrefix, key);
    const now = Date.now();
    const expiration = resolveExpiration(key, ttl, this.opts.ttl, now, options?.keepStaleFor);
    const tags = entryTags(key, ttl, options);
    const payload = serializeValue(key, value, this.opts.serializer);
    if (payload.bytes.byteLength > this.opts.maxValueBytes) {
      throw new ValueTooLargeError(key, payload.bytes.byteLength, this.opts.maxValueBytes, 'maxValueBytes');
    }
    return { key, partitionKey, expiration, payload, tags, storedAt: options?.storedAt ?? stamp() };
  }

  /** @internal */
  async putEntry(prepared: PreparedEntry): Promise<void> {
    this.store(prepared);
  }

  /** @internal */
  async putEntries(prepared: readonly PreparedEntry[]): Promise<void> {
    for (const entry of prepared) this.store(entry);
  }

  /** Resolves to whether the key held an entry (one kept for fail-safe counts, as an item does in DynamoDB). */
  async delete(key: string): Promise<boolean> {
    assertValidKey(key);
    return this.remove(key, Date.now());
  }

  /** Keyv's contract: resolves to whether every key held an entry. */
  async deleteMany(keys: readonly string[]): Promise<boolean> {
    const unique = this.uniqueKeys(keys, 'deleteMany');
    const now = Date.now();
    let all = true;
    for (const key of unique) all = this.remove(key, now) && all;
    return all;
  }

  /** Deletes several keys, as `deleteMany`, resolving to nothing. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    await this.deleteMany(keys);
  }

  /** Deletes this cache's entries (of Keyv's namespace, when it has one). */
  async clear(): Promise<void> {
    if (!this.namespace) {
      this.entries.clear();
      this.bytes = 0;
      return;
    }
    const now = Date.now();
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${this.namespace}:`)) this.remove(key, now);
  }

  /** Every live key, in one page (the keys are all here). */
  async *keys(): AsyncGenerator<string[]> {
    const namespacePrefix = this.namespace ? `${this.namespace}:` : '';
    yield this.liveKeys(namespacePrefix).map((key) => key.slice(namespacePrefix.length));
  }

  /** keyv's optional store iterator: every live entry of `namespace` as `[key, value]`. */
  async *iterator<Value = unknown>(namespace: string | undefined = this.namespace): AsyncGenerator<[string, Value], void> {
    for (const key of this.liveKeys(namespace ? `${namespace}:` : '')) {
      const entry = this.read<Value>(key, false);
      if (entry !== undefined) yield [key, entry.value];
    }
  }

  /** Renews a sliding entry's window; resolves to whether the key holds a live entry that `isCurrent` does not say is retired or stale. */
  async refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean> {
    assertValidKey(key);
    const now = Date.now();
    const stored = this.live(key, now);
    if (stored === undefined || isPast(stored.expiration.expiresAt, now)) return false;
    if (isCurrent !== undefined && !(await isCurrent(stored))) return false;
    this.renew(stored, now, 0);
    return true;
  }

  /** @internal As DynamoDB's (`expireItem`): a live entry becomes a fail-safe fallback until `keepUntil`. */
  async expireEntry(key: string, at: number, keepUntil: number): Promise<boolean> {
    assertValidKey(key);
    const stored = this.live(key, at);
    if (stored === undefined || isPast(stored.expiration.expiresAt, at)) return false;
    stored.expiration = { expiresAt: at, staleUntil: keepUntil };
    return true;
  }

  /** Nothing to close. */
  async disconnect(): Promise<void> {}

  /** Here what an invalidation retires costs nothing to delete, and would otherwise hold memory until evicted. */
  private dropInvalidated(tags: readonly string[], at: number): void {
    const now = Date.now();
    for (const [key, stored] of [...this.entries]) {
      if (stored.storedAt > at) continue;
      if (tags.includes(CLEARED_TAG) || stored.tags?.some((tag) => tags.includes(tag))) this.remove(key, now);
    }
  }

  private read<T>(key: string, allowStale: boolean): CacheEntry<T> | undefined {
    assertValidKey(key);
    const now = Date.now();
    const stored = this.live(key, now);
    if (stored === undefined) return undefined;
    const { expiration, payload, tags, storedAt } = stored;
    // Each read decodes its own copy, as a read of DynamoDB does: no caller can change another's value.
    const value = readPayload(payload) as T;
    if (isPast(expiration.expiresAt, now)) {
      return allowStale
        ? { value, expiresAt: expiration.expiresAt, staleUntil: expiration.staleUntil, payload, tags, storedAt }
        : undefined;
    }
    if (expiration.slidingWindow === undefined)
      return { value, expiresAt: expiration.expiresAt, staleUntil: expiration.staleUntil, payload, tags, storedAt };
    this.renew(stored, now, this.opts.slidingRenewThreshold);
    const sliding = { windowMs: expiration.slidingWindow, absoluteDeadline: expiration.absoluteDeadline };
    return { value, expiresAt: stored.expiration.expiresAt, payload, sliding, tags, storedAt };
  }

  /** The stored entry, unless past the last instant it may be read (its expiry, or its fail-safe's end). */
  private live(key: string, now: number): StoredEntry | undefined {
    const stored = this.entries.get(key);
    if (stored === undefined) return undefined;
    if (isPast(stored.expiration.staleUntil ?? stored.expiration.expiresAt, now)) {
      this.remove(key, now);
      return undefined;
    }
    return stored;
  }

  private renew(stored: StoredEntry, now: number, threshold: number): void {
    const renewed = slidingRenewal(stored.expiration, now, threshold);
    if (renewed !== undefined) stored.expiration = { ...stored.expiration, expiresAt: renewed };
  }

  private store(prepared: PreparedEntry): void {
    const { key, payload, expiration, tags, storedAt } = prepared;
    const bytes = payload.bytes.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    const now = Date.now();
    this.remove(key, now);
    this.entries.set(key, { payload, expiration, bytes, tags, storedAt });
    this.bytes += bytes;
    this.evict(now);
  }

  private evict(now: number): void {
    for (const [key, stored] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) {
        // Drops what has ended on the way, so that an idle cache does not keep its dead entries.
        if (!isPast(stored.expiration.staleUntil ?? stored.expiration.expiresAt, now)) return;
      }
      this.remove(key, now);
    }
  }

  private remove(key: string, _now: number): boolean {
    const stored = this.entries.get(key);
    if (stored === undefined) return false;
    this.entries.delete(key);
    this.bytes -= stored.bytes;
    return true;
  }

  private liveKeys(prefix: string): string[] {
    const now = Date.now();
    return [...this.entries.keys()].filter((key) => key.startsWith(prefix) && this.live(key, now) !== undefined);
  }

  private uniqueKeys(keys: readonly string[], method: string): string[] {
    if (!Array.isArray(keys)) throw new TypeError(`${method} expects an array of keys, got ${typeof keys}.`);
    for (const key of keys) assertValidKey(key);
    return [...new Set(keys)];
  }
}

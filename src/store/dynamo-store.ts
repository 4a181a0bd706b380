import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type CapacityRecord, type CapacityUnits, CapacityMeter } from './capacity.js';
import type { ReservedItemAccess } from './coordination.js';
import { DynamoEntries } from './dynamo-entries.js';
import { expireItem } from './entry-expiry.js';
import { DynamoReservedItems } from './dynamo-reserved-items.js';
import { DynamoScans } from './dynamo-scans.js';
import { DynamoTable } from './dynamo-table.js';
import type { CacheEntry } from './entry-reader.js';
import type { OwedEntryExpiry, PreparedEntry, ReadOptions, WriteOptions } from './entry-store.js';
import { EntryStoreMethods } from './entry-store-methods.js';
import type { EntryOptions } from './expiry.js';
import type { TableSchema } from './item-codec.js';
import { isResolvedStoreOptions, resolveStoreOptions, withStoreOverrides } from './resolve-store-options.js';
import type { DynamoStoreOptions, ResolvedStoreOptions, StoreOverrides } from './store-options.js';
import { prepareTable } from './table-schema.js';
import type { CurrentCheck } from './tags.js';
import { type SendHooks, timedSender } from './timed-sender.js';

export type { CacheEntry } from './entry-reader.js';
export type { PreparedEntry, ReadOptions, SetManyEntry, WriteOptions } from './entry-store.js';
export type { ReservedItemAccess } from './coordination.js';

/**
 * Keyv 5, given a store with an `iterator`, checks `opts.dialect` against its own adapters' and then
 * calls `opts.url.includes(…)`, which throws a TypeError when the store has no `url`.
 */
interface KeyvAdapterIdentity {
  readonly dialect: 'dynamodb';
  readonly url: string;
}

/** What a sibling store (`withPrefix`) may set for itself. */
export type SiblingOptions = Omit<StoreOverrides, 'partitionKeyPrefix'>;

/**
 * A cache store on one DynamoDB table: the keyv 5 store adapter contract (get, set, delete, clear,
 * getMany, setMany, deleteMany, has, disconnect), plus entry options (absolute and sliding
 * expiration), `refresh` and `getEntry`. It knows nothing of Nest; the Nest module wraps it.
 *
 * It talks to the table on first use (or on `initialize()`, which the Nest module calls at start-up),
 * to learn or create its schema.
 */
export class DynamoStore extends EntryStoreMethods {
  /** With `dialect` and `url`, which Keyv 5 reads of any store that has an `iterator` (and throws without). */
  readonly opts: ResolvedStoreOptions & KeyvAdapterIdentity;
  /** Set by Keyv to its namespace; `clear()` then deletes that namespace's keys only. */
  namespace?: string;
  /**
   * The client the store sends with: the application's, or its own. A DocumentClient given as
   * `client` is typed here as the DynamoDBClient it wraps, whose config, middleware and commands it
   * shares: only `destroy()` (which does nothing on it) and `instanceof` tell them apart.
   */
  readonly client: DynamoDBClient;
  /** @internal Who is told of each DynamoDB call: the owning cache's name, and the telemetry bridge. */
  readonly sendHooks: SendHooks = {};
  private readonly meter?: CapacityMeter;
  private readonly table: DynamoTable;
  private readonly entries: DynamoEntries;
  private readonly scans: DynamoScans;
  protected readonly coordination: DynamoReservedItems;
  private readonly ownsClient: boolean;
  private readonly settings: ResolvedStoreOptions;

  /** Options as a user writes them are resolved here, once; options already resolved (a module's) are taken as they are. */
  constructor(options: DynamoStoreOptions | ResolvedStoreOptions) {
    super();
    const resolved = isResolvedStoreOptions(options) ? options : resolveStoreOptions(options);
    this.settings = resolved;
    this.opts = { ...resolved, dialect: 'dynamodb', url: `dynamodb:${resolved.tableName}` };
    const { client, region, endpoint, credentials } = resolved.connection;
    this.ownsClient = client === undefined;
    this.client = (client as DynamoDBClient | undefined) ?? new DynamoDBClient({ region, endpoint, credentials });
    this.meter = this.opts.returnConsumedCapacity ? new CapacityMeter((record) => this.reportCapacity(record)) : undefined;
    const sender = timedSender(this.client, this.opts.tableName, this.opts.operationTimeoutMs, this.meter, this.sendHooks);
    const learnSchema = () => prepareTable(this.client, sender, this.opts, this.opts.logger);
    this.table = new DynamoTable(this.opts, sender, learnSchema, (error) => this.reportError(error));
    this.entries = new DynamoEntries(this.table);
    this.scans = new DynamoScans(this.table);
    this.coordination = new DynamoReservedItems(this.table);
  }

  /**
   * The read and write units DynamoDB billed for this store's calls so far (zero when
   * `returnConsumedCapacity` is off). Each call's bill is also a `capacity` event.
   */
  get capacity(): CapacityUnits {
    return this.meter?.snapshot() ?? { readUnits: 0, writeUnits: 0 };
  }

  /**
   * A store for another cache in the same table: the same client and the same schema look-up (made
   * once for all), with its own key prefix, default ttl and, when given, its own way of storing
   * values. `disconnect` on it leaves the client open.
   * @internal
   */
  withPrefix(partitionKeyPrefix: string, own: SiblingOptions): DynamoStore {
    const sibling = new DynamoStore(withStoreOverrides(this.settings, { ...own, partitionKeyPrefix, client: this.client }));
    sibling.adoptTable(this);
    return sibling;
  }

  /** The table it reads and writes (`tableName`). */
  get tableName(): string {
    return this.opts.tableName;
  }

  /** Learns (or creates) the table's schema; idempotent, and retried after a failure. */
  initialize(): Promise<TableSchema> {
    return this.table.initialize();
  }

  /**
   * The entry under `key` with its expiry, or undefined for a miss (an item past its expiry that
   * DynamoDB's TTL has not deleted yet is a miss; `allowStale` returns one kept for fail-safe). A
   * sliding entry is renewed by the read.
   */
  getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined> {
    return this.entries.getEntry<T>(key, options);
  }

  /** `getEntry` for several keys, in their order: one BatchGetItem per 100 keys, unprocessed keys retried. */
  getManyEntries<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<CacheEntry<T> | undefined>> {
    return this.entries.getManyEntries<T>(keys, options);
  }

  /**
   * The first half of a write, with no network call: checks the key, ttl and value (throwing a typed
   * error for bad input, as `set` would), serializes it and resolves its expiry. A tier in front of
   * DynamoDB can keep the result even while DynamoDB cannot be reached.
   * @internal
   */
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry {
    return this.entries.prepareEntry(key, value, ttl, options);
  }

  /**
   * The second half of a write. A value that fits one item is one PutItem. A larger one is written
   * as chunk items first and its head last, so that until the head lands readers get the previous
   * value; the head's PutItem returns the item it replaced, whose chunks are then deleted.
   * @internal
   */
  putEntry(prepared: PreparedEntry): Promise<void> {
    return this.entries.putEntry(prepared);
  }

  /**
   * `putEntry` only over an item made before `prepared` (its `storedAt`), or none: resolves to
   * whether it landed. For a change owed since an outage, which must not replace a newer one.
   * @internal
   */
  putEntryIfNewer(prepared: PreparedEntry): Promise<boolean> {
    return this.entries.putEntryIfNewer(prepared);
  }

  /**
   * Deletes the key unless its item was made after `at`; resolves to false only when a newer one
   * stands. For a delete owed since an outage.
   * @internal
   */
  deleteUnlessNewer(key: string, at: number): Promise<boolean> {
    return this.entries.deleteUnlessNewer(key, at);
  }

  /**
   * The second half of `setManyEntries`, for entries `prepareEntry` made ready.
   * @internal
   */
  putEntries(prepared: readonly PreparedEntry[]): Promise<void> {
    return this.entries.putEntries(prepared);
  }

  /** Resolves to whether the key held an item. */
  delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }

  /**
   * Keyv's contract: resolves to whether every key held an item. BatchWriteItem cannot say so, hence a
   * key-only BatchGetItem first; `deleteKeys` skips that read when the answer is not needed.
   */
  deleteMany(keys: readonly string[]): Promise<boolean> {
    return this.entries.deleteMany(keys);
  }

  /** Deletes the keys in BatchWriteItem calls of 25, without learning which existed. */
  deleteKeys(keys: readonly string[]): Promise<void> {
    return this.entries.deleteKeys(keys);
  }

  /**
   * Renews a sliding entry's window without reading its value (only the expiry attributes, tags and
   * made-at time are fetched). Resolves to whether the key holds a live entry that `isCurrent` (the
   * cache's knowledge of invalidations and expiries by tag) does not say is retired or stale; such
   * a one is not renewed.
   */
  refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean> {
    return this.entries.refresh(key, isCurrent);
  }

  /** @internal See `expireItem`: one UpdateItem; resolves to whether a live entry was there. */
  expireEntry(key: string, at: number, keepUntil: number): Promise<boolean> {
    return expireItem(this.table, key, at, keepUntil);
  }

  /**
   * `expireEntry` only of an item made at or before `expiry.madeAt`: for an expire owed since an
   * outage, which must not make a newer value stale.
   * @internal
   */
  expireEntryUnlessNewer(key: string, expiry: OwedEntryExpiry): Promise<boolean> {
    return expireItem(this.table, key, expiry.at, expiry.keepUntil, expiry.madeAt);
  }

  /**
   * Deletes every item under this store's prefix (and Keyv namespace), and nothing else: the table may
   * hold other caches' and other applications' items. It scans the whole table, reading only the
   * keys, so it costs read units for the whole table's size; it is meant for tests and rare resets.
   */
  clear(): Promise<void> {
    return this.scans.clear(this.namespace);
  }

  /**
   * Every key of this store's prefix, a page at a time, from a Scan of the whole table (billed as
   * `clear()` is). Keys kept in digest form (long keys, keys beginning with `#`) and lease items are
   * the store's own and are not listed.
   */
  keys(): AsyncGenerator<string[]> {
    return this.scans.keys(this.namespace);
  }

  /**
   * keyv's optional store iterator: every live entry of this store's prefix and of `namespace` (Keyv
   * passes its own), as `[key, value]` pairs, the key as Keyv wrote it (`namespace:key`). Built on the
   * pages of `keys()` (so billed as a Scan of the whole table) read 100 keys at a time, one
   * BatchGetItem each: a large table streams, holding no more than 100 values at once. An entry
   * expired or deleted since its key was listed is skipped; digest-form keys are not listed.
   *
   * Keyv 5 attaches a store's iterator only for its own adapters (`opts.dialect` in an allow-list),
   * so with Keyv 5 an app attaches it: `keyv.iterator = keyv.generateIterator(store.iterator.bind(store))`.
   */
  iterator<Value = unknown>(namespace: string | undefined = this.namespace): AsyncGenerator<[string, Value], void> {
    return this.scans.entries<Value>(namespace, (keys) => this.getMany<Value>(keys));
  }

  /**
   * What the streams backplane needs to keep its journal in this cache's reserved key space (see
   * `backplane/journal-table.ts`): the store's bounded sender, and the schema.
   * @internal
   */
  reservedItems(): Promise<ReservedItemAccess> {
    return this.coordination.journalAccess();
  }

  /**
   * Abandons the calls it still has in flight (a call not yet on its socket is never sent, one on it
   * has the socket released), so that none is sent or answered after this resolved; destroys the
   * client only if the store built it: a client passed in belongs to the application.
   */
  async disconnect(): Promise<void> {
    this.table.sender.abandonInFlight();
    if (this.ownsClient) this.client.destroy();
  }

  /** A sibling shares its parent's client (never destroying it) and the schema its parent learns. */
  private adoptTable(parent: DynamoStore): void {
    this.table.learnSchema = () => parent.initialize();
  }

  private reportCapacity(record: CapacityRecord): void {
    if (this.listenerCount('capacity') > 0) this.emit('capacity', record);
  }

  /** An EventEmitter throws on an 'error' nobody listens to; such an error is logged instead, never lost. */
  private reportError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.opts.logger.warn(error.message);
  }
}

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { EntryStoreMethods } from './entry-store-methods.js';
import { BATCH_GET_LIMIT, CHUNKS_IN_FLIGHT, batchGetAll, batchWriteAll, scanPartitionKeys } from './batches.js';
import { mapWithConcurrency } from './retry.js';
import { type CapacityRecord, type CapacityUnits, CapacityMeter } from './capacity.js';
import { Compression } from './compression.js';
import { EntryReader } from './entry-reader.js';
import { ValueTooLargeError } from './errors.js';
import { releaseLease, tryAcquireLease } from './lease.js';
import { type EntryOptions, type Expiration, isPast, resolveExpiration } from './expiry.js';
import {
  ITEM_ATTRIBUTES,
  ITEM_LIMIT_BYTES,
  type TableSchema,
  decodeChunkRef,
  decodeExpiry,
  encodeItem,
  expiryProjection,
  itemKey,
} from './item-codec.js';
import { BACKPLANE_MARKER, type PartitionKey, assertValidKey, leasePartitionKey, partitionKeyFor } from './keys.js';
import { type DynamoStoreOptions, type ResolvedStoreOptions, resolveStoreOptions } from './store-options.js';
import { CHUNKS_GONE, type ItemWrite, type ValueStorage, chunkKeysOf, encodeWrite, inlineBody } from './stored-value.js';
import { prepareTable } from './table-schema.js';
import { type CurrentCheck, entryTags, stamp, tagPartitionKey } from './tags.js';
import { bumpVersion, readVersion } from './version-item.js';
import { type CommandSender, type SendHooks, type TimedSender, timedSender } from './timed-sender.js';
import { type SerializedPayload, serializeValue } from './value-serializer.js';
import type { RetryPolicy } from './retry.js';

import type { CacheEntry } from './entry-reader.js';

export type { CacheEntry } from './entry-reader.js';

/**
 * A write made ready by `prepareEntry`: checked, serialized, its expiry resolved. Published as a
 * type only because the engine's own declarations name it.
 */
export interface PreparedEntry {
  readonly key: string;
  readonly partitionKey: PartitionKey;
  readonly expiration: Expiration;
  readonly payload: SerializedPayload;
  readonly version?: string;
  readonly tags?: readonly string[];
  /** When its value was made (epoch ms): an invalidation at or after it retires the entry. */
  readonly storedAt: number;
  /** The encoded item, when the table's schema was known at preparation. */
  readonly item?: Record<string, AttributeValue>;
}

/** @internal See `DynamoStore.reservedItems`. */
export interface ReservedItemAccess {
  readonly sender: CommandSender;
  readonly tableName: string;
  readonly schema: TableSchema;
  /** Where the backplane's journal items begin, in the reserved key space that no caller's key can address. */
  readonly journalPrefix: string;
  readonly batchRetry: RetryPolicy;
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

type Item = Record<string, AttributeValue>;

/**
 * Keyv 5, given a store with an `iterator`, checks `opts.dialect` against its own adapters' and then
 * calls `opts.url.includes(…)`, which throws a TypeError when the store has no `url`.
 */
interface KeyvAdapterIdentity {
  readonly dialect: 'dynamodb';
  readonly url: string;
}

/** What a sibling store (`withPrefix`) may set for itself. */
export type SiblingOptions = Pick<DynamoStoreOptions, 'ttl' | 'compression' | 'serializer' | 'maxValueBytes' | 'returnConsumedCapacity'>;

export interface SetManyEntry<T = unknown> {
  key: string;
  value: T;
  ttl?: number | EntryOptions;
}

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
  private readonly sender: TimedSender;
  /** @internal Who is told of each DynamoDB call: the owning cache's name, and the telemetry bridge. */
  readonly sendHooks: SendHooks = {};
  private readonly meter?: CapacityMeter;
  private readonly valueStorage: ValueStorage;
  private readonly reader: EntryReader;
  private readonly ownsClient: boolean;
  private schema?: TableSchema;
  private schemaPromise?: Promise<TableSchema>;
  private learnSchema = () => prepareTable(this.client, this.sender, this.opts, this.opts.logger);

  constructor(private readonly options: DynamoStoreOptions) {
    super();
    const resolved = resolveStoreOptions(options);
    this.opts = { ...resolved, dialect: 'dynamodb', url: `dynamodb:${resolved.tableName}` };
    this.ownsClient = options.client === undefined;
    this.client =
      (options.client as DynamoDBClient | undefined) ??
      new DynamoDBClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials });
    this.meter = this.opts.returnConsumedCapacity ? new CapacityMeter((record) => this.reportCapacity(record)) : undefined;
    this.sender = timedSender(this.client, this.opts.tableName, this.opts.operationTimeoutMs, this.meter, this.sendHooks);
    this.valueStorage = { ...this.opts, sender: this.sender };
    this.reader = new EntryReader(this.opts, this.valueStorage, (error) => this.reportError(error));
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
    const { region: _region, endpoint: _endpoint, credentials: _credentials, ...shared } = this.options;
    const sibling = new DynamoStore({ ...shared, ...own, client: this.client, partitionKeyPrefix });
    sibling.learnSchema = () => this.initialize();
    return sibling;
  }

  get tableName(): string {
    return this.opts.tableName;
  }

  /** Learns (or creates) the table's schema; idempotent, and retried after a failure. */
  initialize(): Promise<TableSchema> {
    this.schemaPromise ??= this.learnSchema().then(
      (schema) => (this.schema = schema),
      (error: unknown) => {
        this.schemaPromise = undefined;
        throw error;
      },
    );
    return this.schemaPromise;
  }

  async getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined> {
    const partitionKey = this.partitionKey(key);
    const schema = this.schema ?? (await this.initialize());
    // A second pass only when a chunked value was overwritten between reading its head and its chunks.
    for (let attempt = 0; ; attempt++) {
      const output = await this.sender.send(
        new GetItemCommand({
          TableName: this.opts.tableName,
          Key: itemKey(schema, partitionKey.value),
          ConsistentRead: this.opts.consistentReads,
        }),
      );
      if (output.Item === undefined) return undefined;
      const entry = await this.reader.read<T>(output.Item, schema, key, partitionKey, options?.allowStale);
      if (entry !== CHUNKS_GONE) return entry;
      if (attempt === 1) {
        this.reader.warnForeign(partitionKey, 'its chunks are missing');
        return undefined;
      }
    }
  }

  async getManyEntries<T = unknown>(keys: readonly string[]): Promise<Array<CacheEntry<T> | undefined>> {
    if (!Array.isArray(keys)) throw new TypeError(`getMany expects an array of keys, got ${typeof keys}.`);
    const partitionKeys = keys.map((key) => this.partitionKey(key));
    if (keys.length === 0) return [];
    const schema = this.schema ?? (await this.initialize());
    // BatchGetItem rejects a request that names one key twice.
    const unique = [...new Set(partitionKeys.map((pk) => pk.value))];
    const items = await this.batchGet(schema, unique);
    const byPartitionKey = new Map<string, Item>();
    for (const item of items) byPartitionKey.set(item[schema.partitionKeyName]!.S!, item);
    // The chunks of every chunked value in the answer, in one more batch rather than one per value.
    const chunksWanted = items.flatMap((item) => chunkKeysOf(item, schema, this.opts.partitionKeyPrefix));
    if (chunksWanted.length > 0) {
      const chunkItems = await batchGetAll(this.sender, this.opts.tableName, chunksWanted, this.opts.consistentReads, this.opts.batchRetry);
      for (const item of chunkItems) byPartitionKey.set(item[schema.partitionKeyName]!.S!, item);
    }
    return Promise.all(
      keys.map(async (key, index) => {
        const item = byPartitionKey.get(partitionKeys[index]!.value);
        if (item === undefined) return undefined;
        const entry = await this.reader.read<T>(item, schema, key, partitionKeys[index]!, false, byPartitionKey);
        return entry === CHUNKS_GONE ? this.getEntry<T>(key) : entry;
      }),
    );
  }

  /**
   * The first half of a write, with no network call: checks the key, ttl and value (throwing a typed
   * error for bad input, as `set` would), serializes it and resolves its expiry. A tier in front of
   * DynamoDB can keep the result even while DynamoDB cannot be reached.
   * @internal
   */
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry {
    const partitionKey = this.partitionKey(key);
    const now = Date.now();
    const expiration = resolveExpiration(key, ttl, this.opts.ttl, now, options?.keepStaleFor);
    const tags = entryTags(key, ttl, options);
    const payload = serializeValue(key, value, this.opts.serializer);
    if (payload.bytes.byteLength > this.opts.maxValueBytes) {
      throw new ValueTooLargeError(key, payload.bytes.byteLength, this.opts.maxValueBytes, 'maxValueBytes');
    }
    // Only sliding entries are renewed in place, so only they need a version to guard the renewal.
    const version = expiration.slidingWindow === undefined ? undefined : randomBytes(9).toString('base64url');
    const storedAt = options?.storedAt ?? stamp();
    const prepared: PreparedEntry = { key, partitionKey, expiration, payload, version, tags, storedAt };
    // The common case (a small value, the schema known) is encoded now, so that its write awaits nothing first.
    const compressed = this.opts.compression !== undefined && payload.bytes.byteLength >= this.opts.compression.thresholdBytes;
    if (this.schema === undefined || compressed) return prepared;
    const encoded = encodeItem(
      this.schema,
      partitionKey,
      key,
      inlineBody(payload, { bytes: payload.bytes, compression: Compression.None }),
      expiration,
      prepared,
    );
    return encoded.bytes <= ITEM_LIMIT_BYTES ? { ...prepared, item: encoded.item } : prepared;
  }

  /**
   * The second half of a write. A value that fits one item is one PutItem. A larger one is written
   * as chunk items first and its head last, so that until the head lands readers get the previous
   * value; the head's PutItem returns the item it replaced, whose chunks are then deleted.
   * @internal
   */
  async putEntry(prepared: PreparedEntry): Promise<void> {
    const write: ItemWrite = prepared.item
      ? { head: prepared.item }
      : await encodeWrite(this.valueStorage, this.schema ?? (await this.initialize()), prepared);
    if (write.chunks === undefined) {
      await this.sender.send(new PutItemCommand({ TableName: this.opts.tableName, Item: write.head }));
      return;
    }
    await batchWriteAll(
      this.sender,
      this.opts.tableName,
      write.chunks.map((Item) => ({ PutRequest: { Item } })),
      this.opts.batchRetry,
    );
    const output = await this.sender.send(
      new PutItemCommand({ TableName: this.opts.tableName, Item: write.head, ReturnValues: 'ALL_OLD' }),
    );
    if (output.Attributes !== undefined) await this.deleteReplacedChunks(output.Attributes, prepared.key);
  }

  /**
   * The second half of `setManyEntries`, for entries `prepareEntry` made ready.
   * @internal
   */
  async putEntries(prepared: readonly PreparedEntry[]): Promise<void> {
    const lastWrites = new Map<string, PreparedEntry>();
    for (const entry of prepared) lastWrites.set(entry.partitionKey.value, entry);
    const schema = this.schema ?? (await this.initialize());
    const writes = await Promise.all(
      [...lastWrites.values()].map(async (entry): Promise<ItemWrite> =>
        entry.item ? { head: entry.item } : encodeWrite(this.valueStorage, schema, entry),
      ),
    );
    // Chunks first, every head after: a failure part-way leaves each key with its previous value.
    const chunks = writes.flatMap((write) => write.chunks ?? []).map((Item): WriteRequest => ({ PutRequest: { Item } }));
    if (chunks.length > 0) await batchWriteAll(this.sender, this.opts.tableName, chunks, this.opts.batchRetry);
    const heads = writes.map(({ head }): WriteRequest => ({ PutRequest: { Item: head } }));
    await batchWriteAll(this.sender, this.opts.tableName, heads, this.opts.batchRetry);
  }

  /** Resolves to whether the key held an item. */
  async delete(key: string): Promise<boolean> {
    const partitionKey = this.partitionKey(key);
    const schema = this.schema ?? (await this.initialize());
    try {
      await this.sender.send(
        new DeleteItemCommand({
          TableName: this.opts.tableName,
          Key: itemKey(schema, partitionKey.value),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': schema.partitionKeyName },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Keyv's contract: resolves to whether every key held an item. BatchWriteItem cannot say so, hence a
   * key-only BatchGetItem first; `deleteKeys` skips that read when the answer is not needed.
   */
  async deleteMany(keys: readonly string[]): Promise<boolean> {
    const unique = this.uniquePartitionKeys(keys, 'deleteMany');
    if (unique.length === 0) return true;
    const schema = this.schema ?? (await this.initialize());
    const existing = await this.batchGet(schema, unique, schema.partitionKeyName);
    await this.deletePartitionKeys(
      schema,
      existing.map((item) => item[schema.partitionKeyName]!.S!),
    );
    return existing.length === unique.length;
  }

  /** Deletes the keys in BatchWriteItem calls of 25, without learning which existed. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    const unique = this.uniquePartitionKeys(keys, 'deleteKeys');
    if (unique.length === 0) return;
    await this.deletePartitionKeys(this.schema ?? (await this.initialize()), unique);
  }

  /**
   * Deletes every item under this store's prefix (and Keyv namespace), and nothing else: the table may
   * hold other caches' and other applications' items. It scans the whole table, reading only the
   * keys, so it costs read units for the whole table's size; it is meant for tests and rare resets.
   */
  async clear(): Promise<void> {
    const schema = this.schema ?? (await this.initialize());
    const prefix = this.opts.partitionKeyPrefix + (this.namespace ? `${this.namespace}:` : '');
    const pages = scanPartitionKeys(this.sender, this.opts.tableName, schema, prefix, this.opts.consistentReads);
    // The backplane's journal holds its lease and stream position: deleting them would lose what it read.
    const journal = this.opts.partitionKeyPrefix + BACKPLANE_MARKER;
    for await (const page of pages)
      await this.deletePartitionKeys(
        schema,
        page.filter((key) => !key.startsWith(journal)),
      );
  }

  /**
   * Every key of this store's prefix, a page at a time, from a Scan of the whole table (billed as
   * `clear()` is). Keys kept in digest form (long keys, keys beginning with `#`) and lease items are
   * the store's own and are not listed.
   */
  async *keys(): AsyncGenerator<string[]> {
    const namespacePrefix = this.namespace ? `${this.namespace}:` : '';
    for await (const page of this.keyPages(this.namespace)) yield page.map((key) => key.slice(namespacePrefix.length));
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
  async *iterator<Value = unknown>(namespace: string | undefined = this.namespace): AsyncGenerator<[string, Value], void> {
    for await (const page of this.keyPages(namespace)) {
      for (let start = 0; start < page.length; start += BATCH_GET_LIMIT) {
        const keys = page.slice(start, start + BATCH_GET_LIMIT);
        const values = await this.getMany<Value>(keys);
        for (let index = 0; index < keys.length; index++) {
          const value = values[index];
          if (value !== undefined) yield [keys[index]!, value];
        }
      }
    }
  }

  /** The keys under this store's prefix and `namespace`, a Scan page at a time, as the caller wrote them (with the namespace). */
  private async *keyPages(namespace: string | undefined): AsyncGenerator<string[]> {
    const schema = this.schema ?? (await this.initialize());
    const namespacePrefix = namespace ? `${namespace}:` : '';
    const prefix = this.opts.partitionKeyPrefix + namespacePrefix;
    for await (const page of scanPartitionKeys(this.sender, this.opts.tableName, schema, prefix, this.opts.consistentReads)) {
      yield page
        .filter((partitionKey) => !partitionKey.startsWith('#', prefix.length))
        .map((partitionKey) => partitionKey.slice(this.opts.partitionKeyPrefix.length));
    }
  }

  /**
   * Renews a sliding entry's window without reading its value (only the expiry attributes, tags and
   * made-at time are fetched). Resolves to whether the key holds a live entry that `isCurrent` (the
   * cache's knowledge of invalidations) does not say is retired; a retired one is not renewed.
   */
  async refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean> {
    const partitionKey = this.partitionKey(key);
    const schema = this.schema ?? (await this.initialize());
    const output = await this.sender.send(
      new GetItemCommand({
        TableName: this.opts.tableName,
        Key: itemKey(schema, partitionKey.value),
        ConsistentRead: this.opts.consistentReads,
        ...expiryProjection(schema),
      }),
    );
    const now = Date.now();
    const expiry = output.Item && decodeExpiry(output.Item, schema, key, partitionKey, now);
    if (expiry?.kind !== 'live' || isPast(expiry.expiration.expiresAt, now)) return false;
    if (isCurrent !== undefined && !(await isCurrent(expiry))) return false;
    const chunks = decodeChunkRef(output.Item!);
    if (expiry.version !== undefined)
      await this.reader.renew(
        schema,
        key,
        partitionKey,
        expiry.expiration,
        expiry.version,
        0,
        typeof chunks === 'string' ? undefined : chunks,
      );
    return true;
  }

  /**
   * Takes the distributed lock on `key` for `leaseMs` unless another owner holds it: one conditional
   * write on a lease item in the cache's reserved key space, which no caller's key can address.
   * @internal
   */
  async acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean> {
    assertValidKey(key);
    const schema = this.schema ?? (await this.initialize());
    return tryAcquireLease(this.sender, this.opts.tableName, schema, leasePartitionKey(this.opts.partitionKeyPrefix, key), owner, leaseMs);
  }

  /** @internal */
  async releaseLease(key: string, owner: string): Promise<void> {
    const schema = this.schema ?? (await this.initialize());
    await releaseLease(this.sender, this.opts.tableName, schema, leasePartitionKey(this.opts.partitionKeyPrefix, key), owner);
  }

  /**
   * The counter of this cache's version item, which the poll backplane reads (see `version-item.ts`).
   * @internal
   */
  async readVersion(): Promise<number> {
    return readVersion(this.sender, this.opts.tableName, this.schema ?? (await this.initialize()), this.opts.partitionKeyPrefix);
  }

  /**
   * Adds one to this cache's version item, atomically, and resolves to its new value.
   * @internal
   */
  async bumpVersion(): Promise<number> {
    return bumpVersion(this.sender, this.opts.tableName, this.schema ?? (await this.initialize()), this.opts.partitionKeyPrefix);
  }

  /**
   * When each tag was last invalidated (`CLEARED_TAG`: the cache cleared), in one BatchGetItem of the
   * tag items (unprocessed keys retried); a tag never invalidated is absent from the answer.
   * @internal
   */
  async readTagTimes(tags: readonly string[]): Promise<Map<string, number>> {
    const times = new Map<string, number>();
    if (tags.length === 0) return times;
    const schema = this.schema ?? (await this.initialize());
    const byPartitionKey = new Map(tags.map((tag) => [tagPartitionKey(this.opts.partitionKeyPrefix, tag), tag]));
    const items = await batchGetAll(
      this.sender,
      this.opts.tableName,
      [...byPartitionKey.keys()].map((value) => itemKey(schema, value)),
      this.opts.consistentReads,
      this.opts.batchRetry,
    );
    for (const item of items) {
      const tag = byPartitionKey.get(item[schema.partitionKeyName]?.S ?? '');
      const at = Number(item[ITEM_ATTRIBUTES.invalidatedAt]?.N);
      if (tag !== undefined && Number.isFinite(at)) times.set(tag, at);
    }
    return times;
  }

  /**
   * Records `at` as the tags' invalidation instant: one small UpdateItem per tag (8 in flight),
   * whatever the number of entries that carry them. Each only moves the time forward, so that of two
   * invalidations racing, the later one stands whichever lands last. Tag items have no TTL: an entry
   * that never expires may carry the tag for as long as it lives.
   * @internal
   */
  async writeTagTimes(tags: readonly string[], at: number): Promise<void> {
    if (tags.length === 0) return;
    const schema = this.schema ?? (await this.initialize());
    await mapWithConcurrency(tags, CHUNKS_IN_FLIGHT, async (tag) => {
      try {
        await this.sender.send(
          new UpdateItemCommand({
            TableName: this.opts.tableName,
            Key: itemKey(schema, tagPartitionKey(this.opts.partitionKeyPrefix, tag)),
            UpdateExpression: 'SET #at = :at',
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': ITEM_ATTRIBUTES.invalidatedAt },
            ExpressionAttributeValues: { ':at': { N: String(at) } },
          }),
        );
      } catch (error) {
        // A later invalidation is there already: it retires all that this one would.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  /**
   * What the streams backplane needs to keep its journal in this cache's reserved key space (see
   * `backplane/journal-table.ts`): the store's bounded sender, and the schema.
   * @internal
   */
  async reservedItems(): Promise<ReservedItemAccess> {
    return {
      sender: this.sender,
      tableName: this.opts.tableName,
      schema: this.schema ?? (await this.initialize()),
      journalPrefix: this.opts.partitionKeyPrefix + BACKPLANE_MARKER,
      batchRetry: this.opts.batchRetry,
    };
  }

  /**
   * Abandons the calls it still has in flight (a call not yet on its socket is never sent, one on it
   * has the socket released), so that none is sent or answered after this resolved; destroys the
   * client only if the store built it: a client passed in belongs to the application.
   */
  async disconnect(): Promise<void> {
    this.sender.abandonInFlight();
    if (this.ownsClient) this.client.destroy();
  }

  private uniquePartitionKeys(keys: readonly string[], method: string): string[] {
    if (!Array.isArray(keys)) throw new TypeError(`${method} expects an array of keys, got ${typeof keys}.`);
    // A batch that names one key twice is rejected by DynamoDB.
    return [...new Set(keys.map((key) => this.partitionKey(key).value))];
  }

  private batchGet(schema: TableSchema, values: readonly string[], projectAttribute?: string) {
    const keys = values.map((value) => itemKey(schema, value));
    return batchGetAll(this.sender, this.opts.tableName, keys, this.opts.consistentReads, this.opts.batchRetry, projectAttribute);
  }

  private async deletePartitionKeys(schema: TableSchema, values: readonly string[]): Promise<void> {
    const deletes = values.map((value): WriteRequest => ({ DeleteRequest: { Key: itemKey(schema, value) } }));
    if (deletes.length > 0) await batchWriteAll(this.sender, this.opts.tableName, deletes, this.opts.batchRetry);
  }

  private partitionKey(key: string): PartitionKey {
    assertValidKey(key);
    return partitionKeyFor(this.opts.partitionKeyPrefix, key);
  }

  /** Best effort: a failure leaves the old chunks to their TTL (or to `clear()` when they have none). */
  private async deleteReplacedChunks(replaced: Item, key: string): Promise<void> {
    const schema = this.schema ?? (await this.initialize());
    const deletes = chunkKeysOf(replaced, schema, this.opts.partitionKeyPrefix).map((Key): WriteRequest => ({ DeleteRequest: { Key } }));
    if (deletes.length === 0) return;
    await batchWriteAll(this.sender, this.opts.tableName, deletes, this.opts.batchRetry).catch((error: unknown) =>
      this.reportError(
        new Error(`Deleting the replaced chunks of "${key}" in table "${this.opts.tableName}" failed: ${(error as Error).message}`, {
          cause: error,
        }),
      ),
    );
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

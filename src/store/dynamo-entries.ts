import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { batchGetAll, batchWriteAll } from './batches.js';
import { Compression } from './compression.js';
import { conditionHeld } from './conditional-write.js';
import type { DynamoTable } from './dynamo-table.js';
import type { CacheEntry } from './entry-reader.js';
import type { PreparedEntry, ReadOptions, WriteOptions } from './entry-store.js';
import { ValueTooLargeError } from './errors.js';
import { type EntryOptions, isPast, resolveExpiration } from './expiry.js';
import { ITEM_ATTRIBUTES, ITEM_LIMIT_BYTES, decodeChunkRef, decodeExpiry, encodeItem, expiryProjection, itemKey } from './item-codec.js';
import { CHUNKS_GONE, type ItemWrite, chunkKeysOf, encodeWrite, inlineBody } from './stored-value.js';
import { type CurrentCheck, entryTags, stamp } from './tags.js';
import { serializeValue } from './value-serializer.js';

type Item = Record<string, AttributeValue>;

/** A head's write condition, on when its value was made: the rest of the command is the put's. */
type HeadCondition = Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>;

/** A DynamoStore's entries: their reads, writes (one item, or chunks and a head), deletes and renewals. */
export class DynamoEntries {
  constructor(private readonly table: DynamoTable) {}

  async getEntry<T = unknown>(key: string, options?: ReadOptions): Promise<CacheEntry<T> | undefined> {
    const { table } = this;
    const partitionKey = table.partitionKey(key);
    const schema = table.schema ?? (await table.initialize());
    // A second pass only when a chunked value was overwritten between reading its head and its chunks.
    for (let attempt = 0; ; attempt++) {
      const output = await table.sender.send(
        new GetItemCommand({
          TableName: table.settings.tableName,
          Key: itemKey(schema, partitionKey.value),
          ConsistentRead: table.settings.consistentReads,
        }),
      );
      if (output.Item === undefined) return undefined;
      const entry = await table.reader.read<T>(output.Item, schema, key, partitionKey, options?.allowStale);
      if (entry !== CHUNKS_GONE) return entry;
      if (attempt === 1) {
        table.reader.warnForeign(partitionKey, 'its chunks are missing');
        return undefined;
      }
    }
  }

  async getManyEntries<T = unknown>(keys: readonly string[], options?: ReadOptions): Promise<Array<CacheEntry<T> | undefined>> {
    const { table } = this;
    if (!Array.isArray(keys)) throw new TypeError(`getMany expects an array of keys, got ${typeof keys}.`);
    const partitionKeys = keys.map((key) => table.partitionKey(key));
    if (keys.length === 0) return [];
    const schema = table.schema ?? (await table.initialize());
    const { tableName, consistentReads, batchRetry, partitionKeyPrefix } = table.settings;
    // BatchGetItem rejects a request that names one key twice.
    const unique = [...new Set(partitionKeys.map((pk) => pk.value))];
    const items = await table.batchGet(schema, unique);
    const byPartitionKey = new Map<string, Item>();
    for (const item of items) byPartitionKey.set(item[schema.partitionKeyName]!.S!, item);
    // The chunks of every chunked value in the answer, in one more batch rather than one per value.
    const chunksWanted = items.flatMap((item) => chunkKeysOf(item, schema, partitionKeyPrefix));
    if (chunksWanted.length > 0) {
      const chunkItems = await batchGetAll(table.sender, tableName, chunksWanted, consistentReads, batchRetry);
      for (const item of chunkItems) byPartitionKey.set(item[schema.partitionKeyName]!.S!, item);
    }
    return Promise.all(
      keys.map(async (key, index) => {
        const item = byPartitionKey.get(partitionKeys[index]!.value);
        if (item === undefined) return undefined;
        const entry = await table.reader.read<T>(item, schema, key, partitionKeys[index]!, options?.allowStale, byPartitionKey);
        return entry === CHUNKS_GONE ? this.getEntry<T>(key, options) : entry;
      }),
    );
  }

  /** See `DynamoStore.prepareEntry`. */
  prepareEntry(key: string, value: unknown, ttl?: number | EntryOptions, options?: WriteOptions): PreparedEntry {
    const { table } = this;
    const settings = table.settings;
    const partitionKey = table.partitionKey(key);
    const now = Date.now();
    const expiration = resolveExpiration(key, ttl, settings.ttl, now, options?.keepStaleFor);
    const tags = entryTags(key, ttl, options);
    const payload = serializeValue(key, value, settings.serializer);
    if (payload.bytes.byteLength > settings.maxValueBytes) {
      throw new ValueTooLargeError(key, payload.bytes.byteLength, settings.maxValueBytes, 'maxValueBytes');
    }
    // Only sliding entries are renewed in place, so only they need a version to guard the renewal.
    const version = expiration.slidingWindow === undefined ? undefined : randomBytes(9).toString('base64url');
    const storedAt = options?.storedAt ?? stamp();
    const prepared: PreparedEntry = { key, partitionKey, expiration, payload, version, tags, storedAt };
    // The common case (a small value, the schema known) is encoded now, so that its write awaits nothing first.
    const compressed = settings.compression !== undefined && payload.bytes.byteLength >= settings.compression.thresholdBytes;
    if (table.schema === undefined || compressed) return prepared;
    const encoded = encodeItem(
      table.schema,
      partitionKey,
      key,
      inlineBody(payload, { bytes: payload.bytes, compression: Compression.None }),
      expiration,
      prepared,
    );
    return encoded.bytes <= ITEM_LIMIT_BYTES ? { ...prepared, item: encoded.item } : prepared;
  }

  /** See `DynamoStore.putEntry`. */
  async putEntry(prepared: PreparedEntry): Promise<void> {
    await this.put(prepared);
  }

  /** See `DynamoStore.putEntryIfNewer`. */
  putEntryIfNewer(prepared: PreparedEntry): Promise<boolean> {
    return this.put(prepared, {
      ConditionExpression: 'attribute_not_exists(#sat) OR #sat < :sat',
      ExpressionAttributeNames: { '#sat': ITEM_ATTRIBUTES.storedAt },
      ExpressionAttributeValues: { ':sat': { N: String(prepared.storedAt) } },
    });
  }

  /** See `DynamoStore.deleteUnlessNewer`. */
  async deleteUnlessNewer(key: string, at: number): Promise<boolean> {
    const { table } = this;
    const schema = table.schema ?? (await table.initialize());
    return conditionHeld(() =>
      table.sender.send(
        new DeleteItemCommand({
          TableName: table.settings.tableName,
          Key: itemKey(schema, table.partitionKey(key).value),
          // Absent: the condition holds and nothing is deleted, which is what was owed.
          ConditionExpression: 'attribute_not_exists(#sat) OR #sat <= :at',
          ExpressionAttributeNames: { '#sat': ITEM_ATTRIBUTES.storedAt },
          ExpressionAttributeValues: { ':at': { N: String(at) } },
        }),
      ),
    );
  }

  /** A value's item (chunks first, its head last); with `condition`, whether the head's condition held. */
  private async put(prepared: PreparedEntry, condition?: HeadCondition): Promise<boolean> {
    const { table } = this;
    const { tableName, batchRetry } = table.settings;
    const write: ItemWrite = prepared.item
      ? { head: prepared.item }
      : await encodeWrite(table.valueStorage, table.schema ?? (await table.initialize()), prepared);
    if (write.chunks === undefined) {
      return conditionHeld(() => table.sender.send(new PutItemCommand({ TableName: tableName, Item: write.head, ...condition })));
    }
    await batchWriteAll(
      table.sender,
      tableName,
      write.chunks.map((Item) => ({ PutRequest: { Item } })),
      batchRetry,
    );
    let replaced: Item | undefined;
    const held = await conditionHeld(async () => {
      const output = await table.sender.send(
        new PutItemCommand({ TableName: tableName, Item: write.head, ReturnValues: 'ALL_OLD', ...condition }),
      );
      replaced = output.Attributes;
    });
    // A head that lost to a newer item: its own chunks are orphans (their TTL would delete them too).
    if (!held) await this.deleteReplacedChunks(write.head, prepared.key);
    else if (replaced !== undefined) await this.deleteReplacedChunks(replaced, prepared.key);
    return held;
  }

  async putEntries(prepared: readonly PreparedEntry[]): Promise<void> {
    const { table } = this;
    const { tableName, batchRetry } = table.settings;
    const lastWrites = new Map<string, PreparedEntry>();
    for (const entry of prepared) lastWrites.set(entry.partitionKey.value, entry);
    const schema = table.schema ?? (await table.initialize());
    const writes = await Promise.all(
      [...lastWrites.values()].map(async (entry): Promise<ItemWrite> =>
        entry.item ? { head: entry.item } : encodeWrite(table.valueStorage, schema, entry),
      ),
    );
    // Chunks first, every head after: a failure part-way leaves each key with its previous value.
    const chunks = writes.flatMap((write) => write.chunks ?? []).map((Item): WriteRequest => ({ PutRequest: { Item } }));
    if (chunks.length > 0) await batchWriteAll(table.sender, tableName, chunks, batchRetry);
    const heads = writes.map(({ head }): WriteRequest => ({ PutRequest: { Item: head } }));
    await batchWriteAll(table.sender, tableName, heads, batchRetry);
  }

  async delete(key: string): Promise<boolean> {
    const { table } = this;
    const partitionKey = table.partitionKey(key);
    const schema = table.schema ?? (await table.initialize());
    return conditionHeld(() =>
      table.sender.send(
        new DeleteItemCommand({
          TableName: table.settings.tableName,
          Key: itemKey(schema, partitionKey.value),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': schema.partitionKeyName },
        }),
      ),
    );
  }

  async deleteMany(keys: readonly string[]): Promise<boolean> {
    const { table } = this;
    const unique = table.uniquePartitionKeys(keys, 'deleteMany');
    if (unique.length === 0) return true;
    const schema = table.schema ?? (await table.initialize());
    const existing = await table.batchGet(schema, unique, schema.partitionKeyName);
    await table.deletePartitionKeys(
      schema,
      existing.map((item) => item[schema.partitionKeyName]!.S!),
    );
    return existing.length === unique.length;
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    const { table } = this;
    const unique = table.uniquePartitionKeys(keys, 'deleteKeys');
    if (unique.length === 0) return;
    await table.deletePartitionKeys(table.schema ?? (await table.initialize()), unique);
  }

  /** See `DynamoStore.refresh`. */
  async refresh(key: string, isCurrent?: CurrentCheck): Promise<boolean> {
    const { table } = this;
    const partitionKey = table.partitionKey(key);
    const schema = table.schema ?? (await table.initialize());
    const output = await table.sender.send(
      new GetItemCommand({
        TableName: table.settings.tableName,
        Key: itemKey(schema, partitionKey.value),
        ConsistentRead: table.settings.consistentReads,
        ...expiryProjection(schema),
      }),
    );
    const now = Date.now();
    const expiry = output.Item && decodeExpiry(output.Item, schema, key, partitionKey, now);
    if (expiry?.kind !== 'live' || isPast(expiry.expiration.expiresAt, now)) return false;
    if (isCurrent !== undefined && !(await isCurrent(expiry))) return false;
    const chunks = decodeChunkRef(output.Item!);
    if (expiry.version !== undefined)
      await table.reader.renew(
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

  /** Best effort: a failure leaves the old chunks to their TTL (or to `clear()` when they have none). */
  private async deleteReplacedChunks(replaced: Item, key: string): Promise<void> {
    const { table } = this;
    const { tableName, batchRetry, partitionKeyPrefix } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    const deletes = chunkKeysOf(replaced, schema, partitionKeyPrefix).map((Key): WriteRequest => ({ DeleteRequest: { Key } }));
    if (deletes.length === 0) return;
    await batchWriteAll(table.sender, tableName, deletes, batchRetry).catch((error: unknown) =>
      table.reportError(
        new Error(`Deleting the replaced chunks of "${key}" in table "${tableName}" failed: ${(error as Error).message}`, {
          cause: error,
        }),
      ),
    );
  }
}

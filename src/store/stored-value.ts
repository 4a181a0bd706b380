import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { batchGetAll } from './batches.js';
import { CHUNK_ID, MAX_CHUNKS, chunkKeys, encodeChunks, joinChunks, newChunkId } from './chunks.js';
import { type Compression, compressPayload, decompressPayload } from './compression.js';
import { ValueTooLargeError } from './errors.js';
import { type Expiration, chunksKeptUntil, ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, ITEM_LIMIT_BYTES, type ItemBody, type TableSchema, encodeItem } from './item-codec.js';
import type { PartitionKey } from './keys.js';
import { MAX_VALUE_BYTES_LIMIT } from './store-option-parts.js';
import type { ResolvedStoreOptions } from './store-options.js';
import type { CommandSender } from './timed-sender.js';
import type { SerializedPayload } from './value-serializer.js';

type Item = Record<string, AttributeValue>;

/** What turning a value's bytes into items, and back, needs of the store: its options and its sender. */
export type ValueStorage = Pick<
  ResolvedStoreOptions,
  'tableName' | 'partitionKeyPrefix' | 'compression' | 'consistentReads' | 'batchRetry'
> & {
  readonly sender: CommandSender;
};

/** An item to write, and the chunk items to write before it when the value is too large for one. */
export interface ItemWrite {
  readonly head: Item;
  readonly chunks?: readonly Item[];
}

/** The parts of a prepared write that decide its items. */
export interface ValueWrite {
  readonly key: string;
  readonly partitionKey: PartitionKey;
  readonly expiration: Expiration;
  readonly payload: SerializedPayload;
  readonly version?: string;
  readonly tags?: readonly string[];
  readonly storedAt?: number;
}

/** A head whose chunks were deleted between reading it and reading them: an overwrite raced the read. */
export const CHUNKS_GONE = Symbol('chunks gone');

/** The body of an item whose value is stored inline. */
export function inlineBody(payload: SerializedPayload, stored: { bytes: Uint8Array; compression: Compression }): ItemBody {
  return { format: payload.format, serializerName: payload.serializer?.name, compression: stored.compression, inline: stored.bytes };
}

/** Compresses the value, and splits it into chunk items when its item would pass 400 KB. */
export async function encodeWrite(storage: ValueStorage, schema: TableSchema, write: ValueWrite): Promise<ItemWrite> {
  const { key, partitionKey, expiration, payload } = write;
  const stored = await compressPayload(payload.bytes, storage.compression);
  const body = inlineBody(payload, stored);
  const whole = encodeItem(schema, partitionKey, key, body, expiration, write);
  if (whole.bytes <= ITEM_LIMIT_BYTES) return { head: whole.item };
  const id = newChunkId();
  const keptUntil = chunksKeptUntil(expiration);
  const chunks = encodeChunks(
    schema,
    storage.partitionKeyPrefix,
    id,
    stored.bytes,
    keptUntil === undefined ? undefined : ttlSecondsFor(keptUntil),
  );
  // Only a sliding head is renewed in place, so only it needs to know until when its chunks are kept.
  const chunkRef = {
    id,
    count: chunks.length,
    bytes: stored.bytes.byteLength,
    ...(expiration.slidingWindow === undefined ? {} : { keptUntil }),
  };
  const head = encodeItem(schema, partitionKey, key, { ...body, inline: undefined, chunks: chunkRef }, expiration, write);
  // Only a very long key (kept whole in a digest item) can make a head this large.
  if (head.bytes > ITEM_LIMIT_BYTES) throw new ValueTooLargeError(key, head.bytes, ITEM_LIMIT_BYTES, 'item');
  return { head: head.item, chunks };
}

/** The keys of the chunks an item names, when it is a chunked head; none otherwise. */
export function chunkKeysOf(item: Item, schema: TableSchema, partitionKeyPrefix: string): Item[] {
  const id = item[ITEM_ATTRIBUTES.chunkId]?.S;
  const count = Number(item[ITEM_ATTRIBUTES.chunkCount]?.N);
  if (id === undefined || !CHUNK_ID.test(id) || !Number.isInteger(count) || count < 1 || count > MAX_CHUNKS) return [];
  return chunkKeys(schema, partitionKeyPrefix, id, count);
}

/**
 * The stored bytes of an entry, joined from its chunks when it has them (from `fetched`, when a
 * batch read already has them), and inflated; or why they cannot be read.
 */
export async function storedBytes(
  storage: ValueStorage,
  body: ItemBody,
  schema: TableSchema,
  fetched?: ReadonlyMap<string, Item>,
): Promise<Uint8Array | typeof CHUNKS_GONE | string> {
  let bytes = body.inline;
  if (body.chunks !== undefined) {
    const keys = chunkKeys(schema, storage.partitionKeyPrefix, body.chunks.id, body.chunks.count);
    const items = fetched
      ? keys.flatMap((chunkKey): Item[] => {
          const item = fetched.get(chunkKey[schema.partitionKeyName]!.S!);
          return item === undefined ? [] : [item];
        })
      : await batchGetAll(storage.sender, storage.tableName, keys, storage.consistentReads, storage.batchRetry);
    if (items.length < keys.length) return CHUNKS_GONE;
    const joined = joinChunks(items, schema, storage.partitionKeyPrefix, body.chunks);
    if (typeof joined === 'string') return joined;
    bytes = joined;
  }
  try {
    // Capped at the largest value any configuration accepts, not this store's: an item written under
    // a larger maxValueBytes still reads, and a foreign one cannot make the reader allocate more.
    return await decompressPayload({ bytes: bytes!, compression: body.compression }, MAX_VALUE_BYTES_LIMIT);
  } catch (error) {
    return `its value does not inflate (${(error as Error).message})`;
  }
}

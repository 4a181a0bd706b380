import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { type TableSchema, itemKey } from './item-key.js';
import { CHUNK_MARKER } from './keys.js';

/**
 * The bytes one chunk item carries: DynamoDB's 400 KB item limit less room for the rest of it, under
 * 4 KB: a partition key of up to 2,048 bytes and a sort key of up to 1,024 (DynamoDB's limits), up
 * to 255 bytes for each of their names and the TTL's, the value's name and the TTL's number.
 */
export const CHUNK_PAYLOAD_BYTES = 400 * 1024 - 4 * 1024;
/** One BatchGetItem reads up to 100 keys, so a chunked value is read back with one call. */
export const MAX_CHUNKS = 100;
export const CHUNK_ID = /^[A-Za-z0-9_-]{16}$/;

type Item = Record<string, AttributeValue>;

/** The attribute of a chunk's bytes: the same name as a whole value's (`ITEM_ATTRIBUTES.value`). */
const CHUNK_VALUE = 'v';

/** A write id no other write shares, so that a reader can never join the chunks of two writes. */
export function newChunkId(): string {
  return randomBytes(12).toString('base64url');
}

export function chunkPartitionKey(prefix: string, id: string, index: number): string {
  return `${prefix}${CHUNK_MARKER}${id}:${index}`;
}

export function chunkKeys(schema: TableSchema, prefix: string, id: string, count: number): Item[] {
  return Array.from({ length: count }, (_, index) => itemKey(schema, chunkPartitionKey(prefix, id, index)));
}

/**
 * The chunk items of one write. They carry the head's TTL (absent when it has none; for a sliding
 * head, see `chunksKeptUntil`), so that chunks a later write or a failed head write orphans are
 * deleted by DynamoDB when the head would have been.
 */
export function encodeChunks(schema: TableSchema, prefix: string, id: string, bytes: Uint8Array, ttlSeconds: number | undefined): Item[] {
  const items: Item[] = [];
  for (let offset = 0, index = 0; offset < bytes.byteLength; offset += CHUNK_PAYLOAD_BYTES, index++) {
    const item: Item = {
      ...itemKey(schema, chunkPartitionKey(prefix, id, index)),
      [CHUNK_VALUE]: { B: bytes.subarray(offset, offset + CHUNK_PAYLOAD_BYTES) },
    };
    if (ttlSeconds !== undefined) item[schema.ttlAttributeName] = { N: String(ttlSeconds) };
    items.push(item);
  }
  return items;
}

/**
 * Joins the chunks a head names, in order, or says why they cannot be: one missing (deleted after
 * an overwrite, or never written) or bytes that do not add up.
 */
export function joinChunks(
  items: readonly Item[],
  schema: TableSchema,
  prefix: string,
  ref: { id: string; count: number; bytes: number },
): Uint8Array | string {
  const parts = new Array<Uint8Array | undefined>(ref.count);
  const firstKey = chunkPartitionKey(prefix, ref.id, 0);
  const stem = firstKey.slice(0, -1);
  for (const item of items) {
    const partitionKey = item[schema.partitionKeyName]?.S;
    if (partitionKey === undefined || !partitionKey.startsWith(stem)) continue;
    const suffix = partitionKey.slice(stem.length);
    const index = Number(suffix);
    if (!/^\d{1,3}$/.test(suffix) || index >= ref.count) continue;
    const bytes = item[CHUNK_VALUE]?.B;
    if (bytes === undefined) return `chunk ${index} has no binary value`;
    parts[index] = bytes;
  }
  const missing = parts.findIndex((part) => part === undefined);
  if (missing !== -1) return `chunk ${missing} of ${ref.count} is missing`;
  const joined = Buffer.concat(parts as Uint8Array[]);
  if (joined.byteLength !== ref.bytes) return `its chunks hold ${joined.byteLength} bytes where the head names ${ref.bytes}`;
  return joined;
}

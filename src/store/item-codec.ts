import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { CHUNK_ID, MAX_CHUNKS } from './chunks.js';
import { Compression, isCompression } from './compression.js';
import { type Expiration, ttlSecondsFor } from './expiry.js';
import { type TableSchema, itemKey, keyBytes } from './item-key.js';
import type { PartitionKey } from './keys.js';
import { PayloadFormat } from './value-serializer.js';

/** DynamoDB's item size limit: 400 KB, counted as attribute names plus values. */
export const ITEM_LIMIT_BYTES = 400 * 1024;

/**
 * Attribute names of a cache item besides the partition key and the TTL attribute, whose names the
 * table decides. Short, because every attribute name is billed with every read and write.
 */
export const ITEM_ATTRIBUTES = Object.freeze({
  value: 'v',
  format: 'f',
  expiresAt: 'exp',
  staleUntil: 'fs',
  slidingWindow: 'sw',
  absoluteDeadline: 'dl',
  version: 'ver',
  fullKey: 'key',
  compression: 'z',
  serializer: 'sz',
  chunkCount: 'ch',
  chunkBytes: 'cb',
  chunkId: 'cid',
  /** A sliding chunked head: until when (epoch ms) its chunks' TTL keeps them; a renewal past it renews them. */
  chunksKeptUntil: 'cx',
  /** The tags an entry was written with (a string set), for invalidation by tag. */
  tags: 'tg',
  /** When the entry's value was made (epoch ms): a tag invalidated, or the cache cleared, at or after it retires it. */
  storedAt: 'sat',
  /** A tag item's (and a cache's cleared-at item's) invalidation instant, epoch ms. */
  invalidatedAt: 'tgt',
  /** A tag item's expired-at instant (epoch ms, `expireByTag`): entries made at or before it are stale, not gone. */
  expiredAt: 'tgx',
  /** The counter of the poll backplane's version item (see `DynamoStore.bumpVersion`). */
  backplaneVersion: 'bpv',
  /** The owner of a distributed lock's lease item (see `lease.ts`). */
  leaseOwner: 'own',
  /** The streams backplane's journal items (see `backplane/journal-table.ts`). */
  journalOwner: 'bpo',
  journalTerm: 'bpt',
  journalLeaseUntil: 'bpl',
  journalSeq: 'bps',
  journalThrough: 'bpa',
  journalPublishedAt: 'bpp',
  journalTermStart: 'bpts',
  journalKeys: 'bpk',
  journalClear: 'bpc',
  journalPosition: 'bpx',
});

const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.values(ITEM_ATTRIBUTES));

export function isReservedAttributeName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

export { type TableSchema, itemKey } from './item-key.js';

/** Where a chunked value's bytes are: `count` chunk items written under one write id. */
export interface ChunkRef {
  readonly id: string;
  readonly count: number;
  /** The stored bytes of all chunks together, checked when they are joined. */
  readonly bytes: number;
  /** For a sliding entry: until when (epoch ms) the chunks' TTL keeps them (see `chunksKeptUntil`). */
  readonly keptUntil?: number;
}

/** How an item holds its value: the stored bytes inline, or a reference to its chunks. */
export interface ItemBody {
  readonly format: PayloadFormat;
  /** For `PayloadFormat.Custom`: the serializer that wrote the bytes. */
  readonly serializerName?: string;
  readonly compression: Compression;
  readonly inline?: Uint8Array;
  readonly chunks?: ChunkRef;
}

/** What an entry carries besides its value and expiry. */
export interface EntryMarks {
  /** Changes on every write of a sliding entry, so a renewal can tell it still holds what it read. */
  readonly version?: string;
  readonly tags?: readonly string[];
  /** When its value was made (epoch ms); absent on items written before tags existed. */
  readonly storedAt?: number;
}

/** What a read found in an item of ours. */
export interface StoredEntry extends EntryMarks {
  readonly body: ItemBody;
  readonly expiration: Expiration;
}

export type DecodedItem =
  | { readonly kind: 'entry'; readonly entry: StoredEntry }
  | { readonly kind: 'expired' }
  | { readonly kind: 'foreign'; readonly reason: string };

const n = (value: number): AttributeValue => ({ N: String(value) });

function numberBytes(value: number): number {
  // DynamoDB counts a number as 1 byte per two significant digits, plus 1.
  return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
}

/** An item ready to write, with its size as DynamoDB counts it (attribute names plus values). */
export interface EncodedItem {
  readonly item: Record<string, AttributeValue>;
  readonly bytes: number;
}

/** Builds the item for a write. Its size is for the caller to check: a value too large for one item goes to chunks. */
export function encodeItem(
  schema: TableSchema,
  partitionKey: PartitionKey,
  key: string,
  body: ItemBody,
  expiration: Expiration,
  marks: EntryMarks,
): EncodedItem {
  const a = ITEM_ATTRIBUTES;
  const item = itemKey(schema, partitionKey.value);
  let bytes = keyBytes(schema, partitionKey.value);
  const addNumber = (name: string, value: number) => {
    item[name] = n(value);
    bytes += Buffer.byteLength(name) + numberBytes(value);
  };
  const addString = (name: string, value: string) => {
    item[name] = { S: value };
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  };
  if (body.inline !== undefined) {
    item[a.value] = { B: body.inline };
    bytes += a.value.length + body.inline.byteLength;
  }
  if (body.chunks !== undefined) {
    addNumber(a.chunkCount, body.chunks.count);
    addNumber(a.chunkBytes, body.chunks.bytes);
    addString(a.chunkId, body.chunks.id);
    if (body.chunks.keptUntil !== undefined) addNumber(a.chunksKeptUntil, body.chunks.keptUntil);
  }
  if (body.format !== PayloadFormat.Json) addNumber(a.format, body.format);
  if (body.serializerName !== undefined) addString(a.serializer, body.serializerName);
  if (body.compression !== Compression.None) addNumber(a.compression, body.compression);
  if (expiration.expiresAt !== undefined) {
    addNumber(a.expiresAt, expiration.expiresAt);
    if (expiration.staleUntil !== undefined) addNumber(a.staleUntil, expiration.staleUntil);
    addNumber(schema.ttlAttributeName, ttlSecondsFor(expiration.staleUntil ?? expiration.expiresAt));
  }
  if (expiration.slidingWindow !== undefined) addNumber(a.slidingWindow, expiration.slidingWindow);
  if (expiration.absoluteDeadline !== undefined) addNumber(a.absoluteDeadline, expiration.absoluteDeadline);
  if (marks.version !== undefined) addString(a.version, marks.version);
  if (marks.storedAt !== undefined) addNumber(a.storedAt, marks.storedAt);
  if (marks.tags !== undefined && marks.tags.length > 0) {
    item[a.tags] = { SS: [...marks.tags] };
    bytes += a.tags.length + marks.tags.reduce((sum, tag) => sum + Buffer.byteLength(tag), 0);
  }
  if (partitionKey.digested) addString(a.fullKey, key);
  return { item, bytes };
}

function numberAttribute(item: Record<string, AttributeValue>, name: string): number | undefined | null {
  const attribute = item[name];
  if (attribute === undefined) return undefined;
  const value = attribute.N === undefined ? Number.NaN : Number(attribute.N);
  return Number.isFinite(value) ? value : null;
}

/**
 * What `refresh` reads: the expiry and the chunk reference (a renewal may have to renew the chunks
 * too), not the value, so that renewing costs no value transfer.
 */
export function expiryProjection(schema: TableSchema): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  const a = ITEM_ATTRIBUTES;
  const names = [a.expiresAt, a.staleUntil, schema.ttlAttributeName, a.slidingWindow, a.absoluteDeadline, a.version, a.fullKey];
  // Tags and made-at too: a refresh must not renew (nor report) an entry an invalidation retired.
  names.push(a.chunkCount, a.chunkBytes, a.chunkId, a.chunksKeptUntil, a.tags, a.storedAt);
  return {
    ProjectionExpression: names.map((_, index) => `#e${index}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#e${index}`, name])),
  };
}

export type DecodedExpiry =
  /** `live` includes an entry past `expiresAt` kept as a fail-safe fallback until `staleUntil`. */
  | ({ readonly kind: 'live'; readonly expiration: Expiration } & EntryMarks)
  | { readonly kind: 'expired' }
  | { readonly kind: 'foreign'; readonly reason: string };

/**
 * Reads an item's expiry, and its tags and made-at time, leaving its value alone. An item past its
 * expiry is `expired` even when DynamoDB has not deleted it yet (its TTL deletion is lazy, up to a
 * few days late); malformed numbers, or a digest key that holds another key, make it `foreign`.
 */
export function decodeExpiry(
  item: Record<string, AttributeValue>,
  schema: TableSchema,
  key: string,
  partitionKey: PartitionKey,
  now: number,
): DecodedExpiry {
  const a = ITEM_ATTRIBUTES;
  const expiresAt = numberAttribute(item, a.expiresAt);
  const ttlSeconds = numberAttribute(item, schema.ttlAttributeName);
  const slidingWindow = numberAttribute(item, a.slidingWindow);
  const absoluteDeadline = numberAttribute(item, a.absoluteDeadline);
  const staleUntil = numberAttribute(item, a.staleUntil);
  if (expiresAt === null || ttlSeconds === null || slidingWindow === null || absoluteDeadline === null || staleUntil === null) {
    return { kind: 'foreign', reason: 'a number attribute is malformed' };
  }
  const storedAt = numberAttribute(item, a.storedAt);
  if (storedAt === null) return { kind: 'foreign', reason: `attribute "${a.storedAt}" is malformed` };
  if (partitionKey.digested && item[a.fullKey]?.S !== key) {
    return { kind: 'foreign', reason: 'the digest key holds another key' };
  }
  // An item written by another tool may carry only DynamoDB's TTL, in seconds.
  const effectiveExpiry = expiresAt ?? (ttlSeconds === undefined ? undefined : ttlSeconds * 1000);
  const keptUntil = staleUntil ?? effectiveExpiry;
  if (keptUntil !== undefined && keptUntil <= now) return { kind: 'expired' };
  return {
    kind: 'live',
    expiration: { expiresAt: effectiveExpiry, slidingWindow, absoluteDeadline, staleUntil },
    version: item[a.version]?.S,
    tags: item[a.tags]?.SS,
    storedAt,
  };
}

/**
 * Reads an item back: its expiry (see `decodeExpiry`), then how it holds its value. An item with
 * neither a binary value nor a well-formed chunk reference, or with a format or compression this
 * library does not write, is `foreign`.
 */
export function decodeItem(
  item: Record<string, AttributeValue>,
  schema: TableSchema,
  key: string,
  partitionKey: PartitionKey,
  now: number,
): DecodedItem {
  const body = decodeBody(item);
  if (typeof body === 'string') return { kind: 'foreign', reason: body };
  const expiry = decodeExpiry(item, schema, key, partitionKey, now);
  if (expiry.kind !== 'live') return expiry;
  const { expiration, version, tags, storedAt } = expiry;
  return { kind: 'entry', entry: { body, expiration, version, tags, storedAt } };
}

/** The item's body, or why it is not one of ours. */
function decodeBody(item: Record<string, AttributeValue>): ItemBody | string {
  const a = ITEM_ATTRIBUTES;
  const format = numberAttribute(item, a.format) ?? PayloadFormat.Json;
  if (format === null || !(format in PayloadFormat)) return `attribute "${a.format}" is not a known payload format`;
  const compression = numberAttribute(item, a.compression) ?? Compression.None;
  if (compression === null || !isCompression(compression)) return `attribute "${a.compression}" is not a known compression`;
  const serializerName = item[a.serializer]?.S;
  if ((format === PayloadFormat.Custom) !== (serializerName !== undefined))
    return `attributes "${a.format}" and "${a.serializer}" disagree`;
  const inline = item[a.value]?.B;
  if (inline !== undefined) return { format, compression, serializerName, inline };
  const chunks = decodeChunkRef(item);
  if (chunks === undefined) return `attribute "${a.value}" is missing or not binary`;
  if (typeof chunks === 'string') return chunks;
  return { format, compression, serializerName, chunks };
}

/** The chunk reference of a chunked head; undefined for an item without one; or why it is malformed. */
export function decodeChunkRef(item: Record<string, AttributeValue>): ChunkRef | undefined | string {
  const a = ITEM_ATTRIBUTES;
  const count = numberAttribute(item, a.chunkCount);
  const bytes = numberAttribute(item, a.chunkBytes);
  const id = item[a.chunkId]?.S;
  const keptUntil = numberAttribute(item, a.chunksKeptUntil);
  if (count === undefined && id === undefined) return undefined;
  if (
    !Number.isInteger(count) ||
    count! < 1 ||
    count! > MAX_CHUNKS ||
    !Number.isInteger(bytes) ||
    bytes! < 0 ||
    id === undefined ||
    !CHUNK_ID.test(id) ||
    keptUntil === null
  ) {
    return `its chunk reference ("${a.chunkCount}", "${a.chunkBytes}", "${a.chunkId}", "${a.chunksKeptUntil}") is malformed`;
  }
  return { id, count: count!, bytes: bytes!, ...(keptUntil === undefined ? {} : { keptUntil }) };
}

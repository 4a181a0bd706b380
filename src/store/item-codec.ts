import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ValueTooLargeError } from './errors.js';
import { type Expiration, ttlSecondsFor } from './expiry.js';
import type { PartitionKey } from './keys.js';
import { PayloadFormat, type SerializedPayload } from './value-serializer.js';

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
});

const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.values(ITEM_ATTRIBUTES));

export function isReservedAttributeName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/** The names that the table's schema decides. */
export interface TableSchema {
  readonly partitionKeyName: string;
  readonly ttlAttributeName: string;
}

/** What a read found in an item of ours. */
export interface StoredEntry {
  readonly payload: Uint8Array;
  readonly format: PayloadFormat;
  readonly expiration: Expiration;
  /** Changes on every write of a sliding entry, so a renewal can tell it still holds what it read. */
  readonly version?: string;
}

/** The item key of a partition key value. */
export function itemKey(schema: TableSchema, partitionKeyValue: string): Record<string, AttributeValue> {
  return { [schema.partitionKeyName]: { S: partitionKeyValue } };
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

/** Builds the item for a write and checks it against the 400 KB limit before anything is sent. */
export function encodeItem(
  schema: TableSchema,
  partitionKey: PartitionKey,
  key: string,
  payload: SerializedPayload,
  expiration: Expiration,
  version: string | undefined,
): Record<string, AttributeValue> {
  const a = ITEM_ATTRIBUTES;
  const item: Record<string, AttributeValue> = {
    [schema.partitionKeyName]: { S: partitionKey.value },
    [a.value]: { B: payload.bytes },
  };
  let bytes =
    Buffer.byteLength(schema.partitionKeyName) + Buffer.byteLength(partitionKey.value) + a.value.length + payload.bytes.byteLength;
  const addNumber = (name: string, value: number) => {
    item[name] = n(value);
    bytes += Buffer.byteLength(name) + numberBytes(value);
  };
  if (payload.format !== PayloadFormat.Json) addNumber(a.format, payload.format);
  if (expiration.expiresAt !== undefined) {
    addNumber(a.expiresAt, expiration.expiresAt);
    if (expiration.staleUntil !== undefined) addNumber(a.staleUntil, expiration.staleUntil);
    addNumber(schema.ttlAttributeName, ttlSecondsFor(expiration.staleUntil ?? expiration.expiresAt));
  }
  if (expiration.slidingWindow !== undefined) addNumber(a.slidingWindow, expiration.slidingWindow);
  if (expiration.absoluteDeadline !== undefined) addNumber(a.absoluteDeadline, expiration.absoluteDeadline);
  if (version !== undefined) {
    item[a.version] = { S: version };
    bytes += a.version.length + version.length;
  }
  if (partitionKey.digested) {
    item[a.fullKey] = { S: key };
    bytes += a.fullKey.length + Buffer.byteLength(key);
  }
  if (bytes > ITEM_LIMIT_BYTES) throw new ValueTooLargeError(key, bytes, ITEM_LIMIT_BYTES);
  return item;
}

function numberAttribute(item: Record<string, AttributeValue>, name: string): number | undefined | null {
  const attribute = item[name];
  if (attribute === undefined) return undefined;
  const value = attribute.N === undefined ? Number.NaN : Number(attribute.N);
  return Number.isFinite(value) ? value : null;
}

/** What `refresh` reads: every attribute but the value, so that renewing costs no value transfer. */
export function expiryProjection(schema: TableSchema): { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> } {
  const a = ITEM_ATTRIBUTES;
  const names = [a.expiresAt, a.staleUntil, schema.ttlAttributeName, a.slidingWindow, a.absoluteDeadline, a.version, a.fullKey];
  return {
    ProjectionExpression: names.map((_, index) => `#e${index}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#e${index}`, name])),
  };
}

export type DecodedExpiry =
  /** `live` includes an entry past `expiresAt` kept as a fail-safe fallback until `staleUntil`. */
  | { readonly kind: 'live'; readonly expiration: Expiration; readonly version?: string }
  | { readonly kind: 'expired' }
  | { readonly kind: 'foreign'; readonly reason: string };

/**
 * Reads an item's expiry, leaving its value alone. An item past its expiry is `expired` even when
 * DynamoDB has not deleted it yet (its TTL deletion is lazy, up to a few days late); malformed
 * numbers, or a digest key that holds another key, make it `foreign`.
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
  if (partitionKey.digested && item[a.fullKey]?.S !== key) {
    return { kind: 'foreign', reason: 'the digest key holds another key' };
  }
  // An item written by another tool may carry only DynamoDB's TTL, in seconds.
  const effectiveExpiry = expiresAt ?? (ttlSeconds === undefined ? undefined : ttlSeconds * 1000);
  const keptUntil = staleUntil ?? effectiveExpiry;
  if (keptUntil !== undefined && keptUntil <= now) return { kind: 'expired' };
  return { kind: 'live', expiration: { expiresAt: effectiveExpiry, slidingWindow, absoluteDeadline, staleUntil }, version: item[a.version]?.S };
}

/**
 * Reads an item back: its expiry (see `decodeExpiry`), then its value's bytes and format. An item
 * without a binary value, or with a format this library does not write, is `foreign`.
 */
export function decodeItem(
  item: Record<string, AttributeValue>,
  schema: TableSchema,
  key: string,
  partitionKey: PartitionKey,
  now: number,
): DecodedItem {
  const a = ITEM_ATTRIBUTES;
  const payload = item[a.value]?.B;
  if (payload === undefined) return { kind: 'foreign', reason: `attribute "${a.value}" is missing or not binary` };
  const format = numberAttribute(item, a.format) ?? PayloadFormat.Json;
  if (format === null || !(format in PayloadFormat)) return { kind: 'foreign', reason: `attribute "${a.format}" is not a known payload format` };
  const expiry = decodeExpiry(item, schema, key, partitionKey, now);
  if (expiry.kind !== 'live') return expiry;
  return { kind: 'entry', entry: { payload, format: format as PayloadFormat, expiration: expiry.expiration, version: expiry.version } };
}

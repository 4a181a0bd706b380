import { createHash } from 'node:crypto';
import { InvalidCacheKeyError } from './errors.js';

/** DynamoDB's limit on a partition key value, in UTF-8 bytes. */
export const PARTITION_KEY_LIMIT_BYTES = 2048;

/**
 * Partition keys whose key part begins with this character belong to the cache itself (digests of
 * long keys, distributed-lock leases). A caller's key that begins with it is digested, so no caller
 * can address, overwrite or delete one of them.
 */
export const RESERVED_KEY_START = '#';

/** Marks a partition key that stands for a longer cache key (see `partitionKeyFor`). */
export const DIGEST_MARKER = '#sha256:';

/** Marks the lease item of a distributed lock on a key (see `leasePartitionKey`). */
export const LEASE_MARKER = '#lock:';

/** The poll backplane's version item of a cache (see `DynamoStore.bumpVersion`). */
export const VERSION_MARKER = '#version';

/**
 * Marks the streams backplane's journal items, in the default cache's reserved key space (see
 * `backplane/journal-table.ts`). `clear()` leaves them: they are the backplane's, not the cache's.
 */
export const BACKPLANE_MARKER = '#bp:';

/** Marks the items that hold the chunks of a value too large for one item (see `chunks.ts`). */
export const CHUNK_MARKER = '#chunk:';

export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new InvalidCacheKeyError(`A cache key must be a string, got ${describeType(key)}.`);
  }
  if (key.length === 0) {
    throw new InvalidCacheKeyError('A cache key must not be empty.');
  }
  // A lone surrogate has no UTF-8 form: the SDK would send U+FFFD, and two different keys would
  // collide on one item.
  if (!key.isWellFormed()) {
    throw new InvalidCacheKeyError(`Cache key "${key.toWellFormed()}" contains a lone UTF-16 surrogate.`);
  }
}

export interface PartitionKey {
  /** The value stored in the table's partition key attribute. */
  readonly value: string;
  /** True when `value` is a digest and the item must also carry the full key to be verified on read. */
  readonly digested: boolean;
}

/**
 * The partition key is the prefix followed by the cache key. A key too long for DynamoDB's 2048-byte
 * partition key is stored under the prefix, a marker and its SHA-256 instead: never truncated,
 * since two keys sharing their first 2 KB would then share one item. Such items also keep the full
 * key, which a read compares. A short key that begins with `#` is digested too: otherwise a key
 * spelled like a digest or a lease would share an item with what it names.
 */
export function partitionKeyFor(prefix: string, key: string): PartitionKey {
  const value = prefix + key;
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings need no byte count.
  const fits = value.length * 3 <= PARTITION_KEY_LIMIT_BYTES || Buffer.byteLength(value, 'utf8') <= PARTITION_KEY_LIMIT_BYTES;
  if (fits && !key.startsWith(RESERVED_KEY_START)) return { value, digested: false };
  return { value: prefix + DIGEST_MARKER + digest(key), digested: true };
}

/** The item that a distributed lock on `key` leases; it lives in the cache's own `#` key space. */
export function leasePartitionKey(prefix: string, key: string): string {
  const value = prefix + LEASE_MARKER + key;
  return Buffer.byteLength(value, 'utf8') <= PARTITION_KEY_LIMIT_BYTES ? value : prefix + LEASE_MARKER + DIGEST_MARKER + digest(key);
}

function digest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'Object'})` : `a ${typeof value}`;
}

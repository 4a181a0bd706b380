import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { chunkKeys } from './chunks.js';
import { Compression } from './compression.js';
import { type Expiration, isPast } from './expiry.js';
import { type ChunkRef, type StoredEntry, type TableSchema, decodeItem } from './item-codec.js';
import type { PartitionKey } from './keys.js';
import { renewSlidingEntry } from './sliding-renewal.js';
import type { ResolvedStoreOptions } from './store-options.js';
import { CHUNKS_GONE, type ValueStorage, storedBytes } from './stored-value.js';
import { PayloadFormat, type SerializedPayload, deserializeValue } from './value-serializer.js';

type Item = Record<string, AttributeValue>;

/** A value read back with the instant it expires (undefined: never). */
export interface CacheEntry<T = unknown> {
  /** The value, deserialized: its own copy. */
  readonly value: T;
  /** When it expires, in epoch ms; absent for an entry that never expires. */
  readonly expiresAt?: number;
  /** Set on an entry kept for fail-safe: the instant DynamoDB's TTL may delete it. */
  readonly staleUntil?: number;
  /**
   * The stored bytes of the value and how to read them, for a tier that keeps them.
   * @internal
   */
  readonly payload: SerializedPayload;
  /**
   * A sliding entry's window, and the deadline past which it is never renewed, in ms.
   * @internal
   */
  readonly sliding?: { readonly windowMs: number; readonly absoluteDeadline?: number };
  /** @internal The tags it was written with. */
  readonly tags?: readonly string[];
  /** @internal When its value was made (epoch ms); absent on items written before tags existed. */
  readonly storedAt?: number;
}

/**
 * The store's read path: an item as DynamoDB returned it, decoded into an entry, its chunks joined,
 * its value deserialized, and a sliding entry renewed. Whatever cannot be read (another writer's
 * item, a corrupt value, chunks gone) is a miss with a warning that names the item and the table,
 * and the item is left as it is.
 */
export class EntryReader {
  constructor(
    private readonly settings: ResolvedStoreOptions,
    private readonly valueStorage: ValueStorage,
    /** For a renewal that failed: the read still succeeds. */
    private readonly reportError: (error: Error) => void,
  ) {}

  async read<T>(
    item: Record<string, AttributeValue>,
    schema: TableSchema,
    key: string,
    partitionKey: PartitionKey,
    allowStale = false,
    /** Chunk items a batch read already fetched, by partition key. */
    fetchedChunks?: ReadonlyMap<string, Item>,
  ): Promise<CacheEntry<T> | undefined | typeof CHUNKS_GONE> {
    const now = Date.now();
    const decoded = decodeItem(item, schema, key, partitionKey, now);
    if (decoded.kind === 'expired') return undefined;
    if (decoded.kind === 'foreign') {
      this.warnForeign(partitionKey, decoded.reason);
      return undefined;
    }
    const { expiration, version, body, tags, storedAt } = decoded.entry;
    const stale = isPast(expiration.expiresAt, now);
    if (stale && !allowStale) return undefined;
    const serializer = this.serializerFor(decoded.entry);
    if (typeof serializer === 'string') {
      this.warnForeign(partitionKey, serializer);
      return undefined;
    }
    // An inline, uncompressed value (most items) is its own bytes: no await on the way.
    const bytes =
      body.inline !== undefined && body.compression === Compression.None
        ? body.inline
        : await storedBytes(this.valueStorage, body, schema, fetchedChunks);
    if (bytes === CHUNKS_GONE) return CHUNKS_GONE;
    if (typeof bytes === 'string') {
      this.warnForeign(partitionKey, bytes);
      return undefined;
    }
    let value: T;
    try {
      value = deserializeValue(bytes, body.format, serializer) as T;
    } catch (error) {
      this.warnForeign(partitionKey, `its value does not parse (${(error as Error).message})`);
      return undefined;
    }
    const stored: SerializedPayload = { bytes, format: body.format, serializer };
    if (stale) return { value, expiresAt: expiration.expiresAt, staleUntil: expiration.staleUntil, payload: stored, tags, storedAt };
    // Only sliding entries carry a version, so only they await a renewal.
    if (version === undefined)
      return { value, expiresAt: expiration.expiresAt, staleUntil: expiration.staleUntil, payload: stored, tags, storedAt };
    const renewedExpiry = await this.renew(
      schema,
      key,
      partitionKey,
      expiration,
      version,
      this.settings.slidingRenewThreshold,
      body.chunks,
    );
    const sliding =
      expiration.slidingWindow === undefined
        ? undefined
        : { windowMs: expiration.slidingWindow, absoluteDeadline: expiration.absoluteDeadline };
    return { value, expiresAt: renewedExpiry, payload: stored, sliding, tags, storedAt };
  }

  /** The configured serializer when the item needs one, or why the item cannot be read. */
  private serializerFor(entry: StoredEntry) {
    const name = entry.body.serializerName;
    if (entry.body.format !== PayloadFormat.Custom) return undefined;
    if (this.settings.serializer === undefined) return `it was written by serializer "${name}" and none is configured`;
    if (this.settings.serializer.name !== name) return `it was written by serializer "${name}", not "${this.settings.serializer.name}"`;
    return this.settings.serializer;
  }

  /** A renewal that fails leaves the entry as it was, and the read that asked for it still succeeds. */
  async renew(
    schema: TableSchema,
    key: string,
    partitionKey: PartitionKey,
    expiration: Expiration,
    version: string,
    threshold: number,
    chunks: ChunkRef | undefined,
  ): Promise<number | undefined> {
    const renewedChunks = chunks && {
      keys: chunkKeys(schema, this.settings.partitionKeyPrefix, chunks.id, chunks.count),
      keptUntil: chunks.keptUntil,
    };
    try {
      return await renewSlidingEntry(
        this.valueStorage.sender,
        this.settings.tableName,
        schema,
        partitionKey.value,
        expiration,
        version,
        threshold,
        renewedChunks,
      );
    } catch (error) {
      this.reportError(
        new Error(`Renewing sliding entry "${key}" in table "${this.settings.tableName}" failed: ${(error as Error).message}`, {
          cause: error,
        }),
      );
      return expiration.expiresAt;
    }
  }

  warnForeign(partitionKey: PartitionKey, reason: string): void {
    this.settings.logger.warn(
      `Item "${partitionKey.value}" in DynamoDB table "${this.settings.tableName}" is not a cache entry this library can read (${reason}); ` +
        'it reads as a miss and is left as it is.',
    );
  }
}

import type { RetryPolicy } from './retry.js';
import type { TableSchema } from './item-codec.js';
import type { CommandSender } from './timed-sender.js';

/** get-or-set's distributed lock: one lease item per key, in the cache's reserved key space. */
export interface Leases {
  /** Takes the lease on `key` for `leaseMs` unless another owner holds it; resolves to whether it did. */
  acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives it back early, only if `owner` still holds it. */
  releaseLease(key: string, owner: string): Promise<void>;
}

/** When each tag (or the whole cache: `CLEARED_TAG`) was last invalidated. */
export interface TagInvalidations {
  /**
   * A tag never invalidated is absent from the answer; a tag's expired-at time, when it has one, is
   * there too, under `expiredTagKey(tag)`.
   */
  readTagTimes(tags: readonly string[]): Promise<Map<string, number>>;
  /** Moves each tag's time forward to `at`; never back. */
  writeTagTimes(tags: readonly string[], at: number): Promise<void>;
  /** Moves each tag's expired-at time (`expireByTag`) forward to `at`; read back under `expiredTagKey(tag)`. */
  writeTagExpiries(tags: readonly string[], at: number): Promise<void>;
}

/** The poll backplane's counter of a cache's writes (see `version-item.ts`). */
export interface VersionCounter {
  readVersion(): Promise<number>;
  /** Adds one, atomically, and resolves to the new value. */
  bumpVersion(): Promise<number>;
}

/**
 * What caches across instances agree on besides the entries: leases, tag times, the version
 * counter. Both stores hold them beside their entries: DynamoDB's as reserved items no caller's key
 * can address (`dynamo-reserved-items.ts`), the memory-only one in this process.
 */
export interface StoreCoordination extends Leases, TagInvalidations, VersionCounter {}

/** What the streams backplane needs to keep its journal in a cache's reserved key space (see `backplane/journal-table.ts`). */
export interface ReservedItemAccess {
  readonly sender: CommandSender;
  readonly tableName: string;
  readonly schema: TableSchema;
  /** Where the backplane's journal items begin, in the reserved key space that no caller's key can address. */
  readonly journalPrefix: string;
  readonly batchRetry: RetryPolicy;
}

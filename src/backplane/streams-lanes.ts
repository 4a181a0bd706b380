import type { DynamoDBClientLike } from '../store/dynamodb-client.js';
import type { ReservedItemAccess } from '../store/coordination.js';
import type { JournalHead } from './journal.js';
import type { StreamShards } from './stream-shards.js';

export interface StreamsBackplaneSetup {
  /** The store's client, whose region, endpoint and credentials a streams client of the backplane's own is built with. */
  readonly client: DynamoDBClientLike;
  readonly tableName: string;
  readonly partitionKeyName: string;
  readonly operationTimeoutMs: number;
  readonly journal: ReservedItemAccess;
}

/** The lane this instance reads the stream for. */
export interface HeldLane {
  readonly index: number;
  head: JournalHead;
  shards?: StreamShards;
  /**
   * What was read and not yet published (a publication that failed is tried again with it, since
   * the stream's cursors have moved past it), and whether what was missed is unknown (a lost
   * position, or a lane whose last reader saved none): then the entry clears every cache.
   */
  unpublished: string[];
  lost: boolean;
  /** The lane had a reader before this one. */
  readonly succeeds: boolean;
  savedPosition?: string;
}

/** Where this instance is in each lane's journal. */
export interface LaneCursor {
  seq: number;
  publishedAt?: number;
}

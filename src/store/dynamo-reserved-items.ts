import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CHUNKS_IN_FLIGHT, batchGetAll } from './batches.js';
import { conditionHeld } from './conditional-write.js';
import type { ReservedItemAccess, StoreCoordination } from './coordination.js';
import type { DynamoTable } from './dynamo-table.js';
import { ITEM_ATTRIBUTES, itemKey } from './item-codec.js';
import { BACKPLANE_MARKER, assertValidKey, leasePartitionKey } from './keys.js';
import { releaseLease, tryAcquireLease } from './lease.js';
import { mapWithConcurrency } from './retry.js';
import { expiredTagKey, tagPartitionKey } from './tags.js';
import { bumpVersion, readVersion } from './version-item.js';

/**
 * A DynamoStore's reserved items, in the cache's key space where no caller's key can reach: lease
 * items, tag items, the version item, and the backplane's journal.
 */
export class DynamoReservedItems implements StoreCoordination {
  constructor(private readonly table: DynamoTable) {}

  /**
   * One conditional write on a lease item: of N instances racing for it, exactly one wins.
   */
  async acquireLease(key: string, owner: string, leaseMs: number): Promise<boolean> {
    assertValidKey(key);
    const { table } = this;
    const { tableName, partitionKeyPrefix } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    return tryAcquireLease(table.sender, tableName, schema, leasePartitionKey(partitionKeyPrefix, key), owner, leaseMs);
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    const { table } = this;
    const { tableName, partitionKeyPrefix } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    await releaseLease(table.sender, tableName, schema, leasePartitionKey(partitionKeyPrefix, key), owner);
  }

  readVersion(): Promise<number> {
    return this.onVersionItem(readVersion);
  }

  bumpVersion(): Promise<number> {
    return this.onVersionItem(bumpVersion);
  }

  /** In one BatchGetItem of the tag items (unprocessed keys retried). */
  async readTagTimes(tags: readonly string[]): Promise<Map<string, number>> {
    const times = new Map<string, number>();
    if (tags.length === 0) return times;
    const { table } = this;
    const { tableName, partitionKeyPrefix, consistentReads, batchRetry } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    const byPartitionKey = new Map(tags.map((tag) => [tagPartitionKey(partitionKeyPrefix, tag), tag]));
    const items = await batchGetAll(
      table.sender,
      tableName,
      [...byPartitionKey.keys()].map((value) => itemKey(schema, value)),
      consistentReads,
      batchRetry,
    );
    for (const item of items) {
      const tag = byPartitionKey.get(item[schema.partitionKeyName]?.S ?? '');
      if (tag === undefined) continue;
      const at = Number(item[ITEM_ATTRIBUTES.invalidatedAt]?.N);
      if (Number.isFinite(at)) times.set(tag, at);
      // Read with it, at no extra cost: an expiry by tag is kept on the same item (see `expiredTagKey`).
      const expiredAt = Number(item[ITEM_ATTRIBUTES.expiredAt]?.N);
      if (Number.isFinite(expiredAt)) times.set(expiredTagKey(tag), expiredAt);
    }
    return times;
  }

  /**
   * One small UpdateItem per tag (8 in flight), whatever the number of entries that carry them. Each
   * only moves the time forward, so that of two invalidations racing, the later one stands whichever
   * lands last. Tag items have no TTL: an entry that never expires may carry the tag for as long as it lives.
   */
  writeTagTimes(tags: readonly string[], at: number): Promise<void> {
    return this.writeTagInstants(tags, at, ITEM_ATTRIBUTES.invalidatedAt);
  }

  /** As `writeTagTimes`, for `expireByTag`: the tag items' expired-at time, beside their invalidation time. */
  writeTagExpiries(tags: readonly string[], at: number): Promise<void> {
    return this.writeTagInstants(tags, at, ITEM_ATTRIBUTES.expiredAt);
  }

  private async writeTagInstants(tags: readonly string[], at: number, attribute: string): Promise<void> {
    if (tags.length === 0) return;
    const { table } = this;
    const { tableName, partitionKeyPrefix } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    await mapWithConcurrency(tags, CHUNKS_IN_FLIGHT, (tag) =>
      // A failed condition: a later invalidation is there already, and retires all that this one would.
      conditionHeld(() =>
        table.sender.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: itemKey(schema, tagPartitionKey(partitionKeyPrefix, tag)),
            UpdateExpression: 'SET #at = :at',
            ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
            ExpressionAttributeNames: { '#at': attribute },
            ExpressionAttributeValues: { ':at': { N: String(at) } },
          }),
        ),
      ),
    );
  }

  private async onVersionItem(operation: typeof readVersion): Promise<number> {
    const { table } = this;
    const schema = table.schema ?? (await table.initialize());
    return operation(table.sender, table.settings.tableName, schema, table.settings.partitionKeyPrefix);
  }

  /** The store's bounded sender and the schema, for the streams backplane's journal (see `backplane/journal-table.ts`). */
  async journalAccess(): Promise<ReservedItemAccess> {
    const { table } = this;
    return {
      sender: table.sender,
      tableName: table.settings.tableName,
      schema: table.schema ?? (await table.initialize()),
      journalPrefix: table.settings.partitionKeyPrefix + BACKPLANE_MARKER,
      batchRetry: table.settings.batchRetry,
    };
  }
}

import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { conditionHeld } from './conditional-write.js';
import type { DynamoTable } from './dynamo-table.js';
import type { PreparedEntry } from './entry-store.js';
import { isPast, ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, itemKey } from './item-codec.js';

/**
 * `expire(key)` on DynamoDB: one UpdateItem that moves a live entry's logical expiry to `at` and
 * keeps it until `keepUntil` as a fail-safe fallback, its value untouched. Resolves to whether a live
 * entry was there (false for a missing or already expired key: nothing is written). The entry's
 * version changes too, so that a sliding renewal in flight (conditional on the version it read)
 * cannot push the expiry out again. A chunked value whose chunks DynamoDB's TTL deletes before
 * `keepUntil` reads as a miss then (with the warning any missing chunk gives). With `madeBy`, only
 * an item made at or before it (an expire owed since an outage: a newer value stays live).
 */
export async function expireItem(table: DynamoTable, key: string, at: number, keepUntil: number, madeBy?: number): Promise<boolean> {
  const partitionKey = table.partitionKey(key);
  const schema = table.schema ?? (await table.initialize());
  const a = ITEM_ATTRIBUTES;
  const older =
    madeBy === undefined ? undefined : { condition: ' AND (attribute_not_exists(#sat) OR #sat <= :made)', made: String(madeBy) };
  return conditionHeld(() =>
    table.sender.send(
      new UpdateItemCommand({
        TableName: table.settings.tableName,
        Key: itemKey(schema, partitionKey.value),
        UpdateExpression: 'SET #exp = :at, #fs = :keep, #ttl = :ttl, #ver = :ver',
        ConditionExpression: `attribute_exists(#pk) AND (attribute_not_exists(#exp) OR #exp > :at)${older?.condition ?? ''}`,
        ExpressionAttributeNames: {
          '#pk': schema.partitionKeyName,
          '#exp': a.expiresAt,
          '#fs': a.staleUntil,
          '#ttl': schema.ttlAttributeName,
          '#ver': a.version,
          ...(older && { '#sat': a.storedAt }),
        },
        ExpressionAttributeValues: {
          ':at': { N: String(at) },
          ':keep': { N: String(keepUntil) },
          ':ttl': { N: String(ttlSecondsFor(keepUntil)) },
          ':ver': { S: randomBytes(9).toString('base64url') },
          ...(older && { ':made': { N: older.made } }),
        },
      }),
    ),
  );
}

/**
 * A prepared write as `expireItem` at `at` would leave its item: stale from `at` and kept until
 * `keepUntil` (no longer sliding), or as it is when already past its expiry then. Encoded again when
 * written: for a set owed since an outage with an expire owed after it, which must land stale.
 */
export function expiredEntry(prepared: PreparedEntry, at: number, keepUntil: number): PreparedEntry {
  if (isPast(prepared.expiration.expiresAt, at)) return prepared;
  return { ...prepared, expiration: { expiresAt: at, staleUntil: keepUntil }, version: undefined, item: undefined };
}

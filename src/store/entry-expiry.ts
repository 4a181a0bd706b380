import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { conditionHeld } from './conditional-write.js';
import type { DynamoTable } from './dynamo-table.js';
import { ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, itemKey } from './item-codec.js';

/**
 * `expire(key)` on DynamoDB: one UpdateItem that moves a live entry's logical expiry to `at` and
 * keeps it until `keepUntil` as a fail-safe fallback, its value untouched. Resolves to whether a live
 * entry was there (false for a missing or already expired key: nothing is written). The entry's
 * version changes too, so that a sliding renewal in flight (conditional on the version it read)
 * cannot push the expiry out again. A chunked value whose chunks DynamoDB's TTL deletes before
 * `keepUntil` reads as a miss then (with the warning any missing chunk gives).
 */
export async function expireItem(table: DynamoTable, key: string, at: number, keepUntil: number): Promise<boolean> {
  const partitionKey = table.partitionKey(key);
  const schema = table.schema ?? (await table.initialize());
  const a = ITEM_ATTRIBUTES;
  return conditionHeld(() =>
    table.sender.send(
      new UpdateItemCommand({
        TableName: table.settings.tableName,
        Key: itemKey(schema, partitionKey.value),
        UpdateExpression: 'SET #exp = :at, #fs = :keep, #ttl = :ttl, #ver = :ver',
        ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(#exp) OR #exp > :at)',
        ExpressionAttributeNames: {
          '#pk': schema.partitionKeyName,
          '#exp': a.expiresAt,
          '#fs': a.staleUntil,
          '#ttl': schema.ttlAttributeName,
          '#ver': a.version,
        },
        ExpressionAttributeValues: {
          ':at': { N: String(at) },
          ':keep': { N: String(keepUntil) },
          ':ttl': { N: String(ttlSecondsFor(keepUntil)) },
          ':ver': { S: randomBytes(9).toString('base64url') },
        },
      }),
    ),
  );
}

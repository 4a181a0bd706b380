import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type Expiration, slidingRenewal, ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, type TableSchema, itemKey } from './item-codec.js';
import type { CommandSender } from './timed-sender.js';

/**
 * Pushes a sliding entry's expiry out, if that gains at least `threshold` of its window, and resolves
 * to the entry's expiry afterwards. The update is conditional on the version read, so it can never
 * bring back a deleted key nor touch a value written since; losing that race leaves the entry as it
 * was. Other failures reject, for the caller to report: a failed renewal must not fail a read.
 */
export async function renewSlidingEntry(
  client: CommandSender,
  tableName: string,
  schema: TableSchema,
  partitionKeyValue: string,
  expiration: Expiration,
  version: string,
  threshold: number,
): Promise<number | undefined> {
  const renewed = slidingRenewal(expiration, Date.now(), threshold);
  if (renewed === undefined) return expiration.expiresAt;
  const a = ITEM_ATTRIBUTES;
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: itemKey(schema, partitionKeyValue),
        UpdateExpression: 'SET #exp = :exp, #ttl = :ttl',
        ConditionExpression: '#ver = :ver AND #exp < :exp',
        ExpressionAttributeNames: { '#exp': a.expiresAt, '#ttl': schema.ttlAttributeName, '#ver': a.version },
        ExpressionAttributeValues: {
          ':exp': { N: String(renewed) },
          ':ttl': { N: String(ttlSecondsFor(renewed)) },
          ':ver': { S: version },
        },
      }),
    );
    return renewed;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return expiration.expiresAt;
    throw error;
  }
}

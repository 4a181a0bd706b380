import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionHeld } from './conditional-write.js';
import { ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, type TableSchema, itemKey } from './item-codec.js';
import type { CommandSender } from './timed-sender.js';

const OWNER = ITEM_ATTRIBUTES.leaseOwner;
const LEASE_EXPIRES_AT = ITEM_ATTRIBUTES.expiresAt;

/**
 * Takes the lease item unless another owner holds one that has not expired: one conditional
 * PutItem, so that of N instances racing for it exactly one wins. A holder that dies leaves a lease
 * that the next taker overwrites once `exp` has passed (and DynamoDB's TTL deletes later).
 */
export async function tryAcquireLease(
  sender: CommandSender,
  tableName: string,
  schema: TableSchema,
  partitionKeyValue: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const now = Date.now();
  const expiresAt = now + leaseMs;
  return conditionHeld(() =>
    sender.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          ...itemKey(schema, partitionKeyValue),
          [OWNER]: { S: owner },
          [LEASE_EXPIRES_AT]: { N: String(expiresAt) },
          [schema.ttlAttributeName]: { N: String(ttlSecondsFor(expiresAt)) },
        },
        ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now',
        ExpressionAttributeNames: { '#pk': schema.partitionKeyName, '#exp': LEASE_EXPIRES_AT },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
      }),
    ),
  );
}

/** Gives the lease back early, only if this owner still holds it (it may have expired and been taken). */
export async function releaseLease(
  sender: CommandSender,
  tableName: string,
  schema: TableSchema,
  partitionKeyValue: string,
  owner: string,
): Promise<void> {
  // Not held any more: it expired and may be another owner's now, which is theirs to release.
  await conditionHeld(() =>
    sender.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: itemKey(schema, partitionKeyValue),
        ConditionExpression: '#own = :own',
        ExpressionAttributeNames: { '#own': OWNER },
        ExpressionAttributeValues: { ':own': { S: owner } },
      }),
    ),
  );
}

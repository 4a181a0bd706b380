import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ITEM_ATTRIBUTES, type TableSchema, itemKey } from './item-codec.js';
import { VERSION_MARKER } from './keys.js';
import type { CommandSender } from './timed-sender.js';

/**
 * A cache's version item, `<prefix>#version`, in the cache's own key space: a counter that the poll
 * backplane bumps on every write and every instance reads. 0 when it does not exist (never bumped,
 * or deleted by `clear()`).
 */
export async function readVersion(sender: CommandSender, tableName: string, schema: TableSchema, prefix: string): Promise<number> {
  const output = await sender.send(
    new GetItemCommand({ TableName: tableName, Key: itemKey(schema, prefix + VERSION_MARKER), ConsistentRead: true }),
  );
  return Number(output.Item?.[ITEM_ATTRIBUTES.backplaneVersion]?.N ?? 0);
}

/** Adds one, atomically (concurrent bumps never collapse into one), and resolves to the new value. */
export async function bumpVersion(sender: CommandSender, tableName: string, schema: TableSchema, prefix: string): Promise<number> {
  const output = await sender.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: itemKey(schema, prefix + VERSION_MARKER),
      UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': ITEM_ATTRIBUTES.backplaneVersion },
      ExpressionAttributeValues: { ':one': { N: '1' } },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(output.Attributes?.[ITEM_ATTRIBUTES.backplaneVersion]?.N);
}

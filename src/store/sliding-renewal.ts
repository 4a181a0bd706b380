import { type AttributeValue, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionHeld } from './conditional-write.js';
import { CHUNKS_IN_FLIGHT } from './batches.js';
import { type Expiration, chunksKeptUntil, slidingRenewal, ttlSecondsFor } from './expiry.js';
import { ITEM_ATTRIBUTES, type TableSchema, itemKey } from './item-codec.js';
import { mapWithConcurrency } from './retry.js';
import type { CommandSender } from './timed-sender.js';

/** The chunks of a chunked sliding entry, and until when their TTL keeps them (undefined: no TTL yet). */
export interface RenewedChunks {
  readonly keys: ReadonlyArray<Record<string, AttributeValue>>;
  readonly keptUntil: number | undefined;
}

/**
 * Pushes a sliding entry's expiry out, if that gains at least `threshold` of its window, and resolves
 * to the entry's expiry afterwards. The update is conditional on the version read, so it can never
 * bring back a deleted key nor touch a value written since; losing that race leaves the entry as it
 * was. Other failures reject, for the caller to report: a failed renewal must not fail a read.
 *
 * A head must never outlive its chunks, which DynamoDB's TTL deletes on their own: a renewal that
 * would carry the head past them first renews every chunk's TTL, and the head only once they all were.
 */
export async function renewSlidingEntry(
  client: CommandSender,
  tableName: string,
  schema: TableSchema,
  partitionKeyValue: string,
  expiration: Expiration,
  version: string,
  threshold: number,
  chunks?: RenewedChunks,
): Promise<number | undefined> {
  const renewed = slidingRenewal(expiration, Date.now(), threshold);
  if (renewed === undefined) return expiration.expiresAt;
  const a = ITEM_ATTRIBUTES;
  const keptUntil =
    chunks !== undefined && (chunks.keptUntil === undefined || renewed > chunks.keptUntil)
      ? chunksKeptUntil({ ...expiration, expiresAt: renewed })
      : undefined;
  const held = await conditionHeld(async () => {
    if (keptUntil !== undefined) await renewChunks(client, tableName, schema, chunks!.keys, keptUntil);
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: itemKey(schema, partitionKeyValue),
        UpdateExpression: keptUntil === undefined ? 'SET #exp = :exp, #ttl = :ttl' : 'SET #exp = :exp, #ttl = :ttl, #cx = :cx',
        ConditionExpression: '#ver = :ver AND #exp < :exp',
        ExpressionAttributeNames: {
          '#exp': a.expiresAt,
          '#ttl': schema.ttlAttributeName,
          '#ver': a.version,
          ...(keptUntil === undefined ? {} : { '#cx': a.chunksKeptUntil }),
        },
        ExpressionAttributeValues: {
          ':exp': { N: String(renewed) },
          ':ttl': { N: String(ttlSecondsFor(renewed)) },
          ':ver': { S: version },
          ...(keptUntil === undefined ? {} : { ':cx': { N: String(keptUntil) } }),
        },
      }),
    );
  });
  // A chunk gone, or the head changed: the value was overwritten or deleted since it was read.
  return held ? renewed : expiration.expiresAt;
}

/** Sets each chunk's TTL; conditional on the chunk being there, so that a deleted chunk is never brought back as an empty item. */
async function renewChunks(
  client: CommandSender,
  tableName: string,
  schema: TableSchema,
  keys: ReadonlyArray<Record<string, AttributeValue>>,
  keptUntil: number,
): Promise<void> {
  await mapWithConcurrency(keys, CHUNKS_IN_FLIGHT, (Key) =>
    client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key,
        UpdateExpression: 'SET #ttl = :ttl',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#ttl': schema.ttlAttributeName, '#pk': schema.partitionKeyName },
        ExpressionAttributeValues: { ':ttl': { N: String(ttlSecondsFor(keptUntil)) } },
      }),
    ),
  );
}

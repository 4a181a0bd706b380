import { type AttributeValue, BatchGetItemCommand, BatchWriteItemCommand, ScanCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { UnprocessedItemsError } from './errors.js';
import { type RetryPolicy, backoffDelay, chunk, mapWithConcurrency, sleep } from './retry.js';
import type { TableSchema } from './item-key.js';
import type { CommandSender } from './timed-sender.js';

/** DynamoDB's limits per call: BatchGetItem reads up to 100 keys, BatchWriteItem writes up to 25 items. */
export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;
/** Calls in flight at once, so that one large mget (or a chunked renewal) does not take every socket of a shared client. */
export const CHUNKS_IN_FLIGHT = 8;

type Key = Record<string, AttributeValue>;
type Item = Record<string, AttributeValue>;

/**
 * Sends `pending` in rounds until DynamoDB has processed all of it. Each round sends what the last
 * one left unprocessed. Unprocessed items come back for two reasons: a response over 16 MB (for
 * BatchGetItem) and throttling; so the backoff ceiling grows only across rounds that processed
 * nothing, and a round that made progress is retried after a short jittered pause. A call that
 * fails ends the batch, but only once the round's other calls have settled, so that nothing of it
 * lands after the caller has been told it failed (see `mapWithConcurrency`).
 */
async function untilProcessed<T>(
  operation: 'BatchGetItem' | 'BatchWriteItem',
  tableName: string,
  all: readonly T[],
  chunkSize: number,
  policy: RetryPolicy,
  send: (chunk: T[]) => Promise<T[]>,
): Promise<void> {
  const started = Date.now();
  let pending: readonly T[] = all;
  let fruitlessRounds = 0;
  for (;;) {
    const leftovers = await mapWithConcurrency(chunk(pending, chunkSize), CHUNKS_IN_FLIGHT, send);
    const unprocessed = leftovers.flat();
    if (unprocessed.length === 0) return;
    fruitlessRounds = unprocessed.length < pending.length ? 0 : fruitlessRounds + 1;
    pending = unprocessed;
    const delay = backoffDelay(policy, fruitlessRounds);
    const elapsed = Date.now() - started;
    if (elapsed + delay > policy.maxDurationMs) {
      throw new UnprocessedItemsError(tableName, operation, pending.length, all.length, elapsed);
    }
    await sleep(delay);
  }
}

/** Reads every key, in chunks of 100 and retried until none is left unprocessed. Items come back unordered. */
export async function batchGetAll(
  client: CommandSender,
  tableName: string,
  keys: readonly Key[],
  consistentRead: boolean,
  policy: RetryPolicy,
  /** Read only this attribute (the key), when the values are not wanted. */
  projectAttribute?: string,
): Promise<Item[]> {
  const projection =
    projectAttribute === undefined ? {} : { ProjectionExpression: '#p', ExpressionAttributeNames: { '#p': projectAttribute } };
  const found: Item[] = [];
  await untilProcessed('BatchGetItem', tableName, keys, BATCH_GET_LIMIT, policy, async (chunkKeys) => {
    const output = await client.send(
      new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: chunkKeys, ConsistentRead: consistentRead, ...projection } } }),
    );
    const items = output.Responses?.[tableName];
    if (items) for (const item of items) found.push(item);
    return output.UnprocessedKeys?.[tableName]?.Keys ?? [];
  });
  return found;
}

/** Writes every request (puts and deletes), in chunks of 25 and retried until none is left unprocessed. */
export async function batchWriteAll(
  client: CommandSender,
  tableName: string,
  requests: readonly WriteRequest[],
  policy: RetryPolicy,
): Promise<void> {
  await untilProcessed('BatchWriteItem', tableName, requests, BATCH_WRITE_LIMIT, policy, async (chunkRequests) => {
    const output = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: chunkRequests } }));
    return output.UnprocessedItems?.[tableName] ?? [];
  });
}

/**
 * Pages through the whole table reading only the partition key, and yields each page's keys that
 * start with `prefix` (and, on a table with a sort key, hold the cache's value in it: an item of
 * the table's own design may share a partition key with the cache's). A Scan reads (and bills)
 * every item, whatever the filter keeps.
 */
export async function* scanPartitionKeys(
  client: CommandSender,
  tableName: string,
  schema: TableSchema,
  prefix: string,
  consistentRead: boolean,
): AsyncGenerator<string[]> {
  const conditions: string[] = [];
  const names: Record<string, string> = { '#pk': schema.partitionKeyName };
  const values: Record<string, AttributeValue> = {};
  if (prefix !== '') {
    conditions.push('begins_with(#pk, :prefix)');
    values[':prefix'] = { S: prefix };
  }
  if (schema.sortKey !== undefined) {
    conditions.push('#sk = :sk');
    names['#sk'] = schema.sortKey.name;
    values[':sk'] = { S: schema.sortKey.value };
  }
  const filter = conditions.length === 0 ? {} : { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values };
  let exclusiveStartKey: Key | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#pk',
        ExpressionAttributeNames: names,
        ...filter,
        ConsistentRead: consistentRead,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    yield (page.Items ?? []).map((item) => item[schema.partitionKeyName]!.S!);
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey !== undefined);
}

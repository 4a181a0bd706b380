import { UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/entries/store.js';
import { SLIDING_CHUNK_WINDOWS } from '../../src/store/expiry.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { type Item, itemsUnder as rawItemsUnder } from './raw-items.js';

// A chunk item has no head of its own to be expired by: only its TTL attribute gets it deleted.
const { client, tableName } = useCacheTable('slidechunks');
const storeUnder = (prefix: string) =>
  new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger: memoryLogger() });

afterEach(() => {
  client.middlewareStack.remove('recordUpdates');
});

/** The head and the chunk items under a prefix, read raw. */
async function itemsUnder(prefix: string): Promise<{ head: Item; chunks: Item[] }> {
  const items = await rawItemsUnder(client, tableName, prefix);
  const chunks = items.filter((item) => item.pk!.S!.startsWith(`${prefix}#chunk:`));
  return { head: items.find((item) => !chunks.includes(item))!, chunks };
}

/** The partition key of every UpdateItem the client sends. */
function recordUpdates(): string[] {
  const updated: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') updated.push((args.input as UpdateItemCommandInput).Key!.pk!.S!);
      return next(args);
    },
    { step: 'initialize', name: 'recordUpdates' },
  );
  return updated;
}

/** Random bytes do not compress: 1 MB of them is 3 chunks. */
const MB = 1024 * 1024;

describe('the chunks of a sliding entry', () => {
  it("carry a TTL at or past their head's, bounded by the window, so that DynamoDB deletes them", async () => {
    const store = storeUnder('s1:');
    const window = 60_000;
    const before = Date.now();
    await store.set('report', randomBytes(MB), { slidingExpiration: window });

    const { head, chunks } = await itemsUnder('s1:');
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) {
      expect(chunk.ttl?.N).toBeDefined();
      expect(Number(chunk.ttl!.N)).toBeGreaterThanOrEqual(Number(head.ttl!.N));
      expect(Number(chunk.ttl!.N)).toBeLessThanOrEqual(Math.ceil((Date.now() + window * SLIDING_CHUNK_WINDOWS) / 1000));
      expect(Number(chunk.ttl!.N)).toBeGreaterThanOrEqual(Math.floor((before + window * SLIDING_CHUNK_WINDOWS) / 1000));
    }
  });

  it('keep to the absolute deadline when it comes before that bound', async () => {
    const store = storeUnder('s2:');
    const deadline = Date.now() + 90_000;
    await store.set('report', randomBytes(MB), { slidingExpiration: 60_000, absoluteExpiration: deadline });
    const { chunks } = await itemsUnder('s2:');
    for (const chunk of chunks) expect(chunk.ttl!.N).toBe(String(Math.ceil(deadline / 1000)));
  });

  // Living 9 windows in real time would take a slow test; the head is set up as it is then instead:
  // its chunks' TTL about to come (cx near), or no cx at all, as a version before this one wrote it.
  it.each([
    ['get', "whose chunks' TTL comes within the window"],
    ['refresh', 'written without a chunk TTL (before chunks of sliding entries had one)'],
  ] as const)('are renewed first when a renewal by %s of a head %s would carry it past them', async (renewBy, _head) => {
    const prefix = `s3${renewBy}:`;
    const store = storeUnder(prefix);
    const window = 2_000;
    const value = randomBytes(600 * 1024);
    await store.set('report', value, { slidingExpiration: window });
    const started = Date.now();
    const soon = started + window / 4;
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `${prefix}report` } },
        ...(renewBy === 'get'
          ? { UpdateExpression: 'SET cx = :cx', ExpressionAttributeValues: { ':cx': { N: String(soon) } } }
          : { UpdateExpression: 'REMOVE cx' }),
      }),
    );
    const updated = recordUpdates();

    // A reader that comes back every quarter window, for two windows and a half: past the first
    // window and past the chunks' TTL.
    while (Date.now() < started + window * 2.5) {
      // Buffer.equals: a deep toEqual over 600 KB takes a good part of a window.
      if (renewBy === 'get') expect((await store.get<Buffer>('report'))?.equals(value)).toBe(true);
      else expect(await store.refresh('report')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, window / 4));
    }
    expect((await store.get<Buffer>('report'))?.equals(value)).toBe(true);

    const { head, chunks } = await itemsUnder(prefix);
    expect(chunks).toHaveLength(2);
    expect(Number(head.exp!.N)).toBeGreaterThan(started + window);
    // Renewed once, to 10 windows past that renewal; the head, renewed since, stays short of it.
    expect(Number(head.cx!.N)).toBeGreaterThanOrEqual(started + window * SLIDING_CHUNK_WINDOWS);
    expect(Number(head.cx!.N)).toBeGreaterThan(Number(head.exp!.N));
    for (const chunk of chunks) expect(Number(chunk.ttl!.N)).toBe(Math.ceil(Number(head.cx!.N) / 1000));
    // Not with every renewal of the head: each chunk once.
    expect(updated.filter((pk) => pk.startsWith(`${prefix}#chunk:`))).toHaveLength(chunks.length);
    expect(updated.filter((pk) => pk === `${prefix}report`).length).toBeGreaterThanOrEqual(3);
  });
});

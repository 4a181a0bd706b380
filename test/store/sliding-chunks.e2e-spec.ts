import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/index.js';
import { SLIDING_CHUNK_WINDOWS } from '../../src/store/expiry.js';
import { memoryLogger, useCacheTable } from '../support/dynamo.js';
import { type Item, itemsUnder as rawItemsUnder } from './raw-items.js';

// A chunk item has no head of its own to be expired by: only its TTL attribute gets it deleted.
const { client, tableName } = useCacheTable('slidechunks');
const names = { partitionKeyName: 'pk', ttlAttributeName: 'ttl' };
const storeUnder = (prefix: string) => new DynamoStore({ tableName, client, ...names, partitionKeyPrefix: prefix, logger: memoryLogger() });

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
  it('carry a TTL at or past their head\'s, bounded by the window, so that DynamoDB deletes them', async () => {
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

  it.each(['get', 'refresh'] as const)(
    'are renewed with their head (by %s) before it would outlive them, so the entry reads whole window after window',
    async (renewBy) => {
      const prefix = `s3${renewBy}:`;
      const store = storeUnder(prefix);
      const window = 1_000;
      const value = randomBytes(600 * 1024);
      await store.set('report', value, { slidingExpiration: window });
      const firstChunkTtlMs = Number((await itemsUnder(prefix)).chunks[0]!.ttl!.N) * 1000;
      const updated = recordUpdates();
      const chunkUpdates = () => updated.filter((pk) => pk.startsWith(`${prefix}#chunk:`));

      // A reader that comes back every quarter window, until the entry has lived a window past its
      // chunks' first TTL (about 11 windows).
      while (Date.now() < firstChunkTtlMs + window) {
        // Buffer.equals: a deep toEqual over 600 KB takes longer than the window.
        if (renewBy === 'get') expect((await store.get<Buffer>('report'))?.equals(value)).toBe(true);
        else expect(await store.refresh('report')).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, window / 4));
      }
      expect((await store.get<Buffer>('report'))?.equals(value)).toBe(true);

      const { head, chunks } = await itemsUnder(prefix);
      expect(chunks).toHaveLength(2);
      expect(Number(head.exp!.N)).toBeGreaterThan(firstChunkTtlMs);
      for (const chunk of chunks) expect(Number(chunk.ttl!.N)).toBeGreaterThanOrEqual(Number(head.ttl!.N));
      // Each chunk renewed once in these 11 windows (once per 9), not with every renewal of its head.
      expect(chunkUpdates()).toHaveLength(chunks.length);
      expect(updated.filter((pk) => pk === `${prefix}report`).length).toBeGreaterThan(10);
    },
    40_000,
  );
});

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../src/entries/store.js';
import { localClient, memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

// DynamoDB Local cannot be made to drop the connection of one chosen call while others are slow,
// so that fault is injected with SDK middleware, as the brief allows: the `failAt`-th BatchWriteItem
// fails as a cut connection does, and every other one is held back before it is sent.
const { client: cleanClient, tableName } = useCacheTable('settles');
const faultyClients: DynamoDBClient[] = [];
afterAll(() => faultyClients.forEach((client) => client.destroy()));

const storeOn = (client: DynamoDBClient, prefix: string) =>
  new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger: memoryLogger() });

interface BatchWrites {
  started: number;
  finished: number;
  /** Calls begun, and calls answered, after the operation had settled. */
  startedAfter: number;
  finishedAfter: number;
  lastActivity: number;
  settled: boolean;
}

function faultyClient(failAt: number): { client: DynamoDBClient; writes: BatchWrites } {
  const client = localClient();
  faultyClients.push(client);
  const writes: BatchWrites = { started: 0, finished: 0, startedAfter: 0, finishedAfter: 0, lastActivity: Date.now(), settled: false };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      const call = ++writes.started;
      if (writes.settled) writes.startedAfter++;
      try {
        if (call === failAt) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        // Long enough that a write made right after the operation returned would land before these.
        await new Promise((resolve) => setTimeout(resolve, 150 + call * 20));
        return await next(args);
      } finally {
        writes.finished++;
        if (writes.settled) writes.finishedAfter++;
        writes.lastActivity = Date.now();
      }
    },
    // Before the SDK's retry step, so that the cut call is not retried: it fails as the batch's first error.
    { step: 'initialize', name: 'cutConnection' },
  );
  return { client, writes };
}

/** Resolves once the client has had no BatchWriteItem in flight, nor begun one, for a while. */
const quiet = (writes: BatchWrites) =>
  vi.waitFor(() => expect(writes.started === writes.finished && Date.now() - writes.lastActivity > 400).toBe(true), {
    timeout: 10_000,
    interval: 50,
  });

const keysOf = (count: number) => Array.from({ length: count }, (_, index) => `k${index}`);
const entriesOf = (keys: string[], generation: number) => keys.map((key) => ({ key, value: { key, generation } }));

type Operation = (store: DynamoStore, keys: string[]) => Promise<unknown>;
const operations: Array<[string, number, Operation]> = [
  ['setMany', 200, (store, keys) => store.setMany(entriesOf(keys, 1))],
  ['deleteKeys', 400, (store, keys) => store.deleteKeys(keys)],
  ['deleteMany', 200, (store, keys) => store.deleteMany(keys)],
  ['clear', 200, (store) => store.clear()],
];

describe('a batch operation that fails part-way', () => {
  it.each(operations)(
    '%s of %i keys settles only when every call it sent has, and starts none after its first failure',
    async (name, count, operation) => {
      const prefix = `${name}:`;
      const keys = keysOf(count);
      const clean = storeOn(cleanClient, prefix);
      await clean.setMany(entriesOf(keys, 0));
      const { client, writes } = faultyClient(3);

      const error = await operation(storeOn(client, prefix), keys).catch((caught: unknown) => caught);
      writes.settled = true;
      expect((error as Error).message).toBe('read ECONNRESET');
      // 8 chunks are in flight at once; the cut one stops the rest from being sent.
      expect(writes.started).toBe(8);
      expect(writes.finished).toBe(8);

      // The caller's next writes, made as soon as it was told of the failure, must be the last word.
      await clean.setMany(entriesOf(keys, 2));
      await quiet(writes);
      expect(writes.startedAfter).toBe(0);
      expect(writes.finishedAfter).toBe(0);
      expect(await clean.getMany(keys)).toEqual(entriesOf(keys, 2).map((entry) => entry.value));
    },
  );
});

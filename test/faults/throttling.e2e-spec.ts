import {
  type BatchGetItemCommandInput,
  type BatchWriteItemCommandInput,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ThrottledError, UnprocessedItemsError } from '../../src/index.js';
import { localClient, useCacheTable } from '../support/dynamo.js';
import { testStore } from '../support/builders.js';

// DynamoDB Local never throttles, so throttling is injected with SDK middleware, as the brief allows.
const { tableName } = useCacheTable('throttle');
const client = localClient({ maxAttempts: 3 });
// The SDK backs off up to 0.5 s, then 1 s, between throttled attempts; operationTimeout bounds the
// whole call, retries included, so it is raised here to let three attempts run (see the README),
// with room for a busy machine: these calls must succeed.
const storeWith = (prefix: string, options: object = {}) =>
  testStore({ tableName, client }, { partitionKeyPrefix: prefix, operationTimeout: 20_000, ...options });

afterEach(() => {
  client.middlewareStack.remove('throttle');
  client.middlewareStack.remove('partial');
});

/** Throttles the first `times` attempts of each matching call, inside the SDK's retry loop. */
function throttle(commands: readonly string[], times: number, error: 'ProvisionedThroughputExceeded' | 'Throttling') {
  const attempts: string[] = [];
  let left = times;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!commands.includes(context.commandName as string)) return next(args);
      attempts.push(context.commandName as string);
      if (left <= 0) return next(args);
      left--;
      const options = { message: 'Rate of requests exceeds the allowed throughput.', $metadata: {} };
      throw error === 'Throttling' ? new ThrottlingException(options) : new ProvisionedThroughputExceededException(options);
    },
    // The deserialize step runs inside the retry middleware, as a real throttled answer would.
    { step: 'deserialize', name: 'throttle', priority: 'high' },
  );
  return attempts;
}

/**
 * Lets DynamoDB process only the first `processed` requests of each batch call and returns the rest
 * as unprocessed, which is how DynamoDB answers a throttled batch.
 */
function processOnly(processed: number) {
  const calls: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as BatchWriteItemCommandInput & BatchGetItemCommandInput;
      if (context.commandName === 'BatchWriteItemCommand') {
        const all = input.RequestItems![tableName]!;
        calls.push(all.length);
        // DynamoDB refuses an empty batch, so a batch it would leave wholly unprocessed is answered here.
        if (processed === 0) return { output: { UnprocessedItems: { [tableName]: all }, $metadata: {} }, response: {} } as never;
        const result = await next({ ...args, input: { ...input, RequestItems: { [tableName]: all.slice(0, processed) } } });
        const rest = all.slice(processed);
        (result.output as { UnprocessedItems?: object }).UnprocessedItems = rest.length ? { [tableName]: rest } : {};
        return result;
      }
      if (context.commandName === 'BatchGetItemCommand') {
        const all = (input.RequestItems![tableName] as { Keys: object[] }).Keys;
        calls.push(all.length);
        const kept = { ...input.RequestItems![tableName]!, Keys: all.slice(0, processed) };
        const result = await next({ ...args, input: { ...input, RequestItems: { [tableName]: kept } } });
        const rest = all.slice(processed);
        (result.output as { UnprocessedKeys?: object }).UnprocessedKeys = rest.length ? { [tableName]: { ...kept, Keys: rest } } : {};
        return result;
      }
      return next(args);
    },
    { step: 'initialize', name: 'partial' },
  );
  return calls;
}

describe('throttling', () => {
  it.each(['ProvisionedThroughputExceeded', 'Throttling'] as const)(
    'retries a throttled get and set (%s) with backoff and loses nothing',
    async (kind) => {
      const store = storeWith(`t1${kind}:`);
      const attempts = throttle(['PutItemCommand', 'GetItemCommand'], 2, kind);
      await store.set('order', { id: 7 });
      expect(attempts).toEqual(['PutItemCommand', 'PutItemCommand', 'PutItemCommand']);
      expect(await store.get('order')).toEqual({ id: 7 });
    },
  );

  it('fails with a ThrottledError naming the table, operation and attempts when retries run out, and writes nothing', async () => {
    const store = storeWith('t2:');
    throttle(['PutItemCommand'], Number.POSITIVE_INFINITY, 'ProvisionedThroughputExceeded');
    const error = await store.set('order', { id: 7 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `PutItem on table "${tableName}" was throttled by DynamoDB \\(ProvisionedThroughputExceededException\\) on all 3 attempts`,
      ),
    );
    client.middlewareStack.remove('throttle');
    expect(await store.get('order')).toBeUndefined();
  });

  it('retries the unprocessed part of throttled batches until every value is written and read', async () => {
    // Dozens of rounds, each backing off: they must all fit batchRetryTimeout, on a busy machine too.
    const store = storeWith('t3:', { batchRetryTimeout: 60_000 });
    const entries = Array.from({ length: 60 }, (_, index) => ({ key: `k${index}`, value: { index } }));
    const calls = processOnly(7);
    await store.setMany(entries);
    expect(calls.length).toBeGreaterThan(3);
    const values = await store.getMany(entries.map((entry) => entry.key));
    expect(values).toEqual(entries.map((entry) => entry.value));
  });

  it('fails with an UnprocessedItemsError when a batch stays throttled past batchRetryTimeout, naming how many were left', async () => {
    const store = storeWith('t4:', { batchRetryTimeout: 300 });
    processOnly(0);
    const error = await store
      .setMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnprocessedItemsError);
    expect((error as Error).message).toMatch(new RegExp(`BatchWriteItem on table "${tableName}": 2 of 2 items were still unprocessed`));
  });
});

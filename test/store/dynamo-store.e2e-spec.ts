import { type AttributeValue, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { partitionKeyFor } from '../../src/store/keys.js';
import {
  InvalidCacheKeyError,
  InvalidExpirationError,
  SerializationError,
  UnprocessedItemsError,
  ValueTooLargeError,
} from '../../src/store/errors.js';
import { localClient, memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';

const { client, tableName } = useCacheTable('store');
// Expiry to the millisecond and sliding windows of a second are checked on a clock the tests move:
// against real time, the calls between two instants would have to beat the window on a busy machine.
const clock = useStoppedClock();
const logger = memoryLogger();

function storeWith(options: Partial<ConstructorParameters<typeof DynamoStore>[0]> = {}) {
  return new DynamoStore({ tableName, client, ...cacheTableAttributes, logger, ...options });
}

async function rawItem(pk: string) {
  return (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;
}

async function countItems(prefix: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ProjectionExpression: 'pk', ExclusiveStartKey: startKey }),
    );
    count += (page.Items ?? []).filter((item) => item.pk?.S?.startsWith(prefix)).length;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

const bigValue = (kb: number, seed: string) => seed.repeat(Math.ceil((kb * 1024) / seed.length)).slice(0, kb * 1024);

afterEach(() => {
  client.middlewareStack.remove('recordCommands');
});

describe('DynamoStore on DynamoDB Local', () => {
  it('stores an item in the documented schema: prefixed key, binary value, TTL in epoch seconds, expiry in ms', async () => {
    const store = storeWith();
    const before = Date.now();
    await store.set('schema:1', { hello: 'world' }, 60_000);
    const item = await rawItem('dc:schema:1');
    expect(Buffer.from(item!.v!.B!).toString()).toBe('{"hello":"world"}');
    const expiresAt = Number(item!.exp!.N);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(Number(item!.ttl!.N)).toBe(Math.ceil(expiresAt / 1000));
    expect(item!.f).toBeUndefined();
  });

  it('writes no TTL attribute for an entry that never expires (no hidden default expiry)', async () => {
    const store = storeWith();
    await store.set('forever', 1);
    const item = await rawItem('dc:forever');
    expect(item!.ttl).toBeUndefined();
    expect(item!.exp).toBeUndefined();
    expect(await store.getEntry('forever')).toMatchObject({ value: 1, expiresAt: undefined, staleUntil: undefined });
  });

  it('applies the store default ttl in milliseconds', async () => {
    const store = storeWith({ ttl: 1_500 });
    const setAt = clock.stop();
    await store.set('default-ttl', 'x');
    expect((await store.getEntry('default-ttl'))!.expiresAt).toBe(setAt + 1_500);
  });

  it('returns a miss for an item past its TTL that DynamoDB has not deleted yet', async () => {
    const store = storeWith();
    const past = Date.now() - 1_000;
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'dc:stale' },
          v: { B: Buffer.from('"old"') },
          exp: { N: String(past) },
          // DynamoDB's own TTL an hour out, as an item kept for fail-safe has it: DynamoDB Local's
          // sweep (on real time, at any moment) cannot delete it under the test; its logical expiry
          // (exp) is what the store must read as past.
          ttl: { N: String(Math.ceil((Date.now() + 3_600_000) / 1000)) },
        },
      }),
    );
    expect(await rawItem('dc:stale')).toBeDefined();
    expect(await store.get('stale')).toBeUndefined();
    expect(await store.getMany(['stale'])).toEqual([undefined]);
  });

  it('expires an entry on the client at millisecond precision', async () => {
    const store = storeWith();
    clock.stop();
    await store.set('short', 'v', 150);
    clock.advance(149);
    expect(await store.get('short')).toBe('v');
    clock.advance(1);
    expect(await store.get('short')).toBeUndefined();
  });

  it('expires at an absolute expiration, and lets a relative ttl win over it', async () => {
    const store = storeWith();
    const setAt = clock.stop();
    await store.set('absolute', 'v', { absoluteExpiration: new Date(setAt + 150) });
    await store.set('relative-wins', 'v', { ttl: 60_000, absoluteExpiration: setAt + 150 });
    clock.advance(149);
    expect(await store.get('absolute')).toBe('v');
    clock.advance(1);
    expect(await store.get('absolute')).toBeUndefined();
    expect(await store.get('relative-wins')).toBe('v');
  });

  it('rejects an absolute expiration in the past and writes nothing', async () => {
    const store = storeWith();
    await expect(store.set('past', 'v', { absoluteExpiration: Date.now() - 10 })).rejects.toThrow(InvalidExpirationError);
    expect(await rawItem('dc:past')).toBeUndefined();
  });

  it('renews a sliding entry on read, only once the set part of the window has passed', async () => {
    const store = storeWith({ slidingRenewThreshold: 0.5 });
    const sent = recordCommands(client);
    const setAt = clock.stop();
    await store.set('sliding', 'v', { slidingExpiration: 1_000 });
    const first = Number((await rawItem('dc:sliding'))!.exp!.N);
    expect(first).toBe(setAt + 1_000);
    sent.length = 0;
    clock.advance(499);
    await store.get('sliding'); // inside the first half of the window: no write
    expect(sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(0);
    clock.advance(101);
    expect(await store.get('sliding')).toBe('v');
    expect(sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(1);
    const renewed = Number((await rawItem('dc:sliding'))!.exp!.N);
    expect(renewed).toBe(setAt + 1_600);
    clock.advance(450); // past the first window, inside the renewed one
    expect(await store.get('sliding')).toBe('v');
    clock.advance(1_100); // a whole window without a read
    expect(await store.get('sliding')).toBeUndefined();
  });

  it('never renews a sliding entry past its absolute deadline', async () => {
    const store = storeWith({ slidingRenewThreshold: 0 });
    const setAt = clock.stop();
    await store.set('sliding-capped', 'v', { slidingExpiration: 1_000, ttl: 1_500 });
    const until = (offset: number) => clock.moveTo(setAt + offset);
    until(700);
    expect(await store.get('sliding-capped')).toBe('v'); // renewed, but only up to the deadline
    until(1_200);
    expect(await store.get('sliding-capped')).toBe('v'); // past the first window
    expect(Number((await rawItem('dc:sliding-capped'))!.exp!.N)).toBe(setAt + 1_500);
    until(1_499);
    expect(await store.get('sliding-capped')).toBe('v');
    until(1_500);
    expect(await store.get('sliding-capped')).toBeUndefined(); // a read would have renewed it, but not past the deadline
  });

  it('refresh() renews a sliding entry without reading its value, and never resurrects a deleted key', async () => {
    const store = storeWith();
    const sent = recordCommands(client);
    const setAt = clock.stop();
    await store.set('refresh-me', bigValue(50, 'r'), { slidingExpiration: 1_000 });
    clock.advance(600);
    sent.length = 0;
    expect(await store.refresh('refresh-me')).toBe(true);
    expect(sent).toEqual(['GetItemCommand', 'UpdateItemCommand']);
    expect(Number((await rawItem('dc:refresh-me'))!.exp!.N)).toBe(setAt + 1_600);
    clock.advance(500); // past the first window, inside the renewed one
    expect(await store.get('refresh-me')).toHaveLength(50 * 1024);

    await store.delete('refresh-me');
    expect(await store.refresh('refresh-me')).toBe(false);
    expect(await rawItem('dc:refresh-me')).toBeUndefined();

    await store.set('not-sliding', 'v', 60_000);
    sent.length = 0;
    expect(await store.refresh('not-sliding')).toBe(true);
    expect(sent).toEqual(['GetItemCommand']);
  });

  it('does not let a renewal overwrite a value written since it was read', async () => {
    const store = storeWith({ slidingRenewThreshold: 0 });
    await store.set('race', 'first', { slidingExpiration: 10_000 });
    // A second writer replaces the value between our read and our renewal: the renewal's condition on
    // the version read must fail and leave the newer value and its expiry alone.
    const other = storeWith();
    let replaced = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && !replaced) {
          replaced = true;
          await other.set('race', 'second', 5_000);
        }
        return next(args);
      },
      { step: 'initialize', name: 'interloper' },
    );
    try {
      expect(await store.get('race')).toBe('first');
    } finally {
      client.middlewareStack.remove('interloper');
    }
    expect(replaced).toBe(true);
    const item = await rawItem('dc:race');
    expect(Buffer.from(item!.v!.B!).toString()).toBe('"second"');
    expect(item!.sw).toBeUndefined();
    expect(Number(item!.exp!.N) - Date.now()).toBeLessThanOrEqual(5_000);
  });

  it('round-trips Buffers, Dates, Maps, Sets and BigInts through DynamoDB', async () => {
    const store = storeWith();
    const value = { at: new Date(1), tags: new Set(['a']), map: new Map([['k', 1n]]), bytes: Buffer.from([1, 2, 3]) };
    await store.set('types', value);
    expect(await store.get('types')).toEqual(value);
    await store.set('raw-bytes', Buffer.from([0, 255, 10]));
    expect(await store.get('raw-bytes')).toEqual(Buffer.from([0, 255, 10]));
  });

  it('reads an item under a cache key that is not ours as a miss with a warning, and leaves it alone', async () => {
    const store = storeWith();
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'dc:foreign-no-value' }, data: { S: 'x' } } }));
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'dc:foreign-string' }, v: { S: 'text' } } }));
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'dc:foreign-corrupt' }, v: { B: Buffer.from('{oops') } } }),
    );
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'dc:foreign-exp' }, v: { B: Buffer.from('1') }, exp: { S: 'soon' } } }),
    );
    logger.warnings.length = 0;
    for (const key of ['foreign-no-value', 'foreign-string', 'foreign-corrupt', 'foreign-exp']) {
      expect(await store.get(key)).toBeUndefined();
    }
    expect(await store.getMany(['foreign-corrupt', 'foreign-string'])).toEqual([undefined, undefined]);
    expect(logger.warnings).toHaveLength(6);
    expect(logger.warnings[0]).toMatch(new RegExp(`"dc:foreign-no-value" in DynamoDB table "${tableName}"`));
    expect(await rawItem('dc:foreign-corrupt')).toBeDefined();
  });

  describe('bad input: a typed error, and nothing written', () => {
    const store = storeWith();
    it.each([
      ['a non-string key', () => store.set(42 as unknown as string, 'v'), InvalidCacheKeyError],
      ['an empty key', () => store.set('', 'v'), InvalidCacheKeyError],
      ['a NaN ttl', () => store.set('bad-ttl', 'v', Number.NaN), InvalidExpirationError],
      ['a negative ttl', () => store.set('bad-ttl', 'v', -5), InvalidExpirationError],
      ['undefined', () => store.set('bad-value', undefined), SerializationError],
      ['a function', () => store.set('bad-value', () => 1), SerializationError],
    ])('%s', async (_name, write, errorClass) => {
      await expect(write()).rejects.toThrow(errorClass);
      expect(await rawItem('dc:bad-ttl')).toBeUndefined();
      expect(await rawItem('dc:bad-value')).toBeUndefined();
    });

    it('a circular value', async () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(store.set('circular', circular)).rejects.toThrow(/Cannot cache key "circular"/);
      expect(await rawItem('dc:circular')).toBeUndefined();
    });

    it('a value past maxValueBytes, with the key, size and option in the error', async () => {
      const limited = storeWith({ maxValueBytes: 500 * 1024 });
      const error = await limited.set('huge', bigValue(501, 'h')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ValueTooLargeError);
      expect((error as ValueTooLargeError).message).toMatch(/"huge".*513026 bytes.*maxValueBytes \(512000\)/);
      expect(await rawItem('dc:huge')).toBeUndefined();
      expect(await countItems('dc:#chunk:')).toBe(0);
    });

    it('one bad entry in setMany writes none of them', async () => {
      await expect(
        store.setMany([
          { key: 'batch-ok-1', value: 1 },
          { key: 'batch-bad', value: () => 1 },
        ]),
      ).rejects.toThrow(SerializationError);
      expect(await rawItem('dc:batch-ok-1')).toBeUndefined();
    });
  });

  it('accepts a value just under 400 KB in one item', async () => {
    const store = storeWith({ compression: false });
    const value = bigValue(399, 'a');
    await store.set('just-fits', value);
    expect(await store.get('just-fits')).toBe(value);
  });

  it('stores a key past 2048 bytes under a digest, never truncated into a collision', async () => {
    const store = storeWith();
    const head = 'k'.repeat(2_100);
    await store.set(`${head}-one`, 1);
    await store.set(`${head}-two`, 2);
    expect(await store.get(`${head}-one`)).toBe(1);
    expect(await store.get(`${head}-two`)).toBe(2);
    expect(await store.getMany([`${head}-two`, `${head}-one`])).toEqual([2, 1]);
    expect(await store.delete(`${head}-one`)).toBe(true);
    expect(await store.get(`${head}-one`)).toBeUndefined();
    expect(await store.get(`${head}-two`)).toBe(2);
  });

  it('keeps an entry under a long key apart from a key spelled like its digest', async () => {
    const store = storeWith();
    const longKey = 'z'.repeat(2_100);
    await store.set(longKey, 'long');
    const digestForm = partitionKeyFor('dc:', longKey).value;
    expect(await rawItem(digestForm)).toBeDefined();
    const impostor = digestForm.slice('dc:'.length);
    expect(await store.get(impostor)).toBeUndefined();
    await store.set(impostor, 'impostor');
    expect(await store.get(longKey)).toBe('long');
    expect(await store.get(impostor)).toBe('impostor');
  });

  it('lets the last of duplicate keys in one setMany win', async () => {
    const store = storeWith();
    await store.setMany([
      { key: 'dup', value: 'first' },
      { key: 'other', value: 'x' },
      { key: 'dup', value: 'last' },
    ]);
    expect(await store.getMany(['dup', 'other', 'dup'])).toEqual(['last', 'x', 'last']);
  });

  it('asks for eventually consistent reads when consistentReads is false', async () => {
    const observed = localClient();
    const consistency: Array<[string, unknown]> = [];
    observed.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ConsistentRead?: boolean; RequestItems?: Record<string, { ConsistentRead?: boolean }> };
        consistency.push([context.commandName as string, input.ConsistentRead ?? input.RequestItems?.[tableName]?.ConsistentRead]);
        return next(args);
      },
      { step: 'initialize', name: 'observe' },
    );
    const store = new DynamoStore({ tableName, client: observed, ...cacheTableAttributes, consistentReads: false });
    await store.set('eventual', 1);
    await store.get('eventual');
    await store.getMany(['eventual']);
    expect(consistency.filter(([name]) => name !== 'PutItemCommand')).toEqual([
      ['GetItemCommand', false],
      ['BatchGetItemCommand', false],
    ]);
    observed.destroy();
  });

  it('getMany returns every one of 150 values of 300 KB, in the order asked, duplicates and misses included', async () => {
    // Uncompressed, so that the answer passes BatchGetItem's 16 MB and comes back in parts. 45 MB
    // through DynamoDB Local on a busy machine can outlast the default bounds, which are not the
    // subject here: every call must succeed.
    const store = storeWith({ partitionKeyPrefix: 'big:', compression: false, operationTimeout: 10_000, batchRetryTimeout: 60_000 });
    const keys = Array.from({ length: 150 }, (_, index) => `big-${index}`);
    await store.setMany(keys.map((key) => ({ key, value: bigValue(300, key), ttl: 300_000 })));
    expect(await countItems('big:')).toBe(150);
    const asked = [...keys, 'missing', keys[3]!];
    const values = await store.getMany(asked);
    expect(values).toHaveLength(152);
    values.slice(0, 150).forEach((value, index) => expect(value).toBe(bigValue(300, keys[index]!)));
    expect(values[150]).toBeUndefined();
    expect(values[151]).toBe(bigValue(300, keys[3]!));
    await store.deleteMany(keys);
    expect(await countItems('big:')).toBe(0);
  }, 120_000);

  it('retries unprocessed writes, then fails naming how many were not processed', async () => {
    // DynamoDB Local never throttles, so SDK middleware stands in for a table that keeps throttling:
    // every BatchWriteItem answer hands back its whole request as unprocessed, without sending it.
    const throttled = localClient();
    const attempts: number[] = [];
    throttled.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        const requestItems = (args.input as { RequestItems: Record<string, unknown[]> }).RequestItems;
        attempts.push(Date.now());
        return { output: { UnprocessedItems: requestItems, $metadata: {} }, response: {} } as never;
      },
      { step: 'initialize', name: 'throttle' },
    );
    // Long enough for several rounds even if the first is slow to come back.
    const store = new DynamoStore({
      tableName,
      client: throttled,
      ...cacheTableAttributes,
      batchRetryTimeout: 2_000,
      partitionKeyPrefix: 'throttled:',
    });
    const entries = Array.from({ length: 30 }, (_, index) => ({ key: `t${index}`, value: index }));
    const error = await store.setMany(entries).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnprocessedItemsError);
    expect((error as Error).message).toMatch(new RegExp(`BatchWriteItem on table "${tableName}": 30 of 30 items were still unprocessed`));
    expect(attempts.length).toBeGreaterThan(2); // two chunks (25 + 5) per round, several rounds
    expect(await countItems('throttled:')).toBe(0);
    throttled.destroy();
  });

  it('delete() tells whether the key held an item', async () => {
    const store = storeWith();
    await store.set('to-delete', 1);
    expect(await store.delete('to-delete')).toBe(true);
    expect(await store.delete('to-delete')).toBe(false);
  });

  it("clear() deletes this prefix's items and leaves the rest of the table alone", async () => {
    const mine = storeWith({ partitionKeyPrefix: 'mine:' });
    const theirs = storeWith({ partitionKeyPrefix: 'theirs:' });
    await mine.setMany(Array.from({ length: 60 }, (_, index) => ({ key: `k${index}`, value: index })));
    await theirs.set('k1', 'kept');
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'orders#1' }, total: { N: '3' } } }));
    await mine.clear();
    expect(await countItems('mine:')).toBe(0);
    expect(await theirs.get('k1')).toBe('kept');
    expect(await rawItem('orders#1')).toBeDefined();
  });
});

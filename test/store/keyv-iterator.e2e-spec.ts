import Keyv from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../src/entries/store.js';
import { memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

const { client, tableName } = useCacheTable('keyviter');
const storeUnder = (prefix: string) =>
  new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger: memoryLogger() });

afterEach(() => {
  client.middlewareStack.remove('recordCommands');
});

/**
 * Keyv 5 attaches a store's `iterator` by itself only for its own adapters (an allow-list of
 * dialects: sqlite, postgres, mysql, mongo, redis, valkey, etcd); for any other store this is the
 * one line an application adds. Keyv 6 calls `store.iterator()` for every store that has one.
 */
function iterating(keyv: Keyv, store: DynamoStore): Keyv {
  keyv.iterator ??= keyv.generateIterator(store.iterator.bind(store));
  return keyv;
}

/**
 * Writes every entry at once and checks what each write returned. Keyv turns a failed write into
 * `false` (and an 'error' event): under load a write may time out, and the test would then look for
 * an entry never written. Those are written again, one at a time, and must land.
 */
async function setEvery(keyv: Keyv, entries: Array<[string, unknown]>): Promise<void> {
  const written = await Promise.all(entries.map(([key, value]) => keyv.set(key, value)));
  const failed = entries.filter((_, index) => !written[index]);
  for (const [key, value] of failed) expect(await keyv.set(key, value), `keyv.set('${key}')`).toBe(true);
}

async function entriesOf(keyv: Keyv): Promise<Map<string, unknown>> {
  const entries = new Map<string, unknown>();
  for await (const [key, value] of keyv.iterator!({})) entries.set(key as string, value);
  return entries;
}

describe('iterating a Keyv over the store', () => {
  it('builds a Keyv over the store without error (Keyv 5 reads opts.dialect and opts.url of a store that has an iterator)', () => {
    const store = storeUnder('k0:');
    expect(() => new Keyv({ store })).not.toThrow();
    expect(typeof store.iterator).toBe('function');
  });

  it('yields every live entry of its namespace, and none of another namespace nor an expired one', async () => {
    const store = storeUnder('k1:');
    const keyv = iterating(new Keyv({ store, namespace: 'orders' }), store);
    const expected = new Map(Array.from({ length: 250 }, (_, index) => [`order-${index}`, { index }]));
    await setEvery(keyv, [...expected]);
    expect(await keyv.set('gone', 'soon', 50)).toBe(true);
    expect(await new Keyv({ store: storeUnder('k1:'), namespace: 'invoices' }).set('invoice-1', { total: 3 })).toBe(true);
    await vi.waitFor(async () => expect(await store.get('orders:gone')).toBeUndefined());

    expect(await entriesOf(keyv)).toEqual(expected);
  });

  it('streams a page at a time: the first entry comes after one Scan and one BatchGetItem of at most 100 keys', async () => {
    const store = storeUnder('k2:');
    const keyv = iterating(new Keyv({ store }), store);
    await setEvery(
      keyv,
      Array.from({ length: 250 }, (_, index): [string, unknown] => [`k${index}`, index]),
    );
    const sent = recordCommands(client);

    const iterator = keyv.iterator!({});
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(sent).toEqual(['ScanCommand', 'BatchGetItemCommand']);
    let count = 1;
    while (!(await iterator.next()).done) count++;
    expect(count).toBe(250);
    expect(sent.filter((name) => name === 'BatchGetItemCommand')).toHaveLength(3);
  });

  it("yields the store's own [key, value] pairs, for a caller of the store itself", async () => {
    const store = storeUnder('k3:');
    await store.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: { two: 2 } },
    ]);
    const pairs: Array<[string, unknown]> = [];
    for await (const pair of store.iterator()) pairs.push(pair);
    expect(pairs.sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['a', 1],
      ['b', { two: 2 }],
    ]);
  });
});

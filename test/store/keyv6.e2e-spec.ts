// Keyv 6 (engines: Node >= 22.19) is installed as `keyv6`; vitest.config.ts includes this file only on such a Node.
import Keyv, { KeyvBridgeAdapter } from 'keyv6';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../src/entries/store.js';
import { recordCommands, useCacheTable } from '../support/dynamo.js';
import { testStore } from '../support/builders.js';

const { client, tableName } = useCacheTable('keyv6');
const storeUnder = (prefix: string) => testStore({ tableName, client }, { partitionKeyPrefix: prefix });

/** A Keyv 6 over its own store; an 'error' nobody listens to would throw inside Keyv 6, so errors fail the test instead. */
function keyvOver(store: DynamoStore, namespace?: string): Keyv {
  const keyv = new Keyv({ store, namespace });
  keyv.on('error', (error: unknown) => {
    throw error;
  });
  return keyv;
}

async function entriesOf(keyv: Keyv): Promise<Record<string, unknown>> {
  const entries: Record<string, unknown> = {};
  for await (const [key, value] of keyv.iterator()) entries[key as string] = value;
  return entries;
}

afterEach(() => {
  client.middlewareStack.remove('recordCommands');
});

/**
 * Keyv 6's adapter contract differs from Keyv 5's: `set(key, value, expires)` with an absolute time,
 * per-key `deleteMany` results, `hasMany`, a namespace the adapter applies when it has every method of
 * a full adapter and a `namespace` property. The store keeps Keyv 5's contract (it declares no
 * `capabilities.expires`, and has no `hasMany`), so Keyv 6 wraps it in its KeyvBridgeAdapter, which
 * turns `expires` back into a ttl and prefixes keys with `namespace::`. These tests hold it to that.
 */
describe('DynamoStore as a Keyv 6 store', () => {
  it('is bridged as a Keyv 5 (relative ttl) adapter, so keys carry the namespace and expiry is the ttl Keyv computed', async () => {
    const store = storeUnder('v6a:');
    const keyv = keyvOver(store, 'orders');
    expect(keyv.store).toBeInstanceOf(KeyvBridgeAdapter);

    await keyv.set('kept', { total: 3 });
    await keyv.set('brief', 'soon', 300);
    expect(await keyv.get('kept')).toEqual({ total: 3 });
    expect(await keyv.get('brief')).toBe('soon');
    // Keyv 6's separator is `::` (Keyv 5's was `:`): entries Keyv 5 wrote under a namespace are not read.
    expect(await store.get('orders::kept')).toBeTypeOf('string');
    expect(await store.get('orders:kept')).toBeUndefined();
    // Expired in DynamoDB's item itself (the store's read checks it), not only in Keyv's envelope.
    await vi.waitFor(async () => expect(await store.get('orders::brief')).toBeUndefined(), { timeout: 5_000, interval: 50 });
    expect(await keyv.get('brief')).toBeUndefined();
    expect(await keyv.get('kept')).toEqual({ total: 3 });
  });

  it('keeps namespaces apart on one prefix: same key, own values, and clear() empties its own namespace only', async () => {
    const orders = keyvOver(storeUnder('v6b:'), 'orders');
    const invoices = keyvOver(storeUnder('v6b:'), 'invoices');
    await orders.set('1', 'order one');
    await orders.set('2', 'order two');
    await invoices.set('1', 'invoice one');
    expect(await orders.get('1')).toBe('order one');
    expect(await invoices.get('1')).toBe('invoice one');

    await orders.clear();

    expect(await orders.getMany(['1', '2'])).toEqual([undefined, undefined]);
    expect(await invoices.get('1')).toBe('invoice one');
  });

  it('clears the whole prefix without a namespace (Keyv 6 has no default namespace; Keyv 5 used "keyv")', async () => {
    const store = storeUnder('v6c:');
    const keyv = keyvOver(store);
    const neighbour = keyvOver(storeUnder('v6c-other:'));
    await keyv.set('a', 1);
    await neighbour.set('a', 2);
    expect(await store.get('a')).toBeTypeOf('string');

    await keyv.clear();

    expect(await keyv.get('a')).toBeUndefined();
    expect(await neighbour.get('a')).toBe(2);
  });

  it('writes setMany in one BatchWriteItem and reads getMany and hasMany in one BatchGetItem, in the order asked', async () => {
    const keyv = keyvOver(storeUnder('v6d:'), 'batch');
    await keyv.set('warm-up', true);
    const sent = recordCommands(client);

    expect(
      await keyv.setMany<unknown>([
        { key: 'a', value: { n: 1 } },
        { key: 'b', value: [2], ttl: 60_000 },
        { key: 'c', value: 'three' },
      ]),
    ).toEqual([true, true, true]);
    expect(sent).toEqual(['BatchWriteItemCommand']);
    expect(await keyv.getMany(['c', 'missing', 'a', 'b'])).toEqual(['three', undefined, { n: 1 }, [2]]);
    expect(await keyv.hasMany(['a', 'missing', 'c'])).toEqual([true, false, true]);
    expect(sent).toEqual(['BatchWriteItemCommand', 'BatchGetItemCommand', 'BatchGetItemCommand']);
  });

  it('deletes with deleteMany in batches; its per-key answer is whether every key held an entry, as the store answers one for all', async () => {
    const keyv = keyvOver(storeUnder('v6e:'), 'gone');
    await keyv.setMany(['a', 'b', 'c'].map((key) => ({ key, value: key })));
    const sent = recordCommands(client);

    expect(await keyv.deleteMany(['a', 'b'])).toEqual([true, true]);
    expect(sent).toEqual(['BatchGetItemCommand', 'BatchWriteItemCommand']);
    expect(await keyv.deleteMany(['c', 'never-set'])).toEqual([false, false]);
    expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
  });

  it('iterates its namespace by itself (Keyv 5 needs the iterator attached), with the keys as the app wrote them', async () => {
    const keyv = keyvOver(storeUnder('v6f:'), 'users');
    await keyvOver(storeUnder('v6f:'), 'others').set('x', 'not mine');
    await keyv.set('ann', { age: 31 });
    await keyv.set('bob', { age: 42 });
    await keyv.set('gone', 'soon', 50);
    await vi.waitFor(async () => expect(await keyv.get('gone')).toBeUndefined(), { timeout: 5_000, interval: 50 });

    expect(await entriesOf(keyv)).toEqual({ ann: { age: 31 }, bob: { age: 42 } });
  });
});

import { createCache } from 'cache-manager';
import { describe, expect, it } from 'vitest';
import { useCacheTable } from '../support/dynamo.js';
import { testCache } from '../support/builders.js';

const { client, tableName } = useCacheTable('keyvview');
const cacheOn = (prefix: string) => testCache({ tableName, client }, { partitionKeyPrefix: prefix });

describe("the cache's Keyv view (cache.stores[0]), as cache-manager users reach the store", () => {
  it('iterates every live entry the cache holds, with its value, and none of another cache', async () => {
    const cache = cacheOn('view-a:');
    const other = cacheOn('view-b:');
    const written = new Map(Array.from({ length: 130 }, (_, index) => [`k${index}`, { n: index }] as const));
    await cache.mset([...written].map(([key, value]) => ({ key, value, ttl: 60_000 })));
    await cache.set('gone', 'x', 60_000);
    await cache.del('gone');
    await other.set('theirs', 1);
    const seen = new Map<string, unknown>();
    for await (const [key, value] of cache.stores[0]!.iterator!({})) seen.set(key as string, value);
    expect(seen).toEqual(written);
  });

  it('iterates through a cache-manager Cache built over the same Keyv', async () => {
    const cache = cacheOn('view-cm:');
    await cache.set('a', 1, 60_000);
    await cache.set('b', [2], 60_000);
    const manager = createCache({ stores: cache.stores });
    const seen: Array<[unknown, unknown]> = [];
    for await (const pair of manager.stores[0]!.iterator!({})) seen.push(pair as [unknown, unknown]);
    expect(seen.sort()).toEqual([
      ['a', 1],
      ['b', [2]],
    ]);
  });
});

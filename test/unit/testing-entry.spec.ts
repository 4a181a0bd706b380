import { Injectable, Inject } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache } from '../../src/index.js';
import { MemoryStore } from '../../src/entries/store.js';
import { memoryCache, memoryCacheModule } from '../../src/entries/testing.js';

@Injectable()
class Prices {
  computed = 0;
  constructor(@Inject(CACHE) readonly cache: DynamoCache) {}
  price(sku: string): Promise<number> {
    return this.cache.wrap(`price:${sku}`, async () => ++this.computed * 10, 60_000);
  }
}

describe('nest-dynamo-cache/testing', () => {
  it("gives an app's unit test a module whose cache lives in memory, with no table and no client", async () => {
    const moduleRef = await Test.createTestingModule({ imports: [memoryCacheModule()], providers: [Prices] }).compile();
    await moduleRef.init();
    const prices = moduleRef.get(Prices);
    expect(await prices.price('a')).toBe(10);
    expect(await prices.price('a')).toBe(10);
    expect(prices.computed).toBe(1);
    expect(prices.cache.store).toBeInstanceOf(MemoryStore);
    await moduleRef.close();
  });

  it('gives code without Nest a cache over a MemoryStore, with the options it is given', async () => {
    const cache = memoryCache({ name: 'drafts' }, { maxEntries: 2 });
    await cache.set('k', { v: 1 });
    expect(await cache.get('k')).toEqual({ v: 1 });
    expect(cache.name).toBe('drafts');
    await cache.disconnect();
  });
});

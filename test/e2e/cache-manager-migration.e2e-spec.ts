import { CACHE_MANAGER, CacheInterceptor, CacheKey, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Inject, Injectable, type INestApplication, Module, UseInterceptors } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { DynamoCache } from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { cacheModule } from '../support/builders.js';

const { tableName } = useCacheTable('migration');

// ---- An app's code as written for @nestjs/cache-manager, left as it is. ----
let handlerRuns = 0;

@Injectable()
class PricesService {
  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  async price(sku: string): Promise<number> {
    return this.cache.wrap(`price:${sku}`, async () => sku.length * 10, 60_000);
  }

  async setPrice(sku: string, price: number): Promise<void> {
    await this.cache.set(`price:${sku}`, price, 60_000);
  }

  async forget(sku: string): Promise<void> {
    await this.cache.del(`price:${sku}`);
  }

  peek(sku: string): Promise<number | undefined> {
    return this.cache.get<number>(`price:${sku}`);
  }
}

@Controller('catalogue')
@UseInterceptors(CacheInterceptor)
class CatalogueController {
  @Get()
  @CacheKey('catalogue')
  @CacheTTL(60_000)
  list() {
    handlerRuns += 1;
    return { items: ['a', 'b'], run: handlerRuns };
  }
}

@Module({ providers: [PricesService], controllers: [CatalogueController] })
class CatalogueModule {}
// ---- End of the app's code. ----

const apps = useNestApps();

/** The one change a migration makes: DynamoCacheModule.forRoot({ isGlobal: true }) where CacheModule.register({ isGlobal: true }) was. */
function app(): Promise<INestApplication> {
  return apps.start({
    imports: [cacheModule({ tableName }, { isGlobal: true }), CatalogueModule],
  });
}

describe('an app written for @nestjs/cache-manager, with DynamoCacheModule in place of CacheModule', () => {
  it('gets the default DynamoCache for @Inject(CACHE_MANAGER), and its get, set, del and wrap reach DynamoDB', async () => {
    const first = await app();
    const second = await app();
    expect(first.get(CACHE_MANAGER)).toBeInstanceOf(DynamoCache);
    const prices = first.get(PricesService);
    expect(await prices.price('abc')).toBe(30);
    await prices.setPrice('xyz', 7);
    // Another instance reads what this one wrote: the values are in the table, not in one process.
    const elsewhere = second.get(PricesService);
    expect([await elsewhere.peek('abc'), await elsewhere.peek('xyz')]).toEqual([30, 7]);
    await prices.forget('xyz');
    // Gone from the table (the other instance's memory keeps its copy for memory.maxTtl, as documented).
    expect(await second.get(DynamoStore).get('price:xyz')).toBeUndefined();
    expect(await prices.peek('xyz')).toBeUndefined();
  });

  it("keeps @nestjs/cache-manager's own CacheInterceptor working over the table", async () => {
    const instance = await app();
    const before = handlerRuns;
    const first = await request(instance.getHttpServer()).get('/catalogue').expect(200);
    const again = await request(instance.getHttpServer()).get('/catalogue').expect(200);
    expect(again.body).toEqual(first.body);
    expect(handlerRuns - before).toBe(1);
    expect(await instance.get<DynamoCache>(CACHE_MANAGER).get('catalogue')).toEqual(first.body);
  });
});

import { Controller, Get } from '@nestjs/common';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache, DynamoCacheModule } from '../../src/index.js';
import { useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';

const { client, tableName } = useCacheTable('route_lookups');
const { start } = useNestApps();

@Controller('counted')
class CountedController {
  handled = 0;

  @Get('plain')
  @Cacheable({ ttl: 600_000 })
  plain() {
    return { handled: ++this.handled };
  }

  @Get('by-language')
  @Cacheable({ ttl: 600_000, vary: ['accept-language'] })
  byLanguage() {
    return { handled: ++this.handled };
  }
}

describe('stats() for @Cacheable routes, at the defaults', () => {
  it('counts one lookup per request: the fast path counts its hit, and its miss is counted once, by getOrSet', async () => {
    const app = await start({
      imports: [DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes })],
      controllers: [CountedController],
    });
    const cache = app.get<DynamoCache>(CACHE);
    const server = app.getHttpServer();
    await request(server).get('/counted/plain').expect(200).expect('X-Cache', 'MISS');
    expect(cache.stats().tiers).toEqual({ memory: { hits: 0, misses: 1, stale: 0 }, dynamodb: { hits: 0, misses: 1, stale: 0 } });
    await request(server).get('/counted/plain').expect(200).expect('X-Cache', 'HIT');
    expect(cache.stats().tiers.memory).toEqual({ hits: 1, misses: 1, stale: 0 });

    // A varying route's entry has a generation entry of its own: two lookups a request, each counted once.
    await request(server).get('/counted/by-language').set('accept-language', 'fr').expect(200).expect('X-Cache', 'MISS');
    expect(cache.stats().tiers).toEqual({ memory: { hits: 1, misses: 3, stale: 0 }, dynamodb: { hits: 0, misses: 3, stale: 0 } });
    await request(server).get('/counted/by-language').set('accept-language', 'fr').expect(200).expect('X-Cache', 'HIT');
    expect(cache.stats().tiers.memory).toEqual({ hits: 3, misses: 3, stale: 0 });
  });
});

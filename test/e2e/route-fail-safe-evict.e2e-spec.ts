import { Controller, Get, Param, Post } from '@nestjs/common';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CacheEvict, Cacheable, DynamoCacheModule } from '../../src/index.js';
import { memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';

// A route's fail-safe answer after @CacheEvict({ tags }) (issue 23, item 5): the STALE copy that
// fail-safe holds in memory for its throttle is retired with the entry it copies.
const { client, tableName } = useCacheTable('route_failsafe_evict');
const apps = useNestApps();
const upstream = { down: false, calls: 0 };

@Controller('stock')
class StockController {
  @Get(':sku')
  @Cacheable({ ttl: 200, failSafe: true, failSafeThrottleDuration: 60_000, tags: ['stock'] })
  level(@Param('sku') sku: string) {
    upstream.calls++;
    if (upstream.down) throw new Error('upstream down');
    return { sku, call: upstream.calls };
  }

  @Post('restock')
  @CacheEvict({ tags: ['stock'] })
  restock() {
    return { restocked: true };
  }
}

describe.each([
  ['memory tier on, DynamoDB', true],
  ['memory-only', false],
])('a route whose last answer was STALE, after @CacheEvict({ tags }) (%s)', (_mode, distributed) => {
  it('answers from the handler, not from the evicted fail-safe copy', async () => {
    const app = await apps.start({
      imports: [
        DynamoCacheModule.forRoot({
          ...(distributed ? { tableName, client, ...cacheTableAttributes } : { distributed: false }),
          partitionKeyPrefix: `stale-evict-${distributed}:`,
          logger: memoryLogger(),
        }),
      ],
      controllers: [StockController],
    });
    const http = () => request(app.getHttpServer());
    upstream.down = false;
    const first = await http().get('/stock/a').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    upstream.down = true;
    // Once the entry is past its ttl, the failing handler is answered with the last good body.
    await seenWithin(async () => (await http().get('/stock/a')).headers['x-cache'], 'STALE', 5_000);
    const stale = await http().get('/stock/a');
    expect([stale.headers['x-cache'], stale.body]).toEqual(['STALE', first.body]);

    await http().post('/stock/restock').expect(201);
    // Evicted: the handler's own failure, not the copy fail-safe held.
    const afterEvict = await http().get('/stock/a');
    expect(afterEvict.status).toBe(500);
    upstream.down = false;
    const fresh = await http().get('/stock/a').expect(200);
    expect(fresh.headers['x-cache']).toBe('MISS');
    expect(fresh.body.call).toBeGreaterThan(first.body.call);
  });
});

import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cacheModule } from '../support/builders.js';

const { tableName } = useCacheTable('route_eager');
const clock = useStoppedClock();
const apps = useNestApps();
let runs = 0;

@Controller('report')
class ReportController {
  // A route ttl of one minute under a cache whose default is a day: refresh once 80 % of the minute has gone.
  @Get()
  @Cacheable({ ttl: 60_000, eagerRefreshThreshold: 0.8 })
  report() {
    runs += 1;
    return { run: runs };
  }
}

let app: INestApplication;
beforeAll(async () => {
  app = await apps.start({
    imports: [cacheModule({ tableName }, { ttl: 86_400_000 })],
    controllers: [ReportController],
  });
});

describe('eager refresh on a route', () => {
  it("measures a hit against the route's own ttl, not the cache's default", async () => {
    clock.stop();
    const cache = app.get<DynamoCache>(CACHE);
    expect((await request(app.getHttpServer()).get('/report').expect(200)).headers['x-cache']).toBe('MISS');
    clock.advance(10_000);
    expect((await request(app.getHttpServer()).get('/report').expect(200)).headers['x-cache']).toBe('HIT');
    // disconnect() waits for every background task of the cache: a refresh started by that hit would have run.
    await cache.disconnect();
    expect(runs).toBe(1);
    clock.advance(40_000);
    expect((await request(app.getHttpServer()).get('/report').expect(200)).headers['x-cache']).toBe('HIT');
    await cache.disconnect();
    expect(runs).toBe(2);
  });
});

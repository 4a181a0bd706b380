import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheHealthIndicator, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { seenWithin } from '../support/seen-within.js';
import { useNestApps } from '../support/nest-apps.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { cacheTableAttributes } from '../support/dynamo.js';

const TABLE = 'health_cache';
// This file stops and restarts a DynamoDB Local of its own.
const ownDynamo = useOwnDynamoDbLocal(TABLE, { maxAttempts: 1 });
const apps = useNestApps();

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cache: DynamoCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.cache.isHealthy('cache', { timeoutMs: 500 })]);
  }
}

describe('DynamoCacheHealthIndicator under @nestjs/terminus', () => {
  it('is up while DynamoDB answers, down while DynamoDB Local is stopped, and up again once it is back', async () => {
    const dynamo = await ownDynamo.start();
    const app = await apps.start({
      imports: [
        DynamoCacheModule.forRoot({ tableName: TABLE, client: dynamo.client, ...cacheTableAttributes }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
    });
    const up = await request(app.getHttpServer()).get('/health').expect(200);
    expect(up.body.info.cache).toMatchObject({ status: 'up', circuits: { default: 'closed' }, distributed: true });
    expect(typeof up.body.info.cache.responseTimeMs).toBe('number');

    await dynamo.stop();
    const down = await request(app.getHttpServer()).get('/health').expect(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.cache.status).toBe('down');
    expect(down.body.error.cache.message).toContain(`DynamoDB table "${TABLE}"`);

    await dynamo.restart();
    const back = await request(app.getHttpServer()).get('/health').expect(200);
    expect(back.body.info.cache.status).toBe('up');
  });
  it('is up again after an outage with no traffic at all, though every circuit opened (an idle pod out of the load balancer)', async () => {
    const dynamo = await ownDynamo.start();
    const app = await apps.start({
      imports: [
        DynamoCacheModule.forRoot({
          tableName: TABLE,
          client: dynamo.client,
          ...cacheTableAttributes,
          circuitBreakerThreshold: 1,
          circuitBreakerDuration: 300,
        }),
        DynamoCacheModule.forFeature({ name: 'rare' }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
    });
    const rare = app.get(DynamoCacheRegistry).get('rare');
    const main = app.get<DynamoCache>(CACHE);
    await dynamo.stop();
    await main.get('during-outage');
    await rare.get('during-outage');
    expect([main.circuitState, rare.circuitState]).toEqual(['open', 'open']);
    await dynamo.restart();
    // Only the health checks call DynamoDB from here on: no request reaches either cache.
    await seenWithin(async () => (await request(app.getHttpServer()).get('/health')).status, 200, 10_000);
    const back = await request(app.getHttpServer()).get('/health').expect(200);
    expect(back.body.info.cache).toMatchObject({ status: 'up', circuits: { default: 'closed', rare: 'closed' } });
  });
});

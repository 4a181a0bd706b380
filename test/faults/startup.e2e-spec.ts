import { Controller, Get, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningDynamoDbLocal, freePort, startDynamoDbLocal } from '../../sample/dynamodb-local.js';
import {
  CACHE,
  CacheStartupError,
  Cacheable,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
} from '../../src/index.js';
import { startBlackhole } from '../support/blackhole.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, dynamoEndpoint, memoryLogger } from '../support/dynamo.js';
import { seenWithin } from '../support/seen-within.js';

let served = 0;

@Controller('prices')
class PricesController {
  @Get(':sku')
  @Cacheable({ ttl: 60_000 })
  price(@Param('sku') sku: string) {
    served++;
    return { sku, cents: 1999 };
  }
}

async function boot(options: Partial<DynamoCacheModuleOptions> & { endpoint: string }) {
  const logger = memoryLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({
        tableName: 'startup_table',
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        operationTimeout: 400,
        circuitBreakerDuration: 300,
        memory: false,
        logger,
        ...options,
      }),
    ],
    controllers: [PricesController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  return { app, logger };
}

let dynamo: RunningDynamoDbLocal | undefined;
afterAll(() => dynamo?.stop());

describe('start-up with DynamoDB unreachable', () => {
  it('fails with a CacheStartupError naming the table and endpoint when nothing listens', async () => {
    const port = await freePort();
    const { app } = await boot({ endpoint: `http://127.0.0.1:${port}` });
    const error = await app.init().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheStartupError);
    expect((error as Error).message).toMatch(
      new RegExp(`"startup_table" \\(region us-east-1 at endpoint http://127\\.0\\.0\\.1:${port}/?\\) could not be checked at start-up`),
    );
    expect((error as Error).message).toMatch(/startupCheck: 'warn'/);
  });

  it('fails within operationTimeout per call when DynamoDB accepts the connection and never answers', async () => {
    const blackhole = await startBlackhole();
    const { app } = await boot({ endpoint: blackhole.endpoint });
    const started = Date.now();
    const error = await app.init().catch((caught: unknown) => caught);
    // Without the bound, DescribeTable would wait on the socket for the OS's minutes; the slack is a
    // busy machine's.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error).toBeInstanceOf(CacheStartupError);
    expect((error as Error).message).toMatch(/DescribeTable .*did not answer within 400 ms/);
    expect(blackhole.accepted()).toBeGreaterThan(0);
    await blackhole.close();
  });

  it("with startupCheck: 'warn', starts, answers, and lands what it owes once DynamoDB is up", async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const { app, logger } = await boot({ endpoint, startupCheck: 'warn', createTableIfNotExists: true });
    await app.init();
    expect(logger.warnings.join('\n')).toMatch(
      /"startup_table".*could not be checked at start-up.*Starting anyway \(startupCheck: 'warn'\)/,
    );
    const http = () => request(app.getHttpServer());
    const first = await http().get('/prices/A1').expect(200);
    expect(first.body).toEqual({ sku: 'A1', cents: 1999 });
    expect(first.headers['x-cache']).toBe('MISS');
    // Its answer is owed to DynamoDB (auto-recovery): this instance answers from what it owes meanwhile.
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await http().get('/prices/A1').expect(200);
      expect(answer.body).toEqual({ sku: 'A1', cents: 1999 });
      expect(answer.headers['x-cache']).toBe('HIT');
    }
    expect(served).toBe(1);
    const cache = app.get<DynamoCache>(CACHE);
    expect(cache.stats().autoRecovery).toMatchObject({ owed: 1 });

    dynamo = await startDynamoDbLocal(port);
    // The table is created on the first call that reaches DynamoDB (createTableIfNotExists), once the
    // circuit lets one through; then the owed answer lands.
    await seenWithin(async () => cache.stats().autoRecovery?.owed, 0, 30_000);
    // Another instance, which owes nothing, reads the landed answer from DynamoDB.
    const other = await boot({ endpoint, startupCheck: 'warn' });
    await other.app.init();
    try {
      const answer = await request(other.app.getHttpServer()).get('/prices/A1').expect(200);
      expect(answer.headers['x-cache']).toBe('HIT');
      expect(served).toBe(1);
    } finally {
      await other.app.close();
    }
    await app.close();
    // It starts DynamoDB Local, which a busy machine is slow to do.
  }, 120_000);

  it('always fails on a table that answers and is wrong, startupCheck or not', async () => {
    const { app } = await boot({ endpoint: dynamoEndpoint(), startupCheck: 'warn' });
    await expect(app.init()).rejects.toThrow(/"startup_table": does not exist/);
  });
});

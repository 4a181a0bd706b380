import { Controller, Get, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache, DynamoCacheModule, OperationTimeoutError } from '../../src/index.js';
import { startBlackhole } from '../support/blackhole.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, memoryLogger, cacheTableAttributes } from '../support/dynamo.js';

@Controller('stock')
class StockController {
  @Get(':sku')
  @Cacheable({ ttl: 60_000 })
  stock(@Param('sku') sku: string) {
    return { sku, units: 3 };
  }
}

const OPERATION_TIMEOUT = 300;

describe('a DynamoDB that accepts connections and never answers', () => {
  it('lets every request complete within the operation timeout, answered by the handler', async () => {
    const blackhole = await startBlackhole();
    const logger = memoryLogger();
    // Both names given: start-up sends nothing, so the app starts and meets the hang on its first requests.
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({
          tableName: 'hung_table',
          endpoint: blackhole.endpoint,
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
          ...cacheTableAttributes,
          operationTimeout: OPERATION_TIMEOUT,
          memory: false,
          logger,
        }),
      ],
      controllers: [StockController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();

    const timings = await Promise.all(
      Array.from({ length: 12 }, async (_, index) => {
        const started = Date.now();
        const answer = await request(app.getHttpServer()).get(`/stock/S${index % 3}`);
        return { status: answer.status, units: answer.body.units, ms: Date.now() - started };
      }),
    );
    expect(timings.map((timing) => timing.status)).toEqual(Array(12).fill(200));
    expect(timings.every((timing) => timing.units === 3)).toBe(true);
    // A read (and the write after the handler) may each wait out the bound; nothing waits on the socket
    // itself, which would take the OS's minutes. The slack is a busy machine's, not the library's.
    for (const timing of timings) expect(timing.ms).toBeLessThan(OPERATION_TIMEOUT * 2 + 10_000);
    expect(blackhole.accepted()).toBeGreaterThan(0);
    expect(logger.warnings.join('\n')).toMatch(/did not answer within 300 ms/);

    const cache = app.get<DynamoCache>(CACHE);
    const started = Date.now();
    expect(await cache.get('anything')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(OPERATION_TIMEOUT + 10_000);
    await expect(cache.store.get('anything')).rejects.toBeInstanceOf(OperationTimeoutError);
    await app.close();
    await blackhole.close();
  });
});

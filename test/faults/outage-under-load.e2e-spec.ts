import { Controller, Get, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CACHE, Cacheable, type DynamoCache, DynamoCacheModule } from '../../src/index.js';
import { memoryLogger, cacheTableAttributes } from '../support/dynamo.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { sleep } from '../support/seen-within.js';

const TABLE = 'outage_under_load';
const WORKERS = 8;
const BREAKER_MS = 400;
let handled = 0;

@Controller('items')
class ItemsController {
  @Get(':id')
  @Cacheable({ ttl: 60_000 })
  item(@Param('id') id: string) {
    handled++;
    return { id, name: `item ${id}` };
  }
}

// This file kills and restarts a DynamoDB Local of its own.
const ownDynamo = useOwnDynamoDbLocal(TABLE, { maxAttempts: 1 });

describe('DynamoDB killed and restarted while cached routes are under load', () => {
  it('fails no request, opens the breaker and closes it again, bounds the calls made meanwhile, and caches again without a restart', async () => {
    const dynamo = await ownDynamo.start();
    const { client } = dynamo;
    const logger = memoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({
          tableName: TABLE,
          client,
          ...cacheTableAttributes,
          // A short memory bound, so that requests keep going to DynamoDB and meet the outage.
          memory: { maxTtl: 50 },
          operationTimeout: 500,
          circuitBreakerDuration: BREAKER_MS,
          logger,
        }),
      ],
      controllers: [ItemsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const cache = app.get<DynamoCache>(CACHE);

    // Every DynamoDB call, with the breaker's state when it was sent.
    const calls: Array<{ state: string; at: number }> = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        calls.push({ state: cache.circuitState, at: Date.now() });
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const states: Array<{ state: string; at: number }> = [];
    const watch = setInterval(() => {
      if (states.at(-1)?.state !== cache.circuitState) states.push({ state: cache.circuitState, at: Date.now() });
    }, 5);

    const statuses = new Map<number, number>();
    let running = true;
    let requests = 0;
    const workers = Array.from({ length: WORKERS }, async (_, worker) => {
      for (let round = 0; running; round++) {
        const answer = await request(app.getHttpServer()).get(`/items/${(worker + round) % 5}`);
        requests++;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status === 200 && answer.body.id !== String((worker + round) % 5)) statuses.set(-1, (statuses.get(-1) ?? 0) + 1);
      }
    });

    await sleep(800);
    await dynamo.stop();
    const outageStarted = Date.now();
    const requestsBefore = requests;
    await sleep(2_000);
    await dynamo.restart();
    const outageEnded = Date.now();
    const requestsDuring = requests - requestsBefore;
    await sleep(1_500);
    running = false;
    await Promise.all(workers);
    clearInterval(watch);

    expect([...statuses.keys()]).toEqual([200]);
    expect(states.map((entry) => entry.state)).toContain('open');
    expect(cache.circuitState).toBe('closed');
    expect(logger.warnings.join('\n')).toMatch(/circuit open[\s\S]*circuit closed/);

    const whileOpen = calls.filter((call) => call.state === 'open').length;
    const probes = calls.filter((call) => call.state === 'half-open').length;
    // Calls already past the breaker when it opened may still be sent (at most one per worker and
    // tier step); after that only one probe per open period reaches DynamoDB.
    expect(whileOpen).toBeLessThanOrEqual(WORKERS * 2);
    expect(probes).toBeLessThanOrEqual(Math.ceil((outageEnded - outageStarted) / BREAKER_MS) + 2);
    expect(requestsDuring).toBeGreaterThan((whileOpen + probes) * 3);

    const before = handled;
    await request(app.getHttpServer()).get('/items/fresh').expect(200);
    await sleep(60); // past the memory bound, so that the next answer comes from DynamoDB
    const again = await request(app.getHttpServer()).get('/items/fresh').expect(200);
    expect(again.headers['x-cache']).toBe('HIT');
    expect(handled - before).toBe(1);
    await app.close();
    client.destroy();
    // It starts DynamoDB Local twice, which a busy machine is slow to do.
  }, 120_000);
});

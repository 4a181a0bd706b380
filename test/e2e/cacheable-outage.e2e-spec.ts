import { Controller, Get, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { Cacheable, DynamoCacheModule } from '../../src/index.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { cacheTableAttributes } from '../support/dynamo.js';

const TABLE = 'cacheable_outage';
let runs = 0;

@Controller('weather')
class WeatherController {
  @Get(':city')
  @Cacheable({ ttl: 60_000 })
  forecast(@Param('city') city: string) {
    runs++;
    return { city };
  }
}

// This file stops and restarts a DynamoDB Local of its own.
const ownDynamo = useOwnDynamoDbLocal(TABLE, { maxAttempts: 1 });

describe('@Cacheable while DynamoDB is down', () => {
  it('answers every request from the handler, logs the failure once per burst, and caches again when DynamoDB is back', async () => {
    const dynamo = await ownDynamo.start();
    const { client } = dynamo;
    const warnings: string[] = [];
    const logger = { log() {}, error() {}, debug() {}, verbose() {}, warn: (message: unknown) => void warnings.push(String(message)) };
    // The harshest settings: no memory tier to answer from, and every cache failure rejects (throwOnErrors).
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({
          tableName: TABLE,
          client,
          ...cacheTableAttributes,
          memory: false,
          throwOnErrors: true,
          operationTimeout: 500,
          circuitBreakerDuration: 500,
        }),
      ],
      controllers: [WeatherController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    await app.init();
    const http = () => request(app.getHttpServer());

    await http().get('/weather/Oslo').expect(200);
    expect((await http().get('/weather/Oslo')).headers['x-cache']).toBe('HIT');
    await dynamo.stop();

    const answers = await Promise.all(Array.from({ length: 20 }, () => http().get('/weather/Oslo')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(answers.every((answer) => answer.body.city === 'Oslo' && answer.headers['x-cache'] === 'MISS')).toBe(true);
    expect(
      warnings.filter((line) => line.includes('WeatherController.forecast') && line.includes('answered without the cache')),
    ).toHaveLength(1);

    await dynamo.restart();
    await new Promise((resolve) => setTimeout(resolve, 600)); // past circuitBreakerDuration, so that a probe goes through
    const before = runs;
    await http().get('/weather/Oslo').expect(200);
    const cached = await http().get('/weather/Oslo').expect(200);
    expect(cached.headers['x-cache']).toBe('HIT');
    expect(runs - before).toBe(1);
    await app.close();
    client.destroy();
    // It starts DynamoDB Local twice, which a busy machine is slow to do.
  }, 120_000);
});

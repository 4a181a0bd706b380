import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTable, localModuleOptions, uniqueTableName } from '../test/support/dynamo.js';
import { CACHE, type DynamoCache } from 'nest-dynamo-cache';
import { AppModule } from './app.module.js';
import { WeatherService } from './weather/weather.service.js';

describe('the sample app on DynamoDB Local', () => {
  const tableName = uniqueTableName('sample');
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register(localModuleOptions(tableName))],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    await deleteTable(tableName);
  });

  it('computes a forecast once and serves it from the cache for 24 hours', async () => {
    const weather = app.get(WeatherService);
    const first = await request(app.getHttpServer()).get('/weather/Seattle').expect(200);
    const second = await request(app.getHttpServer()).get('/weather/seattle').expect(200);
    expect(second.body).toEqual(first.body);
    expect(first.body.days).toHaveLength(5);
    expect(weather.computed).toBe(1);
    const expires = await app.get<DynamoCache>(CACHE).ttl('forecast:seattle');
    expect(expires! - Date.now()).toBeGreaterThan(23.9 * 60 * 60 * 1000);
  });
});

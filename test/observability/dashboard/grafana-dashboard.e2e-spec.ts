import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheRegistry } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { AppModule } from '../../../sample/app.module.js';
import { deleteTable, localModuleOptions, uniqueTableName } from '../../support/dynamo.js';
import { faultyClient } from '../../support/fault-injection.js';
import { seenWithin } from '../../support/seen-within.js';
import { checkQueries, dashboardQueries, parseExposition } from './dashboard-check.js';

const DASHBOARD = new URL('../../../dashboards/grafana/nest-dynamo-cache.json', import.meta.url);

// The Grafana dashboard against what Prometheus would scrape from the sample app (its /metrics, the
// OpenTelemetry Prometheus exporter), run with the streams backplane so that backplane series exist.
describe('the Grafana dashboard over a scrape of the sample', () => {
  const tableName = uniqueTableName('dashboard');
  let app: INestApplication;
  let scrape: string;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({ ...localModuleOptions(tableName), backplane: { type: 'streams', pollInterval: 200, maxLag: 10_000 } }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const server = app.getHttpServer();

    // A getOrSet that misses both tiers and runs its factory, then hits memory; the named cache behind @Cacheable.
    await request(server).get('/weather/Seattle').expect(200);
    await request(server).get('/weather/Seattle').expect(200);
    await request(server).get('/users').expect(200);
    await request(server).get('/users').expect(200);
    // A factory that throws and a DynamoDB call that fails: the series that carry error_type.
    const cache = app.get<DynamoCache>(CACHE);
    cache.on('error', () => undefined);
    await expect(
      cache.getOrSet('dashboard:upstream-down', () => {
        throw new Error('upstream down');
      }),
    ).rejects.toThrow('upstream down');
    const faults = faultyClient(app.get(DynamoStore).client);
    faults.failWhen((command) => command === 'GetItemCommand');
    expect(await cache.get('dashboard:connection-reset')).toBeUndefined();
    faults.failWhen(undefined);
    // The one instance takes the stream's lease: the role series.
    await seenWithin(async () => app.get(DynamoCacheRegistry).backplane?.stats().role, 'reader', 15_000);

    scrape = (await request(server).get('/metrics').expect(200)).text;
  });

  afterAll(async () => {
    await app?.close();
    await deleteTable(tableName);
    await deleteTable(`${tableName}_notes`);
  });

  it('finds every metric and label that every panel and variable queries', () => {
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(20);
    expect(checkQueries(queries, parseExposition(scrape))).toEqual([]);
  });

  it('would report a panel that queried a misspelled metric or a label the metric lacks', () => {
    const broken = structuredClone(dashboard);
    const panel = broken.panels.find((one: { title: string }) => one.title === 'Hit ratio by cache and tier');
    panel.targets[0].expr = panel.targets[0].expr.replaceAll('dynamo_cache_lookups_total', 'dynamo_cache_lookup_total');
    const latency = broken.panels.find((one: { title: string }) => one.title === 'DynamoDB latency p50 / p99 by operation');
    latency.targets[0].expr = latency.targets[0].expr.replace('db_operation_name', 'db_operation');
    expect(checkQueries(dashboardQueries(broken), parseExposition(scrape))).toEqual([
      'panel "Hit ratio by cache and tier" A: dynamo_cache_lookup_total is not in the scrape (did you mean dynamo_cache_lookups_total?)',
      expect.stringMatching(
        /^panel "DynamoDB latency p50 \/ p99 by operation" A: db_client_operation_duration_bucket has no label db_operation \(by\)/,
      ),
    ]);
  });
});

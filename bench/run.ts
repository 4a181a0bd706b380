import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, DynamoCache, DynamoCacheModule } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import { asyncContextTable } from './async-context.js';
import { backplaneTable } from './backplane.js';
import { capacityTable } from './capacity.js';
import { compressionTable } from './compression.js';
import { httpTable } from './http.js';
import { memoryHitTable } from './memory-hits.js';
import { observabilityTable } from './observability.js';
import { Report } from './report.js';
import { sdkComparison } from './sdk-comparison.js';
import { scaleTable } from './scale.js';
import { serializerTable } from './serializers.js';
import { stampedeTable } from './stampede.js';
import { tagsTables } from './tags.js';
import { createTable } from './table.js';

/**
 * Every benchmark against one DynamoDB Local in one run, written to bench/results/ (report.json,
 * report.md, latency.svg). BENCH_QUICK=1 runs fewer rounds: a smoke test, not figures to quote.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const TABLE = 'bench_cache';
// BENCH_ONLY=http,memory runs those sections alone, to repeat one measurement; the report files are
// then left as they are, since they hold a whole run's figures.
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const runs = (section: string) => ONLY === undefined || ONLY.includes(section);

async function main() {
  const report = new Report(QUICK);
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
  });
  try {
    await createTable(client, TABLE);
    const store = new DynamoStore({ tableName: TABLE, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' });
    await store.initialize();
    if (runs('sdk')) await sdkComparison(client, TABLE, store, report, QUICK);
    if (runs('compression')) await compressionTable(client, TABLE, report, QUICK);
    if (runs('serializers')) await serializerTable(client, TABLE, report, QUICK);
    if (runs('capacity')) await capacityTable(dynamo.endpoint, TABLE, report);
    const cache = new DynamoCache(
      new DynamoStore({ tableName: TABLE, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', partitionKeyPrefix: 'l1:' }),
    );
    if (runs('memory')) {
      const underBackplane = await cacheUnderBackplane(client);
      report.add(await memoryHitTable(cache, underBackplane.get<DynamoCache>(CACHE), QUICK));
      await underBackplane.close();
    }
    if (runs('observability')) report.add(await observabilityTable(client, TABLE, QUICK));
    if (runs('stampede')) report.add(await stampedeTable(dynamo.endpoint, TABLE));
    if (runs('backplane')) await backplaneTable(dynamo.endpoint, report, QUICK);
    if (runs('http')) report.add(await httpTable(dynamo.endpoint, TABLE, QUICK));
    if (runs('tags')) await tagsTables(dynamo.endpoint, TABLE, report, QUICK);
    if (runs('scale')) await scaleTable(dynamo.endpoint, report, QUICK);
    if (runs('async-context')) report.add(await asyncContextTable(dynamo.endpoint, TABLE, QUICK));
    if (ONLY !== undefined) return;
    console.log(`\nReport written to ${await report.write()}`);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/** A cache whose memory is bound by a poll backplane (its reads every minute, so none falls in the timing). */
async function cacheUnderBackplane(client: DynamoDBClient) {
  @Module({
    imports: [
      DynamoCacheModule.forRoot({
        tableName: TABLE,
        client,
        partitionKeyName: 'pk',
        ttlAttributeName: 'ttl',
        partitionKeyPrefix: 'l1bp:',
        memory: { maxTtl: 1 },
        backplane: { type: 'poll', interval: 60_000, maxLag: 120_000 },
      }),
    ],
  })
  class UnderBackplaneModule {}
  return NestFactory.createApplicationContext(UnderBackplaneModule, { logger: false });
}

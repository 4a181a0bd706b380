import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCache, DynamoStore } from 'nest-dynamo-cache';
import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import { backplaneTable } from './backplane.js';
import { capacityTable } from './capacity.js';
import { compressionTable } from './compression.js';
import { httpTable } from './http.js';
import { memoryHitTable } from './memory-hits.js';
import { Report } from './report.js';
import { sdkComparison } from './sdk-comparison.js';
import { serializerTable } from './serializers.js';
import { stampedeTable } from './stampede.js';
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
    if (runs('memory')) report.add(await memoryHitTable(cache, QUICK));
    if (runs('stampede')) report.add(await stampedeTable(dynamo.endpoint, TABLE));
    if (runs('backplane')) await backplaneTable(dynamo.endpoint, report, QUICK);
    if (runs('http')) report.add(await httpTable(dynamo.endpoint, TABLE, QUICK));
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

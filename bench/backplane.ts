import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { CACHE, type DynamoCache, DynamoCacheModule, type DynamoCacheModuleOptions } from 'nest-dynamo-cache';
import type { Report } from './report.js';
import { createTable, percentile } from './table.js';

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

async function instance(
  client: DynamoDBClient,
  tableName: string,
  backplane: DynamoCacheModuleOptions['backplane'],
): Promise<[INestApplicationContext, DynamoCache]> {
  @Module({ imports: [DynamoCacheModule.forRoot({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', backplane })] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  return [app, app.get<DynamoCache>(CACHE)];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long after one instance's write is acknowledged another instance stops serving the old value
 * from memory: B holds version i-1 in memory, A writes version i, and B is asked until it answers
 * i. Writes start at random moments, so that they fall anywhere in the poll cycle. Two Nest apps
 * on one table, each with its memory tier, in this process.
 */
export async function backplaneTable(endpoint: string, report: Report, quick: boolean): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const tableName = 'bench_backplane';
  await createTable(client, tableName, 'pk', { ttl: 'ttl', stream: true });
  const settings: Array<[string, DynamoCacheModuleOptions['backplane'], string]> = [
    ['streams, pollInterval 1000 (default)', { type: 'streams' }, 'a'],
    ['streams, pollInterval 200', { type: 'streams', pollInterval: 200 }, 'b'],
    ['poll, interval 1000 (default)', { type: 'poll' }, 'c'],
    ['none: memory.maxTtl 5000 (default)', undefined, 'd'],
  ];
  const rows: string[][] = [];
  for (const [name, backplane, keySpace] of settings) {
    // Without a backplane each write waits out memory.maxTtl (about 5 s): a few show it.
    const writes = backplane === undefined ? (quick ? 3 : 8) : quick ? 8 : 60;
    const [appA, a] = await instance(client, tableName, backplane);
    const [appB, b] = await instance(client, tableName, backplane);
    const lags: number[] = [];
    for (let version = 1; version <= writes; version++) {
      const key = `${keySpace}:${version % 5}`;
      await a.set(key, version - 5);
      await sleep(50);
      await b.get(key); // into B's memory
      await sleep(Math.random() * 1_000);
      await a.set(key, version);
      const acknowledged = performance.now();
      while ((await b.get(key)) !== version) await sleep(2);
      lags.push(performance.now() - acknowledged);
    }
    await appA.close();
    await appB.close();
    const sorted = lags.sort((x, y) => x - y);
    rows.push([name, percentile(sorted, 0.5).toFixed(0), percentile(sorted, 0.99).toFixed(0), sorted.at(-1)!.toFixed(0), String(writes)]);
  }
  client.destroy();
  report.add({
    title: 'Backplane lag: a write on one instance until another stops serving the old value from memory',
    header: ['backplane', 'lag p50 ms', 'lag p99 ms', 'max ms', 'writes'],
    rows,
    note:
      "Two Nest apps on one DynamoDB Local table, each with its memory tier. The old value is in the reader's memory when the writer writes; " +
      'the reader is asked every 2 ms until it answers the new one. Without a backplane that takes up to memory.maxTtl.',
  });
}

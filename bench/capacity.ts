import { type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import KeyvDynamo from '@keyv/dynamo';
import { BentoCache, bentostore } from 'bentocache';
import { dynamoDbDriver } from 'bentocache/drivers/dynamodb';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { DynamoCache } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { apiResponse } from './api-response.js';
import type { Report } from './report.js';
import { createTable, median } from './table.js';

const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const KEYS = 100;
const REQUESTS_PER_KEY = 10;

interface Units {
  read: number;
  write: number;
  reads: number;
  writes: number;
}

/**
 * Makes every data call of a client ask for ReturnConsumedCapacity and adds up what DynamoDB
 * reports, so that each library is billed by the same meter whatever it asks for itself.
 */
function meter(client: { middlewareStack: DynamoDBClient['middlewareStack'] }): Units {
  const units: Units = { read: 0, write: 0, reads: 0, writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName as string;
      const data = /^(Get|Put|Delete|Update|BatchGet|BatchWrite)Item/.test(name);
      if (data) (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      if (!data) return result;
      const reading = name.startsWith('Get') || name.startsWith('BatchGet');
      if (reading) units.reads++;
      else units.writes++;
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      for (const part of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        if (reading) units.read += part.ReadCapacityUnits ?? part.CapacityUnits ?? 0;
        else units.write += part.WriteCapacityUnits ?? part.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'initialize', name: 'capacityMeter' },
  );
  return units;
}

interface Contender {
  name: string;
  units: Units;
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * 1000 cache-aside requests for a 10 KB API response at a 90 % hit rate (100 keys, 10 requests
 * each: one miss that computes and writes, then nine hits), each library on its own client and
 * table in the same DynamoDB Local, billed by the same meter.
 */
export async function capacityTable(endpoint: string, table: string, report: Report): Promise<void> {
  const setup = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(setup, 'bench_capacity_bento', 'key');
  setup.destroy();
  const value = apiResponse(10 * 1024);
  const contenders = [
    ours('nest-dynamo-cache, memory: false', endpoint, table, { memory: false }, {}),
    ours('nest-dynamo-cache, memory: false, consistentReads: false', endpoint, table, { memory: false }, { consistentReads: false }),
    ours('nest-dynamo-cache, memory: false, compression: false', endpoint, table, { memory: false }, { compression: false }),
    ours('nest-dynamo-cache with its memory tier (one instance)', endpoint, table, {}, {}),
    keyvDynamo(endpoint),
    bento(endpoint),
  ];
  const rows: string[][] = [];
  const results: Array<{ name: string; writePerSet: number }> = [];
  for (const contender of contenders) {
    const latencies: number[] = [];
    let computed = 0;
    for (let round = 0; round < REQUESTS_PER_KEY; round++) {
      for (let index = 0; index < KEYS; index++) {
        const started = process.hrtime.bigint();
        await contender.getOrSet(`cap:${index}`, async () => {
          computed++;
          return value;
        });
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    }
    const { units } = contender;
    results.push({ name: contender.name, writePerSet: units.write / computed });
    rows.push([
      contender.name,
      `${(((KEYS * REQUESTS_PER_KEY - computed) / (KEYS * REQUESTS_PER_KEY)) * 100).toFixed(0)} %`,
      units.read.toFixed(1),
      units.write.toFixed(1),
      (units.write / computed).toFixed(1),
      `${units.reads} / ${units.writes}`,
      median(latencies).toFixed(2),
    ]);
    await contender.close();
  }
  const keyv = results.find((result) => result.name.startsWith('cache-manager'))!;
  const mine = results[0]!;
  report.add({
    title: 'Capacity units per 1000 requests at a 90 % hit rate (10 KB API response)',
    header: ['library', 'hit rate', 'read units', 'write units', 'write units per set', 'read / write calls', 'p50 ms per request'],
    rows,
    note:
      `Target: a 10 KB value costs at most a third of cache-manager + @keyv/dynamo's write units: ${mine.writePerSet.toFixed(1)} vs ${keyv.writePerSet.toFixed(1)} ` +
      `(${(mine.writePerSet / keyv.writePerSet).toFixed(2)}×, ${mine.writePerSet <= keyv.writePerSet / 3 ? 'met' : 'NOT met'}). ` +
      '@keyv/dynamo and bentocache read with eventual consistency (half the read units); nest-dynamo-cache reads strongly by default, hence the consistentReads: false row.',
  });
}

function ours(name: string, endpoint: string, tableName: string, cacheOptions: { memory?: false }, storeOptions: object): Contender {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const units = meter(client);
  const prefix = `cap${Math.random().toString(36).slice(2, 8)}:`;
  const cache = new DynamoCache(
    new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', partitionKeyPrefix: prefix, ...storeOptions }),
    cacheOptions,
  );
  return { name, units, getOrSet: (key, factory) => cache.getOrSet(key, factory, { ttl: 600_000 }), close: async () => client.destroy() };
}

function keyvDynamo(endpoint: string): Contender {
  const adapter = new KeyvDynamo({ tableName: 'bench_capacity_keyv', endpoint, region: 'us-east-1', credentials });
  const units = meter(adapter.client);
  const cache = createCache({ stores: [new Keyv({ store: adapter })] });
  return {
    name: 'cache-manager 7 + @keyv/dynamo',
    units,
    getOrSet: (key, factory) => cache.wrap(key, factory, 600_000),
    close: () => cache.disconnect(),
  };
}

function bento(endpoint: string): Contender {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const units = meter(client);
  const store = bentostore().useL2Layer(
    dynamoDbDriver({ table: { name: 'bench_capacity_bento' }, region: 'us-east-1', endpoint, credentials, client } as never),
  );
  const cache = new BentoCache({ default: 'store', stores: { store } });
  return {
    name: 'bentocache, DynamoDB driver',
    units,
    getOrSet: (key, factory) => cache.getOrSet({ key, factory, ttl: '10m' }),
    close: () => cache.disconnectAll(),
  };
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BentoCache, bentostore } from 'bentocache';
import { dynamoDbDriver } from 'bentocache/drivers/dynamodb';
import { memoryDriver } from 'bentocache/drivers/memory';
import { DynamoCache } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import type { Section } from './report.js';
import { countCommands, createTable } from './table.js';

const CALLERS = 100;
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };

interface Contender {
  name: string;
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * 100 concurrent getOrSet calls on one cold key, each contender on a client of its own that counts
 * what it sends to the same DynamoDB Local: factory calls, reads and writes.
 */
export async function stampedeTable(endpoint: string, tableName: string): Promise<Section> {
  const bentoTable = 'bench_bentocache';
  const setup = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(setup, bentoTable, 'key');
  setup.destroy();

  const rows: string[][] = [];
  const contenders: Array<() => [Contender, Map<string, number>]> = [
    () => ours('nest-dynamo-cache (memory + DynamoDB)', endpoint, tableName, {}),
    () => ours('nest-dynamo-cache, memory: false', endpoint, tableName, { memory: false }),
    () => bento('bentocache (L1 + DynamoDB)', endpoint, bentoTable, true),
    () => bento('bentocache, DynamoDB only', endpoint, bentoTable, false),
  ];
  for (const make of contenders) {
    const [contender, counts] = make();
    let factoryCalls = 0;
    const factory = async () => {
      factoryCalls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { report: 'q3', rows: 42 };
    };
    const key = `stampede:${contender.name.replace(/\W+/g, '-')}`;
    await Promise.all(Array.from({ length: CALLERS }, () => contender.getOrSet(key, factory)));
    const reads = (counts.get('GetItem') ?? 0) + (counts.get('BatchGetItem') ?? 0);
    const writes = (counts.get('PutItem') ?? 0) + (counts.get('BatchWriteItem') ?? 0) + (counts.get('UpdateItem') ?? 0);
    rows.push([contender.name, String(factoryCalls), String(reads), String(writes)]);
    await contender.close();
  }
  return {
    title: 'Stampede: every contender against the same DynamoDB Local',
    header: [`${CALLERS} concurrent cold getOrSet`, 'factory calls', 'DynamoDB reads', 'DynamoDB writes'],
    rows,
  };
}

function ours(name: string, endpoint: string, tableName: string, options: { memory?: false }): [Contender, Map<string, number>] {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const counts = countCommands(client);
  const cache = new DynamoCache(new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' }), options);
  return [
    { name, getOrSet: (key, factory) => cache.getOrSet(key, factory, { ttl: 600_000 }), close: async () => client.destroy() },
    counts,
  ];
}

function bento(name: string, endpoint: string, tableName: string, withMemory: boolean): [Contender, Map<string, number>] {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const counts = countCommands(client);
  let store = bentostore();
  if (withMemory) store = store.useL1Layer(memoryDriver({ maxItems: 10_000 }));
  store = store.useL2Layer(dynamoDbDriver({ table: { name: tableName }, region: 'us-east-1', endpoint, credentials, client } as never));
  const cache = new BentoCache({ default: 'store', stores: { store } });
  return [{ name, getOrSet: (key, factory) => cache.getOrSet({ key, factory, ttl: '10m' }), close: () => cache.disconnectAll() }, counts];
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCache } from 'nest-dynamo-cache';
import { DynamoStore } from 'nest-dynamo-cache/store';
import type { Report } from './report.js';
import { countCommands, median } from './table.js';

const VALUE = { id: 1, name: 'item 1', tags: ['a', 'b'], nested: { count: 3 } };
const TAGS = ['user:1', 'tenant:7', 'products'];

/**
 * What tags cost: a get of a tagged entry beside an untagged one (memory tier, and DynamoDB with the
 * memory tier off), interleaved in rounds; then what it costs to invalidate, by tag and by the
 * logical `clear()`, against the store's scanning clear, on caches of two sizes, with the calls counted.
 */
export async function tagsTables(endpoint: string, tableName: string, report: Report, quick: boolean): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  const store = (prefix: string) =>
    new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', partitionKeyPrefix: prefix });
  try {
    report.add(await readCosts(new DynamoCache(store('tg1:')), new DynamoCache(store('tg2:'), { memory: false }), quick));
    report.add(await invalidationCosts(endpoint, tableName, quick));
  } finally {
    client.destroy();
  }
}

async function readCosts(memoryCache: DynamoCache, dynamoCache: DynamoCache, quick: boolean) {
  for (const cache of [memoryCache, dynamoCache]) {
    await cache.set('untagged', VALUE, 600_000);
    await cache.set('tagged', VALUE, { ttl: 600_000, tags: TAGS });
    // Another tag invalidated, so that tag times are held and checked, not all empty.
    await cache.deleteByTag('unrelated');
  }
  const contenders: Array<[string, () => Promise<unknown>, number, number]> = [
    ['memory tier: get, untagged', () => memoryCache.get('untagged'), quick ? 5_000 : 20_000, 0],
    ['memory tier: get, 3 tags', () => memoryCache.get('tagged'), quick ? 5_000 : 20_000, 0],
    ['DynamoDB (memory off): get, untagged', () => dynamoCache.get('untagged'), quick ? 50 : 200, 2],
    ['DynamoDB (memory off): get, 3 tags', () => dynamoCache.get('tagged'), quick ? 50 : 200, 2],
  ];
  const rounds = quick ? 5 : 15;
  const samples = contenders.map(() => [] as number[]);
  for (let round = -1; round < rounds; round++) {
    for (let turn = 0; turn < contenders.length; turn++) {
      const index = (turn + Math.max(round, 0)) % contenders.length;
      const [, run, calls] = contenders[index]!;
      const started = process.hrtime.bigint();
      for (let call = 0; call < calls; call++) if ((await run()) === undefined) throw new Error(`${contenders[index]![0]}: a miss`);
      if (round >= 0) samples[index]!.push(Number(process.hrtime.bigint() - started) / calls);
    }
  }
  const medians = samples.map(median);
  const targets = [undefined, 1.2, undefined, 1.1];
  const rows = contenders.map(([name], index) => {
    const ns = medians[index]!;
    const base = medians[index - (index % 2)]!;
    const ratio = ns / base;
    const target = targets[index];
    const shown = index % 2 === 0 ? '1.00' : ratio.toFixed(2);
    return [
      name,
      index < 2 ? `${ns.toFixed(0)} ns` : `${(ns / 1e6).toFixed(2)} ms`,
      shown,
      target === undefined ? '' : `≤ ${target}${ratio <= target ? ' (met)' : ' (NOT met)'}`,
    ];
  });
  return {
    title: 'Reading a tagged entry (3 tags) beside an untagged one',
    header: ['get', 'per call, median of rounds', '× untagged', 'target'],
    rows,
    note:
      `${rounds} interleaved rounds. The DynamoDB rows read with the memory tier off, so every call is a GetItem; ` +
      'tag times are held for 1 s there, so about one read a second also reads the tags (one BatchGetItem).',
  };
}

async function invalidationCosts(endpoint: string, tableName: string, quick: boolean) {
  const sizes = quick ? [1_000, 5_000] : [1_000, 100_000];
  const rows: string[][] = [];
  for (const size of sizes) {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
    const cache = new DynamoCache(
      new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', partitionKeyPrefix: `tgc${size}:` }),
    );
    const entries = Array.from({ length: size }, (_, index) => ({ key: `k${index}`, value: index, ttl: { ttl: 600_000, tags: ['all'] } }));
    for (let from = 0; from < size; from += 1_000) await cache.mset(entries.slice(from, from + 1_000) as never);
    const counts = countCommands(client);
    const measure = async (name: string, work: () => Promise<unknown>) => {
      counts.clear();
      const started = performance.now();
      await work();
      const ms = performance.now() - started;
      const calls = [...counts].map(([command, count]) => `${count} ${command}`).join(', ');
      rows.push([name, size.toLocaleString('en-US'), ms < 10 ? ms.toFixed(1) : ms.toFixed(0), calls]);
    };
    await measure('deleteByTag(tag of every entry)', () => cache.deleteByTag('all'));
    await measure('clear() (logical)', () => cache.clear());
    if ((await cache.get('k0')) !== undefined) throw new Error('clear() left k0 readable');
    await measure("store.clear() (scan and delete: keyv's, and clear() before)", () => cache.store.clear());
    client.destroy();
  }
  return {
    title: 'Invalidating a whole cache: by tag, by the logical clear(), and by the scanning clear',
    header: ['call', 'entries', 'ms', 'DynamoDB requests'],
    rows,
    note: 'The scanning clear reads the whole table (its read units grow with the table, not the cache) and writes a unit per entry.',
  };
}

import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoCache, DynamoStore } from 'nest-dynamo-cache';
import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import { httpTable } from './http.js';
import { memoryHitTable } from './memory-hits.js';
import { stampedeTable } from './stampede.js';
import { createTable, markdownTable, median } from './table.js';

/**
 * The store against the raw AWS SDK on one DynamoDB Local, in interleaved rounds (each round runs
 * every contender once, in turn) so that the shared machine's noise falls on all of them alike.
 * The raw contenders do what a hand-written cache would: JSON in a binary attribute, with a TTL.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const TABLE = 'bench_cache';
const SIZES = [
  { label: '100 B', bytes: 100, rounds: QUICK ? 60 : 400, mgetRounds: QUICK ? 10 : 40 },
  { label: '10 KB', bytes: 10 * 1024, rounds: QUICK ? 60 : 300, mgetRounds: QUICK ? 5 : 20 },
  { label: '300 KB', bytes: 300 * 1024, rounds: QUICK ? 15 : 60, mgetRounds: QUICK ? 2 : 6 },
];

function payload(bytes: number, seed: number) {
  // A JSON object like an API response, of about `bytes` once serialized.
  return { id: seed, name: `item ${seed}`, body: 'x'.repeat(Math.max(0, bytes - 40)) };
}

async function timed(samples: number[], work: () => Promise<unknown>) {
  const started = process.hrtime.bigint();
  await work();
  samples.push(Number(process.hrtime.bigint() - started) / 1e6);
}

async function main() {
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await createTable(client, TABLE);
  const store = new DynamoStore({ tableName: TABLE, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' });
  await store.initialize();
  const rows: string[][] = [];
  let allReturned = true;

  for (const size of SIZES) {
    const value = payload(size.bytes, 1);
    const samples: Record<string, number[]> = { rawPut: [], storeSet: [], rawGet: [], storeGet: [] };
    const rawPut = (key: string) =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            pk: { S: `raw:${key}` },
            v: { B: Buffer.from(JSON.stringify(value)) },
            ttl: { N: String(Math.ceil((Date.now() + 600_000) / 1000)) },
          },
        }),
      );
    const rawGet = async (key: string) => {
      const output = await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `raw:${key}` } }, ConsistentRead: true }));
      return JSON.parse(Buffer.from(output.Item!.v!.B!).toString('utf8'));
    };
    for (let warm = 0; warm < 10; warm++) {
      await rawPut('warm');
      await store.set('warm', value);
      await rawGet('warm');
      await store.get('warm');
    }
    for (let round = 0; round < size.rounds; round++) {
      const key = `${size.label}:${round % 20}`;
      // Alternate who goes first, so neither always meets a warmer cache or socket.
      const order = round % 2 ? (['store', 'raw'] as const) : (['raw', 'store'] as const);
      for (const who of order) {
        if (who === 'raw') await timed(samples.rawPut!, () => rawPut(key));
        else await timed(samples.storeSet!, () => store.set(key, value, 600_000));
      }
      for (const who of order) {
        if (who === 'raw') await timed(samples.rawGet!, () => rawGet(key));
        else await timed(samples.storeGet!, () => store.get(key));
      }
    }

    const keys = Array.from({ length: 100 }, (_, index) => `${size.label}:mget:${index}`);
    await store.setMany(keys.map((key) => ({ key, value, ttl: 600_000 })));
    const rawKeys = keys.map((key) => ({ pk: { S: `dc:${key}` } }));
    const mget: Record<string, number[]> = { rawBatchGet: [], storeMget: [] };
    let rawReturned = 0;
    for (let round = 0; round < size.mgetRounds; round++) {
      const order = round % 2 ? (['store', 'raw'] as const) : (['raw', 'store'] as const);
      for (const who of order) {
        if (who === 'raw') {
          await timed(mget.rawBatchGet!, async () => {
            const output = await client.send(new BatchGetItemCommand({ RequestItems: { [TABLE]: { Keys: rawKeys, ConsistentRead: true } } }));
            const items = output.Responses?.[TABLE] ?? [];
            for (const item of items) JSON.parse(Buffer.from(item.v!.B!).toString('utf8'));
            rawReturned = items.length;
          });
        } else {
          await timed(mget.storeMget!, async () => {
            const values = await store.getMany(keys);
            if (values.some((returned) => returned === undefined)) allReturned = false;
          });
        }
      }
    }

    const ratio = (ours: number[], theirs: number[]) => (median(ours) / median(theirs)).toFixed(2);
    rows.push([size.label, 'get', median(samples.rawGet!).toFixed(2), median(samples.storeGet!).toFixed(2), ratio(samples.storeGet!, samples.rawGet!), '1.10', `${size.rounds}`]);
    rows.push([size.label, 'set', median(samples.rawPut!).toFixed(2), median(samples.storeSet!).toFixed(2), ratio(samples.storeSet!, samples.rawPut!), '1.10', `${size.rounds}`]);
    rows.push([
      size.label,
      `mget 100 (raw call returned ${rawReturned}/100; ours 100/100)`,
      median(mget.rawBatchGet!).toFixed(2),
      median(mget.storeMget!).toFixed(2),
      ratio(mget.storeMget!, mget.rawBatchGet!),
      '1.25',
      `${size.mgetRounds}`,
    ]);
  }

  const table = markdownTable(['value', 'operation', 'raw SDK p50 ms', 'store p50 ms', 'ratio', 'target', 'rounds'], rows);
  console.log(`\nnest-dynamo-cache vs raw AWS SDK, one DynamoDB Local, interleaved rounds, medians${QUICK ? ' (BENCH_QUICK)' : ''}\n`);
  console.log(table);
  console.log(`\nEvery mget value returned: ${allReturned ? 'yes' : 'NO'}`);

  const cache = new DynamoCache(new DynamoStore({ tableName: TABLE, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', partitionKeyPrefix: 'l1:' }));
  console.log('\nA hit served from memory, in one run (await included, as a caller pays it)\n');
  console.log(await memoryHitTable(cache, QUICK));
  console.log('\nStampede: every contender against the same DynamoDB Local\n');
  console.log(await stampedeTable(dynamo.endpoint, TABLE));
  console.log('\nHTTP: one cached GET answered from memory, the app in a child process, autocannon on loopback\n');
  console.log(await httpTable(dynamo.endpoint, TABLE, QUICK));
  client.destroy();
  await dynamo.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

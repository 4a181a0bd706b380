import { BatchGetItemCommand, BatchWriteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { DynamoStore } from 'nest-dynamo-cache/store';
import { apiResponse } from './api-response.js';
import type { Report } from './report.js';
import { median } from './table.js';

interface Size {
  label: string;
  bytes: number;
  rounds: number;
  mgetRounds: number;
}

const sizes = (quick: boolean): Size[] => [
  { label: '100 B', bytes: 100, rounds: quick ? 60 : 400, mgetRounds: quick ? 10 : 40 },
  { label: '10 KB', bytes: 10 * 1024, rounds: quick ? 60 : 300, mgetRounds: quick ? 6 : 20 },
  { label: '100 KB', bytes: 100 * 1024, rounds: quick ? 30 : 120, mgetRounds: quick ? 4 : 12 },
];

/** A value like a cached API response: a small record at 100 B, a page of records above. */
function payload(bytes: number): unknown {
  return bytes < 1024 ? { id: 7, name: 'Ada Lovelace', email: 'ada@example.com', active: true, score: 91.5 } : apiResponse(bytes);
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const started = process.hrtime.bigint();
  await work();
  samples.push(Number(process.hrtime.bigint() - started) / 1e6);
}

/** Runs each contender once per round, the order alternating, so that neither always meets a warmer socket. */
async function interleaved(rounds: number, contenders: Array<[number[], () => Promise<unknown>]>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...contenders].reverse() : contenders;
    for (const [samples, work] of order) await timed(samples, work);
  }
}

const ratio = (ours: number[], theirs: number[]) => (median(ours) / median(theirs)).toFixed(2);
const met = (value: number, target: number) => (value <= target ? `≤ ${target.toFixed(2)} (met)` : `≤ ${target.toFixed(2)} (NOT met)`);

/**
 * The store against the raw AWS SDK on one DynamoDB Local. The raw contenders do what a
 * hand-written cache would: JSON in a binary attribute with a TTL, one item per value, no
 * compression. The store runs with its defaults (brotli above 1 KB, consumed capacity counted).
 */
export async function sdkComparison(
  client: DynamoDBClient,
  table: string,
  store: DynamoStore,
  report: Report,
  quick: boolean,
): Promise<void> {
  const rows: string[][] = [];
  let allReturned = true;
  const metered = new DynamoStore({
    tableName: table,
    client,
    partitionKeyName: 'pk',
    ttlAttributeName: 'ttl',
    partitionKeyPrefix: 'metered:',
    returnConsumedCapacity: true,
  });
  const ttlSeconds = () => ({ N: String(Math.ceil((Date.now() + 600_000) / 1000)) });

  for (const size of sizes(quick)) {
    const value = payload(size.bytes);
    const json = Buffer.from(JSON.stringify(value));
    // Serialized on every call, as a hand-written cache would.
    const rawPut = (key: string) =>
      client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: `raw:${key}` }, v: { B: Buffer.from(JSON.stringify(value)) }, ttl: ttlSeconds() },
        }),
      );
    const rawGet = async (key: string) => {
      const output = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `raw:${key}` } }, ConsistentRead: true }));
      return JSON.parse(Buffer.from(output.Item!.v!.B!).toString('utf8'));
    };
    for (let warm = 0; warm < 10; warm++) {
      await rawPut('warm');
      await store.set('warm', value);
      await rawGet('warm');
      await store.get('warm');
    }
    const samples = {
      rawPut: [] as number[],
      storeSet: [] as number[],
      meteredSet: [] as number[],
      rawGet: [] as number[],
      storeGet: [] as number[],
    };
    let round = 0;
    const key = () => `${size.label}:${round++ % 20}`;
    await interleaved(size.rounds, [
      [samples.rawPut, () => rawPut(key())],
      [samples.storeSet, () => store.set(key(), value, 600_000)],
      [samples.meteredSet, () => metered.set(key(), value, 600_000)],
    ]);
    round = 0;
    await interleaved(size.rounds, [
      [samples.rawGet, () => rawGet(key())],
      [samples.storeGet, () => store.get(key())],
    ]);

    const keys = Array.from({ length: 100 }, (_, index) => `${size.label}:mget:${index}`);
    await store.setMany(keys.map((k) => ({ key: k, value, ttl: 600_000 })));
    for (const chunk of [keys.slice(0, 25), keys.slice(25, 50), keys.slice(50, 75), keys.slice(75)]) {
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [table]: chunk.map((k) => ({ PutRequest: { Item: { pk: { S: `raw:${k}` }, v: { B: json }, ttl: ttlSeconds() } } })),
          },
        }),
      );
    }
    const rawKeys = keys.map((k) => ({ pk: { S: `raw:${k}` } }));
    const mget = { raw: [] as number[], store: [] as number[] };
    let rawReturned = 0;
    await interleaved(size.mgetRounds, [
      [
        mget.raw,
        async () => {
          const output = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: rawKeys, ConsistentRead: true } } }));
          const items = output.Responses?.[table] ?? [];
          for (const item of items) JSON.parse(Buffer.from(item.v!.B!).toString('utf8'));
          rawReturned = items.length;
        },
      ],
      [
        mget.store,
        async () => {
          const values = await store.getMany(keys);
          if (values.some((returned) => returned === undefined)) allReturned = false;
        },
      ],
    ]);

    const getTarget = size.bytes >= 100 * 1024 ? 1.0 : 1.1;
    rows.push([
      size.label,
      'get',
      median(samples.rawGet).toFixed(2),
      median(samples.storeGet).toFixed(2),
      ratio(samples.storeGet, samples.rawGet),
      met(median(samples.storeGet) / median(samples.rawGet), getTarget),
      `${size.rounds}`,
    ]);
    rows.push([
      size.label,
      'set',
      median(samples.rawPut).toFixed(2),
      median(samples.storeSet).toFixed(2),
      ratio(samples.storeSet, samples.rawPut),
      met(median(samples.storeSet) / median(samples.rawPut), getTarget),
      `${size.rounds}`,
    ]);
    rows.push([
      size.label,
      'set, returnConsumedCapacity: true',
      median(samples.rawPut).toFixed(2),
      median(samples.meteredSet).toFixed(2),
      ratio(samples.meteredSet, samples.rawPut),
      '',
      `${size.rounds}`,
    ]);
    rows.push([
      size.label,
      `mget 100 (raw returned ${rawReturned}/100)`,
      median(mget.raw).toFixed(2),
      median(mget.store).toFixed(2),
      ratio(mget.store, mget.raw),
      met(median(mget.store) / median(mget.raw), 1.25),
      `${size.mgetRounds}`,
    ]);
    report.addLatency({ operation: 'get', size: size.label, rawMs: median(samples.rawGet), storeMs: median(samples.storeGet) });
    report.addLatency({ operation: 'set', size: size.label, rawMs: median(samples.rawPut), storeMs: median(samples.storeSet) });
    report.addLatency({ operation: 'mget 100', size: size.label, rawMs: median(mget.raw), storeMs: median(mget.store) });
  }

  rows.push(...(await twoMegabytes(client, table, store, report, quick)));
  report.add({
    title: 'nest-dynamo-cache vs the raw AWS SDK (p50 ms)',
    header: ['value', 'operation', 'raw SDK p50 ms', 'store p50 ms', 'ratio', 'target', 'rounds'],
    rows,
    note: `Every mget value returned by the store: ${allReturned ? 'yes' : 'NO'}. Values are API-style JSON (bench/api-response.ts); the raw side stores it uncompressed, as a hand-written cache would.`,
  });
}

/**
 * A 2 MB value, incompressible so that it really is chunked (6 chunk items and a head), against
 * the same 2 MB fetched as 20 raw 100 KB items with one BatchGetItem (and written with one
 * BatchWriteItem), the best a hand-written cache could do with values it split itself.
 */
async function twoMegabytes(
  client: DynamoDBClient,
  table: string,
  store: DynamoStore,
  report: Report,
  quick: boolean,
): Promise<string[][]> {
  const value = randomBytes(2 * 1024 * 1024);
  const parts = Array.from({ length: 20 }, (_, index) => value.subarray(index * 104_858, (index + 1) * 104_858));
  const partKeys = parts.map((_, index) => ({ pk: { S: `raw:2mb:${index}` } }));
  const rawWrite = () =>
    client.send(
      new BatchWriteItemCommand({
        RequestItems: { [table]: parts.map((bytes, index) => ({ PutRequest: { Item: { ...partKeys[index]!, v: { B: bytes } } } })) },
      }),
    );
  const rawRead = async () => {
    const output = await client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: partKeys, ConsistentRead: true } } }));
    if ((output.Responses?.[table]?.length ?? 0) !== 20) throw new Error('raw 2 MB read came back short');
  };
  await rawWrite();
  await store.set('2mb', value);
  const readBack = await store.get<Buffer>('2mb');
  if (readBack === undefined || Buffer.compare(readBack, value) !== 0) throw new Error('the 2 MB value did not read back whole');
  const rounds = quick ? 8 : 30;
  const samples = { rawWrite: [] as number[], storeSet: [] as number[], rawRead: [] as number[], storeGet: [] as number[] };
  await interleaved(rounds, [
    [samples.rawWrite, rawWrite],
    [samples.storeSet, () => store.set('2mb', value)],
  ]);
  await interleaved(rounds, [
    [samples.rawRead, rawRead],
    [samples.storeGet, () => store.get('2mb')],
  ]);
  const rawLabel = '20 × 100 KB, one batch call';
  report.addLatency({ operation: 'get', size: '2 MB', rawMs: median(samples.rawRead), storeMs: median(samples.storeGet), rawLabel });
  report.addLatency({ operation: 'set', size: '2 MB', rawMs: median(samples.rawWrite), storeMs: median(samples.storeSet), rawLabel });
  return [
    [
      '2 MB',
      `get (raw: ${rawLabel})`,
      median(samples.rawRead).toFixed(2),
      median(samples.storeGet).toFixed(2),
      ratio(samples.storeGet, samples.rawRead),
      met(median(samples.storeGet) / median(samples.rawRead), 2),
      `${rounds}`,
    ],
    [
      '2 MB',
      `set (raw: ${rawLabel})`,
      median(samples.rawWrite).toFixed(2),
      median(samples.storeSet).toFixed(2),
      ratio(samples.storeSet, samples.rawWrite),
      '',
      `${rounds}`,
    ],
  ];
}

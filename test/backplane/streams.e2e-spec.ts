import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  type CacheEvent,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  DynamoCacheRegistry,
  TableConfigurationError,
} from '../../src/index.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  dynamoEndpoint,
  localClient,
  memoryLogger,
  uniqueTableName,
} from '../support/dynamo.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { pastThisMillisecond, seenWithin, sleep } from '../support/seen-within.js';

const POLL = 100;
// Generous, so that a busy machine's slow stream read does not degrade the backplane (which clears
// memory) in the middle of a test about what memory keeps; the degradation test sets its own.
const MAX_LAG = 10_000;
const apps: INestApplication[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));
// For the TTL test: the shared DynamoDB Local holds every other test file's tables, and its TTL
// sweep was seen to take longer than a minute to reach this one.
const ownDynamo = useOwnDynamoDbLocal();

async function instance(tableName: string, options: Partial<DynamoCacheModuleOptions> = {}) {
  const logger = memoryLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({
        tableName,
        client: localClient(),
        createTableIfNotExists: true,
        logger,
        backplane: { type: 'streams', pollInterval: POLL, maxLag: MAX_LAG },
        ...options,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  const started = await app.init().then(
    () => undefined,
    (error: unknown) => error,
  );
  return { app, logger, started, cache: started ? (undefined as never) : app.get<DynamoCache>(CACHE) };
}

describe('the streams backplane: two Nest apps on one table, both with memory tiers', () => {
  const tableName = uniqueTableName('bp_streams');

  it('makes a value set, refreshed or deleted on one app seen by the other within the bound', async () => {
    const a = await instance(tableName);
    const b = await instance(tableName);
    // A 100 ms interval is this file's, for speed: on AWS it would exceed the stream's read limit, which start-up says.
    expect(a.logger.warnings.join('\n')).toMatch(/make 10 GetRecords per second per shard, where DynamoDB Streams allows about 5/);
    const invalidated: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));

    await a.cache.set('price', 10, 60_000);
    expect(await b.cache.get('price')).toBe(10); // now in B's memory, for up to memoryTtl (300 s)
    await a.cache.set('price', 11, 60_000);
    expect(await seenWithin(() => b.cache.get('price'), 11, MAX_LAG)).toBeLessThan(MAX_LAG);

    await a.cache.set('session-like', 's', { slidingExpiration: 60_000 });
    expect(await b.cache.get('session-like')).toBe('s');
    invalidated.length = 0;
    await a.cache.refresh('session-like');
    await seenWithin(async () => invalidated.includes('session-like'), true, MAX_LAG);

    await a.cache.del('price');
    expect(await seenWithin(() => b.cache.get('price'), undefined, MAX_LAG)).toBeLessThan(MAX_LAG);

    const longKey = `report:${'x'.repeat(3_000)}`;
    await a.cache.set(longKey, 'v1');
    expect(await b.cache.get(longKey)).toBe('v1');
    await a.cache.set(longKey, 'v2');
    await seenWithin(() => b.cache.get(longKey), 'v2', MAX_LAG);

    const stats = b.app.get(DynamoCacheRegistry).backplane!.stats();
    expect(stats).toMatchObject({ type: 'streams', state: 'healthy' });
    expect(stats.lagMs).toBeLessThan(MAX_LAG);
    expect(stats.invalidations).toBeGreaterThan(0);
  });

  it('does not keep in memory a value whose read was in flight when another app changed it', async () => {
    const slowClient = localClient();
    let holdReads = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    // A read that has its answer and is slow to hand it on: DynamoDB Local answers at once, so a
    // middleware holds the answer (until the change's news has arrived), as a loaded event loop
    // or a slow socket would.
    slowClient.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (holdReads && context.commandName === 'GetItemCommand') {
          reached();
          await released;
        }
        return result;
      },
      { step: 'initialize', name: 'holdReads' },
    );
    const a = await instance(tableName);
    const b = await instance(tableName, { client: slowClient });
    const invalidated: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));
    await a.cache.set('race', 1);
    await seenWithin(async () => invalidated.includes('race'), true, MAX_LAG); // the first write's own record
    invalidated.length = 0;

    holdReads = true;
    const inFlight = b.cache.get('race');
    await held; // the read has its answer, and is held
    await a.cache.set('race', 2);
    await seenWithin(async () => invalidated.includes('race'), true, MAX_LAG);
    holdReads = false;
    release();
    expect(await inFlight).toBe(1); // fetched before the change: that caller gets it
    // Kept in memory, it would be served for memoryTtl (300 s); it was not kept.
    expect(await b.cache.get('race')).toBe(2);
  });

  it('serves its own writes from memory until the stream brings them back, then reads them once', async () => {
    const a = await instance(tableName);
    const hits: string[] = [];
    a.cache.on('cache:hit', (event: CacheEvent) => hits.push(`${event.tier}:${event.key}`));
    await a.cache.set('own', 1);
    await a.cache.get('own');
    expect(hits).toEqual(['memory:own']);
  });

  it('sees a TTL deletion, which DynamoDB Local reports under an event name the SDK does not know', async () => {
    const { client } = await ownDynamo.start();
    const a = await instance(tableName, { client });
    const b = await instance(tableName, { client });
    const invalidated: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));
    await a.cache.set('short-lived', 'x', 1_000);
    await seenWithin(async () => invalidated.includes('short-lived'), true, MAX_LAG); // the write's own record
    invalidated.length = 0;
    const written = Date.now();
    // DynamoDB Local sweeps expired items every few seconds (about 10 s here); the deletion's record
    // reaches B like any other.
    await seenWithin(async () => invalidated.includes('short-lived'), true, 60_000);
    expect(Date.now() - written).toBeGreaterThan(500);
    // It starts a DynamoDB Local of its own, which a busy machine is slow to bring up.
  }, 120_000);

  it('falls back to memory.maxTtl when it cannot read the stream, and recovers on its own', async () => {
    const streams = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    let failing = false;
    // DynamoDB Local's stream does not fail on demand: a middleware fails GetRecords while `failing`.
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        if (failing && context.commandName === 'GetRecordsCommand')
          throw Object.assign(new Error('stream unavailable'), { name: 'InternalServerError' });
        return next(args);
      },
      { step: 'initialize', name: 'failStream' },
    );
    // Degradation is the subject: a short maxLag brings it soon. memory.maxTtl is long enough that the
    // second read below comes within it however slow the first, and is waited out after.
    const degradeAfter = 1_500;
    const memoryMaxTtl = 3_000;
    // A table of its own, so that this app is its stream's reader (not a follower of another test's app).
    const b = await instance(uniqueTableName('bp_degrade'), {
      backplane: { type: 'streams', pollInterval: POLL, maxLag: degradeAfter, client: streams },
      memory: { maxTtl: memoryMaxTtl },
    });
    const registry = b.app.get(DynamoCacheRegistry);
    await b.cache.set('k', 1);
    failing = true;
    await seenWithin(async () => registry.backplane!.stats().state, 'degraded', 30_000);
    await pastThisMillisecond(); // of the clear that came with it
    expect(b.logger.warnings.join('\n')).toMatch(/has not read for \d+ ms \(maxLag 1500 ms\): memory was cleared/);
    // Degraded, memory keeps what it reads for memory.maxTtl only.
    const reads: string[] = [];
    b.cache.on('cache:hit', (event: CacheEvent) => reads.push(event.tier!));
    await b.cache.get('k');
    await b.cache.get('k');
    await sleep(memoryMaxTtl + 100);
    await b.cache.get('k');
    expect(reads).toEqual(['dynamodb', 'memory', 'dynamodb']);
    failing = false;
    await seenWithin(async () => registry.backplane!.stats().state, 'healthy', 30_000);
    expect(b.logger.warnings.join('\n')).toMatch(/caught up: memory serves for up to 300000 ms again/);
    streams.destroy();
  });
});

describe('a table without a stream', () => {
  it('fails start-up, naming the table and what to do, or with missingStream: warn starts without the backplane', async () => {
    const tableName = uniqueTableName('bp_nostream');
    const admin = localClient({}, 'admin');
    await createTable(admin, tableName, { ttlAttributeName: 'ttl' });
    admin.destroy();
    const failing = await instance(tableName);
    expect(failing.started).toBeInstanceOf(TableConfigurationError);
    expect((failing.started as Error).message).toMatch(new RegExp(`"${tableName}": has no DynamoDB Stream.*missingStream: 'warn'`));
    const warned = await instance(tableName, { backplane: { type: 'streams', missingStream: 'warn' } });
    expect(warned.started).toBeUndefined();
    expect(warned.logger.warnings.join('\n')).toMatch(/Running without the backplane/);
    expect(warned.app.get(DynamoCacheRegistry).backplane).toBeUndefined();
  });
});

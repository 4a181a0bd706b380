import { Controller, Delete, Get, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  CACHE,
  CacheEvict,
  Cacheable,
  CacheStartupError,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  DynamoCacheRegistry,
} from '../../src/index.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  dynamoEndpoint,
  localClient,
  memoryLogger,
  uniqueTableName,
  useCacheTable,
  cacheTableAttributes,
} from '../support/dynamo.js';
import { PERMISSIONS, type Policy, enforcePolicy } from '../support/iam-policy.js';
import { caughtUpAfter } from '../support/seen-within.js';
import { cacheModule } from '../support/builders.js';

const { tableName } = useCacheTable('iam');

@Controller('catalog')
class CatalogController {
  @Get(':id')
  @Cacheable({ ttl: 60_000 })
  item(@Param('id') id: string) {
    return { id };
  }

  @Delete(':id')
  @CacheEvict({ keys: (req: { params: { id: string } }) => [`GET /catalog/${req.params.id}`] })
  remove() {
    return { removed: true };
  }
}

const promisified = <T>(call: (callback: (error: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));

/** Boots the module on a client that only the given policy lets through, and uses every feature of that mode. */
async function runUnder(policy: Policy, options: Partial<DynamoCacheModuleOptions>) {
  const client = localClient({}, 'admin');
  const denied = enforcePolicy(client, policy);
  const moduleRef = await Test.createTestingModule({
    imports: [DynamoCacheModule.forRoot({ tableName, client, throwOnErrors: true, logger: memoryLogger(), session: {}, ...options })],
    controllers: [CatalogController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const started = await app.init().then(
    () => undefined,
    (error: unknown) => error,
  );
  return { app, client, denied, started, cache: started ? undefined : app.get<DynamoCache>(CACHE) };
}

async function useEveryFeature(cache: DynamoCache, app: Awaited<ReturnType<typeof runUnder>>['app']) {
  await cache.set('a', 1, 60_000);
  expect(await cache.get('a')).toBe(1);
  await cache.mset([
    { key: 'b', value: 2 },
    { key: 'c', value: 3 },
  ]);
  expect(await cache.mget(['a', 'b', 'c'])).toEqual([1, 2, 3]);
  await cache.set('slide', 's', { slidingExpiration: 60_000 });
  expect(await cache.refresh('slide')).toBe(true);
  expect(await cache.getOrSet('locked', async () => 'computed', { distributedLock: true, ttl: 60_000 })).toBe('computed');
  const large = randomBytes(600 * 1024);
  await cache.set('large', large, 60_000);
  expect(Buffer.compare((await cache.get<Buffer>('large'))!, large)).toBe(0);
  expect(await cache.del('a')).toBe(true);
  await cache.mdel(['b', 'c']);
  const http = request(app.getHttpServer());
  await http.get('/catalog/7').expect(200);
  expect((await request(app.getHttpServer()).get('/catalog/7')).headers['x-cache']).toBe('HIT');
  await request(app.getHttpServer()).delete('/catalog/7').expect(200);
  expect((await request(app.getHttpServer()).get('/catalog/7')).headers['x-cache']).toBe('MISS');
  const sessions = app.get(DynamoSessionStore);
  await promisified((done) => sessions.set('sid-1', { cookie: {}, user: 'ada' } as never, done));
  expect(await promisified((done) => sessions.get('sid-1', done))).toMatchObject({ user: 'ada' });
  await promisified((done) => sessions.touch('sid-1', { cookie: {} } as never, done));
  await promisified((done) => sessions.destroy('sid-1', done));
}

describe('least privilege: the documented permissions are enough, mode by mode', () => {
  it("production, confined to the cache prefix by dynamodb:LeadingKeys: everything works, clear() too; only the store's physical clear needs Scan", async () => {
    const policy = { actions: PERMISSIONS.production, leadingKeys: { attribute: 'pk', prefixes: ['iam1:'] } };
    const { app, client, denied, started, cache } = await runUnder(policy, { ...cacheTableAttributes, partitionKeyPrefix: 'iam1:' });
    expect(started).toBeUndefined();
    await useEveryFeature(cache!, app);
    expect(denied).toEqual([]);
    // clear() writes the cache's cleared-at item, under its prefix; the store's own clear() (keyv's,
    // which deletes) scans the whole table, which LeadingKeys cannot confine.
    await cache!.set('x', 1);
    expect(await cache!.clear()).toBe(true);
    expect(await cache!.get('x')).toBeUndefined();
    expect(denied).toEqual([]);
    await expect(cache!.store.clear()).rejects.toThrow(/not authorized to perform: dynamodb:Scan/);
    await app.close();
    client.destroy();
  });

  it('production with Scan: clear() works as well', async () => {
    const { app, client, denied, started, cache } = await runUnder(
      { actions: PERMISSIONS.productionWithScan },
      { ...cacheTableAttributes, partitionKeyPrefix: 'iam2:' },
    );
    expect(started).toBeUndefined();
    await useEveryFeature(cache!, app);
    await cache!.set('x', 1);
    await cache!.store.clear();
    expect(await cache!.stores[0]!.get('x')).toBeUndefined();
    expect(denied).toEqual([]);
    await app.close();
    client.destroy();
  });

  it('names left to discover: DescribeTable and DescribeTimeToLive as well, and nothing more', async () => {
    const { app, client, denied, started, cache } = await runUnder({ actions: PERMISSIONS.discovery }, { partitionKeyPrefix: 'iam3:' });
    expect(started).toBeUndefined();
    await useEveryFeature(cache!, app);
    expect(denied).toEqual([]);
    await app.close();
    client.destroy();
  });

  it('createTableIfNotExists: CreateTable and UpdateTimeToLive as well, and nothing more', async () => {
    const fresh = uniqueTableName('iamcreate');
    const client = localClient({}, 'admin');
    const denied = enforcePolicy(client, { actions: PERMISSIONS.create });
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({
          tableName: fresh,
          client,
          createTableIfNotExists: true,
          throwOnErrors: true,
          logger: memoryLogger(),
          session: {},
        }),
      ],
      controllers: [CatalogController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await useEveryFeature(app.get(CACHE), app);
    expect(denied).toEqual([]);
    await app.close();
    client.destroy();
  });

  it('production with the streams backplane: the stream actions on the streams client, and nothing more', async () => {
    const streamTable = uniqueTableName('iamstream');
    const admin = localClient({}, 'admin');
    await createTable(admin, streamTable, { ttlAttributeName: 'ttl', stream: true });
    admin.destroy();
    const client = localClient({}, 'admin');
    const denied = enforcePolicy(client, { actions: PERMISSIONS.production });
    const streams = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const deniedOnStream = enforcePolicy(streams as unknown as DynamoDBClient, { actions: PERMISSIONS.streams });
    const moduleRef = await Test.createTestingModule({
      imports: [
        cacheModule(
          { tableName: streamTable, client },
          { throwOnErrors: true, session: {}, backplane: { type: 'streams', client: streams, pollInterval: 100 } },
        ),
      ],
      controllers: [CatalogController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await useEveryFeature(app.get(CACHE), app);
    // Stream reads of what those features wrote, all under the policy.
    await caughtUpAfter(app.get(DynamoCacheRegistry).backplane!, Date.now(), 10_000);
    expect(app.get(DynamoCacheRegistry).backplane!.stats().state).toBe('healthy');
    expect([...denied, ...deniedOnStream]).toEqual([]);
    await app.close();
    client.destroy();
    streams.destroy();
  });

  it('the guard bites: the production policy without the names fails start-up on DescribeTable', async () => {
    const { client, denied, started } = await runUnder({ actions: PERMISSIONS.production }, { partitionKeyPrefix: 'iam4:' });
    expect(started).toBeInstanceOf(CacheStartupError);
    expect((started as Error).message).toMatch(/not authorized to perform: dynamodb:DescribeTable/);
    expect(denied).toEqual(['DescribeTable']);
    client.destroy();
  });

  it("docs/table-and-iam.md lists each mode's actions", async () => {
    const readme = await readFile(new URL('../../docs/table-and-iam.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## IAM permissions'), readme.indexOf('## As code'));
    for (const action of [...PERMISSIONS.create, ...PERMISSIONS.streams]) expect(section).toContain(`dynamodb:${action}`);
    expect(section).toMatch(/"dynamodb:LeadingKeys": \["dc:\*"\]/);
  });
});

import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CACHE, type CacheEvent, DynamoCache, DynamoCacheModule, DynamoCacheRegistry, TableConfigurationError } from '../../src/index.js';
import { DynamoSessionStore, type SessionData } from '../../src/entries/session.js';
import { DynamoStore } from '../../src/entries/store.js';
import { createTable, localClient, memoryLogger, recordCommands, useTableNames, cacheTableAttributes } from '../support/dynamo.js';
import { pastThisMillisecond, seenWithin } from '../support/seen-within.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cookie } from '../session/session-support.js';
import { useNestApps } from '../support/nest-apps.js';

type Item = Record<string, AttributeValue>;

const admin = localClient({}, 'admin');
const client = localClient();
const table = useTableNames();
afterAll(() => {
  client.destroy();
  admin.destroy();
});
const clock = useStoppedClock();
// Registered after the tables' clean-up, so that its apps are closed before the tables go.
const apps = useNestApps();

/** A single-table design's table: PK and SK, both strings, TTL on `ttl`. */
const sharedTable = table('sk_shared');
const tableReady = createTable(admin, sharedTable, { partitionKeyName: 'PK', sortKeyName: 'SK', ttlAttributeName: 'ttl' });
const names = { partitionKeyName: 'PK', ttlAttributeName: 'ttl', sortKeyName: 'SK' };

const json = (value: unknown): AttributeValue => ({ B: new Uint8Array(Buffer.from(JSON.stringify(value))) });
const OTHER = 'ORDER#2024-11-23';

/**
 * Items the cache must never read, change, count or delete. Under its own partition keys with
 * another sort key value (shaped as cache items, so that reading one would return "foreign"), and
 * the app's own items, one of them holding the cache's sort key value under another partition key.
 */
function foreignItems(prefix: string): Item[] {
  return [
    { PK: { S: `${prefix}shared` }, SK: { S: OTHER }, v: json('foreign') },
    { PK: { S: `${prefix}only-foreign` }, SK: { S: OTHER }, v: json('foreign') },
    { PK: { S: `${prefix}#version` }, SK: { S: OTHER }, bpv: { N: '41' } },
    { PK: { S: `${prefix}#lock:job` }, SK: { S: OTHER }, own: { S: 'another app' }, exp: { N: String(Date.now() + 3_600_000) } },
    { PK: { S: `USER#${prefix}` }, SK: { S: 'PROFILE' }, name: { S: 'Ada' } },
    { PK: { S: `USER#${prefix}` }, SK: { S: 'dc' }, name: { S: "the cache's sort key value, outside its prefix" } },
  ];
}

async function seed(tableName: string, items: readonly Item[]): Promise<void> {
  for (const Item of items) await admin.send(new PutItemCommand({ TableName: tableName, Item }));
}

/** Every seeded item is still there, attribute for attribute. */
async function expectUntouched(tableName: string, items: readonly Item[], partitionKeyName = 'PK'): Promise<void> {
  for (const item of items) {
    const key = { [partitionKeyName]: item[partitionKeyName]!, SK: item.SK! };
    const found = (await admin.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    expect(found, `${item[partitionKeyName]!.S} / ${item.SK!.S}`).toEqual(item);
  }
}

/** The partition keys of the items under `prefix` whose sort key holds `sortKeyValue`, read raw. */
async function rawKeys(tableName: string, prefix: string, sortKeyValue: string): Promise<string[]> {
  const keys: string[] = [];
  let startKey: Item | undefined;
  do {
    const page = await admin.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) if (item.PK!.S!.startsWith(prefix) && item.SK!.S === sortKeyValue) keys.push(item.PK!.S!);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return keys.sort();
}

async function allKeys(store: DynamoStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of store.keys()) keys.push(...page);
  return keys.sort();
}

function storeUnder(prefix: string) {
  const logger = memoryLogger();
  return { logger, store: new DynamoStore({ tableName: sharedTable, client, ...names, partitionKeyPrefix: prefix, logger }) };
}

describe('a table of a single-table design: the cache keeps to the items whose sort key holds its value', () => {
  it('reads, writes and deletes its own items only, beside items that share their partition keys', async () => {
    await tableReady;
    const prefix = 'sk1:';
    const foreign = foreignItems(prefix);
    await seed(sharedTable, foreign);
    const { store, logger } = storeUnder(prefix);

    expect(await store.get('only-foreign')).toBeUndefined();
    expect(await store.has('shared')).toBe(false);
    await store.set('shared', 'ours');
    await store.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(await store.get('shared')).toBe('ours');
    expect(await store.getMany(['shared', 'only-foreign', 'a', 'b'])).toEqual(['ours', undefined, 1, 2]);
    expect(await rawKeys(sharedTable, prefix, 'dc')).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}shared`]);

    expect(await store.delete('only-foreign')).toBe(false);
    expect(await store.deleteMany(['only-foreign', 'a'])).toBe(false); // 'a' was there, 'only-foreign' is not the cache's
    await store.deleteKeys(['only-foreign', 'b']);
    expect(await store.delete('shared')).toBe(true);
    expect(await store.getMany(['shared', 'a', 'b'])).toEqual([undefined, undefined, undefined]);
    expect(await rawKeys(sharedTable, prefix, 'dc')).toEqual([]);
    await expectUntouched(sharedTable, foreign);
    expect(logger.warnings).toEqual([]);
  });

  it('lists, iterates, counts and clears its own items only, chunks included', async () => {
    const prefix = 'sk2:';
    const foreign = foreignItems(prefix);
    await seed(sharedTable, foreign);
    const { store } = storeUnder(prefix);
    // Base64 of random bytes: compression cannot bring it under DynamoDB's 400 KB item limit.
    const big = randomBytes(600_000).toString('base64');
    await store.set('shared', 1);
    await store.set('mine', 2);
    await store.set('big', big, 60_000);
    // The chunks of a value past 400 KB are items of the cache's too: its sort key value, its prefix.
    expect((await rawKeys(sharedTable, prefix, 'dc')).filter((key) => key.includes('#chunk:')).length).toBeGreaterThan(0);

    expect(await allKeys(store)).toEqual(['big', 'mine', 'shared']);
    const iterated = new Map<string, unknown>();
    for await (const [key, value] of store.iterator()) iterated.set(key, value);
    expect(iterated).toEqual(
      new Map<string, unknown>([
        ['shared', 1],
        ['mine', 2],
        ['big', big],
      ]),
    );

    await store.clear();
    expect(await allKeys(store)).toEqual([]);
    expect(await rawKeys(sharedTable, prefix, 'dc')).toEqual([]);
    await expectUntouched(sharedTable, foreign);
  });

  it('renews sliding entries, takes leases and bumps its version item, none of them the same-keyed foreign items', async () => {
    const prefix = 'sk3:';
    const foreign = foreignItems(prefix);
    await seed(sharedTable, foreign);
    const { store } = storeUnder(prefix);

    clock.stop();
    await store.set('shared', 's', { slidingExpiration: 1_000 });
    const written = (await store.getEntry('shared'))!.expiresAt!;
    clock.advance(400);
    expect((await store.getEntry('shared'))!.expiresAt).toBe(written + 400);
    clock.advance(400);
    expect(await store.refresh('shared')).toBe(true);
    expect((await store.getEntry('shared'))!.expiresAt).toBe(written + 800);
    expect(await store.refresh('only-foreign')).toBe(false);

    // The other app's lease on "job" holds for an hour; the cache's lease is an item of its own.
    expect(await store.acquireLease('job', 'me', 60_000)).toBe(true);
    expect(await store.acquireLease('job', 'someone else', 60_000)).toBe(false);
    await store.releaseLease('job', 'me');
    expect(await store.acquireLease('job', 'someone else', 60_000)).toBe(true);

    expect(await store.readVersion()).toBe(0); // not the foreign item's 41
    expect(await store.bumpVersion()).toBe(1);
    expect(await store.readVersion()).toBe(1);
    await expectUntouched(sharedTable, foreign);
  });

  it('keeps sessions in the items of its sort key value only: foreign ones are neither read, listed, counted nor cleared', async () => {
    const prefix = 'sk4:';
    const foreignSession = (views: number) => json({ cookie: cookie(60_000), views });
    const foreign = [
      ...foreignItems(prefix),
      { PK: { S: `${prefix}sid-foreign` }, SK: { S: OTHER }, v: foreignSession(9) },
      { PK: { S: `${prefix}sid-1` }, SK: { S: OTHER }, v: foreignSession(99) },
    ];
    await seed(sharedTable, foreign);
    const cache = new DynamoCache(
      new DynamoStore({ tableName: sharedTable, client, ...names, partitionKeyPrefix: prefix, logger: memoryLogger() }),
      { memory: false },
    );
    const store = new DynamoSessionStore({ cache });
    const sessions = {
      get: promisify(store.get.bind(store)) as (sid: string) => Promise<SessionData | null>,
      set: promisify(store.set.bind(store)) as (sid: string, session: SessionData) => Promise<void>,
      all: promisify(store.all.bind(store)) as () => Promise<Record<string, SessionData>>,
      length: promisify(store.length.bind(store)) as () => Promise<number>,
      clear: promisify(store.clear.bind(store)) as () => Promise<void>,
    };
    expect(await sessions.get('sid-foreign')).toBeNull();
    expect(await sessions.get('sid-1')).toBeNull();
    await sessions.set('sid-1', { cookie: cookie(60_000), views: 1 });
    expect((await sessions.get('sid-1'))?.views).toBe(1);
    expect(Object.keys(await sessions.all())).toEqual(['sid-1']);
    expect(await sessions.length()).toBe(1);
    await sessions.clear();
    expect(await sessions.length()).toBe(0);
    await expectUntouched(sharedTable, foreign);
  });
});

describe('two app instances with the default module (memory tier on) and the streams backplane, on a sort-key table', () => {
  const POLL = 100;
  const MAX_LAG = 10_000;
  const tableName = table('sk_streams');

  async function instance() {
    const app = await apps.start({
      imports: [
        DynamoCacheModule.forRoot({
          tableName,
          client: localClient(),
          createTableIfNotExists: true,
          sortKeyName: 'SK',
          sortKeyValue: 'CACHE#v1',
          logger: memoryLogger(),
          backplane: { type: 'streams', pollInterval: POLL, maxLag: MAX_LAG },
        }),
      ],
    });
    const invalidated: string[] = [];
    const cache = app.get<DynamoCache>(CACHE);
    cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));
    return { app, cache, invalidated };
  }

  it("invalidates the other instance's memory on the cache's changes, and never on a foreign item's under the same key", async () => {
    const a = await instance();
    const b = await instance();
    const description = (await admin.send(new DescribeTableCommand({ TableName: tableName }))).Table!;
    expect(description.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    const prefix = 'dc:default:';
    const foreign: Item[] = [{ pk: { S: `${prefix}only-foreign` }, SK: { S: OTHER }, v: json('foreign') }];
    await seed(tableName, foreign);
    expect(await b.cache.get('only-foreign')).toBeUndefined();

    await a.cache.set('price', 10, 60_000);
    await a.cache.set('sentinel', 1, 60_000);
    // B is told of both writes (in the stream's order), then holds both values in memory.
    await seenWithin(async () => b.invalidated.includes('sentinel'), true, MAX_LAG);
    await pastThisMillisecond();
    expect(await b.cache.get('price')).toBe(10);
    expect(await b.cache.get('sentinel')).toBe(1);
    b.invalidated.length = 0;

    // An item of the app's own design changes under the cached key's partition key, then the
    // cache's sentinel does: once B has the sentinel's news, it has read the foreign record before it.
    const changedForeign: Item = { pk: { S: `${prefix}price` }, SK: { S: OTHER }, v: json(99) };
    await seed(tableName, [changedForeign]);
    await a.cache.set('sentinel', 2, 60_000);
    await seenWithin(() => b.cache.get('sentinel'), 2, MAX_LAG);
    expect(b.invalidated).toEqual(['sentinel']);
    const hits: string[] = [];
    b.cache.on('cache:hit', (event: CacheEvent) => hits.push(`${event.tier}:${event.key}`));
    expect(await b.cache.get('price')).toBe(10);
    expect(hits).toEqual(['memory:price']);

    await a.cache.set('price', 11, 60_000);
    await seenWithin(() => b.cache.get('price'), 11, MAX_LAG);
    await a.cache.mset([
      { key: 'x', value: 'x1' },
      { key: 'y', value: 'y1' },
    ]);
    expect(await b.cache.mget(['x', 'y', 'only-foreign'])).toEqual(['x1', 'y1', undefined]);
    await a.cache.mdel(['x', 'y']);
    await seenWithin(async () => (await b.cache.mget(['x', 'y'])).every((value) => value === undefined), true, MAX_LAG);
    await a.cache.del('price');
    await seenWithin(() => b.cache.get('price'), undefined, MAX_LAG);
    await a.cache.clear();
    await seenWithin(() => b.cache.get('sentinel'), undefined, MAX_LAG);

    await expectUntouched(tableName, [...foreign, changedForeign], 'pk');
    expect(b.app.get(DynamoCacheRegistry).backplane!.stats()).toMatchObject({ type: 'streams', state: 'healthy' });
  });
});

describe('start-up on a table with a sort key', () => {
  it('creates a missing table with the sort key, a string, as its range key', async () => {
    const tableName = table('sk_created');
    const store = new DynamoStore({ tableName, client, createTableIfNotExists: true, sortKeyName: 'SK', logger: memoryLogger() });
    expect(await store.initialize()).toEqual({ partitionKeyName: 'pk', ttlAttributeName: 'ttl', sortKey: { name: 'SK', value: 'dc' } });
    const description = (await admin.send(new DescribeTableCommand({ TableName: tableName }))).Table!;
    expect(description.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(description.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
      ]),
    );
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
  });

  it('discovers the partition key and TTL of a sort-key table, and with every name given makes no control-plane call', async () => {
    await tableReady;
    const discovered = new DynamoStore({ tableName: sharedTable, client, sortKeyName: 'SK', sortKeyValue: 'C' });
    expect(await discovered.initialize()).toEqual({ partitionKeyName: 'PK', ttlAttributeName: 'ttl', sortKey: { name: 'SK', value: 'C' } });
    const recording = localClient();
    const sent = recordCommands(recording);
    const named = new DynamoStore({ tableName: sharedTable, client: recording, ...names, partitionKeyPrefix: 'sk5:' });
    await named.set('k', 'v');
    expect(await named.get('k')).toBe('v');
    expect(sent).toEqual(['PutItemCommand', 'GetItemCommand']);
    recording.destroy();
  });

  async function refusal(tableName: string, options: Partial<ConstructorParameters<typeof DynamoStore>[0]>): Promise<Error> {
    const error: unknown = await new DynamoStore({ tableName, client, logger: memoryLogger(), ...options }).initialize().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TableConfigurationError);
    expect((error as Error).message).toContain(`"${tableName}"`);
    return error as Error;
  }

  it('refuses a table whose key schema the options do not match, naming the table, the attribute and the option', async () => {
    await tableReady;
    expect((await refusal(sharedTable, {})).message).toMatch(
      /has a sort \(range\) key "SK", which the options do not name.*sortKeyName: 'SK'/,
    );
    expect((await refusal(sharedTable, { sortKeyName: 'sk' })).message).toMatch(
      /its sort key is "SK", but the option sortKeyName says "sk"/,
    );

    const plain = table('sk_plain');
    await createTable(admin, plain, { ...cacheTableAttributes });
    expect((await refusal(plain, { sortKeyName: 'SK' })).message).toMatch(/has no sort key, but the option sortKeyName says "SK"/);

    const numbered = table('sk_numbered');
    await admin.send(
      new CreateTableCommand({
        TableName: numbered,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'version', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'version', KeyType: 'RANGE' },
        ],
      }),
    );
    expect((await refusal(numbered, { sortKeyName: 'version' })).message).toMatch(
      /its sort key "version" \(the option sortKeyName\) is of type N.*needs a string \(S\) sort key/,
    );
  });
});

import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  type CacheEvent,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  DynamoCacheRegistry,
  InvalidOptionError,
} from '../../src/index.js';
import { DynamoStore, type DynamoStoreOptions } from '../../src/entries/store.js';
import { deleteTable, localClient, memoryLogger, recordCommands, uniqueTableName } from '../support/dynamo.js';
import { seenWithin } from '../support/seen-within.js';
import { useStoppedClock } from '../support/stopped-clock.js';

/**
 * A single-table design's app holds a DocumentClient and hands it to the cache. Its DynamoDBClient
 * is held to the widest documented policy; the DocumentClient shares that client's middleware, so
 * the policy, and the record of what was sent, cover every call the store makes through it.
 */
const inner = localClient();
const sent = recordCommands(inner);
const documents = DynamoDBDocumentClient.from(inner);
const tables: string[] = [];
const table = (purpose: string) => {
  const name = uniqueTableName(purpose);
  tables.push(name);
  return name;
};
const closing: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await Promise.all(closing.map((close) => close()));
  await Promise.all(tables.map((name) => deleteTable(name)));
  inner.destroy();
});
const clock = useStoppedClock();

async function allKeys(store: DynamoStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of store.keys()) keys.push(...page);
  return keys.sort();
}

describe('a DynamoDBDocumentClient (@aws-sdk/lib-dynamodb) given as client', () => {
  const tableName = table('doc_store');

  it('creates the table, checks its TTL and answers every store call through it', async () => {
    const logger = memoryLogger();
    const store = new DynamoStore({ tableName, client: documents, createTableIfNotExists: true, logger });
    expect(await store.initialize()).toEqual({ partitionKeyName: 'pk', ttlAttributeName: 'ttl' });
    sent.length = 0;
    expect(await new DynamoStore({ tableName, client: documents, logger }).initialize()).toEqual({
      partitionKeyName: 'pk',
      ttlAttributeName: 'ttl',
    });
    expect(sent).toEqual(['DescribeTableCommand', 'DescribeTimeToLiveCommand']);
    sent.length = 0;

    clock.stop();
    await store.set('a', { n: 1 }, 60_000);
    await store.setMany([
      { key: 'b', value: 2 },
      { key: 'when', value: new Date(0) },
    ]);
    expect(await store.get('a')).toEqual({ n: 1 });
    expect(await store.getMany(['a', 'b', 'when', 'missing'])).toEqual([{ n: 1 }, 2, new Date(0), undefined]);
    // Base64 of random bytes: past 400 KB however compressed, so stored as chunk items.
    const big = randomBytes(600_000).toString('base64');
    await store.set('big', big);
    expect(await store.get('big')).toBe(big);

    await store.set('sliding', 's', { slidingExpiration: 1_000 });
    const written = (await store.getEntry('sliding'))!.expiresAt!;
    clock.advance(400);
    expect((await store.getEntry('sliding'))!.expiresAt).toBe(written + 400);
    expect(await store.refresh('sliding')).toBe(true);

    expect(await store.acquireLease('job', 'me', 60_000)).toBe(true);
    expect(await store.acquireLease('job', 'someone else', 60_000)).toBe(false);
    await store.releaseLease('job', 'me');
    expect(await store.bumpVersion()).toBe(1);
    expect(await store.readVersion()).toBe(1);

    expect(await allKeys(store)).toEqual(['a', 'b', 'big', 'sliding', 'when']);
    const iterated: string[] = [];
    for await (const [key] of store.iterator()) iterated.push(key);
    expect(iterated.sort()).toEqual(['a', 'b', 'big', 'sliding', 'when']);
    // A conditional delete of a missing key fails as ConditionalCheckFailedException, which the store tells apart.
    expect(await store.delete('missing')).toBe(false);
    expect(await store.delete('a')).toBe(true);
    expect(await store.deleteMany(['b', 'missing'])).toBe(false);
    await store.deleteKeys(['when']);
    expect(await store.getMany(['a', 'b', 'when'])).toEqual([undefined, undefined, undefined]);
    await store.clear();
    expect(await allKeys(store)).toEqual([]);

    expect(new Set(sent)).toEqual(
      new Set([
        'PutItemCommand',
        'GetItemCommand',
        'UpdateItemCommand',
        'DeleteItemCommand',
        'BatchGetItemCommand',
        'BatchWriteItemCommand',
        'ScanCommand',
      ]),
    );
    expect(logger.warnings).toEqual([]);
  });

  it("leaves the application's DocumentClient open when the store disconnects", async () => {
    const store = new DynamoStore({ tableName, client: documents, logger: memoryLogger() });
    await store.set('k', 'v');
    await store.disconnect();
    await documents.send(new PutCommand({ TableName: tableName, Item: { pk: 'USER#1', name: 'Ada' } }));
    const { Item } = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: 'USER#1' }, ConsistentRead: true }));
    expect(Item).toEqual({ pk: 'USER#1', name: 'Ada' });
    // The cache's own item, as the app's DocumentClient reads it: the value's bytes, under the prefixed key.
    const cached = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: 'dc:k' }, ConsistentRead: true }));
    expect(Buffer.from(cached.Item!.v as Uint8Array).toString()).toBe('"v"');
  });

  it('is taken by the published option types as it is, where an object of no client shape does not compile', () => {
    const options: DynamoCacheModuleOptions = { tableName: 'app_cache', client: documents };
    // @ts-expect-error an object is no client
    const refused: DynamoStoreOptions = { tableName: 'app_cache', client: {} };
    expect([options.client, refused.client]).toEqual([documents, {}]);
  });

  it('is refused at construction when it is neither a DynamoDBClient nor a DocumentClient, naming the option', () => {
    const refusal = (client: unknown) => {
      try {
        new DynamoStore({ tableName: 'app_cache', client: client as DynamoStoreOptions['client'] });
        return expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option).toBe('client');
        return (error as Error).message;
      }
    };
    expect(refusal({})).toMatch(/option "client" must be a DynamoDBClient .* or a DynamoDBDocumentClient .*got an object \(Object\)/);
    const streams = new DynamoDBStreamsClient({ region: 'us-east-1' });
    expect(refusal(streams)).toMatch(/got a client of service "DynamoDB Streams"/);
    expect(() => DynamoCacheModule.forRoot({ tableName: 'app_cache', client: streams as never })).toThrow(InvalidOptionError);
    streams.destroy();
  });
});

describe('two Nest apps given DocumentClients, with the memory tier and the streams backplane', () => {
  const tableName = table('doc_streams');

  async function instance(client: DynamoDBDocumentClient) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DynamoCacheModule.forRoot({
          tableName,
          client,
          createTableIfNotExists: true,
          logger: memoryLogger(),
          backplane: { type: 'streams', pollInterval: 100, maxLag: 10_000 },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    let closed: Promise<void> | undefined;
    const close = () => (closed ??= app.close());
    closing.push(close);
    return { app, close, cache: app.get<DynamoCache>(CACHE) };
  }

  it("invalidates the other app's memory (its streams client built from the DocumentClient's config), and leaves both clients open at shutdown", async () => {
    const clientA = DynamoDBDocumentClient.from(localClient());
    const clientB = DynamoDBDocumentClient.from(localClient());
    const a = await instance(clientA);
    const b = await instance(clientB);
    const invalidated: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => invalidated.push(event.key!));

    await a.cache.set('price', 10, 60_000);
    expect(await b.cache.get('price')).toBe(10);
    await a.cache.set('price', 11, 60_000);
    await seenWithin(() => b.cache.get('price'), 11, 10_000);
    expect(invalidated).toContain('price');
    const roles = [a, b].map(({ app }) => app.get(DynamoCacheRegistry).backplane!.stats().role).sort();
    expect(roles).toEqual(['follower', 'reader']);

    await a.close();
    await b.close();
    for (const client of [clientA, clientB]) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { pk: 'dc:default:price' }, ConsistentRead: true }));
      expect(Item).toBeDefined();
    }
  });
});

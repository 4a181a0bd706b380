import { type AttributeValue, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  Cacheable,
  type DynamoCache,
  DynamoCacheModule,
  InvalidCacheKeyError,
  InvalidExpirationError,
  InvalidOptionError,
  SerializationError,
  TableConfigurationError,
  TtlFunctionError,
  ValueTooLargeError,
} from '../../src/index.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import { DynamoStore } from '../../src/entries/store.js';
import { createTable, localClient, memoryLogger, uniqueTableName, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

/**
 * Every bad input the table of docs/failures.md lists, one test each: what it gets (a typed error naming the
 * key, option or table, or a documented fallback with a warning), and what the table holds after
 * (nothing written, nothing changed). Its rows are checked against `input` and `outcome`.
 */
const { client, tableName } = useCacheTable('badinput');
const logger = memoryLogger();
let app: INestApplication;
let cache: DynamoCache;
let sessions: DynamoSessionStore;

@Controller('report')
class ReportController {
  @Get()
  @Cacheable({
    key: () => {
      throw new Error('no tenant on this request');
    },
  })
  report() {
    return { rows: 3 };
  }
}

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [DynamoCacheModule.forRoot({ tableName, client, ...cacheTableAttributes, memory: false, logger, session: {} })],
    controllers: [ReportController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  cache = app.get(CACHE);
  sessions = app.get(DynamoSessionStore);
});
afterAll(() => app?.close());

type Item = Record<string, AttributeValue>;

async function allItems(table = tableName): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const put = (item: Item) => client.send(new PutItemCommand({ TableName: tableName, Item: item }));
const rejects = (work: () => Promise<unknown>) =>
  work().then(
    () => undefined,
    (error: unknown) => error as Error,
  );
const throws = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  return undefined;
};
const circular = () => {
  const value: Record<string, unknown> = { id: 1 };
  value.self = value;
  return value;
};
const root = { tableName: 'app_cache', region: 'eu-west-1' };

interface BadInput {
  readonly input: string;
  readonly outcome: string;
  /** Asserts what the input gets. The table is compared before and after: bad input changes nothing but `writes`. */
  readonly check: () => Promise<void>;
  /** Partition keys the documented fallback writes (or leaves), when it writes any. */
  readonly writes?: readonly string[];
}

const CASES: BadInput[] = [
  {
    input: "key `''` (empty)",
    outcome: '`InvalidCacheKeyError` (a TypeError): "must not be empty"',
    check: async () =>
      expect(await rejects(() => cache.set('', 1))).toMatchObject({
        name: 'InvalidCacheKeyError',
        message: expect.stringMatching(/must not be empty/),
      }),
  },
  {
    input: 'key `42` (a number)',
    outcome: '`InvalidCacheKeyError`: "must be a string, got a number"',
    check: async () =>
      expect(await rejects(() => cache.set(42 as never, 1))).toMatchObject({
        message: expect.stringMatching(/must be a string, got a number/),
      }),
  },
  {
    input: 'key `null`',
    outcome: '`InvalidCacheKeyError`: "must be a string, got null"',
    check: async () => expect(await rejects(() => cache.get(null as never))).toBeInstanceOf(InvalidCacheKeyError),
  },
  {
    input: 'key with a lone UTF-16 surrogate (`"a\\uD800"`)',
    outcome: '`InvalidCacheKeyError`: "contains a lone UTF-16 surrogate" (it has no UTF-8 form and would collide)',
    check: async () =>
      expect(await rejects(() => cache.set('a\uD800', 1))).toMatchObject({ message: expect.stringMatching(/lone UTF-16 surrogate/) }),
  },
  {
    input: 'key of 3 KB',
    outcome: 'stored under `#sha256:<digest>` with the full key kept and compared on read; never truncated',
    writes: ['dc:default:#sha256:'],
    check: async () => {
      const key = 'k'.repeat(3 * 1024);
      await cache.set(key, 'long');
      expect(await cache.get(key)).toBe('long');
      expect(await cache.get(`${key.slice(0, -1)}j`)).toBeUndefined();
    },
  },
  {
    input: "key `#lock:orders` (spelled like the cache's own items)",
    outcome: 'stored in digest form: it cannot read, overwrite or delete a lease or chunk',
    writes: ['dc:default:#sha256:'],
    check: async () => {
      await cache.set('#lock:orders', 'mine');
      expect(await cache.get('#lock:orders')).toBe('mine');
      expect((await allItems()).some((item) => item.pk?.S === 'dc:default:#lock:orders')).toBe(false);
    },
  },
  {
    input: 'value `undefined`',
    outcome: '`SerializationError`: "the value is undefined … delete the key instead"',
    check: async () =>
      expect(await rejects(() => cache.set('u', undefined))).toMatchObject({
        name: 'SerializationError',
        message: expect.stringMatching(/undefined/),
      }),
  },
  {
    input: 'circular value',
    outcome: '`SerializationError` naming the key: "circular structure"',
    check: async () =>
      expect(await rejects(() => cache.set('loop', circular()))).toMatchObject({ message: expect.stringMatching(/"loop".*circular/i) }),
  },
  {
    input: 'value that is a function',
    outcome: '`SerializationError`: "the value is a function, which JSON cannot hold"',
    check: async () =>
      expect(await rejects(() => cache.set('fn', () => 1))).toMatchObject({ message: expect.stringMatching(/the value is a function/) }),
  },
  {
    input: 'value with a function property (`{ run() {} }`)',
    outcome: '`SerializationError` naming the property: "property \\"run\\" is a function"',
    check: async () =>
      expect(await rejects(() => cache.set('obj', { run() {} }))).toMatchObject({
        message: expect.stringMatching(/property "run" is a function/),
      }),
  },
  {
    input: 'value that is a Symbol',
    outcome: '`SerializationError`: "the value is a symbol"',
    check: async () => expect(await rejects(() => cache.set('sym', Symbol('s')))).toBeInstanceOf(SerializationError),
  },
  {
    input: 'value `12345678901234567890n` (BigInt)',
    outcome: 'stored as a tagged value and read back as the same BigInt',
    writes: ['dc:default:big'],
    check: async () => {
      await cache.set('big', 12345678901234567890n);
      expect(await cache.get('big')).toBe(12345678901234567890n);
    },
  },
  {
    input: 'value of 5 MiB',
    outcome: '`ValueTooLargeError` naming the key, its size and `maxValueBytes` (default 4 MiB)',
    check: async () => {
      const error = await rejects(() => cache.set('huge', 'x'.repeat(5 * 1024 * 1024)));
      expect(error).toBeInstanceOf(ValueTooLargeError);
      expect(error!.message).toMatch(/"huge".*5242882 bytes.*maxValueBytes \(4194304\)/);
    },
  },
  {
    input: 'ttl `NaN`',
    outcome: '`InvalidExpirationError` (a RangeError) naming the key',
    check: async () =>
      expect(await rejects(() => cache.set('t', 1, Number.NaN))).toMatchObject({
        name: 'InvalidExpirationError',
        message: expect.stringMatching(/"t"/),
      }),
  },
  {
    input: 'ttl `-5`',
    outcome: '`InvalidExpirationError`',
    check: async () => expect(await rejects(() => cache.set('t', 1, -5))).toBeInstanceOf(InvalidExpirationError),
  },
  {
    input: 'ttl `Infinity`',
    outcome: '`InvalidExpirationError` (0 means "never expires")',
    check: async () => expect(await rejects(() => cache.set('t', 1, Number.POSITIVE_INFINITY))).toBeInstanceOf(InvalidExpirationError),
  },
  {
    input: 'ttl `1e20`',
    outcome: '`InvalidExpirationError`: "reaches past the latest date JavaScript can hold"',
    check: async () =>
      expect(await rejects(() => cache.set('t', 1, 1e20))).toMatchObject({ message: expect.stringMatching(/latest date/) }),
  },
  {
    input: "ttl `'60s'` (a string)",
    outcome: '`InvalidExpirationError`',
    check: async () => expect(await rejects(() => cache.set('t', 1, '60s' as never))).toBeInstanceOf(InvalidExpirationError),
  },
  {
    input: 'absoluteExpiration in the past',
    outcome: '`InvalidExpirationError`: "is not in the future"',
    check: async () =>
      expect(await rejects(() => cache.set('t', 1, { absoluteExpiration: new Date(Date.now() - 1_000) }))).toMatchObject({
        message: expect.stringMatching(/is not in the future/),
      }),
  },
  {
    input: 'absoluteExpiration `new Date("nope")`',
    outcome: '`InvalidExpirationError`: "must be a valid Date or epoch ms"',
    check: async () =>
      expect(await rejects(() => cache.set('t', 1, { absoluteExpiration: new Date('nope') }))).toMatchObject({
        message: expect.stringMatching(/valid Date/),
      }),
  },
  {
    input: 'slidingExpiration `0`',
    outcome: '`InvalidExpirationError`: "must be more than 0 ms"',
    check: async () =>
      expect(await rejects(() => cache.set('t', 1, { slidingExpiration: 0 }))).toMatchObject({
        message: expect.stringMatching(/more than 0 ms/),
      }),
  },
  {
    input: '`mget` of a string instead of an array',
    outcome: '`InvalidCacheKeyError`: "mget expects an array of keys"',
    check: async () =>
      expect(await rejects(() => cache.mget('a,b' as never))).toMatchObject({
        name: 'InvalidCacheKeyError',
        message: expect.stringMatching(/mget expects an array of keys/),
      }),
  },
  {
    input: '`mset` with one bad entry among good ones',
    outcome: '`SerializationError`; none of the entries is written',
    check: async () =>
      expect(
        await rejects(() =>
          cache.mset([
            { key: 'ok-1', value: 1 },
            { key: 'bad', value: (() => 1) as never },
            { key: 'ok-2', value: 2 },
          ]),
        ),
      ).toBeInstanceOf(SerializationError),
  },
  {
    input: 'a getOrSet, wrap or getOrSetMany ttl function that throws',
    outcome: '`TtlFunctionError` naming the cache and the key (its `cause`: the error); for getOrSetMany, no key of the batch is stored',
    check: async () => {
      const boom = () => {
        throw new Error('no plan for this value');
      };
      expect(await rejects(() => cache.getOrSet('ttl-fn', () => 1, { ttl: boom }))).toMatchObject({
        name: 'TtlFunctionError',
        message: expect.stringMatching(/"ttl-fn"/),
      });
      const ttl = (value: number) => (value === 2 ? boom() : 60_000);
      const many = await rejects(() => cache.getOrSetMany(['many-1', 'many-2'], (keys) => keys.map((_, at) => at + 1), { ttl }));
      expect(many).toBeInstanceOf(TtlFunctionError);
      expect(many).toMatchObject({ message: expect.stringMatching(/"many-2"/) });
    },
  },
  {
    input: 'a getOrSetMany ttl function answering `NaN` for one value',
    outcome: '`InvalidExpirationError` naming the key; no key of the batch is stored',
    check: async () => {
      const ttl = (value: number) => (value === 2 ? Number.NaN : 60_000);
      expect(await rejects(() => cache.getOrSetMany(['nan-1', 'nan-2'], (keys) => keys.map((_, at) => at + 1), { ttl }))).toMatchObject({
        name: 'InvalidExpirationError',
        message: expect.stringMatching(/"nan-2"/),
      });
    },
  },
  {
    input: 'forRoot without `tableName`',
    outcome: '`InvalidOptionError` naming `tableName`, when the module is declared',
    check: async () =>
      expect(throws(() => DynamoCacheModule.forRoot({} as never))).toMatchObject({
        name: 'InvalidOptionError',
        message: expect.stringMatching(/"tableName"/),
      }),
  },
  {
    input: "forRoot `{ ttl: 'soon' }`",
    outcome: '`InvalidOptionError` naming `ttl` and the value given',
    check: async () =>
      expect(throws(() => DynamoCacheModule.forRoot({ ...root, ttl: 'soon' as never }))).toMatchObject({
        message: expect.stringMatching(/"ttl".*"soon"/),
      }),
  },
  {
    input: 'forRoot `{ memory: { maxEntries: -1 } }`',
    outcome: '`InvalidOptionError` naming `memory.maxEntries`',
    check: async () =>
      expect(throws(() => DynamoCacheModule.forRoot({ ...root, memory: { maxEntries: -1 } }))).toMatchObject({
        message: expect.stringMatching(/maxEntries/),
      }),
  },
  {
    input: 'forRoot `{ compression: { level: 99 } }`',
    outcome: '`InvalidOptionError` naming `compression.level` and its range',
    check: async () =>
      expect(throws(() => DynamoCacheModule.forRoot({ ...root, compression: { level: 99 } }))).toMatchObject({
        message: expect.stringMatching(/"compression\.level".*0 to 11/),
      }),
  },
  {
    input: 'forRoot `{ operationTimeout: 0 }`',
    outcome: '`InvalidOptionError` naming `operationTimeout`',
    check: async () => expect(throws(() => DynamoCacheModule.forRoot({ ...root, operationTimeout: 0 }))).toBeInstanceOf(InvalidOptionError),
  },
  {
    input: 'forRoot with both `client` and `endpoint`',
    outcome: '`InvalidOptionError`: configure the client instead',
    check: async () => {
      const own = localClient();
      expect(
        throws(() => DynamoCacheModule.forRoot({ tableName: 'app_cache', client: own, endpoint: 'http://localhost:8000' })),
      ).toMatchObject({ message: expect.stringMatching(/"client"/) });
      own.destroy();
    },
  },
  {
    input: 'a table with a sort key',
    outcome: '`TableConfigurationError` at start-up naming the table and the sort key',
    check: async () =>
      expect(await badTable({ sortKeyName: 'sk', ttlAttributeName: 'ttl' })).toMatchObject({
        message: expect.stringMatching(/sort \(range\) key "sk"/),
      }),
  },
  {
    input: 'a table whose partition key is a number',
    outcome: '`TableConfigurationError`: "a cache table needs a string (S) partition key"',
    check: async () =>
      expect(await badTable({ partitionKeyType: 'N', ttlAttributeName: 'ttl' })).toMatchObject({
        message: expect.stringMatching(/of type N/),
      }),
  },
  {
    input: 'a table with TTL on another attribute than `ttlAttributeName`',
    outcome: '`TableConfigurationError`: "TTL is enabled on attribute …"',
    check: async () =>
      expect(await badTable({ ttlAttributeName: 'expires_at' }, { ttlAttributeName: 'ttl' })).toMatchObject({
        message: expect.stringMatching(/TTL is enabled on attribute "expires_at"/),
      }),
  },
  {
    input: 'an item with no value attribute',
    outcome: 'a miss, a warning naming the item and table; the item is left as it is',
    writes: ['dc:default:no-value'],
    check: async () => expectForeign({ pk: { S: 'dc:default:no-value' } }, 'no-value', /"v" is missing or not binary/),
  },
  {
    input: 'an item whose value is a string, not bytes',
    outcome: 'a miss and a warning',
    writes: ['dc:default:text-value'],
    check: async () =>
      expectForeign({ pk: { S: 'dc:default:text-value' }, v: { S: '{"a":1}' } }, 'text-value', /"v" is missing or not binary/),
  },
  {
    input: 'an item whose value is not JSON',
    outcome: 'a miss and a warning: "its value does not parse"',
    writes: ['dc:default:corrupt'],
    check: async () => expectForeign({ pk: { S: 'dc:default:corrupt' }, v: { B: Buffer.from('{nope') } }, 'corrupt', /does not parse/),
  },
  {
    input: 'an item whose compressed value is corrupt',
    outcome: 'a miss and a warning: "its value does not inflate"',
    writes: ['dc:default:bad-brotli'],
    check: async () =>
      expectForeign(
        { pk: { S: 'dc:default:bad-brotli' }, v: { B: Buffer.from('not brotli') }, z: { N: '2' } },
        'bad-brotli',
        /does not inflate/,
      ),
  },
  {
    input: 'an item whose expiry is a string, not a number',
    outcome: 'a miss and a warning: "a number attribute is malformed"',
    writes: ['dc:default:bad-exp'],
    check: async () =>
      expectForeign({ pk: { S: 'dc:default:bad-exp' }, v: { B: Buffer.from('1') }, exp: { S: 'tomorrow' } }, 'bad-exp', /malformed/),
  },
  {
    input: 'a chunked value with a chunk missing',
    outcome: 'a miss and a warning: "its chunks are missing"',
    writes: ['dc:default:chunked'],
    check: async () =>
      expectForeign(
        { pk: { S: 'dc:default:chunked' }, ch: { N: '2' }, cb: { N: '10' }, cid: { S: 'AAAAAAAAAAAAAAAA' } },
        'chunked',
        /chunks are missing/,
      ),
  },
  {
    input: 'a session id of 10 KB',
    outcome: 'no session on read; a save fails naming the table; nothing written',
    check: async () => {
      const id = 's'.repeat(10 * 1024);
      const read = await new Promise<unknown>((resolve) => sessions.get(id, (_error, data) => resolve(data)));
      expect(read).toBeNull();
      const saved = await new Promise<Error | undefined>((resolve) =>
        sessions.set(id, { cookie: {} } as never, (error) => resolve(error as Error | undefined)),
      );
      expect(saved?.message).toMatch(new RegExp(`table "${tableName}"`));
    },
  },
  {
    input: 'a `@Cacheable` key function that throws',
    outcome: 'the handler answers (200, `X-Cache: BYPASS`); a warning names the route; nothing cached',
    check: async () => {
      const answer = await request(app.getHttpServer()).get('/report').expect(200);
      expect(answer.body).toEqual({ rows: 3 });
      expect(answer.headers['x-cache']).toBe('BYPASS');
      expect(logger.warnings.join('\n')).toMatch(/ReportController\.report/);
    },
  },
];

async function badTable(shape: Parameters<typeof createTable>[2], names: { ttlAttributeName?: string } = {}): Promise<Error | undefined> {
  const name = uniqueTableName('badshape');
  await createTable(client, name, shape);
  const error = await rejects(() => new DynamoStore({ tableName: name, client, logger: memoryLogger(), ...names }).initialize());
  expect(error).toBeInstanceOf(TableConfigurationError);
  expect(error!.message).toContain(`"${name}"`);
  expect(await allItems(name)).toEqual([]);
  return error;
}

async function expectForeign(item: Item, key: string, reason: RegExp): Promise<void> {
  await put(item);
  const before = logger.warnings.length;
  expect(await cache.get(key)).toBeUndefined();
  const warning = logger.warnings.slice(before).join('\n');
  expect(warning).toMatch(reason);
  expect(warning).toContain(`"${item.pk!.S}" in DynamoDB table "${tableName}"`);
}

const withoutWrites = (items: Item[], writes: readonly string[] = []) =>
  items
    .filter((item) => !writes.some((prefix) => item.pk!.S!.startsWith(prefix)))
    .map((item) => JSON.stringify(item))
    .sort();

describe('bad input: a clear error or a documented, logged fallback, and nothing written or corrupted', () => {
  it('covers at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((badInput) => [badInput.input, badInput] as const))('%s', async (_input, badInput) => {
    const before = await allItems();
    await badInput.check();
    const after = await allItems();
    expect(withoutWrites(after, badInput.writes)).toEqual(withoutWrites(before, badInput.writes));
  });

  it('is listed in docs/failures.md, one row per case', async () => {
    const readme = await readFile(new URL('../../docs/failures.md', import.meta.url), 'utf8');
    const missing = CASES.filter(({ input, outcome }) => !readme.includes(`| ${input} | ${outcome} |`));
    if (missing.length > 0 && process.env.PRINT_BAD_INPUT_ROWS)
      console.log(CASES.map(({ input, outcome }) => `| ${input} | ${outcome} |`).join('\n'));
    expect(missing.map(({ input }) => input)).toEqual([]);
  });
});

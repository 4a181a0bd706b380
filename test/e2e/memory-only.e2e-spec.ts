import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Get, Injectable, type INestApplication, Param, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CACHE,
  CACHE_MANAGER,
  CacheEvict,
  Cacheable,
  type DynamoCache,
  DynamoCacheModule,
  InjectCache,
  InvalidCacheKeyError,
  InvalidOptionError,
} from '../../src/index.js';
import { DynamoSessionStore } from '../../src/entries/session.js';
import { DynamoStore, MemoryStore } from '../../src/entries/store.js';
import { memoryLogger } from '../support/dynamo.js';

// Memory-only caches are for apps' own tests, which have no DynamoDB: every DynamoDB call any client
// of this process makes is counted, and none may be made. The endpoint given (a closed port) would
// fail start-up (startupCheck: 'fail') if the module tried to reach it.
const dynamoSend = vi.spyOn(DynamoDBClient.prototype, 'send');
const unreachable = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', startupCheck: 'fail' as const };

const runs: Record<string, number> = {};
const ran = (name: string) => (runs[name] = (runs[name] ?? 0) + 1);

@Controller('users')
class UsersController {
  @Get(':id')
  @Cacheable({ ttl: 60_000 })
  find(@Param('id') id: string) {
    return { id, run: ran(`user:${id}`) };
  }

  @Post(':id')
  @CacheEvict({ keys: (request: { params: { id: string } }) => [`GET /users/${request.params.id}`] })
  update(@Param('id') id: string) {
    return { id, updated: true };
  }
}

@Injectable()
class Prices {
  constructor(@InjectCache('prices') readonly cache: DynamoCache) {}
}

const logger = memoryLogger();
let app: INestApplication;
let cache: DynamoCache;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({ distributed: false, ...unreachable, logger }),
      DynamoCacheModule.forFeature({ name: 'prices', ttl: 30_000 }),
    ],
    controllers: [UsersController],
    providers: [Prices],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  cache = app.get(CACHE);
});
afterAll(async () => {
  await app?.close();
  // Every test of the file ran by now: none of them reached DynamoDB.
  expect(dynamoSend).not.toHaveBeenCalled();
  dynamoSend.mockRestore();
});

/** Polls until `condition` holds: the machine may be busy, so no fixed sleep stands in for it. */
async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a memory-only module (distributed: false), with the default memory tier', () => {
  it('needs no table and no DynamoDB: its caches keep entries in this process', async () => {
    expect(cache.store).toBeInstanceOf(MemoryStore);
    expect(app.get(CACHE_MANAGER)).toBe(cache);
    expect(app.get(DynamoStore)).toBe(cache.store);
    await cache.set('a', { n: 1 }, 60_000);
    await cache.mset<unknown>([
      { key: 'b', value: 2 },
      { key: 'c', value: [3] },
    ]);
    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(await cache.mget(['a', 'b', 'c', 'missing'])).toEqual([{ n: 1 }, 2, [3], undefined]);
    expect(await cache.ttl('a')).toBeGreaterThan(Date.now());
    expect(await cache.del('a')).toBe(true);
    expect(await cache.del('a')).toBe(false);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.stores[0]!.get('b')).toBe(2);
    expect(await cache.clear()).toBe(true);
    expect(await cache.mget(['b', 'c'])).toEqual([undefined, undefined]);
  });

  it('keeps each named cache apart, with its own defaults', async () => {
    const prices = app.get(Prices).cache;
    expect(prices.store).toBeInstanceOf(MemoryStore);
    await cache.set('same-key', 'default');
    await prices.set('same-key', 'prices');
    expect(await cache.get('same-key')).toBe('default');
    expect(await prices.get('same-key')).toBe('prices');
    const expiresAt = await prices.ttl('same-key');
    expect(expiresAt! - Date.now()).toBeLessThanOrEqual(30_000);
    await prices.clear();
    expect(await cache.get('same-key')).toBe('default');
  });

  it('invalidates by tag and clears, dropping what they retire from the store itself', async () => {
    await cache.set('tagged:1', 1, { tags: ['team:a'] });
    await cache.getOrSet('tagged:2', (context) => (context.addTags('team:a'), 2));
    await cache.set('tagged:3', 3, { tags: ['team:b'] });
    expect(await cache.deleteByTag('team:a')).toBe(true);
    expect(await cache.mget(['tagged:1', 'tagged:2', 'tagged:3'])).toEqual([undefined, undefined, 3]);
    const listed = async () => {
      const keys: string[] = [];
      for await (const page of cache.store.keys()) keys.push(...page);
      return keys.filter((key) => key.startsWith('tagged:'));
    };
    expect(await listed()).toEqual(['tagged:3']);
    await cache.set('tagged:4', 4, { tags: ['team:a'] });
    expect(await cache.get('tagged:4')).toBe(4);
    await cache.clear();
    expect(await listed()).toEqual([]);
  });

  it('refuses bad input with the same typed errors, and writes nothing', async () => {
    await expect(cache.set('', 1)).rejects.toThrow(InvalidCacheKeyError);
    await expect(cache.set('k', 1, -5)).rejects.toThrow(/ttl/);
    await expect(
      cache.mset([
        { key: 'fine', value: 1 },
        { key: 42 as unknown as string, value: 2 },
      ]),
    ).rejects.toThrow(InvalidCacheKeyError);
    expect(await cache.get('fine')).toBeUndefined();
    await expect(cache.set('fn', () => 1)).rejects.toThrow(/the value is a function, which JSON cannot hold. Nothing was written/);
  });

  it('hands every caller its own value: changing one changes nothing stored', async () => {
    const buffer = Buffer.from('original');
    await cache.set('bytes', buffer);
    buffer.write('changed!');
    expect((await cache.get<Buffer>('bytes'))!.toString()).toBe('original');
    await cache.set('doc', { list: [1] });
    const read = await cache.get<{ list: number[] }>('doc');
    expect(() => read!.list.push(2)).toThrow();
    expect(await cache.get('doc')).toEqual({ list: [1] });
  });

  it('runs a missing key’s factory once for many concurrent callers (stampede protection)', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const callers = Array.from({ length: 25 }, () =>
      cache.getOrSet('stampede', async () => {
        calls++;
        await gate;
        return 'built';
      }),
    );
    release();
    expect(await Promise.all(callers)).toEqual(Array(25).fill('built'));
    expect(calls).toBe(1);
    // The distributed lock works among this process's callers too.
    let lockedCalls = 0;
    const locked = await Promise.all(
      Array.from({ length: 5 }, () => cache.getOrSet('locked', async () => ++lockedCalls, { distributedLock: true })),
    );
    expect(locked).toEqual([1, 1, 1, 1, 1]);
  });

  it('serves the last value when the factory fails after expiry (fail-safe)', async () => {
    const options = { ttl: 100, failSafe: true, failSafeMaxDuration: 60_000, failSafeThrottleDuration: 50 };
    expect(await cache.getOrSet('fail-safe', async () => 'first', options)).toBe('first');
    await until(async () => (await cache.get('fail-safe')) === undefined);
    const served = await cache.getOrSet(
      'fail-safe',
      async () => {
        throw new Error('source down');
      },
      options,
    );
    expect(served).toBe('first');
    // Without fail-safe, the failure reaches the caller.
    await until(async () => (await cache.get('no-fail-safe')) === undefined);
    await expect(
      cache.getOrSet(
        'no-fail-safe',
        async () => {
          throw new Error('source down');
        },
        { ttl: 100 },
      ),
    ).rejects.toThrow('source down');
  });

  it('refreshes a hit in the background once past eagerRefreshThreshold, the caller not waiting', async () => {
    let version = 0;
    const factory = async () => ++version;
    const options = { ttl: 400, eagerRefreshThreshold: 0.25 };
    expect(await cache.getOrSet('eager', factory, options)).toBe(1);
    await until(async () => (await cache.getOrSet('eager', factory, options)) === 2);
    expect(version).toBe(2);
  });

  it('renews a sliding entry while it is read, through the memory tier, and lets it lapse once reads stop', async () => {
    await cache.set('sliding', 'kept', { slidingExpiration: 1_000 });
    const readUntil = Date.now() + 2_500;
    while (Date.now() < readUntil) {
      expect(await cache.get('sliding')).toBe('kept');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Any read renews it, so its lapse is awaited on the clock: past the expiry the last renewal set.
    const expiresAt = (await cache.ttl('sliding'))!;
    expect(expiresAt).toBeGreaterThan(readUntil);
    await until(() => Date.now() > expiresAt);
    expect(await cache.get('sliding')).toBeUndefined();
  });

  it('caches routes with @Cacheable and evicts them with @CacheEvict', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/users/7').expect(200);
    const second = await request(server).get('/users/7').expect(200);
    expect(second.body).toEqual(first.body);
    expect(runs['user:7']).toBe(1);
    await request(server).post('/users/7').expect(201);
    const third = await request(server).get('/users/7').expect(200);
    expect(third.body.run).toBe(2);
  });

  it('refuses sessions when asked for them: they need the table', async () => {
    const store = app.get(DynamoSessionStore);
    expect(() => store.get('a-session-id-of-sorts', () => undefined)).toThrow(InvalidOptionError);
    expect(() => store.get('a-session-id-of-sorts', () => undefined)).toThrow(/memory-only.*DynamoSessionStore needs the DynamoDB table/);
  });
});

describe('memory-only options', () => {
  it('refuses session: {} in a memory-only forRoot, naming the option', () => {
    expect(() => DynamoCacheModule.forRoot({ distributed: false, session: {} })).toThrow(InvalidOptionError);
    expect(() => DynamoCacheModule.forRoot({ distributed: false, session: {} })).toThrow(/"session" needs the DynamoDB table.*memory-only/);
  });

  it('refuses a named cache that asks for DynamoDB in a memory-only module', async () => {
    await expect(
      Test.createTestingModule({
        imports: [DynamoCacheModule.forRoot({ distributed: false }), DynamoCacheModule.forFeature({ name: 'remote', distributed: true })],
      }).compile(),
    ).rejects.toThrow(/"distributed" of cache "remote" is true, but the module is memory-only/);
  });

  it('refuses a distributed value that is not a boolean', () => {
    expect(() => DynamoCacheModule.forRoot({ tableName: 'app_cache', distributed: 'no' as unknown as false })).toThrow(
      /"distributed" must be true or false/,
    );
  });

  it('bounds the store by the memory options: the oldest entries go first', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ distributed: false, memory: { maxEntries: 3 } })],
    }).compile();
    const bounded = moduleRef.get<DynamoCache>(CACHE);
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) await bounded.set(key, key);
    const kept: string[] = [];
    for await (const page of bounded.store.keys()) kept.push(...page);
    expect(kept).toEqual(['k3', 'k4', 'k5']);
    await moduleRef.close();
  });

  it('warns that a backplane is ignored, since nothing is shared to keep coherent', async () => {
    const warned = memoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [DynamoCacheModule.forRoot({ distributed: false, backplane: { type: 'poll' }, logger: warned })],
    }).compile();
    await moduleRef.init();
    expect(warned.warnings.join('\n')).toMatch(/memory-only \(distributed: false\): the backplane option is ignored/);
    await moduleRef.close();
  });
});

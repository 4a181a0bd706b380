import { Controller, Get, type INestApplication, Param, Post } from '@nestjs/common';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  CACHE,
  CacheEvict,
  Cacheable,
  type CacheEvent,
  type DynamoCache,
  DynamoCacheModule,
  DynamoCacheRegistry,
  InvalidCacheKeyError,
  InvalidOptionError,
} from '../../src/index.js';
import { engineOf } from '../../src/cache/dynamo-cache.js';
import { localClient, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';

const { tableName } = useCacheTable('tags');
const { start } = useNestApps();

/** The memory tier's default bound, within which an instance without a backplane sees another's invalidation. */
const MEMORY_MAX_TTL = 5_000;

/** An instance of the app at its defaults (memory tier on, no backplane), with a client of its own whose calls are counted. */
async function instance(options: Record<string, unknown> = {}, controllers: Array<new (...args: never[]) => unknown> = []) {
  const own = localClient();
  const commands = recordCommands(own);
  const app = await start({
    imports: [
      DynamoCacheModule.forRoot({ tableName, client: own, ...cacheTableAttributes, ...options }),
      DynamoCacheModule.forFeature({ name: 'other' }),
    ],
    controllers,
  });
  const cache = app.get<DynamoCache>(CACHE);
  const tiers: Record<string, string | undefined> = {};
  cache.on('cache:hit', (event: CacheEvent) => (tiers[event.key!] = event.tier));
  return { app, cache, other: app.get(DynamoCacheRegistry).get('other'), commands, tiers };
}

/** Resolves once the clock is past `instant`: a sliding renewal then moves an expiry forward. */
const aMomentAfter = (instant: number) => seenWithin(async () => Date.now() > instant, true, 1_000);

/** Reads `key` on the instance and says from where it came: 'memory', 'dynamodb', or 'miss'. */
async function readFrom(node: Awaited<ReturnType<typeof instance>>, key: string): Promise<string> {
  delete node.tiers[key];
  const value = await node.cache.get(key);
  return value === undefined ? 'miss' : node.tiers[key]!;
}

describe('tags, with the default memory tier and no backplane', () => {
  it('turns every entry carrying an invalidated tag into a miss on two instances, and only those', async () => {
    const a = await instance();
    const b = await instance();
    await a.cache.set('t1:profile', { user: 1 }, { ttl: 600_000, tags: ['user:1', 'users'] });
    await a.cache.set('t1:orders', [1, 2], { tags: ['user:1'] });
    await a.cache.set('t1:other', { user: 2 }, { ttl: 600_000, tags: ['user:2', 'users'] });
    await a.cache.set('t1:untagged', 'plain', 600_000);
    for (const key of ['t1:profile', 't1:orders', 't1:other', 't1:untagged']) {
      expect(await readFrom(b, key)).toBe('dynamodb');
      expect(await readFrom(b, key)).toBe('memory');
      expect(await readFrom(a, key)).toBe('memory');
    }

    expect(await a.cache.deleteByTag('user:1')).toBe(true);
    // The invalidating instance at once, in memory and in DynamoDB.
    expect(await readFrom(a, 't1:profile')).toBe('miss');
    expect(await readFrom(a, 't1:orders')).toBe('miss');
    expect(await readFrom(a, 't1:other')).toBe('memory');
    expect(await readFrom(a, 't1:untagged')).toBe('memory');
    // The other instance within its memory's bound; its copies of the others stay.
    await seenWithin(() => readFrom(b, 't1:profile'), 'miss', MEMORY_MAX_TTL + 2_000);
    await seenWithin(() => readFrom(b, 't1:orders'), 'miss', MEMORY_MAX_TTL + 2_000);
    expect(await readFrom(b, 't1:other')).not.toBe('miss');
    expect(await readFrom(b, 't1:untagged')).not.toBe('miss');

    // Stored after the invalidation: a hit on both, with the same tag.
    await a.cache.set('t1:profile', { user: 1, renamed: true }, { ttl: 600_000, tags: ['user:1'] });
    expect(await b.cache.get('t1:profile')).toEqual({ user: 1, renamed: true });
    expect(await readFrom(a, 't1:profile')).toBe('memory');
  }, 30_000);

  it('reads a tagged entry with its tags known at no extra call, and unknown tags in one batch', async () => {
    const a = await instance();
    const b = await instance();
    const tags = Array.from({ length: 20 }, (_, index) => `t2:tag${index}`);
    await a.cache.set('t2:many', 'v', { ttl: 600_000, tags });
    b.commands.length = 0;
    expect(await b.cache.get('t2:many')).toBe('v');
    // The entry, then its 20 tags and the cache's own cleared-at time: never one call per tag.
    expect(b.commands.filter((name) => name === 'BatchGetItemCommand').length).toBeLessThanOrEqual(2);
    expect(b.commands.filter((name) => name === 'GetItemCommand')).toEqual(['GetItemCommand']);
    engineOf(b.app.get(DynamoCacheRegistry).get()).memory!.clear();
    b.commands.length = 0;
    expect(await b.cache.get('t2:many')).toBe('v');
    expect(b.commands).toEqual(['GetItemCommand']);
    const values = await b.cache.mget(['t2:many', 't1:missing']);
    expect(values).toEqual(['v', undefined]);
  });

  it('invalidates with one conditional write per tag, whatever the number of entries, reading none', async () => {
    const a = await instance();
    await a.cache.mset(
      Array.from({ length: 200 }, (_, index) => ({ key: `t3:${index}`, value: index, ttl: { ttl: 600_000, tags: ['t3'] } })) as never,
    );
    a.commands.length = 0;
    await a.cache.deleteByTag(['t3', 't3:b']);
    expect(a.commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(await a.cache.mget(['t3:0', 't3:199'])).toEqual([undefined, undefined]);
  });

  it('retires the value of a factory that began before the invalidation, though its caller gets it', async () => {
    const a = await instance();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const loading = a.cache.getOrSet(
      't4:slow',
      async () => {
        started = true;
        await gate;
        return 'read before the change';
      },
      { ttl: 600_000, tags: ['t4'] },
    );
    await seenWithin(async () => started, true, 5_000);
    await a.cache.deleteByTag('t4');
    release();
    expect(await loading).toBe('read before the change');
    expect(await readFrom(a, 't4:slow')).toBe('miss');
    // A factory's own tags (context.addTags) retire it too.
    expect(await a.cache.getOrSet('t4:own', (context) => (context.addTags('t4:own-tag'), 'built'), { ttl: 600_000 })).toBe('built');
    expect(await readFrom(a, 't4:own')).toBe('memory');
    await a.cache.deleteByTag('t4:own-tag');
    expect(await readFrom(a, 't4:own')).toBe('miss');
  });

  it('keeps tags through sliding renewal, chunked values, fail-safe and the distributed lock', async () => {
    const a = await instance();
    const b = await instance({ memory: false });
    await a.cache.set('t5:sliding', 's', { slidingExpiration: 60_000, tags: ['t5'] });
    expect(await a.cache.refresh('t5:sliding')).toBe(true);
    await a.cache.set('t5:big', 'x'.repeat(600_000), { ttl: 600_000, tags: ['t5'] });
    expect((await b.cache.get<string>('t5:big'))!.length).toBe(600_000);
    let runs = 0;
    const failSafe = { ttl: 600_000, failSafe: true, tags: ['t5'], distributedLock: true };
    expect(await a.cache.getOrSet('t5:safe', async () => `run ${++runs}`, failSafe)).toBe('run 1');
    await a.cache.deleteByTag('t5');
    // b has no memory tier: what it knows of a tag is taken as current for a second.
    await seenWithin(() => b.cache.get('t5:sliding'), undefined, 3_000);
    expect(await b.cache.get('t5:big')).toBeUndefined();
    // An invalidated value is gone, not stale: fail-safe does not serve it when the factory fails.
    await expect(
      a.cache.getOrSet(
        't5:safe',
        async () => {
          throw new Error('upstream down');
        },
        failSafe,
      ),
    ).rejects.toThrow('upstream down');
    expect(await a.cache.getOrSet('t5:safe', async () => `run ${++runs}`, failSafe)).toBe('run 2');
  });

  it('keeps a write made in the same millisecond as an invalidation, and retires one made before it', async () => {
    for (const options of [{}, { distributed: false as const }]) {
      const node = await instance(options);
      let lost = 0;
      for (let round = 0; round < 50; round++) {
        await node.cache.clear();
        await node.cache.set(`t8:${round}`, round, { tags: ['t8'] });
        await node.cache.deleteByTag('t8-other');
        if ((await node.cache.get(`t8:${round}`)) !== round) lost++;
      }
      expect(lost).toBe(0);
    }
  });

  it('refreshes a sliding entry retired by deleteByTag or clear() to false, and leaves its expiry as it was', async () => {
    for (const options of [{}, { distributed: false as const }]) {
      const { cache } = await instance(options);
      // The store's own expiry of the item, which knows no tags (a read 10% into the window does not renew it).
      const storedExpiry = async () => (await cache.store.getEntry('t13:sliding'))?.expiresAt;
      for (const retire of [() => cache.deleteByTag('t13'), () => cache.clear()]) {
        await cache.set('t13:sliding', 's', { slidingExpiration: 600_000, tags: ['t13'] });
        const written = await storedExpiry();
        await aMomentAfter(Date.now());
        expect(await cache.refresh('t13:sliding')).toBe(true);
        const renewed = await storedExpiry();
        expect(renewed).toBeGreaterThan(written!);

        expect(await retire()).toBe(true);
        await aMomentAfter(Date.now());
        expect(await cache.refresh('t13:sliding')).toBe(false);
        // Memory-only, the store deletes what an invalidation retires; DynamoDB keeps it until its TTL, unrenewed.
        expect(await storedExpiry()).toBe(options.distributed === false ? undefined : renewed);
        expect(await cache.get('t13:sliding')).toBeUndefined();
        expect(await cache.ttl('t13:sliding')).toBeUndefined();
      }
    }
  });

  it('refreshes to false a sliding entry whose factory began before deleteByTag or clear(), stored after it', async () => {
    for (const options of [{}, { distributed: false as const }]) {
      const { cache } = await instance(options);
      for (const retire of [() => cache.deleteByTag('t14'), () => cache.clear()]) {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let started = false;
        const loading = cache.getOrSet(
          't14:sliding',
          async () => {
            started = true;
            await gate;
            return 'read before the change';
          },
          { ttl: { slidingExpiration: 600_000 }, tags: ['t14'] },
        );
        await seenWithin(async () => started, true, 5_000);
        expect(await retire()).toBe(true);
        release();
        expect(await loading).toBe('read before the change');
        // Stored after the invalidation (memory-only too, where the store deletes only what it holds then), yet retired.
        expect((await cache.store.getEntry('t14:sliding'))?.value).toBe('read before the change');
        expect(await cache.refresh('t14:sliding')).toBe(false);
        expect(await cache.get('t14:sliding')).toBeUndefined();
      }
    }
  });

  it('lets the later of two racing invalidations stand, whichever lands last', async () => {
    const a = await instance();
    const slow = await instance();
    // A fault DynamoDB Local cannot make: the slow instance's tag write is held back (an SDK middleware).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const own = (slow.cache.store as unknown as { client: import('@aws-sdk/client-dynamodb').DynamoDBClient }).client;
    own.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') await held;
        return next(args);
      },
      { step: 'initialize', name: 'holdTagWrite' },
    );
    const slowInvalidation = slow.cache.deleteByTag('t9');
    await a.cache.set('t9:x', 'before', { ttl: 600_000, tags: ['t9'] });
    expect(await a.cache.deleteByTag('t9')).toBe(true);
    release();
    expect(await slowInvalidation).toBe(true);
    const fresh = await instance({ memory: false });
    expect(await fresh.cache.get('t9:x')).toBeUndefined();
  });

  it('retires every entry of a large mget whose tags outnumber what an instance keeps known', async () => {
    const a = await instance();
    const entries = Array.from({ length: 400 }, (_, index) => ({
      key: `t10:${index}`,
      value: index,
      ttl: { ttl: 600_000, tags: Array.from({ length: 32 }, (_, tag) => `t10:${index}:${tag}`) },
    }));
    for (let from = 0; from < entries.length; from += 100) await a.cache.mset(entries.slice(from, from + 100) as never);
    await a.cache.clear();
    const fresh = await instance({ memory: false });
    const values = await fresh.cache.mget(entries.map((entry) => entry.key));
    expect(values.filter((value) => value !== undefined)).toEqual([]);
  }, 60_000);

  it('refuses bad tags with a typed error, and writes nothing', async () => {
    const a = await instance();
    a.commands.length = 0;
    for (const tags of [[''], [42], 'x'.repeat(300), Array.from({ length: 40 }, (_, index) => `t${index}`), 'not-a-list']) {
      const asList = typeof tags === 'string' && tags !== 'not-a-list' ? [tags] : tags;
      await expect(a.cache.set('t6:key', 1, { tags: asList as string[] })).rejects.toThrow(InvalidCacheKeyError);
      if (Array.isArray(asList)) await expect(a.cache.deleteByTag(asList as string[])).rejects.toThrow(InvalidCacheKeyError);
    }
    expect(a.commands).toEqual([]);
    expect(() => CacheEvict({ tags: [''] })).toThrow(InvalidOptionError);
    expect(() => Cacheable({ tags: 'user' as unknown as string[] })).toThrow(/"@Cacheable tags"/);
  });

  it('cannot reach another cache, its tags or any key, whatever a tag is spelled like', async () => {
    const a = await instance();
    await a.other.set('t7:other', 'other cache', { ttl: 600_000, tags: ['x'] });
    await a.cache.set('#tag:x', 'a key spelled like a tag item', 600_000);
    await a.cache.set('t7:mine', 'mine', { ttl: 600_000, tags: ['y'] });
    const hostile = ['x', '#cleared', '../other:#tag:x', 'other:#tag:x', 'dc:other:#tag:x', '#tag:x', ':', '\u0000'];
    await a.cache.deleteByTag(hostile);
    const fresh = await instance({ memory: false });
    expect(await fresh.other.get('t7:other')).toBe('other cache');
    expect(await fresh.cache.get('#tag:x')).toBe('a key spelled like a tag item');
    expect(await fresh.cache.get('t7:mine')).toBe('mine');
    await a.other.deleteByTag('y');
    expect(await fresh.cache.get('t7:mine')).toBe('mine');
  });
});

describe('clear() as a logical clear', () => {
  it('without auto-recovery, keeps nothing of an invalidation DynamoDB refused: the invalidating instance serves as every other does', async () => {
    // With auto-recovery (the default) it is owed instead: see test/cache/auto-recovery.e2e-spec.ts.
    const a = await instance({ autoRecovery: false });
    const b = await instance();
    await a.cache.set('t11:x', 'v', { ttl: 600_000, tags: ['t11'] });
    expect(await readFrom(b, 't11:x')).toBe('dynamodb');
    // A fault DynamoDB Local cannot make on one call alone: the tag write fails (an SDK middleware).
    const own = (a.cache.store as unknown as { client: import('@aws-sdk/client-dynamodb').DynamoDBClient }).client;
    own.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') throw Object.assign(new Error('connection reset'), { name: 'TimeoutError' });
        return next(args);
      },
      { step: 'initialize', name: 'failTagWrite' },
    );
    expect(await a.cache.deleteByTag('t11')).toBe(false);
    expect(await a.cache.get('t11:x')).toBe('v');
    expect(await b.cache.get('t11:x')).toBe('v');
  });

  it('bounds what another instance serves to memory.maxTtl from the invalidation, though it read the entry just before its knowledge lapsed', async () => {
    const a = await instance();
    const b = await instance();
    await a.cache.set('t12:x', 'v', { ttl: 600_000, tags: ['t12'] });
    // b learns the tag's time now, by reading another entry that carries it.
    await a.cache.set('t12:other', 'o', { ttl: 600_000, tags: ['t12'] });
    expect(await readFrom(b, 't12:other')).toBe('dynamodb');
    await a.cache.deleteByTag('t12');
    const invalidatedAt = Date.now();
    // Late in b's knowledge window, b first reads the entry from DynamoDB (still known as not invalidated).
    await seenWithin(async () => Date.now() - invalidatedAt > MEMORY_MAX_TTL - 1_500, true, MEMORY_MAX_TTL);
    await b.cache.get('t12:x');
    await seenWithin(() => readFrom(b, 't12:x'), 'miss', 2 * MEMORY_MAX_TTL);
    // Without the cap, that copy would be served a whole memory.maxTtl past its read: ~1.7x the bound.
    expect(Date.now() - invalidatedAt).toBeLessThanOrEqual(MEMORY_MAX_TTL + 1_000);
  }, 30_000);

  it('costs one UpdateItem on a cache of 10,000 entries, reads and scans nothing, and is seen by another instance', async () => {
    const a = await instance();
    const b = await instance();
    const seed = Array.from({ length: 10_000 }, (_, index) => ({ key: `c:${index}`, value: index, ttl: 600_000 }));
    for (let from = 0; from < seed.length; from += 1_000) await a.cache.mset(seed.slice(from, from + 1_000));
    expect(await readFrom(b, 'c:42')).toBe('dynamodb');
    expect(await readFrom(b, 'c:42')).toBe('memory');
    await a.other.set('c:42', 'another cache', 600_000);

    a.commands.length = 0;
    expect(await a.cache.clear()).toBe(true);
    expect(a.commands).toEqual(['UpdateItemCommand']);
    expect(await readFrom(a, 'c:9999')).toBe('miss');
    await seenWithin(() => readFrom(b, 'c:42'), 'miss', MEMORY_MAX_TTL + 2_000);
    expect(await b.cache.mget(['c:0', 'c:5000'])).toEqual([undefined, undefined]);
    // Another named cache of the table is not cleared; entries written since are hits.
    expect(await b.other.get('c:42')).toBe('another cache');
    await a.cache.set('c:42', 'after', 600_000);
    expect(await b.cache.get('c:42')).toBe('after');
    expect(await a.cache.stores[0]!.get('c:1')).toBeUndefined();
  }, 120_000);

  it('is seen within the backplane’s bound with the streams backplane', async () => {
    const streamsTable = `${tableName}_streams`;
    const options = { tableName: streamsTable, createTableIfNotExists: true, backplane: { type: 'streams' as const, maxLag: 2_000 } };
    const a = await instance(options);
    const b = await instance(options);
    const seenByB: string[] = [];
    b.cache.on('cache:invalidated', (event: CacheEvent) => seenByB.push(event.key!));
    await a.cache.set('s:1', 'v', { ttl: 600_000, tags: ['s'] });
    await a.cache.set('s:2', 'w', 600_000);
    // The news of these writes reaches b in its own time, dropping what b read before it: wait for it.
    await seenWithin(async () => seenByB.includes('s:1') && seenByB.includes('s:2'), true, 10_000);
    await seenWithin(() => readFrom(b, 's:1'), 'memory', 10_000);
    await seenWithin(() => readFrom(b, 's:2'), 'memory', 10_000);
    await a.cache.deleteByTag('s');
    await seenWithin(() => readFrom(b, 's:1'), 'miss', 4_000);
    expect(await readFrom(b, 's:2')).toBe('memory');
    await a.cache.clear();
    await seenWithin(() => readFrom(b, 's:2'), 'miss', 4_000);
  }, 60_000);
});

@Controller('users')
class ProfileController {
  static runs: Record<string, number> = {};
  private static ran(route: string) {
    return (ProfileController.runs[route] = (ProfileController.runs[route] ?? 0) + 1);
  }

  @Get(':id/profile')
  @Cacheable({ ttl: 600_000, tags: (request: { params: { id: string } }) => [`user:${request.params.id}`] })
  profile(@Param('id') id: string) {
    return { id, run: ProfileController.ran(`profile:${id}`) };
  }

  @Get(':id/orders')
  @Cacheable({ ttl: 600_000, tags: (_request: unknown, body: { owner: string }) => [`user:${body.owner}`] })
  orders(@Param('id') id: string) {
    return { owner: id, run: ProfileController.ran(`orders:${id}`) };
  }

  @Post(':id')
  @CacheEvict({ tags: (request: { params: { id: string } }) => [`user:${request.params.id}`] })
  update(@Param('id') id: string) {
    return { id };
  }
}

@Controller('accounts')
class AccountController {
  static name_ = 'alice';
  static gate: Promise<void> | undefined;
  static entered = false;

  @Get(':id')
  @Cacheable({ ttl: 600_000, tags: (request: { params: { id: string } }) => [`account:${request.params.id}`] })
  async account(@Param('id') id: string) {
    const name = AccountController.name_;
    AccountController.entered = true;
    await AccountController.gate;
    return { id, name };
  }

  @Post(':id')
  @CacheEvict({ tags: (request: { params: { id: string } }) => [`account:${request.params.id}`] })
  rename(@Param('id') id: string) {
    AccountController.name_ = 'alice renamed';
    return { id };
  }
}

describe('@Cacheable({ tags }) and @CacheEvict({ tags })', () => {
  it('does not keep a no-cache refresh whose handler read before an eviction that ran while it did', async () => {
    const { app } = await instance({}, [AccountController]);
    const server = (app as INestApplication).getHttpServer();
    let release!: () => void;
    AccountController.gate = new Promise<void>((resolve) => (release = resolve));
    const refresh = request(server).get('/accounts/7').set('cache-control', 'no-cache');
    const refreshed = refresh.then((response) => response);
    await seenWithin(async () => AccountController.entered, true, 5_000);
    await request(server).post('/accounts/7').expect(201);
    release();
    expect((await refreshed).body).toEqual({ id: '7', name: 'alice' });
    AccountController.gate = undefined;
    const next = await request(server).get('/accounts/7').expect(200);
    expect(next.body).toEqual({ id: '7', name: 'alice renamed' });
    expect(next.headers['x-cache']).toBe('MISS');
  });

  it("evicts every cached page of one user and leaves the others' pages", async () => {
    const { app } = await instance({}, [ProfileController]);
    const server = (app as INestApplication).getHttpServer();
    for (const path of ['/users/1/profile', '/users/1/orders', '/users/2/profile', '/users/2/orders']) {
      await request(server).get(path).expect(200);
      await request(server).get(path).expect(200);
    }
    expect(ProfileController.runs).toEqual({ 'profile:1': 1, 'orders:1': 1, 'profile:2': 1, 'orders:2': 1 });
    await request(server).post('/users/1').expect(201);
    for (const path of ['/users/1/profile', '/users/1/orders', '/users/2/profile', '/users/2/orders'])
      await request(server).get(path).expect(200);
    expect(ProfileController.runs).toEqual({ 'profile:1': 2, 'orders:1': 2, 'profile:2': 1, 'orders:2': 1 });
  });
});

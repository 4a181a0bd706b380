import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, type DynamoCacheModuleOptions, DynamoCacheRegistry, InvalidCacheKeyError } from '../../src/index.js';
import { DynamoCache as Cache } from '../../src/cache/dynamo-cache.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { cacheTableAttributes, createTable, localClient, recordCommands, useCacheTable, useTableNames } from '../support/dynamo.js';
import { cacheModule } from '../support/builders.js';
import { useNestApps } from '../support/nest-apps.js';
import { cacheWithOpenCircuit } from '../support/open-circuit.js';
import { caughtUpAfter, seenWithin } from '../support/seen-within.js';

// Issue 25, item 4: expire(key) and expireByTag(tags), stale rather than gone.
const { tableName } = useCacheTable('soft_expiry');
const tables = useTableNames();
const apps = useNestApps();

/** The memory tier's default bound, within which an instance without a backplane sees another's change. */
const MEMORY_MAX_TTL = 5_000;
const MAX_LAG = 3_000;
const INTERVAL = 100;

async function instance(options: Partial<DynamoCacheModuleOptions> = {}, table = tableName) {
  const client = localClient();
  const commands = recordCommands(client);
  const app = await apps.start({ imports: [cacheModule({ tableName: table, client }, options)] });
  return { cache: app.get<DynamoCache>(CACHE), commands, backplane: app.get(DynamoCacheRegistry).backplane };
}

const upstreamDown = () => Promise.reject(new Error('upstream down'));

/**
 * The two instances' view of one key after `expire` or `expireByTag` on the first. `newsOnA`: resolves
 * once the first instance's backplane brought it the news of the change, its own coming back; its
 * get-or-set's factory fails only then, so that the news arrives while it runs, every time.
 */
async function expectStale(
  a: DynamoCache,
  b: DynamoCache,
  key: string,
  old: unknown,
  bound: number,
  { newsOnA = async () => {}, caughtUp = async () => {} }: { newsOnA?: () => Promise<unknown>; caughtUp?: () => Promise<void> } = {},
) {
  expect(await a.get(key)).toBeUndefined();
  const failsAfterNews = async () => {
    await newsOnA();
    return upstreamDown();
  };
  expect(await a.getOrSet(key, failsAfterNews, { failSafe: true })).toEqual(old);
  await seenWithin(() => b.get(key), undefined, bound);
  await caughtUp();
  // Without fail-safe first: a fallback served is then kept fresh for failSafeThrottleDuration.
  await expect(b.getOrSet(key, upstreamDown)).rejects.toThrow('upstream down');
  expect(await b.getOrSet(key, upstreamDown, { failSafe: true })).toEqual(old);
}

describe('expire(key), with the default memory tier and no backplane', () => {
  it('makes the entry a miss at once in one UpdateItem, recomputed by getOrSet, served stale by fail-safe', async () => {
    const a = await instance();
    const b = await instance();
    await a.cache.set('e1:price', { amount: 10 }, 600_000);
    expect(await b.cache.get('e1:price')).toEqual({ amount: 10 }); // now in b's memory
    a.commands.length = 0;
    expect(await a.cache.expire('e1:price')).toBe(true);
    expect(a.commands).toEqual(['UpdateItemCommand']);
    await expectStale(a.cache, b.cache, 'e1:price', { amount: 10 }, MEMORY_MAX_TTL + 2_000);
    // A factory that succeeds replaces the value.
    await a.cache.set('e1:stock', 5, 600_000);
    await a.cache.expire('e1:stock');
    expect(await a.cache.getOrSet('e1:stock', () => 6, { failSafe: true })).toBe(6);
    expect(await b.cache.get('e1:stock')).toBe(6);
    // Nothing live to expire: false, and nothing changes.
    expect(await a.cache.expire('e1:never-set')).toBe(false);
    expect(await a.cache.get('e1:never-set')).toBeUndefined();
  });

  it('serves the expired value from memory when DynamoDB cannot be asked, but never a deleted one', async () => {
    const a = await instance();
    await a.cache.set('e2:kept', 'v1', 600_000);
    await a.cache.expire('e2:kept');
    // Read from memory: the expired copy is a fallback there too (a factory timing out serves it as well).
    expect(await a.cache.getOrSet('e2:kept', () => new Promise(() => {}), { failSafe: true, hardTimeout: 50 })).toBe('v1');
    await a.cache.set('e2:gone', 'v1', 600_000);
    await a.cache.expire('e2:gone');
    await a.cache.del('e2:gone');
    await expect(a.cache.getOrSet('e2:gone', upstreamDown, { failSafe: true })).rejects.toThrow('upstream down');
  });

  it('keeps a value whose factory began before the expiry out of memory, though its caller gets it', async () => {
    const a = await instance();
    await a.cache.set('e3:slow', 'old', 600_000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const reading = a.cache.getOrSet(
      'e3:other',
      async () => {
        started = true;
        await gate;
        return 'read before';
      },
      { ttl: 600_000 },
    );
    await seenWithin(async () => started, true, 5_000);
    await a.cache.expire('e3:slow');
    release();
    expect(await reading).toBe('read before');
    expect(await a.cache.get('e3:slow')).toBeUndefined();
  });
});

describe('expireByTag(tags), with the default memory tier and no backplane', () => {
  it('makes every entry made before it stale, in one write per tag, and leaves later ones and others alone', async () => {
    const a = await instance();
    const b = await instance();
    await a.cache.set('t1:profile', { user: 1 }, { ttl: 600_000, tags: ['user:1'] });
    await a.cache.set('t1:forever', 'plain', { tags: ['user:1'] });
    await a.cache.set('t1:other', { user: 2 }, { ttl: 600_000, tags: ['user:2'] });
    for (const key of ['t1:profile', 't1:forever', 't1:other']) expect(await b.cache.get(key)).toBeDefined();
    a.commands.length = 0;
    expect(await a.cache.expireByTag(['user:1', 'user:9'])).toBe(true);
    expect(a.commands).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    await expectStale(a.cache, b.cache, 't1:profile', { user: 1 }, MEMORY_MAX_TTL + 2_000);
    await expectStale(a.cache, b.cache, 't1:forever', 'plain', MEMORY_MAX_TTL + 2_000);
    expect(await a.cache.get('t1:other')).toEqual({ user: 2 });
    expect(await a.cache.mget(['t1:profile', 't1:other'])).toEqual([undefined, { user: 2 }]);
    // Stored after the expiry: a hit, with the same tag.
    await a.cache.set('t1:profile', { user: 1, renamed: true }, { ttl: 600_000, tags: ['user:1'] });
    expect(await b.cache.get('t1:profile')).toEqual({ user: 1, renamed: true });
    // deleteByTag after it: gone, not stale.
    await a.cache.deleteByTag('user:1');
    await expect(a.cache.getOrSet('t1:forever', upstreamDown, { failSafe: true })).rejects.toThrow('upstream down');
  }, 30_000);
});

describe('refresh(key) of an entry made stale', () => {
  it('answers false and renews nothing after expireByTag or expire, on this instance and another, as get misses', async () => {
    const a = await instance();
    const b = await instance();
    const sliding = (tags: string[]) => ({ slidingExpiration: 600_000, tags });
    await a.cache.set('r1:by-tag', 'v', sliding(['r1:group']));
    await a.cache.set('r1:by-key', 'v', sliding(['r1:other']));
    expect([await a.cache.refresh('r1:by-tag'), await b.cache.refresh('r1:by-tag')]).toEqual([true, true]);

    await a.cache.expireByTag('r1:group');
    await a.cache.expire('r1:by-key');
    // The other instance took the tag's times as current when it refreshed: it sees the expiry within its bound.
    await seenWithin(() => b.cache.get('r1:by-tag'), undefined, MEMORY_MAX_TTL + 2_000);
    for (const { cache, commands } of [a, b]) {
      commands.length = 0;
      expect(await cache.get('r1:by-tag')).toBeUndefined();
      expect([await cache.refresh('r1:by-tag'), await cache.refresh('r1:by-key')]).toEqual([false, false]);
      // Read, not renewed: a renewal is an UpdateItem.
      expect(commands.filter((command) => command === 'UpdateItemCommand')).toEqual([]);
    }
    // Still a fallback, as it was: the refresh did not make it live, nor take it away.
    expect(await b.cache.getOrSet('r1:by-tag', upstreamDown, { failSafe: true })).toBe('v');
    // Stored again after the expiry: live, and renewed.
    await a.cache.set('r1:by-tag', 'w', sliding(['r1:group']));
    expect(await b.cache.refresh('r1:by-tag')).toBe(true);
  });

  it('answers false after expireByTag on a memory-only cache too', async () => {
    const cache = new Cache(new MemoryStore());
    await cache.set('r2:key', 'v', { slidingExpiration: 600_000, tags: ['g'] });
    expect(await cache.refresh('r2:key')).toBe(true);
    await cache.expireByTag('g');
    expect(await cache.refresh('r2:key')).toBe(false);
  });
});

describe('expire and expireByTag across instances with a backplane', () => {
  for (const type of ['poll', 'streams'] as const) {
    it(`are seen by the other instance within the ${type} backplane's bound`, async () => {
      const table = tables(`soft_expiry_${type}`);
      await createTable(localClient({}, 'admin'), table, { ...cacheTableAttributes, stream: true });
      const backplane = type === 'poll' ? { type, interval: INTERVAL, maxLag: MAX_LAG } : { type, pollInterval: INTERVAL, maxLag: MAX_LAG };
      const a = await instance({ backplane, memory: { maxTtl: 600_000 } }, table);
      const b = await instance({ backplane, memory: { maxTtl: 600_000 } }, table);
      await a.cache.set('x:key', 'k1', 600_000);
      await a.cache.set('x:tagged', 't1', { ttl: 600_000, tags: ['group'] });
      expect(await b.cache.get('x:key')).toBe('k1');
      expect(await b.cache.get('x:tagged')).toBe('t1');
      const bound = MAX_LAG + INTERVAL + 1_000;
      let changedAt = Date.now();
      const caughtUp = () => caughtUpAfter(b.backplane!, changedAt, bound);
      // The sets' news first, so that what a's backplane counts next is the expiry's news.
      await caughtUpAfter(a.backplane!, Date.now(), bound);
      let newsBefore = a.backplane!.stats().invalidations;
      const newsOnA = () => seenWithin(async () => a.backplane!.stats().invalidations > newsBefore, true, bound);
      await a.cache.expire('x:key');
      await expectStale(a.cache, b.cache, 'x:key', 'k1', bound, { newsOnA, caughtUp });
      await caughtUpAfter(a.backplane!, Date.now(), bound);
      newsBefore = a.backplane!.stats().invalidations;
      changedAt = Date.now();
      await a.cache.expireByTag('group');
      await expectStale(a.cache, b.cache, 'x:tagged', 't1', bound, { newsOnA, caughtUp });
    }, 30_000);
  }
});

describe('news of an expiry, through the streams backplane, on another instance', () => {
  it('keeps the fallback of a get-or-set in flight when it arrives, and a delete after the expiry still wins', async () => {
    const table = tables('soft_expiry_news');
    await createTable(localClient({}, 'admin'), table, { ...cacheTableAttributes, stream: true });
    const backplane = { type: 'streams' as const, pollInterval: INTERVAL, maxLag: MAX_LAG };
    const a = await instance({ backplane, memory: { maxTtl: 600_000 } }, table);
    const b = await instance({ backplane, memory: { maxTtl: 600_000 } }, table);
    const bound = MAX_LAG + INTERVAL + 1_000;
    // b never read these: its get-or-sets find them in DynamoDB, stale, before the news comes.
    await a.cache.set('n:key', 'k1', 600_000);
    await a.cache.set('n:tagged', 't1', { ttl: 600_000, tags: ['n:group'] });
    await a.cache.set('n:many', 'm1', { ttl: 600_000, tags: ['n:group'] });
    await a.cache.set('n:deleted', 'd1', 600_000);
    await caughtUpAfter(b.backplane!, Date.now(), bound);
    let newsBefore = b.backplane!.stats().invalidations;
    const newsOnB = () => seenWithin(async () => b.backplane!.stats().invalidations > newsBefore, true, bound);
    const failsAfterNews = async () => {
      await newsOnB();
      return upstreamDown();
    };

    await a.cache.expire('n:key');
    expect(await b.cache.getOrSet('n:key', failsAfterNews, { failSafe: true })).toBe('k1');

    await caughtUpAfter(b.backplane!, Date.now(), bound);
    newsBefore = b.backplane!.stats().invalidations;
    await a.cache.expireByTag('n:group');
    const loader = async () => failsAfterNews();
    const [tagged, many] = await Promise.all([
      b.cache.getOrSet('n:tagged', failsAfterNews, { failSafe: true }),
      b.cache.getOrSetMany(['n:many'], loader, { failSafe: true }),
    ]);
    expect([tagged, many]).toEqual(['t1', ['m1']]);

    // Stale when found, deleted before the factory fails: DynamoDB, asked again, has nothing to serve.
    await a.cache.expire('n:deleted');
    await caughtUpAfter(b.backplane!, Date.now(), bound);
    newsBefore = b.backplane!.stats().invalidations;
    let found!: () => void;
    const foundStale = new Promise<void>((resolve) => (found = resolve));
    const reading = b.cache.getOrSet(
      'n:deleted',
      async () => {
        found();
        return failsAfterNews();
      },
      { failSafe: true },
    );
    await foundStale;
    await a.cache.del('n:deleted');
    await expect(reading).rejects.toThrow('upstream down');
  }, 30_000);
});

describe('expire and expireByTag on bad input', () => {
  it('rejects a bad key or bad tags with a typed error naming them, writing nothing, whatever the circuit', async () => {
    const a = await instance();
    const open = await cacheWithOpenCircuit();
    const memoryOnly = new Cache(new MemoryStore());
    for (const { cache, commands } of [a, open, { cache: memoryOnly, commands: [] as string[] }]) {
      commands.length = 0;
      await expect(cache.expire('')).rejects.toThrow(InvalidCacheKeyError);
      await expect(cache.expire(42 as never)).rejects.toThrow(InvalidCacheKeyError);
      await expect(cache.expireByTag(undefined as never)).rejects.toThrow(/expireByTag: tags must be/);
      await expect(cache.expireByTag([''])).rejects.toThrow(InvalidCacheKeyError);
      await expect(cache.expireByTag(7 as never)).rejects.toThrow(/expireByTag: tags must be an array of strings, got/);
      expect(commands).toEqual([]);
    }
  });
});

describe('expire on a memory-only cache', () => {
  it('makes the entry stale, served by fail-safe, and expireByTag likewise', async () => {
    const cache = new Cache(new MemoryStore());
    await cache.set('m:key', 'v', 600_000);
    await cache.set('m:tagged', 'w', { ttl: 600_000, tags: ['g'] });
    expect(await cache.expire('m:key')).toBe(true);
    expect(await cache.get('m:key')).toBeUndefined();
    expect(await cache.getOrSet('m:key', upstreamDown, { failSafe: true })).toBe('v');
    expect(await cache.expireByTag('g')).toBe(true);
    expect(await cache.get('m:tagged')).toBeUndefined();
    await expect(cache.getOrSet('m:tagged', upstreamDown)).rejects.toThrow('upstream down');
    expect(await cache.getOrSet('m:tagged', upstreamDown, { failSafe: true })).toBe('w');
  });
});

import { describe, expect, it } from 'vitest';
import type { DynamoCacheOptions } from '../../src/cache/cache-options.js';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { FactoryTimeoutError } from '../../src/cache/errors.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { localClient, memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { sleep } from '../support/seen-within.js';

const { tableName } = useCacheTable('getorset');
// Bounds and windows of a few hundred ms are crossed on a clock the test moves, not by racing real time.
const clock = useStoppedClock();

/**
 * A factory that runs until the test lets it finish: an upstream slower than any timeout, whatever
 * the machine's speed. A call that waited for it would never return.
 */
function heldFactory<T>(value: T) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return { factory: async () => (await finished, value), finish };
}

/** A cache on its own prefix, with a client that records every command it sends. */
function cacheOn(prefix: string, options: DynamoCacheOptions = {}, ttl?: number) {
  const client = localClient();
  const sent = recordCommands(client);
  const cache = new DynamoCache(
    new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, ttl, logger: memoryLogger() }),
    options,
  );
  return { cache, sent, count: (name: string) => sent.filter((command) => command === `${name}Command`).length };
}

describe('getOrSet stampede protection', () => {
  it('makes 1 factory call, 1 GetItem and 1 PutItem for 100 concurrent cold callers', async () => {
    const { cache, count } = cacheOn('stampede:');
    let calls = 0;
    const factory = async () => {
      calls += 1;
      await sleep(50);
      return { id: 1 };
    };
    const values = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('cold', factory, { ttl: 60_000 })));
    expect(values.every((value) => value.id === 1)).toBe(true);
    expect(calls).toBe(1);
    expect(count('GetItem')).toBe(1);
    expect(count('PutItem')).toBe(1);
  });

  it('coalesces concurrent callers without a memory tier too', async () => {
    const { cache, count } = cacheOn('stampede-nomem:', { memory: false });
    let calls = 0;
    await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('cold', async () => ((calls += 1), 'v'), { ttl: 60_000 })));
    expect(calls).toBe(1);
    expect(count('GetItem')).toBe(1);
  });
});

describe('the memory tier', () => {
  it("serves a hit from memory with no DynamoDB call, and hands out a frozen copy, never the caller's object", async () => {
    const { cache, sent } = cacheOn('mem-hit:');
    const original = { list: [1, 2], nested: { a: 1 } };
    await cache.set('k', original, 60_000);
    expect(Object.isFrozen(original)).toBe(false);
    const before = sent.length;
    const first = await cache.get<typeof original>('k');
    const second = await cache.getOrSet('k', () => ({ list: [], nested: { a: 0 } }));
    expect(sent.length).toBe(before);
    expect(first).toEqual(original);
    expect(second).toBe(first);
    expect(() => first!.list.push(3)).toThrow(TypeError);
    expect(() => ((first!.nested as { a: number }).a = 2)).toThrow(TypeError);
  });

  it('gives each hit its own copy of a value with Dates or Maps, whose contents freezing cannot protect', async () => {
    const { cache } = cacheOn('mem-copy:');
    await cache.set('k', { at: new Date(0), tags: new Map([['a', 1]]) }, 60_000);
    const first = await cache.get<{ at: Date; tags: Map<string, number> }>('k');
    first!.at.setTime(5);
    first!.tags.set('b', 2);
    const second = await cache.get<{ at: Date; tags: Map<string, number> }>('k');
    expect(second!.at.getTime()).toBe(0);
    expect([...second!.tags]).toEqual([['a', 1]]);
  });

  it("reads DynamoDB again after memory.maxTtl, so another instance's change is seen within that bound", async () => {
    const a = cacheOn('mem-maxttl:', { memory: { maxTtl: 150 } }).cache;
    const b = cacheOn('mem-maxttl:', { memory: { maxTtl: 150 } }).cache;
    clock.stop();
    await a.set('k', 'one', 60_000);
    expect(await b.get('k')).toBe('one');
    await a.set('k', 'two', 60_000);
    clock.advance(149);
    expect(await b.get('k')).toBe('one'); // within the bound, from b's memory
    clock.advance(1);
    expect(await b.get('k')).toBe('two');
  });

  it("updates memory at once on this instance's writes and deletes", async () => {
    const { cache } = cacheOn('mem-writes:');
    await cache.set('k', 1, 60_000);
    expect(await cache.get('k')).toBe(1);
    await cache.set('k', 2, 60_000);
    expect(await cache.get('k')).toBe(2);
    await cache.del('k');
    expect(await cache.get('k')).toBeUndefined();
    await cache.mset([{ key: 'm', value: 'x', ttl: 60_000 }]);
    expect(await cache.mget(['m', 'k'])).toEqual(['x', undefined]);
    await cache.mdel(['m']);
    expect(await cache.get('m')).toBeUndefined();
  });

  it('keeps at most maxEntries entries, evicting the least recently used first', async () => {
    const { cache, count } = cacheOn('mem-bound:', { memory: { maxEntries: 2 } });
    await cache.set('a', 1, 60_000);
    await cache.set('b', 2, 60_000);
    await cache.get('a'); // a is used: b is the one to go
    await cache.set('c', 3, 60_000);
    const reads = count('GetItem');
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('c')).toBe(3);
    expect(count('GetItem')).toBe(reads);
    expect(await cache.get('b')).toBe(2);
    expect(count('GetItem')).toBe(reads + 1);
  });

  it('keeps no entry larger than maxBytes in memory', async () => {
    const { cache, count } = cacheOn('mem-bytes:', { memory: { maxBytes: 1_000 } });
    await cache.set('big', 'x'.repeat(2_000), 60_000);
    await cache.set('small', 'x', 60_000);
    const reads = count('GetItem');
    await cache.get('small');
    expect(count('GetItem')).toBe(reads);
    await cache.get('big');
    expect(count('GetItem')).toBe(reads + 1);
  });

  it('reads DynamoDB on every call with memory: false', async () => {
    const { cache, count } = cacheOn('mem-off:', { memory: false });
    await cache.set('k', 1, 60_000);
    await cache.get('k');
    await cache.get('k');
    expect(count('GetItem')).toBe(2);
  });
});

describe('fail-safe', () => {
  it('serves the last known value when the factory fails after expiry, and retries the factory only after the throttle', async () => {
    const { cache } = cacheOn('failsafe:', { failSafe: true, failSafeThrottleDuration: 300, memory: false });
    const stale: unknown[] = [];
    cache.on('cache:stale', (event) => stale.push(event));
    cache.on('error', () => undefined);
    await cache.getOrSet('k', () => 'v1', { ttl: 100 });
    await sleep(150);
    let calls = 0;
    const failing = () => {
      calls += 1;
      throw new Error('upstream down');
    };
    expect(await cache.getOrSet('k', failing, { ttl: 100 })).toBe('v1');
    expect(stale).toEqual([{ cache: 'default', key: 'k', tier: 'dynamodb' }]);
    expect(calls).toBe(1);
  });

  it('throttles factory retries through the memory tier, then tries again', async () => {
    const { cache } = cacheOn('failsafe-throttle:', { failSafe: true, failSafeThrottleDuration: 300 });
    cache.on('error', () => undefined);
    clock.stop();
    await cache.getOrSet('k', () => 'v1', { ttl: 100 });
    clock.advance(150);
    let calls = 0;
    const failing = () => {
      calls += 1;
      throw new Error('upstream down');
    };
    expect(await cache.getOrSet('k', failing, { ttl: 100 })).toBe('v1');
    expect(await cache.getOrSet('k', failing, { ttl: 100 })).toBe('v1');
    expect(calls).toBe(1);
    expect(await cache.get('k')).toBeUndefined(); // get is not fail-safe: the value has expired
    // That get's miss left the throttled fallback where it was: still within the throttle, no retry.
    clock.advance(100);
    expect(await cache.getOrSet('k', failing, { ttl: 100 })).toBe('v1');
    expect(calls).toBe(1);
    clock.advance(200);
    expect(await cache.getOrSet('k', () => 'v2', { ttl: 60_000 })).toBe('v2');
  });

  it("rejects with the factory's error when fail-safe is off", async () => {
    const { cache } = cacheOn('failsafe-off:');
    await cache.getOrSet('k', () => 'v1', { ttl: 100 });
    await sleep(150);
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('upstream down')))).rejects.toThrow('upstream down');
  });

  it('keeps nothing past expiry beyond failSafeMaxDuration', async () => {
    const { cache } = cacheOn('failsafe-max:', { failSafe: true, failSafeMaxDuration: 100, memory: false });
    await cache.getOrSet('k', () => 'v1', { ttl: 100 });
    await sleep(250);
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('upstream down')))).rejects.toThrow('upstream down');
  });
});

describe('factory timeouts', () => {
  it("softTimeout serves the stale value, and stores the factory's result when it arrives", async () => {
    const { cache } = cacheOn('soft:', { failSafe: true, memory: false });
    await cache.getOrSet('k', () => 'old', { ttl: 100 });
    await sleep(150); // past the ttl: the value is stale
    const slow = heldFactory('new');
    // Served while the factory still runs: it finishes only once let go, and its result is stored then.
    expect(await cache.getOrSet('k', slow.factory, { ttl: 60_000, softTimeout: 50 })).toBe('old');
    slow.finish();
    await expect.poll(() => cache.get('k'), { timeout: 10_000 }).toBe('new');
  });

  it('hardTimeout rejects with a FactoryTimeoutError naming the key when no stale value is at hand', async () => {
    const { cache } = cacheOn('hard:');
    const slow = heldFactory('late');
    const error = await cache.getOrSet('k', slow.factory, { ttl: 60_000, hardTimeout: 50 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FactoryTimeoutError);
    expect((error as Error).message).toContain('key "k"');
    slow.finish();
    await expect.poll(() => cache.get('k'), { timeout: 10_000 }).toBe('late');
  });
});

describe('getOrSet options', () => {
  it('eagerRefreshThreshold returns a hit past that part of its duration at once and refreshes it once in the background', async () => {
    const { cache } = cacheOn('eager:');
    clock.stop();
    await cache.getOrSet('k', () => 'old', { ttl: 1_000 });
    clock.advance(500);
    let calls = 0;
    const factory = async () => ((calls += 1), await sleep(50), 'new');
    const refreshed = new Promise((resolve) => cache.on('cache:refresh', resolve));
    const hits = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', factory, { ttl: 1_000, eagerRefreshThreshold: 0.3 })));
    expect(hits).toEqual(['old', 'old', 'old']);
    await refreshed;
    expect(calls).toBe(1);
    expect(await cache.get('k')).toBe('new');
  });

  it('jitter adds up to its bound to the ttl', async () => {
    const { cache } = cacheOn('jitter:', { jitter: 10_000 });
    // On a stopped clock, what an expiry holds beyond the ttl is the jitter alone.
    const setAt = clock.stop();
    const expiries = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        await cache.set(`k${index}`, index, 60_000);
        return (await cache.ttl(`k${index}`))! - setAt - 60_000;
      }),
    );
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...expiries)).toBeLessThan(10_000);
    expect(new Set(expiries.map((extra) => Math.floor(extra / 1000))).size).toBeGreaterThan(1);
  });

  it('lets the factory set the ttl from what it fetched, or not cache it at all', async () => {
    const { cache } = cacheOn('adaptive:');
    const setAt = clock.stop();
    await cache.getOrSet('short', (context) => (context.setTtl(200), 'v'), { ttl: 60_000 });
    expect(await cache.ttl('short')).toBe(setAt + 200);
    let calls = 0;
    const uncached = (context: { skip(): void }) => ((calls += 1), context.skip(), 'error page');
    expect(await cache.getOrSet('skipped', uncached)).toBe('error page');
    expect(await cache.getOrSet('skipped', uncached)).toBe('error page');
    expect(calls).toBe(2);
    expect(await cache.get('skipped')).toBeUndefined();
  });

  it("returns a factory's undefined as a miss and caches nothing", async () => {
    const { cache, count } = cacheOn('undefined:');
    expect(await cache.getOrSet('nothing', () => undefined)).toBeUndefined();
    expect(count('PutItem')).toBe(0);
  });

  it('names the option at fault in a per-call option error', async () => {
    const { cache } = cacheOn('bad-option:');
    await expect(cache.getOrSet('k', () => 1, { eagerRefreshThreshold: 2 })).rejects.toThrow(
      'option "eagerRefreshThreshold" must be a number between 0 and 1',
    );
  });
});

describe('cache events', () => {
  it('emits cache:* events with the cache name, key and tier', async () => {
    const { cache } = cacheOn('events:', { name: 'catalogue' });
    const seen: Array<[string, unknown]> = [];
    for (const name of ['cache:hit', 'cache:miss', 'cache:set', 'cache:delete', 'cache:clear'])
      cache.on(name, (event) => seen.push([name, event]));
    await cache.getOrSet('k', () => 1, { ttl: 60_000 });
    await cache.get('k');
    await cache.del('k');
    await cache.clear();
    expect(seen).toEqual([
      ['cache:miss', { cache: 'catalogue', key: 'k', tier: 'dynamodb' }],
      ['cache:set', { cache: 'catalogue', key: 'k', tier: undefined }],
      ['cache:hit', { cache: 'catalogue', key: 'k', tier: 'memory' }],
      ['cache:delete', { cache: 'catalogue', key: 'k', tier: undefined }],
      ['cache:clear', { cache: 'catalogue', key: undefined, tier: undefined }],
    ]);
  });
});

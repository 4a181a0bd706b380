import { describe, expect, it } from 'vitest';
import type { DynamoCacheOptions } from '../../src/cache/cache-options.js';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { FactoryTimeoutError, RecursiveFactoryError } from '../../src/cache/errors.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { InvalidCacheKeyError, InvalidExpirationError } from '../../src/store/errors.js';
import { localClient, memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { sleep } from '../support/seen-within.js';

const { tableName } = useCacheTable('coredefects');
const clock = useStoppedClock();

function cacheOn(prefix: string, options: DynamoCacheOptions = {}, store: Record<string, unknown> = {}) {
  const client = localClient();
  const sent = recordCommands(client);
  const faults = faultyClient(client);
  const logger = memoryLogger();
  const cache = new DynamoCache(
    new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger, ...store }),
    options,
  );
  return { cache, faults, logger, count: (name: string) => sent.filter((command) => command === `${name}Command`).length };
}

describe('sliding expiration with the default memory tier', () => {
  it('keeps a 2 s sliding entry alive while it is read every 300 ms, renewing it in DynamoDB', async () => {
    const reader = cacheOn('sliding-mem:');
    const other = cacheOn('sliding-mem:', { memory: false });
    // Every 300 ms by a clock the test moves: in real time, a busy machine could leave a gap longer than the window.
    const setAt = clock.stop();
    await reader.cache.set('session', 'alive', { slidingExpiration: 2_000 });
    while (Date.now() - setAt < 4_500) {
      expect(await reader.cache.get('session')).toBe('alive');
      clock.advance(300);
    }
    // Another instance, which never read it, finds it too: the window moved in DynamoDB, not only here.
    expect(await other.cache.get('session')).toBe('alive');
    expect(reader.count('UpdateItem')).toBeGreaterThan(0);
  });

  it('lets a sliding entry lapse once nobody reads it', async () => {
    const { cache } = cacheOn('sliding-lapse:');
    const other = cacheOn('sliding-lapse:', { memory: false });
    await cache.set('idle', 'v', { slidingExpiration: 600 });
    // Nobody reads it for longer than its window: the passing of time is the condition itself.
    await sleep(1_000);
    expect(await cache.get('idle')).toBeUndefined();
    expect(await other.cache.get('idle')).toBeUndefined();
  });
});

describe('a read in flight when this instance changes the key', () => {
  it('does not put the old value back in memory after a set', async () => {
    const writer = cacheOn('inflight-set:', { memory: false });
    await writer.cache.set('k', 'old', 60_000);
    const { cache, faults } = cacheOn('inflight-set:');
    const { parked, release } = faults.holdNext('GetItemCommand');
    const reading = cache.get('k');
    await parked;
    await cache.set('k', 'new', 60_000);
    release();
    expect(await reading).toBe('old');
    expect(await cache.get('k')).toBe('new');
  });

  it('does not put the old value back in memory after a del', async () => {
    const writer = cacheOn('inflight-del:', { memory: false });
    await writer.cache.set('k', 'old', 60_000);
    const { cache, faults } = cacheOn('inflight-del:');
    const { parked, release } = faults.holdNext('GetItemCommand');
    const reading = cache.get('k');
    await parked;
    await cache.del('k');
    release();
    await reading;
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe("each caller's own timeouts", () => {
  it("rejects a joining caller at its own hardTimeout while the first caller's factory runs on", async () => {
    const { cache } = cacheOn('join-timeout:');
    let finish!: (value: string) => void;
    const first = cache.getOrSet('k', () => new Promise<string>((resolve) => (finish = resolve)), { ttl: 60_000 });
    await expect.poll(() => finish !== undefined).toBe(true);
    // It does not wait for the first caller's factory, which finishes only once let go below.
    await expect(cache.getOrSet('k', () => 'unused', { hardTimeout: 300 })).rejects.toBeInstanceOf(FactoryTimeoutError);
    finish('done');
    expect(await first).toBe('done');
  });

  it('serves a joining caller its fail-safe value at its own softTimeout', async () => {
    const { cache } = cacheOn('join-soft:');
    await cache.getOrSet('k', () => 'stale', { ttl: 200, failSafe: true });
    await expect.poll(async () => (await cache.get('k')) === undefined, { timeout: 10_000, interval: 50 }).toBe(true);
    let finish!: (value: string) => void;
    const first = cache.getOrSet('k', () => new Promise<string>((resolve) => (finish = resolve)), { ttl: 60_000, failSafe: true });
    await expect.poll(() => finish !== undefined).toBe(true);
    expect(await cache.getOrSet('k', () => 'unused', { failSafe: true, softTimeout: 100 })).toBe('stale');
    finish('fresh');
    expect(await first).toBe('fresh');
  });
});

// On by default where AsyncLocalStorage is cheap (Node 24 and later); these tests turn it on everywhere.
const DETECTING = { detectRecursiveFactories: true };

describe('a factory that asks for its own key', () => {
  it('fails the inner call with a RecursiveFactoryError instead of deadlocking the key', async () => {
    const { cache } = cacheOn('recursive:', DETECTING);
    const outer = cache.getOrSet('k', async () => {
      await expect(cache.getOrSet('k', () => 'inner')).rejects.toBeInstanceOf(RecursiveFactoryError);
      return 'outer';
    });
    expect(await outer).toBe('outer');
    // The key is free again: a later miss runs its factory.
    await cache.del('k');
    expect(await cache.getOrSet('k', () => 'later')).toBe('later');
  });

  it('detects a cycle through another key, and names both', async () => {
    const { cache } = cacheOn('recursive-cycle:', DETECTING);
    const failure = cache.getOrSet('a', () => cache.getOrSet('b', () => cache.getOrSet('a', () => 'never')));
    await expect(failure).rejects.toThrow(/"a" → "b" → "a"/);
    await expect(cache.disconnect()).resolves.toBeUndefined();
  });

  it('breaks a cycle between two concurrent callers, each holding the key the other needs, and frees both keys', async () => {
    const { cache } = cacheOn('recursive-concurrent:', DETECTING);
    let started = 0;
    let bothStarted!: () => void;
    const meeting = new Promise<void>((resolve) => (bothStarted = resolve));
    // Each factory starts, waits until the other has too, then asks for the other's key.
    const needs = (other: string) => async () => {
      if (++started === 2) bothStarted();
      await meeting;
      return `needs ${await cache.getOrSet(other, () => other)}`;
    };
    const outcomes = await Promise.allSettled([cache.getOrSet('a', needs('b')), cache.getOrSet('b', needs('a'))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(RecursiveFactoryError);
    expect(await cache.getOrSet('a', () => 'free')).toBe('free');
    expect(await cache.getOrSet('b', () => 'free')).toBe('free');
    await expect(cache.disconnect()).resolves.toBeUndefined();
  });

  it('breaks a cycle that runs through a flight a factory started itself: a starts b, b needs c, c needs a', async () => {
    const { cache } = cacheOn('recursive-started:', DETECTING);
    let cStarted!: () => void;
    const cIsRunning = new Promise<void>((resolve) => (cStarted = resolve));
    let bAsks!: () => void;
    const bMayAsk = new Promise<void>((resolve) => (bAsks = resolve));
    // Another caller holds c; its factory waits until b is running, then needs a.
    const c = cache.getOrSet('c', async () => {
      cStarted();
      await bMayAsk;
      return `c needs ${await cache.getOrSet('a', () => 'a')}`;
    });
    await cIsRunning;
    const a = cache.getOrSet('a', () =>
      cache.getOrSet('b', async () => {
        bAsks();
        return `b needs ${await cache.getOrSet('c', () => 'c')}`;
      }),
    );
    const outcomes = await Promise.allSettled([a, c]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(outcomes.some((outcome) => (outcome as PromiseRejectedResult).reason instanceof RecursiveFactoryError)).toBe(true);
    await expect(cache.disconnect()).resolves.toBeUndefined();
  });

  it('names each key with its cache when the cycle crosses two caches', async () => {
    const x = cacheOn('recursive-x:', { name: 'x', ...DETECTING }).cache;
    const y = cacheOn('recursive-y:', { name: 'y', ...DETECTING }).cache;
    const failure = x.getOrSet('a', () => y.getOrSet('b', () => x.getOrSet('a', () => 'never')));
    await expect(failure).rejects.toThrow(/"a" \(cache "x"\) → "b" \(cache "y"\) → "a" \(cache "x"\)/);
  });

  it('lets unrelated concurrent callers of the same key coalesce as before', async () => {
    const { cache } = cacheOn('recursive-none:', DETECTING);
    let calls = 0;
    const values = await Promise.all(Array.from({ length: 5 }, () => cache.getOrSet('k', async () => (calls++, await sleep(20), 'v'))));
    expect(values).toEqual(['v', 'v', 'v', 'v', 'v']);
    expect(calls).toBe(1);
  });

  it('without detection (the default on Node 20 and 22), waits for itself until its hardTimeout, as a lock wait would', async () => {
    const { cache } = cacheOn('recursive-off:', { detectRecursiveFactories: false });
    const outer = cache.getOrSet('k', async () => {
      await expect(cache.getOrSet('k', () => 'inner', { hardTimeout: 200 })).rejects.toBeInstanceOf(FactoryTimeoutError);
      return 'outer';
    });
    expect(await outer).toBe('outer');
    await expect(cache.disconnect()).resolves.toBeUndefined();
  });
});

describe('bad input while the circuit is open', () => {
  it('rejects every operation with a typed error, as it does while the circuit is closed', async () => {
    const { cache } = cacheOn(
      'open-circuit:',
      { circuitBreakerThreshold: 1 },
      { client: undefined, endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } },
    );
    await cache.get('valid');
    expect(cache.circuitState).toBe('open');
    const bad = 42 as unknown as string;
    await expect(cache.get(bad)).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.mget([bad])).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.del(bad)).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.mdel([bad])).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.ttl(bad)).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.refresh(bad)).rejects.toBeInstanceOf(InvalidCacheKeyError);
    await expect(cache.set('k', 'v', -1)).rejects.toBeInstanceOf(InvalidExpirationError);
    await expect(cache.mset([{ key: 'k', value: 'v', ttl: Number.NaN }])).rejects.toBeInstanceOf(InvalidExpirationError);
    await expect(cache.getOrSet(bad, () => 'v')).rejects.toBeInstanceOf(InvalidCacheKeyError);
    // Nothing of the refused writes reached memory either.
    expect(cache.peek('k')).toBeUndefined();
    await cache.disconnect();
  });
});

describe('an mset that fails part-way under throwOnErrors', () => {
  it('stops serving from memory the values the call meant to replace', async () => {
    const { cache, faults } = cacheOn('mset-fail:', { throwOnErrors: true });
    const keys = Array.from({ length: 30 }, (_, index) => `k${index}`);
    for (const key of keys) await cache.set(key, 'old', 60_000);
    // 30 entries are two BatchWriteItem calls of 25 and 5: the call of 5 is cut, the call of 25 lands.
    faults.failWhen(
      (command, input) =>
        command === 'BatchWriteItemCommand' && Object.values(input.RequestItems as Record<string, unknown[]>)[0]!.length < 25,
    );
    await expect(cache.mset(keys.map((key) => ({ key, value: 'new', ttl: 60_000 })))).rejects.toThrow(/injected/);
    faults.failWhen(undefined);
    const values = await cache.mget<string>(keys);
    // Whatever DynamoDB now holds, this instance answers it: 25 keys new, 5 still old; none from a stale memory.
    expect(values.filter((value) => value === 'new')).toHaveLength(25);
    expect(values.filter((value) => value === 'old')).toHaveLength(5);
  });
});

describe('del and clear when DynamoDB fails', () => {
  // With auto-recovery (the default) they resolve true, owed: see test/cache/auto-recovery.e2e-spec.ts.
  it('announce no deletion that did not happen, and resolve false without auto-recovery', async () => {
    const { cache, faults } = cacheOn('announce:', { autoRecovery: false });
    await cache.set('k', 'v', 60_000);
    const events: string[] = [];
    for (const name of ['cache:delete', 'del', 'mdel', 'cache:clear', 'clear']) cache.on(name, () => events.push(name));
    cache.on('error', () => undefined);
    faults.failWhen(() => true);
    expect(await cache.del('k')).toBe(false);
    expect(await cache.mdel(['k'])).toBe(false);
    expect(await cache.clear()).toBe(false);
    expect(events).toEqual([]);
    faults.failWhen(undefined);
    expect(await cache.del('k')).toBe(true);
    expect(events).toEqual(['cache:delete', 'del']);
  });
});

describe('errors reported to listeners', () => {
  it("tells a TypeError thrown by the SDK from the caller's bad input: a DynamoDB failure, not a rejection", async () => {
    const { cache, faults } = cacheOn('sdk-typeerror:');
    const errors: unknown[] = [];
    cache.on('error', (error) => errors.push(error));
    faults.failWhen(() => {
      throw new TypeError('Cannot read properties of undefined (reading "socket") (injected)');
    });
    await expect(cache.get('k')).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});

describe('eager refresh with a failing factory', () => {
  it('tries the refresh once, not once a hit, until failSafeThrottleDuration has passed', async () => {
    const { cache } = cacheOn('eager-failing:', { failSafeThrottleDuration: 1_000 });
    const errors: unknown[] = [];
    cache.on('error', (error) => errors.push(error));
    clock.stop();
    await cache.getOrSet('k', () => 'v1', { ttl: 5_000 });
    // Past half of its 5 s: every hit is due for an eager refresh.
    clock.advance(2_600);
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('upstream down');
    };
    for (let hit = 0; hit < 20; hit++) {
      expect(await cache.getOrSet('k', failing, { ttl: 5_000, eagerRefreshThreshold: 0.5 })).toBe('v1');
      // Each hit waits for any refresh it started to settle, so that the next one could start anew.
      await expect.poll(() => errors.length).toBe(calls);
    }
    expect(calls).toBe(1);
    clock.advance(1_000);
    expect(await cache.getOrSet('k', failing, { ttl: 5_000, eagerRefreshThreshold: 0.5 })).toBe('v1');
    await expect.poll(() => calls).toBe(2);
  });
});

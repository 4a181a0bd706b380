import { describe, expect, it } from 'vitest';
import type { DynamoCache, DynamoCacheOptions } from '../../src/index.js';
import { testCache } from '../support/builders.js';
import { localClient, memoryLogger, useCacheTable } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { seenWithin } from '../support/seen-within.js';

// Chaos, streams seed 1: an instance wrote a tagged key while DynamoDB could not take it (owed), then
// expired its tag, which landed; its own reads still answered the owed value as live. Rule 8a: after
// its own expireByTag, no read of the instance returns the value as live, owed or not, landed or not.
const { tableName } = useCacheTable('owed_soft_expiry');
const SEEN_WITHIN = 5_000;

function instance(options: DynamoCacheOptions = {}) {
  const client = localClient({ maxAttempts: 1 });
  const faults = faultyClient(client);
  // No breaker, and a long wait between replays: nothing is sent again until a call of the cache succeeds.
  const cache = testCache(
    { tableName, client },
    { operationTimeout: 1_000, logger: memoryLogger() },
    { name: 'owed-expiry', circuitBreakerThreshold: 0, circuitBreakerDuration: 60_000, memory: { maxTtl: 60_000 }, ...options },
  );
  cache.on('error', () => undefined);
  return {
    cache,
    /** Its writes of entries fail (owed), what else it sends goes through: an expireByTag lands. */
    entryWritesFail: () => faults.failWhen((command) => command === 'PutItemCommand' || command === 'BatchWriteItemCommand'),
    /** Every write fails: an expireByTag is owed too. */
    writesFail: () => faults.failWhen((command) => command !== 'GetItemCommand' && command !== 'BatchGetItemCommand'),
    heal: () => faults.failWhen(undefined),
  };
}

const upstreamDown = () => Promise.reject(new Error('upstream down'));
const owedOf = (cache: DynamoCache) => cache.stats().autoRecovery!.owed;

/** Every read of this instance after its own expireByTag: a miss, or the factory's value; the old one only as fail-safe's fallback. */
async function expectNoLiveRead(cache: DynamoCache, key: string, old: string) {
  expect(await cache.get(key)).toBeUndefined();
  expect(await cache.mget([key])).toEqual([undefined]);
  expect(await cache.getOrSetMany([key], async () => [undefined])).toEqual([undefined]);
  expect(await cache.stores[0]!.get(key)).toBeUndefined();
  await expect(cache.getOrSet(key, upstreamDown)).rejects.toThrow('upstream down');
  // Not kept as fresh for failSafeThrottleDuration, which rule 8a allows: the next calls read again.
  expect(await cache.getOrSet(key, upstreamDown, { failSafe: true, failSafeThrottleDuration: 0 })).toBe(old);
  expect(await cache.getOrSetMany([key], upstreamDown, { failSafe: true, failSafeThrottleDuration: 0 })).toEqual([old]);
}

describe('an owed write of a tagged key, then its instance expires the tag', () => {
  it('reads as stale at once when the expiry lands, before and after the owed write lands', async () => {
    const a = instance();
    a.entryWritesFail();
    await a.cache.set('owed:k1', 'v1', { ttl: 60_000, tags: ['owed:g1'] });
    expect(owedOf(a.cache)).toBe(1);
    expect(await a.cache.get('owed:k1')).toBe('v1');
    expect(await a.cache.expireByTag('owed:g1')).toBe(true);
    await expectNoLiveRead(a.cache, 'owed:k1', 'v1');
    a.heal();
    await seenWithin(async () => (await a.cache.get('owed:probe'), owedOf(a.cache)), 0, SEEN_WITHIN);
    await expectNoLiveRead(a.cache, 'owed:k1', 'v1');
    expect(await a.cache.getOrSet('owed:k1', () => 'v2', { failSafe: true })).toBe('v2');
    await a.cache.disconnect();
  });

  it('reads as stale at once when the expiry is owed too, and after both land', async () => {
    const a = instance();
    a.writesFail();
    await a.cache.set('owed:k2', 'v1', { ttl: 60_000, tags: ['owed:g2'] });
    expect(await a.cache.expireByTag('owed:g2')).toBe(true);
    expect(owedOf(a.cache)).toBe(2);
    await expectNoLiveRead(a.cache, 'owed:k2', 'v1');
    a.heal();
    await seenWithin(async () => (await a.cache.get('owed:probe'), owedOf(a.cache)), 0, SEEN_WITHIN);
    await expectNoLiveRead(a.cache, 'owed:k2', 'v1');
    await a.cache.disconnect();
  });
});

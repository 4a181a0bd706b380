import { describe, expect, it } from 'vitest';
import type { DynamoCache, DynamoCacheOptions } from '../../src/index.js';
import { testCache } from '../support/builders.js';
import { localClient, memoryLogger, useCacheTable } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { seenWithin, sleep } from '../support/seen-within.js';

// One instance's DynamoDB calls fail (the fault-injection middleware on its own client) while the
// other's go through: a stopped DynamoDB Local would cut both off, and the point here is a newer
// write that another instance made during the outage, and what that instance sees after it.
const { tableName } = useCacheTable('auto_recovery');
const WRITES = new Set(['PutItemCommand', 'DeleteItemCommand', 'UpdateItemCommand', 'BatchWriteItemCommand']);
const SEEN_WITHIN = 5_000;

function instance(options: DynamoCacheOptions = {}) {
  const client = localClient({ maxAttempts: 1 });
  const faults = faultyClient(client);
  const logger = memoryLogger();
  const cache = testCache(
    { tableName, client },
    { operationTimeout: 1_000, logger },
    {
      name: 'recovery',
      circuitBreakerThreshold: 3,
      circuitBreakerDuration: 300,
      memory: { maxTtl: 300 },
      ...options,
    },
  );
  cache.on('error', () => undefined);
  return {
    cache,
    logger,
    /** Every call of this instance fails, as a dropped connection would. */
    cutOff: () => faults.failWhen(() => true),
    /** Its writes fail, its reads go through: what it then reads must not contradict what it owes. */
    writesFail: () => faults.failWhen((command) => WRITES.has(command)),
    heal: () => faults.failWhen(undefined),
  };
}

const owedOf = (cache: DynamoCache) => cache.stats().autoRecovery!.owed;

describe('auto-recovery: changes acknowledged while DynamoDB could not take them', () => {
  it("lands an instance's writes, deletes and invalidations made during its outage, and the other instance sees them", async () => {
    const a = instance();
    const b = instance();
    await a.cache.set('kept', 'old', 60_000);
    await a.cache.set('gone', 'old', 60_000);
    await a.cache.set('tagged', 'old', { ttl: 60_000, tags: ['group'] });
    expect(await b.cache.get('tagged')).toBe('old');

    a.cutOff();
    // Under load: 200 writes of 50 keys (the latest of each is owed), a delete and an invalidation.
    for (let round = 0; round < 4; round++)
      await Promise.all(Array.from({ length: 50 }, (_, index) => a.cache.set(`load-${index}`, `a${round}-${index}`, 60_000)));
    await a.cache.set('kept', 'new', 60_000);
    await a.cache.del('gone');
    await a.cache.deleteByTag('group');
    expect(a.cache.circuitState).toBe('open');
    expect(owedOf(a.cache)).toBe(53);
    // Nothing reached DynamoDB: the other instance still reads the old values.
    expect([await b.cache.get('kept'), await b.cache.get('gone'), await b.cache.get('load-7')]).toEqual(['old', 'old', undefined]);
    // Its own reads answer as if the changes had landed.
    expect([await a.cache.get('kept'), await a.cache.get('gone'), await a.cache.get('tagged')]).toEqual(['new', undefined, undefined]);

    a.heal();
    await seenWithin(() => b.cache.get('load-7'), 'a3-7', SEEN_WITHIN);
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    expect(await b.cache.mget(['kept', 'gone', 'tagged', 'load-49'])).toEqual(['new', undefined, undefined, 'a3-49']);
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
    expect(a.logger.warnings.filter((line) => line.includes('drops'))).toEqual([]);
  });

  it('owes what mset and getOrSetMany acknowledged during the outage, answers it from memory, and lands it', async () => {
    const a = instance({ memory: { maxTtl: 60_000 } });
    const b = instance();
    a.cutOff();
    await a.cache.mset([{ key: 'many-m1', value: 'mset', ttl: 60_000 }]);
    expect(await a.cache.getOrSetMany(['many-g1', 'many-g2'], async (keys) => keys.map((key) => `loaded ${key}`), { ttl: 60_000 })).toEqual(
      ['loaded many-g1', 'loaded many-g2'],
    );
    expect(owedOf(a.cache)).toBe(3);
    // Acknowledged: this instance answers with them while DynamoDB cannot be asked.
    expect(await a.cache.mget(['many-m1', 'many-g1', 'many-g2'])).toEqual(['mset', 'loaded many-g1', 'loaded many-g2']);

    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    expect(await b.cache.mget(['many-m1', 'many-g1', 'many-g2'])).toEqual(['mset', 'loaded many-g1', 'loaded many-g2']);
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('a newer write that another instance made during the outage wins over the older owed one', async () => {
    const a = instance();
    const b = instance();
    a.cutOff();
    await a.cache.set('contested', 'from A', 60_000);
    await a.cache.set('uncontested', 'from A', 60_000);
    expect(owedOf(a.cache)).toBe(2);
    await b.cache.set('contested', 'from B', 60_000);

    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('uncontested'), 'from A', SEEN_WITHIN);
    expect(await b.cache.get('contested')).toBe('from B');
    // A's memory copy of its own value lapses after memory.maxTtl; then it reads B's.
    await seenWithin(() => a.cache.get('contested'), 'from B', SEEN_WITHIN);
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('reads never go back to the value an owed change replaced: get, mget and getOrSet, while only writes fail', async () => {
    // No memory tier and no breaker: every read below reaches DynamoDB, which still holds the old values.
    const a = instance({ memory: false, circuitBreakerThreshold: 0 });
    const b = instance();
    await a.cache.set('mine', 'old', 60_000);
    await a.cache.set('deleted', 'old', 60_000);
    await a.cache.set('tagged', 'old', { ttl: 60_000, tags: ['t'] });
    await a.cache.set('cleared', 'old', 60_000);

    a.writesFail();
    await a.cache.set('mine', 'new', 60_000);
    await a.cache.del('deleted');
    await a.cache.deleteByTag('t');
    expect(await b.cache.mget(['mine', 'deleted', 'tagged'])).toEqual(['old', 'old', 'old']);
    const factory = () => Promise.resolve('from the factory');
    expect(await a.cache.get('mine')).toBe('new');
    expect(await a.cache.get('deleted')).toBeUndefined();
    expect(await a.cache.get('tagged')).toBeUndefined();
    expect(await a.cache.mget(['mine', 'deleted', 'tagged'])).toEqual(['new', undefined, undefined]);
    expect(await a.cache.getOrSet('mine', factory)).toBe('new');
    expect(await a.cache.ttl('deleted')).toBeUndefined();
    // A cache without memory takes tag times as current for 1,000 ms, then reads them again from
    // DynamoDB, which does not have the invalidation yet: the time passing is the condition.
    await sleep(1_100);
    expect(await a.cache.get('tagged')).toBeUndefined();

    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    expect(await b.cache.mget(['mine', 'deleted', 'tagged', 'cleared'])).toEqual(['new', undefined, undefined, 'old']);
    expect(await a.cache.get('mine')).toBe('new');
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  for (const memory of [false, undefined] as const)
    it(`getOrSetMany answers each key from what is owed, as get does, while only writes fail (memory ${memory === false ? 'off' : 'on'})`, async () => {
      const a = instance({ memory, circuitBreakerThreshold: 0 });
      const prefix = memory === false ? 'many-off' : 'many-on';
      const [mine, deleted, tagged] = ['mine', 'deleted', 'tagged'].map((name) => `${prefix}:${name}`) as [string, string, string];
      await a.cache.set(mine, 'old', 60_000);
      await a.cache.set(deleted, 'old', 60_000);
      await a.cache.set(tagged, 'old', { ttl: 60_000, tags: [`${prefix}:t`] });

      a.writesFail();
      await a.cache.set(mine, 'new', 60_000);
      await a.cache.del(deleted);
      await a.cache.deleteByTag(`${prefix}:t`);
      const asked: string[][] = [];
      const loader = async (keys: readonly string[]) => (asked.push([...keys]), keys.map(() => 'loaded'));
      expect(await a.cache.getOrSetMany([mine, deleted, tagged], loader, { ttl: 60_000 })).toEqual(['new', 'loaded', 'loaded']);
      expect(asked).toEqual([[deleted, tagged]]);
      // And with fail-safe, which reads fallbacks too: an owed delete leaves none.
      await a.cache.del(deleted);
      await expect(a.cache.getOrSetMany([deleted], () => Promise.reject(new Error('down')), { failSafe: true })).rejects.toThrow('down');
      // Nothing of what DynamoDB still holds came back into memory.
      expect(await a.cache.get(deleted)).toBeUndefined();
      expect(await a.cache.get(mine)).toBe('new');
      await a.cache.disconnect();
    });

  it('an owed clear() lands, and retires what the other instance holds', async () => {
    const a = instance();
    const b = instance();
    await a.cache.set('x', 'old', 60_000);
    expect(await b.cache.get('x')).toBe('old');
    a.cutOff();
    await a.cache.clear();
    expect(await a.cache.get('x')).toBeUndefined();
    a.heal();
    await seenWithin(() => b.cache.get('x'), undefined, SEEN_WITHIN);
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('owes expire and expireByTag made during the outage, lands them only over older items, and the other instance sees them', async () => {
    const a = instance();
    const b = instance();
    const upstreamDown = () => Promise.reject(new Error('upstream down'));
    await a.cache.set('exp:key', 'old', 60_000);
    await a.cache.set('exp:tagged', 'old', { ttl: 60_000, tags: ['exp:group'] });
    await a.cache.set('exp:contested', 'old', 60_000);
    expect(await b.cache.mget(['exp:key', 'exp:tagged', 'exp:contested'])).toEqual(['old', 'old', 'old']);

    a.cutOff();
    expect(await a.cache.expire('exp:key')).toBe(true);
    expect(await a.cache.expireByTag('exp:group')).toBe(true);
    await a.cache.expire('exp:contested');
    expect(owedOf(a.cache)).toBe(3);
    // Stale at once here, a fallback still; nothing reached DynamoDB.
    expect([await a.cache.get('exp:key'), await a.cache.get('exp:tagged')]).toEqual([undefined, undefined]);
    expect(await a.cache.getOrSet('exp:key', upstreamDown, { failSafe: true })).toBe('old');
    expect(await b.cache.mget(['exp:key', 'exp:tagged'])).toEqual(['old', 'old']);
    // Made after A's expire: it stays live once A's expire lands.
    await b.cache.set('exp:contested', 'newer', 60_000);

    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('exp:key'), undefined, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('exp:tagged'), undefined, SEEN_WITHIN);
    // Stale, not gone: the other instance's fail-safe serves what A expired.
    expect(await b.cache.getOrSet('exp:key', upstreamDown, { failSafe: true })).toBe('old');
    expect(await b.cache.getOrSet('exp:tagged', upstreamDown, { failSafe: true })).toBe('old');
    expect(await b.cache.get('exp:contested')).toBe('newer');
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('answers reads from owed expiries while only writes fail, and a value owed with an expire after it lands stale', async () => {
    const a = instance({ memory: false, circuitBreakerThreshold: 0 });
    const b = instance();
    const upstreamDown = () => Promise.reject(new Error('upstream down'));
    await a.cache.set('exp2:found', 'old', 60_000);
    await a.cache.set('exp2:tagged', 'old', { ttl: 60_000, tags: ['exp2:group'] });

    a.writesFail();
    await a.cache.expire('exp2:found');
    await a.cache.expireByTag('exp2:group');
    await a.cache.set('exp2:owed', 'owed value', 60_000);
    await a.cache.expire('exp2:owed');
    expect(owedOf(a.cache)).toBe(3);
    // DynamoDB still holds them live: this instance answers as if its expiries had landed.
    expect(await a.cache.mget(['exp2:found', 'exp2:tagged', 'exp2:owed'])).toEqual([undefined, undefined, undefined]);
    for (const [key, value] of [
      ['exp2:found', 'old'],
      ['exp2:tagged', 'old'],
      ['exp2:owed', 'owed value'],
    ]) {
      expect(await a.cache.get(key!)).toBeUndefined();
      expect(await a.cache.getOrSet(key!, upstreamDown, { failSafe: true })).toBe(value);
      expect(await a.cache.getOrSetMany([key!], upstreamDown, { failSafe: true })).toEqual([value]);
    }

    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    expect(await b.cache.mget(['exp2:found', 'exp2:tagged', 'exp2:owed'])).toEqual([undefined, undefined, undefined]);
    expect(await b.cache.getOrSet('exp2:owed', upstreamDown, { failSafe: true })).toBe('owed value');
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('resolves an owed del, mdel, deleteByTag, clear, expire or expireByTag as acknowledged, as set is, announcing nothing until it lands', async () => {
    const a = instance();
    await a.cache.set('ack:k', 'v', 60_000);
    const events: string[] = [];
    for (const name of ['cache:delete', 'del', 'mdel', 'cache:clear', 'clear']) a.cache.on(name, () => events.push(name));
    a.cutOff();
    expect(await a.cache.set('ack:k', 'w', 60_000)).toBe('w');
    const answers = {
      del: await a.cache.del('ack:k'),
      mdel: await a.cache.mdel(['ack:k', 'ack:l']),
      deleteByTag: await a.cache.deleteByTag('ack:t'),
      expire: await a.cache.expire('ack:m'),
      expireByTag: await a.cache.expireByTag('ack:u'),
      clear: await a.cache.clear(),
    };
    expect(answers).toEqual({ del: true, mdel: true, deleteByTag: true, expire: true, expireByTag: true, clear: true });
    // Events say what DynamoDB did: nothing yet (as an owed set announces no `set`).
    expect(events).toEqual([]);
    expect(owedOf(a.cache)).toBeGreaterThan(0);
    // Once disconnect() began, nothing more is kept: false, as without auto-recovery.
    await a.cache.disconnect();
    expect([await a.cache.del('ack:k'), await a.cache.deleteByTag('ack:t'), await a.cache.expire('ack:m')]).toEqual([false, false, false]);
  });

  it('answers an owed value when DynamoDB cannot be read at all, memory off: get, mget, ttl, refresh, getOrSet, getOrSetMany alike', async () => {
    const a = instance({ memory: false, circuitBreakerThreshold: 1 });
    await a.cache.set('unread:gone', 'old', 60_000);
    a.cutOff();
    await a.cache.set('unread:mine', 'new', { slidingExpiration: 60_000 });
    await a.cache.del('unread:gone');
    expect(a.cache.circuitState).toBe('open');
    const never = () => Promise.reject(new Error('not called'));
    expect(await a.cache.get('unread:mine')).toBe('new');
    expect(await a.cache.mget(['unread:mine', 'unread:gone'])).toEqual(['new', undefined]);
    expect(await a.cache.ttl('unread:mine')).toBeGreaterThan(Date.now());
    expect([await a.cache.refresh('unread:mine'), await a.cache.refresh('unread:gone')]).toEqual([true, false]);
    expect(await a.cache.getOrSet('unread:mine', never)).toBe('new');
    expect(await a.cache.getOrSetMany(['unread:mine'], never)).toEqual(['new']);
    await a.cache.disconnect();
  });

  it('refresh answers as a read for a key whose change is owed, and renews nothing it replaced, while only writes fail', async () => {
    const a = instance({ memory: false, circuitBreakerThreshold: 0 });
    const sliding = { slidingExpiration: 60_000 };
    await a.cache.set('refresh:deleted', 'old', sliding);
    await a.cache.set('refresh:expired', 'old', sliding);
    a.writesFail();
    await a.cache.del('refresh:deleted');
    await a.cache.expire('refresh:expired');
    await a.cache.set('refresh:owed', 'new', sliding);
    // DynamoDB holds the first two live, and nothing for the third.
    expect(await a.cache.refresh('refresh:deleted')).toBe(false);
    expect(await a.cache.refresh('refresh:expired')).toBe(false);
    expect(await a.cache.refresh('refresh:owed')).toBe(true);
    await a.cache.disconnect();
  });

  it('the keyv view reads what is owed as the cache does, and its writes settle what they replace: a delete is not undone', async () => {
    // No breaker, and a long wait between replays: nothing is sent again until a call of the cache succeeds.
    const a = instance({ circuitBreakerThreshold: 0, circuitBreakerDuration: 60_000, memory: { maxTtl: 60_000 } });
    const b = instance();
    const view = a.cache.stores[0]!;
    await a.cache.set('kv:deleted', 'old', 60_000);
    a.writesFail();
    await a.cache.set('kv:mine', 'new', 60_000);
    await a.cache.del('kv:deleted');
    expect([await view.get('kv:mine'), await view.get('kv:deleted')]).toEqual(['new', undefined]);
    expect(await view.getMany(['kv:mine', 'kv:deleted'])).toEqual(['new', undefined]);

    a.cutOff();
    await a.cache.set('kv:undone', 'owed', 60_000);
    a.heal();
    // Through the view, after the owed set: sent later, that set must not land over the delete.
    expect(await view.delete('kv:undone')).toBe(false);
    expect(await a.cache.get('kv:undone')).toBeUndefined();
    // Calls of the cache that succeed: what is owed is sent (at most every 200 ms).
    const owedAfterACall = async () => (await a.cache.get('kv:probe'), owedOf(a.cache));
    await seenWithin(owedAfterACall, 0, SEEN_WITHIN);
    expect(await b.cache.mget(['kv:undone', 'kv:mine', 'kv:deleted'])).toEqual([undefined, 'new', undefined]);
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('keeps at most maxItems changes, dropping the oldest and counting it', async () => {
    const a = instance({ autoRecovery: { maxItems: 5 } });
    const b = instance();
    a.cutOff();
    for (let index = 0; index < 8; index++) await a.cache.set(`bounded-${index}`, `v${index}`, 60_000);
    expect(a.cache.stats().autoRecovery).toEqual({ owed: 5, dropped: 3 });
    a.heal();
    await seenWithin(async () => owedOf(a.cache), 0, SEEN_WITHIN);
    const keys = Array.from({ length: 8 }, (_, index) => `bounded-${index}`);
    expect(await b.cache.mget(keys)).toEqual([undefined, undefined, undefined, 'v3', 'v4', 'v5', 'v6', 'v7']);
    expect(a.cache.stats().autoRecovery).toEqual({ owed: 0, dropped: 3 });
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });

  it('disconnect() during the outage says how many owed changes it drops, naming the cache and the table', async () => {
    const a = instance();
    a.cutOff();
    await a.cache.set('lost-1', 'v', 60_000);
    await a.cache.del('lost-2');
    await a.cache.disconnect();
    expect(a.logger.warnings.filter((line) => line.includes('drops'))).toEqual([
      expect.stringMatching(new RegExp(`Cache "recovery" on DynamoDB table "${tableName}": disconnect\\(\\) drops 2 change`)),
    ]);
  });

  it('owes nothing with autoRecovery: false, as before it existed', async () => {
    const a = instance({ autoRecovery: false });
    const b = instance();
    a.cutOff();
    await a.cache.set('unsent', 'v', 60_000);
    expect(a.cache.stats().autoRecovery).toBeUndefined();
    a.heal();
    await a.cache.get('probe');
    expect(await b.cache.get('unsent')).toBeUndefined();
    await Promise.all([a.cache.disconnect(), b.cache.disconnect()]);
  });
});

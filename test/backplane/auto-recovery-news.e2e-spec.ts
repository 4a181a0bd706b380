import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, type DynamoCacheModuleOptions, DynamoCacheRegistry } from '../../src/index.js';
import { cacheModule } from '../support/builders.js';
import { localClient, useTableNames } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { useNestApps } from '../support/nest-apps.js';
import { seenWithin } from '../support/seen-within.js';

// A's DynamoDB calls fail through the fault-injection middleware on its own client while B's go
// through. B keeps values in memory for a minute: it can learn of A's changes, once they land after
// the outage, only through the backplane, as of any change.
const MEMORY_TTL = 60_000;
const SEEN_WITHIN = 8_000;
const apps = useNestApps();
const table = useTableNames();

async function instance(tableName: string, backplane: DynamoCacheModuleOptions['backplane']) {
  const client = localClient({ maxAttempts: 1 });
  const faults = faultyClient(client);
  const app = await apps.start({
    imports: [
      cacheModule(
        { tableName, client },
        {
          createTableIfNotExists: true,
          operationTimeout: 1_000,
          circuitBreakerThreshold: 3,
          circuitBreakerDuration: 300,
          memory: { maxTtl: MEMORY_TTL },
          backplane,
        },
      ),
    ],
  });
  const cache = app.get<DynamoCache>(CACHE);
  cache.on('error', () => undefined);
  // Only the cache's calls fail: the stream reader has a client of its own.
  const news = app.get(DynamoCacheRegistry).backplane!;
  return { cache, news, cutOff: () => faults.failWhen(() => true), heal: () => faults.failWhen(undefined) };
}

/**
 * B's answers for `keys` and the tier of each hit, as `old,old memory,memory`; resolves once B serves
 * them all from memory, which only news of a change makes it read DynamoDB again for.
 */
async function servedFromMemory(b: Awaited<ReturnType<typeof instance>>, keys: readonly string[], { poll }: { poll: boolean }) {
  // The poll backplane: until B has applied A's writes' news (which clears its memory once).
  if (poll) await seenWithin(async () => b.news.stats().invalidations > 0, true, SEEN_WITHIN);
  const hits: string[] = [];
  b.cache.on('cache:hit', (event) => hits.push(event.tier!));
  const tiersOfB = async () => {
    hits.length = 0;
    const values: unknown[] = [];
    for (const key of keys) values.push(await b.cache.get(key));
    return `${values.join()} ${hits.join()}`;
  };
  await seenWithin(tiersOfB, 'old,old memory,memory', SEEN_WITHIN);
  return tiersOfB;
}

describe.each([
  ['poll', { type: 'poll', interval: 100, maxLag: 30_000 }],
  ['streams', { type: 'streams', pollInterval: 100, maxLag: 30_000 }],
] as const)('auto-recovery with the %s backplane', (name, backplane) => {
  it("tells the other instance of A's owed changes once they land, as of any change", async () => {
    const tableName = table(`recovery_${name}`);
    const a = await instance(tableName, backplane);
    const b = await instance(tableName, backplane);
    await a.cache.set('value', 'old', MEMORY_TTL);
    await a.cache.set('gone', 'old', MEMORY_TTL);
    const tiersOfB = await servedFromMemory(b, ['value', 'gone'], { poll: name === 'poll' });

    a.cutOff();
    await a.cache.set('value', 'new', MEMORY_TTL);
    await a.cache.del('gone');
    expect(a.cache.stats().autoRecovery!.owed).toBe(2);
    expect(await tiersOfB()).toBe('old,old memory,memory');

    a.heal();
    await seenWithin(async () => a.cache.stats().autoRecovery!.owed, 0, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('value'), 'new', SEEN_WITHIN);
    await seenWithin(() => b.cache.get('gone'), undefined, SEEN_WITHIN);
  });

  it("tells the other instance of A's owed expire and expireByTag once they land: stale there, a fallback still", async () => {
    const tableName = table(`recovery_expiry_${name}`);
    const a = await instance(tableName, backplane);
    const b = await instance(tableName, backplane);
    await a.cache.set('expired', 'old', MEMORY_TTL);
    await a.cache.set('tagged', 'old', { ttl: MEMORY_TTL, tags: ['group'] });
    const tiersOfB = await servedFromMemory(b, ['expired', 'tagged'], { poll: name === 'poll' });

    a.cutOff();
    await a.cache.expire('expired');
    await a.cache.expireByTag('group');
    expect(a.cache.stats().autoRecovery!.owed).toBe(2);
    expect(await tiersOfB()).toBe('old,old memory,memory');

    a.heal();
    await seenWithin(async () => a.cache.stats().autoRecovery!.owed, 0, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('expired'), undefined, SEEN_WITHIN);
    await seenWithin(() => b.cache.get('tagged'), undefined, SEEN_WITHIN);
    const upstreamDown = () => Promise.reject(new Error('upstream down'));
    expect(await b.cache.getOrSet('expired', upstreamDown, { failSafe: true })).toBe('old');
    expect(await b.cache.getOrSet('tagged', upstreamDown, { failSafe: true })).toBe('old');
  });
});

import { describe, expect, it } from 'vitest';
import { CACHE, type CacheEvent, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { caughtUpAfter, pastThisMillisecond, seenWithin } from '../support/seen-within.js';
import { cacheModule } from '../support/builders.js';

// A table without a stream: the poll backplane needs none.
const { tableName } = useCacheTable('bp_poll');
const INTERVAL = 100;
// Generous, so that a busy machine's slow poll does not degrade the backplane (which clears memory)
// in the middle of a test about what memory keeps.
const MAX_LAG = 10_000;
const apps = useNestApps();

async function instance() {
  const app = await apps.start({
    imports: [
      cacheModule({ tableName }, { backplane: { type: 'poll', interval: INTERVAL, maxLag: MAX_LAG } }),
      DynamoCacheModule.forFeature({ name: 'prices' }),
    ],
  });
  const registry = app.get(DynamoCacheRegistry);
  return { app, main: app.get<DynamoCache>(CACHE), prices: registry.get('prices'), registry };
}

describe('the poll backplane: a version item per cache', () => {
  it("clears the other app's memory of a cache written on one, within the interval, and only that cache", async () => {
    const a = await instance();
    const b = await instance();
    await a.main.set('x', 1);
    await a.prices.set('p', 10);
    // Until B has seen both caches' versions move, which clears its (empty) memory of each.
    await seenWithin(async () => b.registry.backplane!.stats().invalidations, 2, MAX_LAG);
    await pastThisMillisecond();
    expect([await b.main.get('x'), await b.prices.get('p')]).toEqual([1, 10]);
    const hits: string[] = [];
    b.main.on('cache:hit', (event: CacheEvent) => hits.push(`${event.tier}`));

    await a.prices.set('p', 11);
    await seenWithin(() => b.prices.get('p'), 11, MAX_LAG);
    // The default cache's version did not move: B still answers it from memory.
    await b.main.get('x');
    expect(hits).toEqual(['memory']);

    await a.main.del('x');
    await seenWithin(() => b.main.get('x'), undefined, MAX_LAG);
    expect(b.registry.backplane!.stats()).toMatchObject({ type: 'poll', state: 'healthy' });
  });

  it("keeps an app's own writes in its memory: only another's write clears it", async () => {
    const a = await instance();
    const hits: string[] = [];
    a.main.on('cache:hit', (event: CacheEvent) => hits.push(`${event.tier}`));
    const before = await a.main.store.readVersion();
    await a.main.set('mine', 1);
    // Until the write's bump of the version has landed, and a poll begun after it has read it.
    await seenWithin(async () => (await a.main.store.readVersion()) > before, true, MAX_LAG);
    await caughtUpAfter(a.registry.backplane!, Date.now(), MAX_LAG);
    await a.main.get('mine');
    expect(hits).toEqual(['memory']);
  });
});

import { describe, expect, it } from 'vitest';
import { CACHE, type CacheEvent, type DynamoCache } from '../../src/index.js';
import { useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { cacheModule } from '../support/builders.js';

// A table without a stream: the poll backplane needs none.
const { tableName } = useCacheTable('bp_frozen');
const clock = useStoppedClock();
// Long enough that the backplanes' own timers (on real time) never run during a test: only the
// stopped clock moves, as a frozen process's clock does while its timers wait.
const INTERVAL = 60_000;
const MAX_LAG = 120_000;
const apps = useNestApps();

async function instance(): Promise<DynamoCache> {
  const app = await apps.start({
    imports: [cacheModule({ tableName }, { backplane: { type: 'poll', interval: INTERVAL, maxLag: MAX_LAG } })],
  });
  return app.get<DynamoCache>(CACHE);
}

describe('memory under a backplane, in a process that was frozen', () => {
  it('answers from DynamoDB, not memory, once its backplane has not caught up for maxLag, before its timer has run', async () => {
    const writer = await instance();
    const frozen = await instance();
    clock.stop();
    await writer.set('k', 'v1', 3_600_000);
    expect(await frozen.get('k')).toBe('v1');
    const tiers: string[] = [];
    frozen.on('cache:hit', (event: CacheEvent) => tiers.push(`${event.tier}`));
    expect(await frozen.get('k')).toBe('v1');
    await writer.set('k', 'v2', 3_600_000);
    // The frozen instance wakes past maxLag: its clock moved, its backplane's timer has not fired.
    clock.advance(MAX_LAG + 1_000);
    expect(await frozen.get('k')).toBe('v2');
    expect(tiers).toEqual(['memory', 'dynamodb']);
  });

  it('still serves from memory an entry stored within memory.maxTtl, as without a backplane', async () => {
    const writer = await instance();
    const frozen = await instance();
    clock.stop();
    await writer.set('recent', 'v1', 3_600_000);
    clock.advance(MAX_LAG + 1_000);
    expect(await frozen.get('recent')).toBe('v1');
    const tiers: string[] = [];
    frozen.on('cache:hit', (event: CacheEvent) => tiers.push(`${event.tier}`));
    clock.advance(4_000);
    expect(await frozen.get('recent')).toBe('v1');
    expect(tiers).toEqual(['memory']);
  });
});

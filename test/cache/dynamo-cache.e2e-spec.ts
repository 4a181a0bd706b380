import { describe, expect, it } from 'vitest';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { localClient, memoryLogger, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';

const { client, tableName } = useCacheTable('cache');
const clock = useStoppedClock();
const cacheOn = (prefix: string, options: Partial<ConstructorParameters<typeof DynamoStore>[0]> = {}) =>
  new DynamoCache(new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, ...options }));

describe('DynamoCache.wrap', () => {
  it('reports, with raw, the expiry the entry was written with, for entry options too', async () => {
    const cache = cacheOn('raw:', { ttl: 5_000 });
    const deadline = Date.now() + 60_000;
    const absolute = await cache.wrap('absolute', () => 1, { ttl: { absoluteExpiration: deadline }, raw: true });
    expect(absolute.expires).toBe(deadline);
    const before = Date.now();
    const sliding = await cache.wrap('sliding', () => 2, { ttl: { slidingExpiration: 30_000 }, raw: true });
    expect(sliding.expires).toBeGreaterThanOrEqual(before + 30_000);
    expect(sliding.expires).toBeLessThanOrEqual(Date.now() + 30_000);
    const defaulted = await cache.wrap('default', () => 3, { raw: true });
    expect(defaulted.expires! - Date.now()).toBeLessThanOrEqual(5_000);
    const forever = await cache.wrap('forever', () => 4, { ttl: 0, raw: true });
    expect(forever.expires).toBeUndefined();
    expect(await cache.ttl('absolute')).toBe(deadline);
  });

  it('serves a hit near its expiry at once and refreshes it in the background, once', async () => {
    const cache = cacheOn('refresh-ahead:');
    // The hits must come before the 1 s expiry: on a stopped clock they do, however slow the machine.
    clock.stop();
    await cache.set('report', 'old', 1_000);
    let calls = 0;
    const factory = async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 'new';
    };
    const refreshed = new Promise((resolve) => cache.on('refresh', resolve));
    const hits = await Promise.all([1, 2, 3].map(() => cache.wrap('report', factory, 60_000, 5_000)));
    expect(hits).toEqual(['old', 'old', 'old']);
    await cache.wrap('report', factory, 60_000, 5_000); // a later hit while the refresh still runs
    await refreshed;
    expect(calls).toBe(1);
    expect(await cache.get('report')).toBe('new');
    expect((await cache.ttl('report'))! - Date.now()).toBeGreaterThan(50_000);
  });
});

describe('DynamoCache failures', () => {
  it('logs a DynamoDB failure with the operation and key when nobody listens for errors', async () => {
    const logger = memoryLogger();
    const unreachable = localClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const cache = new DynamoCache(new DynamoStore({ tableName, client: unreachable, ...cacheTableAttributes, logger }));
    expect(await cache.get('user:1')).toBeUndefined();
    expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
    expect(logger.warnings[0]).toMatch(new RegExp(`^Cache ${tableName}/dc:: get "user:1" failed: `));
    expect(logger.warnings[1]).toContain('mget of 2 keys ("a", "b") failed');
    unreachable.destroy();
  });
});

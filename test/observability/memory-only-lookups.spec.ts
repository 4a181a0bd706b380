import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from '../../src/index.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { useInMemoryTelemetry, valueOf } from './telemetry-support.js';

// A memory-only module has no DynamoDB: its stats and metrics say nothing of one.
const telemetry = useInMemoryTelemetry();
const clock = useStoppedClock();
let app: INestApplication;
let cache: DynamoCache;
let plain: DynamoCache;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({
        distributed: false,
        openTelemetry: { meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider },
      }),
      DynamoCacheModule.forFeature({ name: 'plain', memory: false }),
    ],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  cache = app.get<DynamoCache>(CACHE);
  plain = app.get(DynamoCacheRegistry).get('plain');
});
afterAll(() => app?.close());

describe('stats() and metrics of a memory-only cache (distributed: false)', () => {
  it('counts each lookup once in memory, its memory tier and the store behind it as one, and reports no dynamodb tier', async () => {
    clock.stop();
    await cache.set('a', 1, 60_000);
    expect(await cache.get('a')).toBe(1); // hit: the memory tier
    expect(await cache.get('none')).toBeUndefined(); // miss
    expect(await cache.getOrSet('b', () => 'v', { ttl: 60_000 })).toBe('v'); // miss, the factory runs
    expect(cache.peek('none')).toBeUndefined(); // miss
    clock.advance(6_000); // past memory.maxTtl (5 s): the memory tier no longer serves, the store still holds both
    expect(await cache.get('a')).toBe(1); // hit: the store
    expect(await cache.mget(['a', 'b', 'none'])).toEqual([1, 'v', undefined]); // hit (memory tier), hit (store), miss
    expect(await cache.ttl('b')).toBeGreaterThan(Date.now()); // hit: the store
    const expected = { hits: 5, misses: 4, stale: 0 };
    expect(cache.stats().tiers).toEqual({ memory: expected });

    // With the memory tier off, the store's answers alone.
    await plain.set('p', 1, 60_000);
    expect(await plain.get('p')).toBe(1);
    expect(await plain.get('none')).toBeUndefined();
    expect(plain.stats().tiers).toEqual({ memory: { hits: 1, misses: 1, stale: 0 } });

    const lookups = await telemetry.points('dynamo_cache.lookups');
    expect(lookups.filter((point) => point.attributes['cache.tier'] !== 'memory')).toEqual([]);
    for (const [result, count] of Object.entries({ hit: expected.hits, miss: expected.misses, stale: expected.stale }))
      expect(valueOf(lookups, { 'cache.name': 'default', 'cache.tier': 'memory', 'cache.result': result }), result).toBe(count);
    expect(valueOf(lookups, { 'cache.name': 'plain', 'cache.tier': 'memory', 'cache.result': 'hit' })).toBe(1);
    // No capacity either: DynamoDB never billed it. What the caches have is still there.
    expect(await telemetry.points('dynamo_cache.dynamodb.consumed_capacity')).toEqual([]);
    expect(valueOf(await telemetry.points('dynamo_cache.memory.entries'), { 'cache.name': 'default' })).toBe(cache.stats().memory!.entries);
    expect(valueOf(await telemetry.points('dynamo_cache.circuit.state'), { 'cache.name': 'plain', 'circuit.state': 'closed' })).toBe(1);
  });
});

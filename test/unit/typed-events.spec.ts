import { describe, expect, expectTypeOf, it } from 'vitest';
import { type CacheEvent, DynamoCache } from '../../src/index.js';
import { type CacheCapacityEvent } from '../../src/entries/observability.js';
import { DynamoStore } from '../../src/entries/store.js';
import { cacheTableAttributes } from '../support/dynamo.js';
import { engineOf } from '../../src/cache/dynamo-cache.js';

// No call reaches DynamoDB: the events are emitted by the cache's own event hub.
const cache = new DynamoCache(new DynamoStore({ tableName: 'typed_events', region: 'us-east-1', ...cacheTableAttributes }));

describe("the cache's events, typed", () => {
  it('gives a cache:* listener its event type without an annotation, and hands it what was emitted', () => {
    const tiers: unknown[] = [];
    cache.on('cache:hit', (event) => {
      expectTypeOf(event).toEqualTypeOf<CacheEvent>();
      tiers.push(event.tier);
    });
    cache.on('cache:capacity', (event) => expectTypeOf(event).toEqualTypeOf<CacheCapacityEvent>());
    engineOf(cache).events.emitCache('cache:hit', 'k', 'memory');
    expect(tiers).toEqual(['memory']);
  });

  it('refuses, at compile time (npm test type-checks), a cache:* listener of another shape; other events stay untyped', () => {
    // @ts-expect-error: a hit's event has no `count`
    cache.on('cache:hit', (event: { count: number }) => event.count);
    // @ts-expect-error: a capacity event is not a CacheEvent
    cache.on('cache:capacity', (event: CacheEvent & { tier: 'memory' }) => event.tier);
    // cache-manager's own events keep their untyped listeners.
    const sets: unknown[] = [];
    const onSet = (...args: unknown[]) => void sets.push(args);
    cache.on('set', onSet);
    engineOf(cache).events.emit('set', { key: 'k' });
    cache.off('set', onSet);
    engineOf(cache).events.emit('set', { key: 'k2' });
    expect(sets).toEqual([[{ key: 'k' }]]);
  });
});

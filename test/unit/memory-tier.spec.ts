import { describe, expect, it } from 'vitest';
import { renewalDue } from '../../src/cache/gated-memory.js';
import { MemoryTier, memoryValue } from '../../src/cache/memory-tier.js';
import { serializeValue } from '../../src/store/value-serializer.js';
import { CLEARED_TAG } from '../../src/store/tags.js';

const OPTIONS = { maxEntries: 3, maxBytes: 1_000_000, maxTtlMs: 5_000 };
const payload = (value: unknown) => serializeValue('k', value);
const MADE = { madeAt: 0 };

describe('the memory tier, on a clock the test moves', () => {
  it('serves an entry until its expiry or maxTtl, whichever comes first', () => {
    const tier = new MemoryTier(OPTIONS);
    expect(tier.set('short', payload(1), undefined, { expiresAt: 1_000 }, 0, MADE).freshUntil).toBe(1_000);
    expect(tier.set('long', payload(2), undefined, { expiresAt: 60_000 }, 0, MADE).freshUntil).toBe(5_000);
    expect(tier.set('never', payload(3), undefined, { expiresAt: undefined }, 0, MADE).freshUntil).toBe(5_000);
  });

  it('hands a sliding entry over to DynamoDB at its renewal point', () => {
    const tier = new MemoryTier(OPTIONS);
    // A 2 s window renewed at a tenth of it: from 200 ms on a read must reach DynamoDB.
    const renewAt = renewalDue(2_000, 2_000, undefined, 0.1);
    expect(renewAt).toBe(200);
    expect(tier.set('sliding', payload('v'), undefined, { expiresAt: 2_000, renewAt }, 0, MADE).freshUntil).toBe(200);
  });

  it('lets memory serve a sliding entry to its end once its absolute deadline leaves nothing to renew', () => {
    expect(renewalDue(10_000, 2_000, 10_100, 0.1)).toBeUndefined();
    expect(renewalDue(10_000, 2_000, 20_000, 0.1)).toBe(8_200);
    expect(renewalDue(10_000, undefined, undefined, 0.1)).toBeUndefined();
  });

  it('keeps a fail-safe fallback past its freshness, and drops it at keepUntil', () => {
    const tier = new MemoryTier(OPTIONS);
    tier.set('k', payload('v'), undefined, { expiresAt: 1_000, keepUntil: 9_000 }, 0, MADE);
    expect(tier.get('k', 8_999)).toBeDefined();
    expect(tier.get('k', 9_000)).toBeUndefined();
    expect(tier.size).toBe(0);
  });

  it('counts freshness from when the operation that produced the value began, not from when it arrived', () => {
    const tier = new MemoryTier(OPTIONS);
    // A read begun at 0 whose answer came 7 s later (a freeze): already past memory.maxTtl (5 s).
    const entry = tier.set('k', payload('v'), 'v', { expiresAt: undefined }, 0, MADE);
    expect(tier.isFresh(entry, 7_000)).toBe(false);
    expect(entry.freshUntil).toBe(5_000);
  });

  it('drops what an invalidation retires: tagged entries made at or before it, or all for the cache', () => {
    const tier = new MemoryTier(OPTIONS);
    tier.set('old', payload(1), 1, { expiresAt: undefined }, 0, { madeAt: 100, tags: ['a'] });
    tier.set('new', payload(2), 2, { expiresAt: undefined }, 0, { madeAt: 300, tags: ['a'] });
    tier.set('other', payload(3), 3, { expiresAt: undefined }, 0, { madeAt: 100, tags: ['b'] });
    expect(tier.forgetTagged(new Map([['a', 200]]))).toBe(1);
    expect([...tier.keys()].sort()).toEqual(['new', 'other']);
    // News that does not say when: every entry with the tag.
    expect(tier.forgetTagged(new Map([['a', undefined]]))).toBe(1);
    expect(tier.forgetTagged(new Map([[CLEARED_TAG, 50]]))).toBe(0);
    expect(tier.forgetTagged(new Map([[CLEARED_TAG, 100]]))).toBe(1);
    expect(tier.size).toBe(0);
  });

  it('evicts the least recently used past maxEntries, sparing entries hit since they were stored', () => {
    const tier = new MemoryTier(OPTIONS);
    for (const key of ['a', 'b', 'c']) tier.set(key, payload(key), undefined, { expiresAt: undefined }, 0, MADE);
    tier.get('a', 1);
    tier.set('d', payload('d'), undefined, { expiresAt: undefined }, 2, MADE);
    expect([...tier.keys()].sort()).toEqual(['a', 'c', 'd']);
  });

  it('keeps nothing larger than maxBytes, and counts bytes back down on delete', () => {
    const tier = new MemoryTier({ ...OPTIONS, maxBytes: 500 });
    tier.set('big', payload('x'.repeat(1_000)), undefined, { expiresAt: undefined }, 0, MADE);
    expect(tier.size).toBe(0);
    tier.set('small', payload('x'), undefined, { expiresAt: undefined }, 0, MADE);
    expect(tier.sizeBytes).toBeGreaterThan(0);
    tier.delete('small');
    expect(tier.sizeBytes).toBe(0);
  });

  it('hands out a frozen copy of a JSON value, never the object it was given', () => {
    const tier = new MemoryTier(OPTIONS);
    const original = { list: [1] };
    const entry = tier.set('k', payload(original), undefined, { expiresAt: undefined }, 0, MADE);
    const value = memoryValue<typeof original>(entry);
    expect(value).toEqual(original);
    expect(value).not.toBe(original);
    expect(Object.isFrozen(value.list)).toBe(true);
  });

  it('serves an entry past memory.maxTtl only while a backplane vouches, asked at the hit', () => {
    const tier = new MemoryTier(OPTIONS);
    let keepingUp = true;
    tier.maxTtlMs = 300_000;
    tier.vouched = () => keepingUp;
    const entry = tier.set('k', payload('v'), undefined, { expiresAt: undefined }, 0, MADE);
    expect(tier.isFresh(entry, 4_999)).toBe(true);
    expect(tier.isFresh(entry, 60_000)).toBe(true);
    keepingUp = false;
    // Within memory.maxTtl of its storing, the entry needs no backplane; past it, it does.
    expect(tier.isFresh(entry, 4_999)).toBe(true);
    expect(tier.isFresh(entry, 5_000)).toBe(false);
  });

  it('keeps a fail-safe throttle fresh for its whole duration, with no backplane to vouch', () => {
    const tier = new MemoryTier(OPTIONS);
    const entry = tier.set('k', payload('v'), undefined, { expiresAt: 0, keepUntil: 100_000, freshUntil: 30_000 }, 0, MADE);
    expect(tier.isFresh(entry, 29_999)).toBe(true);
    expect(tier.isFresh(entry, 30_000)).toBe(false);
  });
});

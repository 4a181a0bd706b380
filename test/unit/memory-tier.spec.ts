import { describe, expect, it } from 'vitest';
import { renewalDue } from '../../src/cache/cache-core.js';
import { MemoryTier, memoryValue } from '../../src/cache/memory-tier.js';
import { serializeValue } from '../../src/store/value-serializer.js';

const OPTIONS = { maxEntries: 3, maxBytes: 1_000_000, maxTtlMs: 5_000, changeHorizonMs: 10_000 };
const payload = (value: unknown) => serializeValue('k', value);

describe('the memory tier, on a clock the test moves', () => {
  it('serves an entry until its expiry or maxTtl, whichever comes first', () => {
    const tier = new MemoryTier(OPTIONS);
    expect(tier.set('short', payload(1), undefined, { expiresAt: 1_000 }, 0).freshUntil).toBe(1_000);
    expect(tier.set('long', payload(2), undefined, { expiresAt: 60_000 }, 0).freshUntil).toBe(5_000);
    expect(tier.set('never', payload(3), undefined, { expiresAt: undefined }, 0).freshUntil).toBe(5_000);
  });

  it('hands a sliding entry over to DynamoDB at its renewal point', () => {
    const tier = new MemoryTier(OPTIONS);
    // A 2 s window renewed at a tenth of it: from 200 ms on a read must reach DynamoDB.
    const renewAt = renewalDue(2_000, 2_000, undefined, 0.1);
    expect(renewAt).toBe(200);
    expect(tier.set('sliding', payload('v'), undefined, { expiresAt: 2_000, renewAt }, 0).freshUntil).toBe(200);
  });

  it('lets memory serve a sliding entry to its end once its absolute deadline leaves nothing to renew', () => {
    expect(renewalDue(10_000, 2_000, 10_100, 0.1)).toBeUndefined();
    expect(renewalDue(10_000, 2_000, 20_000, 0.1)).toBe(8_200);
    expect(renewalDue(10_000, undefined, undefined, 0.1)).toBeUndefined();
  });

  it('keeps a fail-safe fallback past its freshness, and drops it at keepUntil', () => {
    const tier = new MemoryTier(OPTIONS);
    tier.set('k', payload('v'), undefined, { expiresAt: 1_000, keepUntil: 9_000 }, 0);
    expect(tier.get('k', 8_999)).toBeDefined();
    expect(tier.get('k', 9_000)).toBeUndefined();
    expect(tier.size).toBe(0);
  });

  it("refuses a read that began before this key changed, and keeps the change's own value", () => {
    const tier = new MemoryTier(OPTIONS);
    tier.set('k', payload('new'), undefined, { expiresAt: undefined }, 100);
    // The read began at 50, before the write at 100: it may hold the value the write replaced.
    tier.set('k', payload('old'), 'old', { expiresAt: undefined }, 120, 50);
    expect(memoryValue(tier.get('k', 130)!)).toBe('new');
  });

  it("refuses a read that began before a forget (a delete or another instance's change)", () => {
    const tier = new MemoryTier(OPTIONS);
    tier.forget('k', 100);
    tier.set('k', payload('old'), 'old', { expiresAt: undefined }, 120, 100);
    expect(tier.get('k', 130)).toBeUndefined();
    // A read begun after the forget is kept.
    tier.set('k', payload('fresh'), 'fresh', { expiresAt: undefined }, 140, 101);
    expect(memoryValue(tier.get('k', 150)!)).toBe('fresh');
  });

  it('forgets a change once no read still in flight can have begun before it', () => {
    const tier = new MemoryTier({ ...OPTIONS, changeHorizonMs: 1_000 });
    tier.forget('a', 10_000);
    // A later change moves the horizon past the first one, which is forgotten: a read begun before
    // it would have been in flight for longer than any read can be.
    tier.forget('b', 12_000);
    tier.set('a', payload('v'), 'v', { expiresAt: undefined }, 12_001, 9_000);
    expect(tier.get('a', 12_002)).toBeDefined();
  });

  it('refuses a read that began before the whole tier was cleared', () => {
    const tier = new MemoryTier(OPTIONS);
    tier.clear(100);
    tier.set('k', payload('old'), 'old', { expiresAt: undefined }, 120, 99);
    expect(tier.size).toBe(0);
  });

  it('evicts the least recently used past maxEntries, sparing entries hit since they were stored', () => {
    const tier = new MemoryTier(OPTIONS);
    for (const key of ['a', 'b', 'c']) tier.set(key, payload(key), undefined, { expiresAt: undefined }, 0);
    tier.get('a', 1);
    tier.set('d', payload('d'), undefined, { expiresAt: undefined }, 2);
    expect([...tier.keys()].sort()).toEqual(['a', 'c', 'd']);
  });

  it('keeps nothing larger than maxBytes, and counts bytes back down on delete', () => {
    const tier = new MemoryTier({ ...OPTIONS, maxBytes: 500 });
    tier.set('big', payload('x'.repeat(1_000)), undefined, { expiresAt: undefined }, 0);
    expect(tier.size).toBe(0);
    tier.set('small', payload('x'), undefined, { expiresAt: undefined }, 0);
    expect(tier.sizeBytes).toBeGreaterThan(0);
    tier.delete('small');
    expect(tier.sizeBytes).toBe(0);
  });

  it('hands out a frozen copy of a JSON value, never the object it was given', () => {
    const tier = new MemoryTier(OPTIONS);
    const original = { list: [1] };
    const entry = tier.set('k', payload(original), undefined, { expiresAt: undefined }, 0);
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
    const entry = tier.set('k', payload('v'), undefined, { expiresAt: undefined }, 0);
    expect(tier.isFresh(entry, 4_999)).toBe(true);
    expect(tier.isFresh(entry, 60_000)).toBe(true);
    keepingUp = false;
    // Within memory.maxTtl of its storing, the entry needs no backplane; past it, it does.
    expect(tier.isFresh(entry, 4_999)).toBe(true);
    expect(tier.isFresh(entry, 5_000)).toBe(false);
  });

  it('keeps a fail-safe throttle fresh for its whole duration, with no backplane to vouch', () => {
    const tier = new MemoryTier(OPTIONS);
    const entry = tier.set('k', payload('v'), undefined, { expiresAt: 0, keepUntil: 100_000, freshUntil: 30_000 }, 0);
    expect(tier.isFresh(entry, 29_999)).toBe(true);
    expect(tier.isFresh(entry, 30_000)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { TagTimes } from '../../src/cache/tag-times.js';
import { CLEARED_TAG, checkTags, isRetired, tagPartitionKey } from '../../src/store/tags.js';

// No DynamoDB and no timers: every call is handed its `now`.
const VALIDITY = 5_000;
const notVouched = () => false;
const noNews = () => false;

describe('TagTimes: what an instance knows of its cache’s invalidations', () => {
  it('asks for the cache’s own cleared-at time and every unknown tag, until it has read them', () => {
    const times = new TagTimes(VALIDITY, notVouched);
    expect(times.missing(undefined, 0)).toEqual([CLEARED_TAG]);
    expect(times.missing(['a', 'b'], 0)).toEqual([CLEARED_TAG, 'a', 'b']);
    times.learn([CLEARED_TAG, 'a', 'b'], new Map([['a', 100]]), 10, noNews);
    expect(times.missing(['a', 'b'], 10)).toEqual([]);
    expect(times.retires(99, ['a'])).toBe(true);
    expect(times.retires(100, ['a'])).toBe(true);
    expect(times.retires(101, ['a'])).toBe(false);
    // A tag never invalidated (absent from the answer) retires nothing.
    expect(times.retires(0, ['b'])).toBe(false);
  });

  it('reads them again once its knowledge is older than the bound, unless a backplane vouches', () => {
    let vouching = false;
    const times = new TagTimes(VALIDITY, () => vouching);
    times.learn([CLEARED_TAG], new Map(), 1_000, noNews);
    expect(times.missing(undefined, 1_000 + VALIDITY - 1)).toEqual([]);
    expect(times.missing(undefined, 1_000 + VALIDITY)).toEqual([CLEARED_TAG]);
    vouching = true;
    expect(times.missing(undefined, 1_000 + VALIDITY * 10)).toEqual([]);
  });

  it('reads a tag again after news of its change, whatever the backplane vouches, without losing what it knew', () => {
    const times = new TagTimes(VALIDITY, () => true);
    times.learn([CLEARED_TAG, 'a'], new Map([['a', 100]]), 10, noNews);
    times.forget('a', 20);
    expect(times.missing(['a'], 21)).toEqual(['a']);
    // Still the floor: an entry made before the known time stays retired while the tag is read again.
    expect(times.retires(50, ['a'])).toBe(true);
    // Reading back the same time retires nothing more; a newer one is news for memory.
    expect([...times.learn(['a'], new Map([['a', 100]]), 30, noNews)]).toEqual([]);
    times.forget('a', 50);
    expect([...times.learn(['a'], new Map([['a', 200]]), 60, noNews)]).toEqual([['a', 200]]);
    expect(times.retires(150, ['a'])).toBe(true);
  });

  it('counts a tag learned for the first time as news: memory may hold a value made before it', () => {
    const times = new TagTimes(VALIDITY, notVouched);
    expect([...times.learn(['a', 'b'], new Map([['a', 100]]), 0, noNews)]).toEqual([['a', 100]]);
  });

  it('takes nothing from a read the caller says news reached while it was in flight', () => {
    const times = new TagTimes(VALIDITY, notVouched);
    expect([...times.learn(['a'], new Map([['a', 50]]), 90, (tag) => tag === 'a')]).toEqual([]);
    expect(times.missing(['a'], 111)).toEqual([CLEARED_TAG, 'a']);
  });

  it('keeps what it knew as floors when every tag is forgotten (a poll backplane’s news)', () => {
    const times = new TagTimes(VALIDITY, () => true);
    times.record(['a'], 500, 500);
    times.forgetAll(600);
    // Read again before use, yet an entry made before the known invalidation is still retired meanwhile.
    expect(times.missing(['a'], 601)).toEqual([CLEARED_TAG, 'a']);
    expect(times.retires(400, ['a'])).toBe(true);
  });

  it('never moves a known time backwards, and knows its own invalidations without a read', () => {
    const times = new TagTimes(VALIDITY, notVouched);
    times.record(['a'], 500, 500);
    expect(times.retires(499, ['a'])).toBe(true);
    times.learn(['a'], new Map([['a', 300]]), 600, noNews);
    expect(times.retires(450, ['a'])).toBe(true);
    times.record([CLEARED_TAG], 700, 700);
    expect(times.retires(650, undefined)).toBe(true);
    expect(times.retires(701, undefined)).toBe(false);
  });
});

describe('tags as the store keeps them', () => {
  it('retires an entry written before tags existed (no storedAt) by any clear or invalidation since', () => {
    expect(isRetired(undefined, undefined, (tag) => (tag === CLEARED_TAG ? 1 : undefined))).toBe(true);
    expect(isRetired(undefined, ['a'], () => undefined)).toBe(false);
  });

  it('keeps every tag and the cleared-at item under the cache’s own prefix and markers', () => {
    expect(tagPartitionKey('dc:a:', 'user:1')).toBe('dc:a:#tag:user:1');
    expect(tagPartitionKey('dc:a:', CLEARED_TAG)).toBe('dc:a:#cleared');
    // A tag spelled like the cleared-at item is a tag item.
    expect(tagPartitionKey('dc:a:', '#cleared')).toBe('dc:a:#tag:#cleared');
    expect(tagPartitionKey('dc:a:', '../b:#tag:x').startsWith('dc:a:#tag:')).toBe(true);
  });

  it('checks tags and drops duplicates', () => {
    expect(checkTags(['a', 'a', 'b'], 'k')).toEqual(['a', 'b']);
    expect(checkTags([], 'k')).toBeUndefined();
    expect(() => checkTags([''], 'k')).toThrow(/1 to 256 characters/);
    expect(() => checkTags(['\ud800'], 'k')).toThrow(/1 to 256 characters/);
    expect(() => checkTags('a', 'k')).toThrow(/an array of strings/);
  });
});

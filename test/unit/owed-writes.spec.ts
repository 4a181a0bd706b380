import { describe, expect, it } from 'vitest';
import { type OwedWriteOrDelete, OwedWrites } from '../../src/cache/owed-writes.js';
import { CLEARED_TAG } from '../../src/store/tags.js';

const set = (key: string, madeAt: number, tags: string[] = [], expiresAt?: number): OwedWriteOrDelete<string> => ({
  kind: 'set',
  key,
  madeAt,
  entry: `${key}@${madeAt}`,
  tags,
  expiresAt,
});
const del = (key: string, madeAt: number): OwedWriteOrDelete<string> => ({ kind: 'delete', key, madeAt });

describe('OwedWrites', () => {
  it('keeps the latest change a key, whatever order they are owed in', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('a', 2));
    owed.oweKeyChange(set('a', 1));
    expect(owed.owedFor('a')).toMatchObject({ kind: 'set', madeAt: 2 });
    owed.oweKeyChange(del('a', 3));
    expect(owed.owedFor('a')).toEqual(del('a', 3));
    expect(owed.size).toBe(1);
  });

  it('drops the oldest change past maxItems and counts it', () => {
    const owed = new OwedWrites<string>(2);
    owed.oweKeyChange(set('a', 1));
    owed.oweKeyChange(set('b', 2));
    owed.oweKeyChange(set('a', 3)); // a is now the newest
    owed.oweKeyChange(set('c', 4));
    expect(owed.owedFor('b')).toBeUndefined();
    expect(owed.owedFor('a')?.madeAt).toBe(3);
    expect(owed.owedFor('c')?.madeAt).toBe(4);
    expect(owed.dropped).toBe(1);
  });

  it('owes a delete, not the value, that an owed invalidation of one of its tags retires', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('old', 1, ['t']));
    owed.oweKeyChange(set('other', 1, ['u']));
    owed.oweKeyChange(del('gone', 1));
    owed.oweKeyChange(set('new', 5, ['t']));
    owed.oweTagInvalidation(['t'], 3);
    // What DynamoDB holds for it may not carry the tag: the value it replaced is still owed a removal.
    expect(owed.owedFor('old')).toEqual(del('old', 1));
    expect(owed.owedFor('other')).toBeDefined();
    expect(owed.owedFor('gone')).toBeDefined();
    expect(owed.owedFor('new')).toBeDefined();
    expect(owed.owedTagTime('t')).toBe(3);
    expect(owed.dropped).toBe(0);
  });

  it('keeps only what is newer than an owed clear', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('a', 1));
    owed.oweKeyChange(del('b', 2));
    owed.oweTagInvalidation(['t'], 2);
    owed.oweKeyChange(set('c', 9));
    owed.oweTagInvalidation([CLEARED_TAG], 5);
    const batch = owed.batch(0);
    expect(batch.keys.map((change) => change.key)).toEqual(['c']);
    expect([...batch.tags]).toEqual([[CLEARED_TAG, 5]]);
  });

  it('an older invalidation of a tag does not replace a newer one', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweTagInvalidation(['t'], 7);
    owed.oweTagInvalidation(['t'], 4);
    expect(owed.owedTagTime('t')).toBe(7);
  });

  it('a batch leaves out values already expired, and forgets them', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('short', 1, [], 100));
    owed.oweKeyChange(set('long', 1, [], 1_000));
    owed.oweKeyChange(set('forever', 1));
    expect(owed.batch(100).keys.map((change) => change.key)).toEqual(['long', 'forever']);
    expect(owed.size).toBe(2);
    expect(owed.dropped).toBe(0);
  });

  it('paying a change forgets it, unless a newer one was owed since the batch was taken', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('a', 1));
    owed.oweKeyChange(set('b', 1));
    owed.oweTagInvalidation(['t'], 1);
    const batch = owed.batch(0);
    owed.oweKeyChange(set('b', 2));
    owed.oweTagInvalidation(['t'], 2);
    for (const change of batch.keys) owed.paidKey(change);
    for (const [tag, at] of batch.tags) owed.paidTag(tag, at);
    expect(owed.owedFor('a')).toBeUndefined();
    expect(owed.owedFor('b')?.madeAt).toBe(2);
    expect(owed.owedTagTime('t')).toBe(2);
  });

  it("forgets a key's owed change once a change of this instance made after it landed", () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('a', 2));
    owed.oweKeyChange(set('b', 2));
    owed.settledKey('a', 3);
    owed.settledKey('b', 1);
    expect(owed.owedFor('a')).toBeUndefined();
    expect(owed.owedFor('b')?.madeAt).toBe(2);
  });

  it('a key and a tag of the same name are different slots', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('x', 1));
    owed.oweTagInvalidation(['x'], 0);
    expect(owed.size).toBe(2);
    expect(owed.owedFor('x')).toBeDefined();
  });

  it('abandon answers how many changes it gives up', () => {
    const owed = new OwedWrites<string>(10);
    owed.oweKeyChange(set('a', 1));
    owed.oweTagInvalidation(['t'], 1);
    expect(owed.abandon()).toBe(2);
    expect(owed.size).toBe(0);
  });

  describe('expiries (expire, expireByTag)', () => {
    const expiry = (madeAt: number) => ({ madeAt, at: madeAt, keepUntil: madeAt + 1_000 });

    it('an expire rides with the value owed before it (which then lands stale), and stands alone else', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweKeyChange(set('a', 1));
      owed.oweExpiry('a', expiry(2));
      owed.oweExpiry('b', expiry(2));
      expect(owed.owedFor('a')).toEqual({ ...set('a', 1), expired: expiry(2) });
      expect(owed.owedFor('b')).toEqual({ kind: 'expire', key: 'b', madeAt: 2, expired: expiry(2) });
      // Older than what is owed: nothing to do.
      owed.oweKeyChange(set('c', 5));
      owed.oweExpiry('c', expiry(4));
      expect(owed.owedFor('c')).toEqual(set('c', 5));
      expect(owed.size).toBe(3);
    });

    it('a set or delete owed after an expire replaces it; one made before it (a factory begun earlier) keeps it', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweExpiry('a', expiry(2));
      owed.oweKeyChange(del('a', 3));
      expect(owed.owedFor('a')).toEqual(del('a', 3));
      owed.oweExpiry('b', expiry(5));
      owed.oweKeyChange(set('b', 4));
      expect(owed.owedFor('b')).toEqual({ ...set('b', 4), expired: expiry(5) });
    });

    it('an expire that landed makes a value owed from before it land stale, and makes an older owed expire moot', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweKeyChange(set('a', 1));
      owed.oweExpiry('b', expiry(1));
      owed.oweKeyChange(set('c', 9));
      for (const key of ['a', 'b', 'c']) owed.expiryLanded(key, expiry(5));
      expect(owed.owedFor('a')).toEqual({ ...set('a', 1), expired: expiry(5) });
      expect(owed.owedFor('b')).toBeUndefined();
      expect(owed.owedFor('c')).toEqual(set('c', 9));
    });

    it('a change of this instance that landed settles what is owed before it, but an expire owed after it, which then applies alone', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweKeyChange(set('a', 1));
      owed.oweExpiry('a', expiry(5));
      owed.settledKey('a', 3);
      expect(owed.owedFor('a')).toEqual({ kind: 'expire', key: 'a', madeAt: 5, expired: expiry(5) });
      owed.settledKey('a', 6);
      expect(owed.owedFor('a')).toBeUndefined();
    });

    it('sends every value that rides with an expire, even past its own expiry', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweKeyChange(set('short', 1, [], 100));
      owed.oweExpiry('short', expiry(2));
      expect(owed.batch(200).keys.map((change) => change.key)).toEqual(['short']);
    });

    it('keeps tag expiries apart from tag invalidations, and drops those an invalidation as recent covers', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweTagExpiry(['t', 'u', 'v'], 3);
      owed.oweTagExpiry(['t'], 2);
      expect([owed.owedTagExpiry('t'), owed.owedTagTime('t')]).toEqual([3, undefined]);
      owed.oweTagInvalidation(['u'], 4);
      owed.oweTagInvalidation(['v'], 1);
      expect([owed.owedTagExpiry('u'), owed.owedTagExpiry('v')]).toEqual([undefined, 3]);
      // An expiry no newer than an owed invalidation of its tag is not owed at all.
      owed.oweTagExpiry(['u'], 4);
      expect(owed.owedTagExpiry('u')).toBeUndefined();
      const batch = owed.batch(0);
      expect([...batch.tagExpiries]).toEqual([
        ['t', 3],
        ['v', 3],
      ]);
      owed.paidTagExpiry('t', 3);
      owed.oweTagInvalidation([CLEARED_TAG], 9);
      expect(owed.size).toBe(1);
      expect(owed.batch(0).tagExpiries.size).toBe(0);
    });

    it('a tag invalidation turns an owed value with an expire into a delete that keeps the expire; a clear drops an owed expire', () => {
      const owed = new OwedWrites<string>(10);
      owed.oweKeyChange(set('a', 1, ['t']));
      owed.oweExpiry('a', expiry(2));
      owed.oweExpiry('b', expiry(2));
      owed.oweTagInvalidation(['t'], 3);
      expect(owed.owedFor('a')).toEqual({ ...del('a', 1), expired: expiry(2) });
      expect(owed.owedFor('b')).toBeDefined();
      owed.oweTagInvalidation([CLEARED_TAG], 3);
      expect([owed.owedFor('a'), owed.owedFor('b')]).toEqual([undefined, undefined]);
    });
  });
});

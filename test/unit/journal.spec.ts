import { describe, expect, it } from 'vitest';
import { CLEAR_ALL, type JournalHead, compactKeys, followerDelay, isJournalShaped, isPublished } from '../../src/backplane/journal.js';

const head = (over: Partial<JournalHead>): JournalHead => ({
  owner: 'b',
  term: 2,
  leaseUntil: 0,
  seq: 10,
  through: 0,
  publishedAt: 0,
  termStart: 7,
  ...over,
});
const entry = (seq: number, term: number) => ({ seq, term, keys: [], clear: [] });

describe('which journal entry a head published', () => {
  it('takes an entry of the current term after the term began, and of an older term before', () => {
    expect(isPublished(head({}), entry(8, 2))).toBe(true);
    expect(isPublished(head({}), entry(7, 1))).toBe(true);
  });

  it('refuses the entry a replaced reader wrote after it lost the lane, which its successor overwrites', () => {
    // Term 1 lost the lane at 7 and wrote 8 late; term 2's own 8 is what the head at 10 counts.
    expect(isPublished(head({}), entry(8, 1))).toBe(false);
  });

  it('refuses an entry numbered past the head: written, but not published yet', () => {
    expect(isPublished(head({}), entry(11, 2))).toBe(false);
  });
});

describe('an entry within its budget', () => {
  const prefixes = ['dc:users:', 'dc:'];

  it('lists each key once while they fit', () => {
    expect(compactKeys(['dc:a', 'dc:b', 'dc:a'], prefixes, 1_000)).toEqual({ keys: ['dc:a', 'dc:b'], clear: [] });
  });

  it('clears the cache with the most keys, to the most specific prefix, and keeps the others listed', () => {
    const users = Array.from({ length: 50 }, (_, i) => `dc:users:${i}`);
    const compact = compactKeys([...users, 'dc:price'], prefixes, 200);
    expect(compact).toEqual({ keys: ['dc:price'], clear: ['dc:users:'] });
  });

  it('clears everything when keys of no known cache are too many to list', () => {
    const foreign = Array.from({ length: 50 }, (_, i) => `other:${i}`);
    expect(compactKeys([...foreign, 'dc:price'], prefixes, 200)).toEqual({ keys: [], clear: [CLEAR_ALL] });
  });

  it('counts the bytes of the keys as JSON writes them, escapes included', () => {
    const controlCharacters = ['dc:' + '\u0001'.repeat(40)];
    // 43 characters, 283 bytes of JSON: a budget counted in characters would let it through.
    expect(compactKeys(controlCharacters, prefixes, 200).clear).toEqual(['dc:']);
    expect(compactKeys(controlCharacters, prefixes, 300).keys).toEqual(controlCharacters);
  });

  it('counts bytes, not characters', () => {
    const wide = ['dc:' + 'é'.repeat(40)];
    expect(compactKeys(wide, prefixes, 60).clear).toEqual(['dc:']);
    expect(compactKeys(wide, prefixes, 100).keys).toEqual(wide);
  });
});

describe("another app's journal items", () => {
  it('are told by the default cache prefix, #bp:, a lane and an entry number or position', () => {
    for (const key of ['x:default:#bp:0', 'x:default:#bp:1:42', 'app_default:#bp:0:position']) expect(isJournalShaped(key)).toBe(true);
    for (const key of ['x:users:a:#bp:0', 'x:default:a', 'x:default:#bp:zero', 'x:default:#bp:0:other'])
      expect(isJournalShaped(key)).toBe(false);
  });
});

describe("a follower's next read", () => {
  const interval = 1_000;

  it('comes just after the reader is due to publish next', () => {
    expect(followerDelay(10_100, 10_000, interval, 150)).toBe(1_050);
    expect(followerDelay(10_600, 10_000, interval, 150)).toBe(550);
  });

  it('never comes sooner than a quarter interval, so that reads stay at one per interval', () => {
    expect(followerDelay(10_100, 10_000, interval, 200)).toBe(1_100);
    expect(followerDelay(11_100, 10_000, interval, 150)).toBe(1_050);
  });

  it('keeps the plain interval while no reader has published', () => {
    expect(followerDelay(10_000, undefined, interval, 150)).toBe(interval);
    expect(followerDelay(10_000, 0, interval, 150)).toBe(interval);
  });
});

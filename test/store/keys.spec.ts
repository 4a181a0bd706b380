import { describe, expect, it } from 'vitest';
import { InvalidCacheKeyError } from '../../src/store/errors.js';
import { DIGEST_MARKER, PARTITION_KEY_LIMIT_BYTES, assertValidKey, partitionKeyFor } from '../../src/store/keys.js';

describe('cache keys', () => {
  it.each([
    ['a number', 1],
    ['undefined', undefined],
    ['an object', { id: 1 }],
    ['an empty string', ''],
    ['a lone surrogate', 'a\uD800b'],
  ])('refuses %s with an InvalidCacheKeyError, a TypeError', (_name, key) => {
    expect(() => assertValidKey(key)).toThrow(InvalidCacheKeyError);
    expect(() => assertValidKey(key)).toThrow(TypeError);
  });

  it('puts the prefix before the key', () => {
    expect(partitionKeyFor('dc:', 'user:1')).toEqual({ value: 'dc:user:1', digested: false });
  });

  it('keeps a key whose prefixed UTF-8 form is exactly 2048 bytes as it is', () => {
    const key = `${'é'.repeat(1022)}a`;
    expect(Buffer.byteLength(`dc:${key}`)).toBe(PARTITION_KEY_LIMIT_BYTES);
    expect(partitionKeyFor('dc:', key)).toEqual({ value: `dc:${key}`, digested: false });
    expect(partitionKeyFor('dc:', `${key}b`).digested).toBe(true);
  });

  it('stores a key past 2048 UTF-8 bytes under a digest, and two such keys sharing 2 KB under different ones', () => {
    const head = 'x'.repeat(3_000);
    const a = partitionKeyFor('dc:', `${head}a`);
    const b = partitionKeyFor('dc:', `${head}b`);
    expect(a.digested).toBe(true);
    expect(a.value.startsWith(`dc:${DIGEST_MARKER}`)).toBe(true);
    expect(Buffer.byteLength(a.value)).toBeLessThan(100);
    expect(a.value).not.toBe(b.value);
  });

  it('digests a short key that begins with the digest marker, so it cannot share an item with the long key it names', () => {
    const long = partitionKeyFor('dc:', 'x'.repeat(3_000));
    const impostor = partitionKeyFor('dc:', long.value.slice('dc:'.length));
    expect(impostor.digested).toBe(true);
    expect(impostor.value).not.toBe(long.value);
  });
});

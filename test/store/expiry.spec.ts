import { describe, expect, it } from 'vitest';
import { InvalidExpirationError } from '../../src/store/errors.js';
import { resolveExpiration, slidingRenewal, ttlSecondsFor } from '../../src/store/expiry.js';

const NOW = 1_700_000_000_000;

describe('resolveExpiration', () => {
  it('gives an entry with no ttl and no default no expiry', () => {
    expect(resolveExpiration('k', undefined, undefined, NOW)).toEqual({});
  });

  it('applies the default ttl only when the caller says nothing about expiry', () => {
    expect(resolveExpiration('k', undefined, 5_000, NOW)).toEqual({ expiresAt: NOW + 5_000 });
    expect(resolveExpiration('k', {}, 5_000, NOW)).toEqual({ expiresAt: NOW + 5_000 });
    expect(resolveExpiration('k', { slidingExpiration: 1_000 }, 5_000, NOW)).toEqual({
      expiresAt: NOW + 1_000,
      slidingWindow: 1_000,
      absoluteDeadline: undefined,
    });
  });

  it('reads a ttl of 0 as never expires, even with a default', () => {
    expect(resolveExpiration('k', 0, 5_000, NOW)).toEqual({});
  });

  it('takes ttl in milliseconds, rounding a fraction up', () => {
    expect(resolveExpiration('k', 1.2, undefined, NOW)).toEqual({ expiresAt: NOW + 2 });
  });

  it('lets a relative ttl win over an absolute expiration', () => {
    const options = { ttl: 1_000, absoluteExpiration: NOW + 60_000 };
    expect(resolveExpiration('k', options, undefined, NOW).expiresAt).toBe(NOW + 1_000);
  });

  it('accepts an absolute expiration as a Date or epoch ms', () => {
    expect(resolveExpiration('k', { absoluteExpiration: new Date(NOW + 10) }, undefined, NOW).expiresAt).toBe(NOW + 10);
    expect(resolveExpiration('k', { absoluteExpiration: NOW + 10 }, undefined, NOW).expiresAt).toBe(NOW + 10);
  });

  it('caps a sliding window at the absolute deadline', () => {
    expect(resolveExpiration('k', { slidingExpiration: 10_000, absoluteExpiration: NOW + 3_000 }, undefined, NOW)).toEqual({
      expiresAt: NOW + 3_000,
      slidingWindow: 10_000,
      absoluteDeadline: NOW + 3_000,
    });
  });

  it.each([
    ['NaN', Number.NaN],
    ['negative', -1],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '1000'],
  ])('rejects a %s ttl with an error naming the key', (_name, ttl) => {
    expect(() => resolveExpiration('user:1', ttl as number, undefined, NOW)).toThrow(InvalidExpirationError);
    expect(() => resolveExpiration('user:1', ttl as number, undefined, NOW)).toThrow(/user:1/);
  });

  it('rejects a ttl that reaches past the latest date JavaScript holds', () => {
    expect(() => resolveExpiration('k', 1e20, undefined, NOW)).toThrow(/latest date/);
  });

  it('rejects an absolute expiration in the past, or an invalid Date', () => {
    expect(() => resolveExpiration('k', { absoluteExpiration: NOW - 1 }, undefined, NOW)).toThrow(/not in the future/);
    expect(() => resolveExpiration('k', { absoluteExpiration: new Date('nope') }, undefined, NOW)).toThrow(InvalidExpirationError);
  });

  it('rejects a sliding window of 0', () => {
    expect(() => resolveExpiration('k', { slidingExpiration: 0 }, undefined, NOW)).toThrow(/more than 0/);
  });
});

describe('slidingRenewal', () => {
  const entry = { expiresAt: NOW + 60_000, slidingWindow: 60_000 };

  it('does not renew until renewing gains the threshold part of the window', () => {
    expect(slidingRenewal(entry, NOW + 5_000, 0.1)).toBeUndefined();
    expect(slidingRenewal(entry, NOW + 6_000, 0.1)).toBe(NOW + 66_000);
  });

  it('never renews past the absolute deadline', () => {
    const capped = { ...entry, absoluteDeadline: NOW + 62_000 };
    expect(slidingRenewal(capped, NOW + 30_000, 0)).toBe(NOW + 62_000);
    expect(slidingRenewal({ ...capped, expiresAt: NOW + 62_000 }, NOW + 40_000, 0)).toBeUndefined();
  });

  it('leaves entries that are not sliding alone', () => {
    expect(slidingRenewal({ expiresAt: NOW + 1 }, NOW, 0)).toBeUndefined();
  });
});

it('rounds the TTL attribute up to whole seconds, so DynamoDB never deletes an item early', () => {
  expect(ttlSecondsFor(1_000_001)).toBe(1_001);
  expect(ttlSecondsFor(1_000_000)).toBe(1_000);
});

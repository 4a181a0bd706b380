import { describe, expect, it } from 'vitest';
import { RefreshBackoff } from '../../src/cache/refresh-backoff.js';

describe('the background refresh backoff, on a clock the test moves', () => {
  it('holds a key whose refresh failed until its retry instant, then lets it through once more', () => {
    const backoff = new RefreshBackoff();
    expect(backoff.mayTry('k', 0)).toBe(true);
    backoff.failed('k', 1_000);
    expect(backoff.mayTry('k', 999)).toBe(false);
    expect(backoff.mayTry('k', 1_000)).toBe(true);
    expect(backoff.mayTry('other', 0)).toBe(true);
  });

  it('forgets a key once its refresh succeeds', () => {
    const backoff = new RefreshBackoff();
    backoff.failed('k', 1_000);
    backoff.succeeded('k');
    expect(backoff.mayTry('k', 0)).toBe(true);
  });

  it('keeps at most maxKeys, forgetting the oldest failure first', () => {
    const backoff = new RefreshBackoff(2);
    backoff.failed('a', 1_000);
    backoff.failed('b', 1_000);
    backoff.failed('c', 1_000);
    expect([backoff.mayTry('a', 0), backoff.mayTry('b', 0), backoff.mayTry('c', 0)]).toEqual([true, false, false]);
  });
});

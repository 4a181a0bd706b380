import { describe, expect, it } from 'vitest';
import { BurstWarning } from '../../src/nest/burst-warning.js';

describe('BurstWarning', () => {
  it('holds back a repeated warning of a topic within its interval', () => {
    const said: string[] = [];
    const warning = new BurstWarning({ warn: (message) => void said.push(message) });
    warning.warn('Books.find', 'the cache failed');
    warning.warn('Books.find', 'the cache failed');
    expect(said).toEqual(['Books.find: the cache failed']);
  });

  it("says a set-up warning (warnOnce) once, even right after another of its topic's warnings", () => {
    const said: string[] = [];
    const warning = new BurstWarning({ warn: (message) => void said.push(message) });
    warning.warn('Books.find', 'the cache failed');
    warning.warnOnce('Books.find', 'its context holds no request');
    warning.warnOnce('Books.find', 'its context holds no request');
    warning.warnOnce('Books.list', 'its context holds no request');
    expect(said).toEqual([
      'Books.find: the cache failed',
      'Books.find: its context holds no request',
      'Books.list: its context holds no request',
    ]);
  });
});

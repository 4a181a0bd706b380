import { describe, expect, it } from 'vitest';
import { entityTagOf, ifNoneMatchHolds } from '../../src/nest/http/entity-tag.js';

describe('entityTagOf', () => {
  it('is a weak opaque tag that changes with the body, the status and the content type', () => {
    const tag = entityTagOf(200, 'application/json', { a: 1 });
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
    expect(entityTagOf(200, 'application/json', { a: 1 })).toBe(tag);
    expect(entityTagOf(200, 'application/json', { a: 2 })).not.toBe(tag);
    expect(entityTagOf(201, 'application/json', { a: 1 })).not.toBe(tag);
    expect(entityTagOf(200, 'text/plain', { a: 1 })).not.toBe(tag);
  });

  it('tells bodies apart that JSON alone would not: bytes, strings, maps and sets', () => {
    const tags = [Buffer.from('ab'), 'ab', '"ab"', new Map([['a', 1]]), new Map([['a', 2]]), new Set([1]), {}].map((body) =>
      entityTagOf(200, undefined, body),
    );
    expect(new Set(tags).size).toBe(tags.length - 1); // Buffer.from('ab') and 'ab' are the same bytes
  });
});

describe('ifNoneMatchHolds', () => {
  const tag = '"abc"';
  it.each([
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"x",W/"abc" ', true],
    ['*', true],
    ['"abcd"', false],
    ['abc', false],
    ['', false],
  ])('%j → %s', (header, holds) => {
    expect(ifNoneMatchHolds(header, tag)).toBe(holds);
  });

  it('reads a header given as several lines, and no header at all', () => {
    expect(ifNoneMatchHolds(['"x"', '"abc"'], tag)).toBe(true);
    expect(ifNoneMatchHolds(undefined, tag)).toBe(false);
  });
});

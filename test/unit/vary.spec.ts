import { describe, expect, it } from 'vitest';
import { mergedVary } from '../../src/nest/http/vary.js';

describe('mergedVary', () => {
  it('names the headers of a route without a Vary yet', () => {
    expect(mergedVary(undefined, ['accept-language', 'x-tenant'])).toBe('accept-language, x-tenant');
  });

  it('adds to a Vary already set, one or several lines, naming each header once whatever its case', () => {
    expect(mergedVary('Origin,Accept-Language', ['accept-language', 'x-tenant'])).toBe('Origin, Accept-Language, x-tenant');
    expect(mergedVary(['Origin', 'Accept-Encoding'], ['origin', 'accept-language'])).toBe('Origin, Accept-Encoding, accept-language');
  });

  it('changes nothing when every header is named already, or the answer varies by everything (*)', () => {
    expect(mergedVary('Accept-Language, X-Tenant', ['accept-language', 'x-tenant'])).toBeUndefined();
    expect(mergedVary('*', ['accept-language'])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { resolveCacheOptions } from '../../src/cache/cache-options.js';
import { ASYNC_CONTEXT_IS_CHEAP } from '../../src/cache/factory-cycles.js';

const major = Number(process.versions.node.split('.')[0]);
// A flag that picks AsyncLocalStorage's implementation makes the version say nothing.
const picked = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes('async-context-frame'));

describe('detecting recursive factories', () => {
  it.skipIf(picked)('finds AsyncLocalStorage cheap on Node 24 and later (AsyncContextFrame), not on Node 20 and 22 (async hooks)', () => {
    expect(ASYNC_CONTEXT_IS_CHEAP).toBe(major >= 24);
  });

  it('is on by default only where AsyncLocalStorage is cheap; an explicit setting wins', () => {
    expect(resolveCacheOptions({}).detectRecursiveFactories).toBe(ASYNC_CONTEXT_IS_CHEAP);
    expect(resolveCacheOptions({ detectRecursiveFactories: true }).detectRecursiveFactories).toBe(true);
    expect(resolveCacheOptions({ detectRecursiveFactories: false }).detectRecursiveFactories).toBe(false);
  });

  it('names the option when it is not a boolean', () => {
    expect(() => resolveCacheOptions({ detectRecursiveFactories: 'yes' as unknown as boolean })).toThrow(
      /option "detectRecursiveFactories" must be true or false, got/,
    );
  });
});

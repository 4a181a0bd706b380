import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * Wraps each resolver a module exports in a spy. Only calls from another module are seen, which are
 * the ones that count: a resolver calling its own helpers inside one resolution is one resolution.
 */
const spied = async (importOriginal: () => Promise<Record<string, unknown>>, names: readonly string[]) => {
  const actual = await importOriginal();
  const wrapped = Object.fromEntries(
    names.filter((name) => typeof actual[name] === 'function').map((name) => [name, vi.fn(actual[name] as (...args: never[]) => unknown)]),
  );
  return { ...actual, ...wrapped };
};

vi.mock('../../src/store/resolve-store-options.js', (importOriginal) => spied(importOriginal, ['resolveStoreOptions']));
vi.mock('../../src/cache/cache-options.js', (importOriginal) => spied(importOriginal, ['resolveCacheOptions', 'checkCacheOptions']));

const { resolveStoreOptions } = await import('../../src/store/resolve-store-options.js');
const cacheOptions = await import('../../src/cache/cache-options.js');
const { DynamoCacheModule, getCacheToken } = await import('../../src/index.js');

const calls = (spy: unknown) => (spy === undefined ? 0 : vi.mocked(spy as () => unknown).mock.calls.length);

/** How often a module's options were resolved: the store's as a whole, and the cache options of each cache. */
function resolutions() {
  return {
    store: calls(resolveStoreOptions),
    caches: calls(cacheOptions.resolveCacheOptions) + calls((cacheOptions as Record<string, unknown>).checkCacheOptions),
  };
}

// Never contacted: compiling a module builds its caches, and only start-up (init) talks to DynamoDB.
const root = {
  tableName: 'resolved_once',
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
};

describe('options are resolved once, where they arrive', () => {
  beforeEach(() => vi.clearAllMocks());
  afterEach(() => vi.clearAllMocks());

  it.each([
    ['forRoot', () => DynamoCacheModule.forRoot(root)],
    ['forRootAsync', () => DynamoCacheModule.forRootAsync({ useFactory: () => root })],
    ['forRoot, memory-only', () => DynamoCacheModule.forRoot({ distributed: false })],
  ])('%s with two forFeature caches: the store options once, and each cache options once', async (_, forRoot) => {
    const moduleRef = await Test.createTestingModule({
      imports: [forRoot(), DynamoCacheModule.forFeature({ name: 'users', ttl: 1_000 }), DynamoCacheModule.forFeature({ name: 'orders' })],
    }).compile();
    expect(moduleRef.get(getCacheToken('users')).name).toBe('users');
    expect(resolutions()).toEqual({ store: 1, caches: 3 });
    await moduleRef.close();
  });
});

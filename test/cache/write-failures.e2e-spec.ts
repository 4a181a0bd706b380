import { describe, expect, it } from 'vitest';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { ValueTooLargeError } from '../../src/store/errors.js';
import { localClient, useCacheTable } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { testStore } from '../support/builders.js';

const { tableName } = useCacheTable('writefail');

function cacheOn(prefix: string, throwOnErrors: boolean) {
  const client = localClient();
  const faults = faultyClient(client);
  const store = testStore({ tableName, client }, { partitionKeyPrefix: prefix });
  return { cache: new DynamoCache(store, { throwOnErrors }), faults };
}

describe('a set that DynamoDB refuses', () => {
  it('under throwOnErrors, rejects and leaves memory without the value the caller was told was not stored', async () => {
    const { cache, faults } = cacheOn('set-throw:', true);
    await cache.set('k', 'old', 60_000);
    faults.failWhen((command) => command === 'PutItemCommand');
    await expect(cache.set('k', 'new', 60_000)).rejects.toThrow(/injected/);
    faults.failWhen(undefined);
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k')).toBe('old');
  });

  it("by default, resolves and keeps the value in this instance's memory, as the README says of an outage", async () => {
    const { cache, faults } = cacheOn('set-keep:', false);
    cache.on('error', () => undefined);
    faults.failWhen((command) => command === 'PutItemCommand');
    await expect(cache.set('k', 'new', 60_000)).resolves.toBe('new');
    expect(cache.peek('k')).toBe('new');
  });

  it('keeps nothing in memory of a value refused only when it is written (a key too long for its item)', async () => {
    const { cache } = cacheOn('set-late:', false);
    // The key alone passes DynamoDB's 400 KB item limit: refused once the item is encoded, after memory took it.
    const key = 'k'.repeat(500_000);
    await expect(cache.set(key, 'v', 60_000)).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(cache.peek(key)).toBeUndefined();
  });
});

describe('a set in flight under throwOnErrors', () => {
  it('is not served to other callers before DynamoDB has taken it, so a set that then rejects was never seen', async () => {
    const client = localClient();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let parked!: () => void;
    const reached = new Promise<void>((resolve) => (parked = resolve));
    let cut = false;
    // A fault DynamoDB Local cannot produce: the PutItem hangs, then its connection is reset.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (cut && context.commandName === 'PutItemCommand') {
          parked();
          await gate;
          throw Object.assign(new Error('connection reset during PutItem (injected)'), { name: 'ECONNRESET' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'hangThenReset' },
    );
    const store = testStore({ tableName, client }, { partitionKeyPrefix: 'set-inflight:' });
    const cache = new DynamoCache(store, { throwOnErrors: true });
    await cache.set('k', 'old', 60_000);
    cut = true;
    const writing = cache.set('k', 'new', 60_000);
    await reached;
    expect(cache.peek('k')).toBe('old');
    expect(await cache.get('k')).toBe('old');
    release();
    await expect(writing).rejects.toThrow(/injected/);
    cut = false;
    expect(await cache.get('k')).toBe('old');
  });
});

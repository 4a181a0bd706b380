import { describe, expect, it } from 'vitest';
import {
  CACHE,
  type DynamoCache,
  type GetOrSetOptions,
  InvalidCacheKeyError,
  InvalidLoaderResultError,
  InvalidOptionError,
  TtlFunctionError,
} from '../../src/index.js';
import { DynamoCache as Cache } from '../../src/cache/dynamo-cache.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { localClient, recordCommands, useCacheTable } from '../support/dynamo.js';
import { cacheModule } from '../support/builders.js';
import { useNestApps } from '../support/nest-apps.js';
import { cacheWithOpenCircuit } from '../support/open-circuit.js';
import { seenWithin } from '../support/seen-within.js';

// Issue 25, item 5: getOrSetMany(keys, loader, options).
const { tableName } = useCacheTable('get_or_set_many');
const apps = useNestApps();

async function instance() {
  const client = localClient();
  const commands = recordCommands(client);
  const app = await apps.start({ imports: [cacheModule({ tableName, client })] });
  return { cache: app.get<DynamoCache>(CACHE), commands };
}

const count = (commands: string[], name: string) => commands.filter((command) => command === name).length;
const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, index) => `${prefix}${from + index}`);

/** A loader that records each call's keys and answers `value:<key>` for each, after `gate` when given. */
function recordingLoader(gate?: Promise<void>) {
  const calls: string[][] = [];
  const loader = async (keys: readonly string[]) => {
    calls.push([...keys]);
    await gate;
    return keys.map((key) => `value:${key}`);
  };
  return { calls, loader };
}

describe('getOrSetMany, with the default memory tier and no backplane', () => {
  it('loads exactly the keys missing from memory and DynamoDB in one call, reading 100 and writing 25 per batch', async () => {
    const a = await instance();
    const b = await instance();
    const inMemory = range('m1:mem', 0, 30);
    const inDynamo = range('m1:dyn', 0, 70);
    const missing = range('m1:new', 0, 50);
    await a.cache.mset(inMemory.map((key) => ({ key, value: `value:${key}`, ttl: 600_000 })));
    await b.cache.mset(inDynamo.map((key) => ({ key, value: `value:${key}`, ttl: 600_000 })));
    // Interleaved, so that order is the caller's, not the tiers'.
    const keys = [...inMemory, ...inDynamo, ...missing].sort(() => Math.random() - 0.5);
    await a.cache.get('m1:warm'); // the cache's own cleared-at time is then known
    a.commands.length = 0;
    const { calls, loader } = recordingLoader();

    const values = await a.cache.getOrSetMany(keys, loader, { ttl: 600_000 });

    expect(values).toEqual(keys.map((key) => `value:${key}`));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(keys.filter((key) => key.startsWith('m1:new')));
    // 120 keys read past memory: two BatchGetItems; 50 written: two BatchWriteItems; nothing else.
    expect(count(a.commands, 'BatchGetItemCommand')).toBe(2);
    expect(count(a.commands, 'BatchWriteItemCommand')).toBe(2);
    expect(a.commands.filter((name) => !['BatchGetItemCommand', 'BatchWriteItemCommand'].includes(name))).toEqual([]);

    // Again: all in memory now, no call at all; on the other instance, all in DynamoDB, no load.
    a.commands.length = 0;
    expect(await a.cache.getOrSetMany(keys, loader)).toEqual(values);
    expect(a.commands).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(await b.cache.getOrSetMany(keys, loader)).toEqual(values);
    expect(calls).toHaveLength(1);
  });

  it('shares the load of overlapping keys between concurrent calls, and with getOrSet', async () => {
    const a = await instance();
    let release!: () => void;
    const first = recordingLoader(new Promise<void>((resolve) => (release = resolve)));
    const second = recordingLoader();
    const one = a.cache.getOrSetMany(range('m2:', 0, 10), first.loader);
    await seenWithin(async () => first.calls.length, 1, 5_000);
    const two = a.cache.getOrSetMany(range('m2:', 5, 15), second.loader);
    const single = a.cache.getOrSet('m2:7', () => 'not called');
    await seenWithin(async () => second.calls.length, 1, 5_000);
    expect(second.calls[0]).toEqual(range('m2:', 10, 15));
    release();
    expect(await one).toEqual(range('value:m2:', 0, 10));
    expect(await two).toEqual(range('value:m2:', 5, 15));
    expect(await single).toBe('value:m2:7');
  });

  it('keeps out of memory the value of a key deleted while the loader ran, though the caller gets it', async () => {
    const a = await instance();
    let release!: () => void;
    const { calls, loader } = recordingLoader(new Promise<void>((resolve) => (release = resolve)));
    const loading = a.cache.getOrSetMany(['m3:deleted', 'm3:kept'], loader, { ttl: 600_000 });
    await seenWithin(async () => calls.length, 1, 5_000);
    await a.cache.del('m3:deleted');
    release();
    expect(await loading).toEqual(['value:m3:deleted', 'value:m3:kept']);
    expect(a.cache.peek('m3:deleted')).toBeUndefined();
    expect(a.cache.peek('m3:kept')).toBe('value:m3:kept');
  });

  it('resolves undefined for a key the loader leaves out, storing nothing for it', async () => {
    const a = await instance();
    const values = await a.cache.getOrSetMany(['m4:a', 'm4:b', 'm4:a'], async () => new Map([['m4:a', 1]]));
    expect(values).toEqual([1, undefined, 1]);
    expect(await a.cache.get('m4:b')).toBeUndefined();
    // A getOrSet that joined the load of a key left out runs its own factory (found by the chaos
    // checker: it rejected with MissingLoadedValueError, though a getOrSet rejects only with its own factory's error).
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const many = a.cache.getOrSetMany(['m4:c'], async () => (await gate, new Map()));
    const joined = a.cache.getOrSet('m4:c', () => 'its own');
    release();
    expect(await many).toEqual([undefined]);
    expect(await joined).toBe('its own');
    expect(await a.cache.get('m4:c')).toBe('its own');
  });

  it('serves each key its fail-safe fallback when the loader fails, and rejects if any key has none', async () => {
    const a = await instance();
    await a.cache.set('m5:old', 'stale value', 600_000);
    await a.cache.expire('m5:old');
    const failing = async () => {
      throw new Error('upstream down');
    };
    await expect(a.cache.getOrSetMany(['m5:old'], failing)).rejects.toThrow('upstream down');
    await expect(a.cache.getOrSetMany(['m5:old', 'm5:none'], failing, { failSafe: true })).rejects.toThrow('upstream down');
    expect(await a.cache.getOrSetMany(['m5:old'], failing, { failSafe: true })).toEqual(['stale value']);
    // A loader past its hard timeout: the fallback too.
    await a.cache.set('m5:slow', 'stale slow', 600_000);
    await a.cache.expire('m5:slow');
    const never = () => new Promise<never>(() => {});
    expect(await a.cache.getOrSetMany(['m5:slow'], never, { failSafe: true, hardTimeout: 50 })).toEqual(['stale slow']);
  });
});

describe('getOrSetMany on bad input', () => {
  it('rejects bad keys, loaders and answers with a typed error naming them, writing nothing, whatever the circuit', async () => {
    const a = await instance();
    const open = await cacheWithOpenCircuit();
    for (const { cache, commands } of [a, open, { cache: new Cache(new MemoryStore()), commands: [] as string[] }]) {
      commands.length = 0;
      const loader = async (keys: readonly string[]) => keys.map(() => 1);
      await expect(cache.getOrSetMany('m6:a' as never, loader)).rejects.toThrow(/getOrSetMany expects an array of keys, got/);
      await expect(cache.getOrSetMany(['m6:a', ''], loader)).rejects.toThrow(InvalidCacheKeyError);
      await expect(cache.getOrSetMany(['m6:a'], 'loader' as never)).rejects.toThrow(InvalidOptionError);
      await expect(cache.getOrSetMany(['m6:a'], loader, { tags: [''] })).rejects.toThrow(/getOrSetMany: a tag must be/);
      expect(commands).toEqual([]);
    }
    for (const { cache, commands } of [a, { cache: new Cache(new MemoryStore()), commands: [] as string[] }]) {
      commands.length = 0;
      await expect(cache.getOrSetMany(['m6:a', 'm6:b'], async () => [1])).rejects.toThrow(
        /loader answered an array of 1 values for 2 keys/,
      );
      await expect(cache.getOrSetMany(['m6:a'], async () => 'one' as never)).rejects.toThrow(InvalidLoaderResultError);
      await expect(cache.getOrSetMany(['m6:a'], async () => [() => 'not storable'] as never)).rejects.toThrow(/m6:a/);
      expect(commands.filter((name) => name.includes('Write') || name.includes('Put'))).toEqual([]);
      expect(await cache.get('m6:a')).toBeUndefined();
    }
  });
});

describe("getOrSetMany's per-key options on bad input", () => {
  it('rejects a ttl function that throws or answers no duration with a typed error naming the key, writing nothing, whatever the circuit', async () => {
    const a = await instance();
    const open = await cacheWithOpenCircuit();
    const memoryOnly = { cache: new Cache(new MemoryStore()), commands: [] as string[] };
    const loader = async (keys: readonly string[]) => keys.map((key) => `value:${key}`);
    const thrown = new Error('no plan for this value');
    // Each per-key option getOrSetMany takes: the ttl (a function of each value, or one for all) and what it answers.
    const badTtls: Array<[string, GetOrSetOptions<string>['ttl'], RegExp]> = [
      [
        'a ttl function that throws for one value',
        (value: string) => {
          if (value.endsWith('b')) throw thrown;
          return 60_000;
        },
        /the ttl function threw for key "m7:b".*no plan for this value/,
      ],
      ['a ttl function answering NaN', () => Number.NaN, /"m7:a": ttl must be a finite number/],
      ["a ttl function answering '60s'", () => '60s' as never, /"m7:a": ttl must be a finite number/],
      [
        'a ttl function answering a past date',
        () => ({ absoluteExpiration: Date.now() - 1_000 }),
        /"m7:a": absoluteExpiration .* is not in the future/,
      ],
      ['a ttl function answering a bad tag', () => ({ ttl: 60_000, tags: [''] }), /"m7:a".*a tag must be a string/],
      ['a ttl of -5 for every key', -5, /"m7:a": ttl must be a finite number/],
    ];
    for (const { cache, commands } of [a, open, memoryOnly]) {
      for (const [what, ttl, message] of badTtls) {
        commands.length = 0;
        const error = await cache.getOrSetMany(['m7:a', 'm7:b'], loader, { ttl }).then(
          () => undefined,
          (rejected: Error) => rejected,
        );
        expect(error, what).toBeInstanceOf(Error);
        expect(error!.message, what).toMatch(message);
        if (ttl === badTtls[0]![1]) {
          expect(error).toBeInstanceOf(TtlFunctionError);
          expect(error).toMatchObject({ cacheName: cache.name, key: 'm7:b', cause: thrown });
          expect(error!.message).toContain(`Cache "${cache.name}"`);
        } else expect(error!.name, what).toMatch(/InvalidExpirationError|InvalidCacheKeyError/);
        // Nothing of the batch was written, sent or owed: the good key neither.
        expect(
          commands.filter((name) => name.includes('Write') || name.includes('Put')),
          what,
        ).toEqual([]);
        expect(cache.stats().autoRecovery?.owed ?? 0, what).toBe(0);
        expect(cache.peek('m7:a'), what).toBeUndefined();
      }
    }
    expect(await a.cache.mget(['m7:a', 'm7:b'])).toEqual([undefined, undefined]);
  });

  it('getOrSet and wrap give the same TtlFunctionError for a ttl function that throws, and store nothing', async () => {
    const a = await instance();
    const throwing = () => {
      throw new Error('no plan');
    };
    await expect(a.cache.getOrSet('m8:one', () => 'v', { ttl: throwing })).rejects.toThrow(TtlFunctionError);
    await expect(a.cache.wrap('m8:two', () => 'v', throwing)).rejects.toMatchObject({ name: 'TtlFunctionError', key: 'm8:two' });
    expect(await a.cache.mget(['m8:one', 'm8:two'])).toEqual([undefined, undefined]);
    // On a memory hit, an eager refresh asks the ttl function too: the call rejects, it does not throw.
    await a.cache.set('m8:hit', 'v', 600_000);
    const call = a.cache.getOrSet('m8:hit', () => 'w', { ttl: throwing, eagerRefreshThreshold: 0.5 });
    await expect(call).rejects.toThrow(/the ttl function threw for key "m8:hit"/);
  });
});

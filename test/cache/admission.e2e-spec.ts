import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheRegistry } from '../../src/index.js';
import { createTable, localClient, useTableNames } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { useNestApps } from '../support/nest-apps.js';
import { caughtUpAfter, seenWithin } from '../support/seen-within.js';
import { cacheModule } from '../support/builders.js';

// What may enter an instance's memory while operations overlap (issue 23, items 1 to 6): every case
// with the defaults first (memory tier on, no backplane), then with each backplane.
const table = useTableNames();
const apps = useNestApps();
const MAX_TTL = 1_000;
const MAX_LAG = 3_000;

type Mode = 'none' | 'poll' | 'streams';
const MODES: readonly Mode[] = ['none', 'poll', 'streams'];
const BACKPLANES = {
  none: {},
  poll: { backplane: { type: 'poll', interval: 100, maxLag: MAX_LAG } },
  streams: { backplane: { type: 'streams', pollInterval: 100, maxLag: MAX_LAG } },
} as const;

/**
 * Parks matching commands *before* they reach DynamoDB until released: an operation in flight whose
 * effect has not landed yet, a fault DynamoDB Local cannot produce on its own.
 */
function holdBefore(client: DynamoDBClient) {
  let held:
    { matches: (command: string, input: Record<string, unknown>) => boolean; reached: () => void; release: Promise<void> } | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const parked = held;
      if (parked !== undefined && parked.matches(context.commandName as string, args.input as Record<string, unknown>)) {
        held = undefined;
        parked.reached();
        await parked.release;
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdBefore' },
  );
  return (matches: (command: string, input: Record<string, unknown>) => boolean) => {
    let release!: () => void;
    let reached!: () => void;
    const parked = new Promise<void>((resolve) => (reached = resolve));
    held = { matches, reached, release: new Promise<void>((resolve) => (release = resolve)) };
    return { parked, release };
  };
}

const tables = new Map<Mode, Promise<string>>();
function tableFor(mode: Mode): Promise<string> {
  let name = tables.get(mode);
  if (name === undefined) {
    const tableName = table(`admission_${mode}`);
    const admin = localClient({}, 'admin');
    name = createTable(admin, tableName, { stream: mode === 'streams', ttlAttributeName: 'ttl' })
      .then(() => tableName)
      .finally(() => admin.destroy());
    tables.set(mode, name);
  }
  return name;
}

/** An app of the service in `mode`, with a client of its own on which commands can be held. */
async function instance(mode: Mode, prefix: string) {
  const client = localClient();
  const hold = holdBefore(client);
  const faults = faultyClient(client);
  const app = await apps.start({
    imports: [
      cacheModule(
        { tableName: await tableFor(mode), client },
        { partitionKeyPrefix: prefix, memory: { maxTtl: MAX_TTL }, ...BACKPLANES[mode] },
      ),
    ],
  });
  const registry = app.get(DynamoCacheRegistry);
  if (registry.backplane !== undefined) await caughtUpAfter(registry.backplane, Date.now(), 20_000);
  return { cache: app.get<DynamoCache>(CACHE), hold, faults, registry };
}

/** Resolves once `Date.now()` shows a later millisecond: an operation begun then is ordered after one begun now. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setImmediate(resolve));
}

describe.each(MODES)('memory admits nothing an overlapping change retired (backplane: %s)', (mode) => {
  it("never puts back a value this instance's own del was deleting while a get read it", async () => {
    const { cache, hold } = await instance(mode, `del-${mode}:`);
    expect(await cache.set('k', 'old', 600_000)).toBe('old');
    const parkedDelete = hold((command) => command === 'DeleteItemCommand');
    const deleting = cache.del('k');
    await parkedDelete.parked;
    // A get begun while the delete is in flight reads the item it is deleting: a right answer then.
    await nextMillisecond();
    const reading = cache.get('k');
    const batchReading = cache.mget(['k']);
    expect([await reading, await batchReading]).toEqual(['old', ['old']]);
    parkedDelete.release();
    expect(await deleting).toBe(true);
    // Once del has resolved, this instance never serves the deleted value again, from memory or DynamoDB.
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.mget(['k'])).toEqual([undefined]);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('keeps the value a set wrote, not the older one a get begun during the write read', async () => {
    const { cache, hold } = await instance(mode, `set-${mode}:`);
    await cache.set('k', 'old', 600_000);
    const parkedPut = hold((command) => command === 'PutItemCommand');
    const writing = cache.set('k', 'new', 600_000);
    await parkedPut.parked;
    await nextMillisecond();
    // Memory holds the write's value at once; a read of DynamoDB meanwhile (an mget) sees the old item.
    expect(await cache.get('k')).toBe('new');
    parkedPut.release();
    await writing;
    expect(await cache.mget(['k'])).toEqual(['new']);
    expect(await cache.get('k')).toBe('new');
  });

  it('retires, for a factory that ran while another instance invalidated its tag, what it produced', async () => {
    const a = await instance(mode, `factory-${mode}:`);
    const b = await instance(mode, `factory-${mode}:`);
    let finish!: (value: string) => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const computing = a.cache.getOrSet('k', () => (started(), new Promise<string>((resolve) => (finish = resolve))), {
      tags: ['t'],
    });
    await running;
    await nextMillisecond();
    expect(await b.cache.deleteByTag('t')).toBe(true);
    const invalidatedAt = Date.now();
    if (a.registry.backplane !== undefined) await caughtUpAfter(a.registry.backplane, invalidatedAt, MAX_LAG * 2);
    // The factory goes on for a while after the invalidation: its value is as old as its start.
    await seenWithin(async () => Date.now() - invalidatedAt >= MAX_TTL * 0.7, true, MAX_LAG * 2);
    finish('made before the invalidation');
    // Its caller gets it: the factory ran for that call.
    expect(await computing).toBe('made before the invalidation');
    // Another caller does not, once the invalidation is known here: at once with a backplane that
    // brought it, within memory.maxTtl of the invalidation without one.
    // With a backplane, this instance heard of the invalidation before the factory finished: never served.
    if (mode !== 'none') {
      expect(await a.cache.get('k')).toBeUndefined();
      return;
    }
    // Without one, it learns when memory asks DynamoDB again: maxTtl from the factory's start.
    await seenWithin(() => a.cache.get('k'), undefined, MAX_LAG * 2);
    expect(Date.now() - invalidatedAt).toBeLessThanOrEqual(MAX_TTL + 500);
  });

  it.each(['deleteByTag', 'del', 'clear'] as const)(
    'does not hand a caller who came after its own %s the value of a factory that began before',
    async (change) => {
      const { cache } = await instance(mode, `join-${change}-${mode}:`);
      let finishFirst!: (value: string) => void;
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const first = cache.getOrSet('k', () => (started(), new Promise<string>((resolve) => (finishFirst = resolve))), { tags: ['t'] });
      await running;
      const retire = { deleteByTag: () => cache.deleteByTag('t'), del: () => cache.del('k'), clear: () => cache.clear() }[change];
      await retire();
      const second = cache.getOrSet('k', () => 'made after', { tags: ['t'] });
      finishFirst('made before');
      // The first caller asked before the change: its factory's value is its answer.
      expect(await first).toBe('made before');
      expect(await second).toBe('made after');
    },
  );

  it('never serves a fail-safe value that was invalidated, from its throttle or to a failing factory', async () => {
    const { cache } = await instance(mode, `failsafe-${mode}:`);
    const options = { ttl: 200, tags: ['t'], failSafe: true, failSafeThrottleDuration: 60_000 };
    expect(await cache.getOrSet('k', () => 'first', options)).toBe('first');
    // Past its ttl, a failing factory gets the stale value, held for the throttle's duration.
    await seenWithin(() => cache.get('k'), undefined, 5_000);
    const failing = () => Promise.reject(new Error('upstream down'));
    expect(await cache.getOrSet('k', failing, options)).toBe('first');
    expect(await cache.getOrSet('k', failing, options)).toBe('first');
    expect(await cache.deleteByTag('t')).toBe(true);
    await expect(cache.getOrSet('k', failing, options)).rejects.toThrow('upstream down');
    expect(await cache.getOrSet('k', () => 'second', options)).toBe('second');
  });
});

describe.each(MODES)('a factory outrun by a change of its key (backplane: %s)', (mode) => {
  it.each(['del', 'set', 'deleteByTag', 'clear'] as const)(
    'does not store, for every instance, what it made before its own %s landed',
    async (change) => {
      const prefix = `outrun-${change}-${mode}:`;
      const a = await instance(mode, prefix);
      const b = await instance(mode, prefix);
      let finish!: (value: string) => void;
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const computing = a.cache.getOrSet('k', () => (started(), new Promise<string>((resolve) => (finish = resolve))), { tags: ['t'] });
      await running;
      const changes = {
        // Nothing is stored yet: del answers whether it deleted an item, false here, once it has landed.
        del: () => a.cache.del('k').then((deleted) => !deleted),
        set: () => a.cache.set('k', 'set while it ran').then(() => true),
        deleteByTag: () => a.cache.deleteByTag('t'),
        clear: () => a.cache.clear(),
      };
      expect(await changes[change]()).toBe(true);
      finish('made before');
      // Its own caller asked before the change: the factory's value is its answer.
      expect(await computing).toBe('made before');
      const expected = change === 'set' ? 'set while it ran' : undefined;
      // Another instance, whose memory never held the key, reads what DynamoDB holds.
      expect(await b.cache.get('k')).toBe(expected);
      expect(await a.cache.get('k')).toBe(expected);
    },
  );
});

describe('a read whose answer was in flight for longer than memory.maxTtl (a frozen process, a stalled socket)', () => {
  it('is not kept as if just read: the next read asks DynamoDB again and sees the newer write', async () => {
    const a = await instance('none', 'slow-read:');
    const b = await instance('none', 'slow-read:');
    await a.cache.set('k', 'old', 600_000);
    const parkedAnswer = b.faults.holdNext('GetItemCommand');
    const readStarted = Date.now();
    const reading = b.cache.get('k');
    await parkedAnswer.parked;
    // DynamoDB has answered 'old'; the answer is on its way while a replaces the value.
    await a.cache.set('k', 'new', 600_000);
    await seenWithin(async () => Date.now() - readStarted > MAX_TTL, true, MAX_TTL * 3);
    parkedAnswer.release();
    expect(await reading).toBe('old');
    // Judged from when its question was asked, more than maxTtl ago, the answer is not fresh.
    expect(b.cache.peek('k')).toBeUndefined();
    expect(await b.cache.get('k')).toBe('new');
  });
});

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheRegistry } from '../../src/index.js';
import { localClient, useCacheTable } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { caughtUpAfter, seenWithin } from '../support/seen-within.js';
import { cacheModule } from '../support/builders.js';

// The poll backplane while this instance's own writes overlap its reads and polls (issue 23, items 2 and 3).
const { tableName } = useCacheTable('bp_poll_own');
const apps = useNestApps();
const MAX_LAG = 1_500;
const INTERVAL = 100;

/** Parks this client's version bumps before they are sent, until released: a slow network on one call. */
function parkBumps(client: DynamoDBClient) {
  let release: (() => void) | undefined;
  let parked: Promise<void> | undefined;
  let failNext = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { UpdateExpression?: string };
      const isBump = context.commandName === 'UpdateItemCommand' && input.UpdateExpression?.startsWith('ADD') === true;
      if (isBump && failNext) {
        failNext = false;
        throw Object.assign(new Error('connection reset during the version bump (injected)'), { name: 'ECONNRESET' });
      }
      if (parked !== undefined && isBump) await parked;
      return next(args);
    },
    { step: 'initialize', name: 'parkBumps' },
  );
  return {
    /** The next bump fails, as a connection reset would, once. */
    failNext() {
      failNext = true;
    },
    park() {
      parked = new Promise<void>((resolve) => (release = resolve));
    },
    release() {
      release?.();
      parked = undefined;
    },
  };
}

async function instance(prefix: string) {
  const client = localClient();
  const bumps = parkBumps(client);
  const app = await apps.start({
    imports: [
      cacheModule(
        { tableName, client },
        {
          partitionKeyPrefix: prefix,
          // Longer than the test waits: a parked bump must not simply time out and fail.
          operationTimeout: 20_000,
          backplane: { type: 'poll', interval: INTERVAL, maxLag: MAX_LAG },
        },
      ),
    ],
  });
  const backplane = app.get(DynamoCacheRegistry).backplane!;
  await caughtUpAfter(backplane, Date.now(), 20_000);
  return { cache: app.get<DynamoCache>(CACHE), backplane, bumps };
}

describe('the poll backplane and this instance’s own writes', () => {
  it('does not count itself caught up while its own unanswered bump holds back another instance’s change', async () => {
    const a = await instance('held:');
    const b = await instance('held:');
    await a.cache.set('k', 'old', 600_000);
    expect(await a.cache.get('k')).toBe('old');
    a.bumps.park();
    try {
      await a.cache.set('other', 1, 600_000);
      const overwrittenAt = Date.now();
      await b.cache.set('k', 'new', 600_000);
      // Within the bound the backplane states (maxLag, a poll interval after), a no longer serves what b replaced.
      await seenWithin(() => a.cache.get('k'), 'new', MAX_LAG + 10 * INTERVAL + 1_000);
      expect(Date.now() - overwrittenAt).toBeLessThanOrEqual(MAX_LAG + 10 * INTERVAL + 1_000);
      // And it does not say it is keeping up while it is not.
      expect(a.backplane.stats().lagMs).toBeGreaterThan(MAX_LAG);
    } finally {
      a.bumps.release();
    }
  }, 30_000);

  it('announces a write whose bump failed again, so that other instances still learn of it', async () => {
    const a = await instance('failed-bump:');
    const b = await instance('failed-bump:');
    await b.cache.set('k', 'old', 600_000);
    // a has applied that write's bump (which clears its memory) before it reads 'old' into memory.
    await caughtUpAfter(a.backplane, Date.now(), MAX_LAG * 4);
    expect(await a.cache.get('k')).toBe('old');
    b.bumps.failNext();
    await b.cache.set('k', 'new', 600_000);
    const writtenAt = Date.now();
    await seenWithin(() => a.cache.get('k'), 'new', MAX_LAG + 10 * INTERVAL + 1_000);
    expect(Date.now() - writtenAt).toBeLessThanOrEqual(MAX_LAG + 10 * INTERVAL + 1_000);
  }, 30_000);

  it('never answers with an entry its own deleteByTag or clear retired, while other instances’ writes move the version', async () => {
    const a = await instance('rounds:');
    const b = await instance('rounds:');
    let writing = true;
    const churn = (async () => {
      for (let n = 0; writing; n++) await b.cache.set(`churn:${n % 10}`, n, 600_000);
    })();
    const retiredServed: string[] = [];
    try {
      for (let round = 0; round < 120; round++) {
        const key = `r:${round}`;
        await a.cache.set(key, round, { ttl: 600_000, tags: ['t'] });
        const retire = round % 4 === 0 ? a.cache.clear() : a.cache.deleteByTag('t');
        expect(await retire).toBe(true);
        const [got, batch] = await Promise.all([a.cache.get(key), a.cache.mget([key])]);
        if (got !== undefined || batch[0] !== undefined) retiredServed.push(`${key}: get ${got}, mget ${batch[0]}`);
      }
    } finally {
      writing = false;
      await churn;
    }
    expect(retiredServed).toEqual([]);
  }, 60_000);
});

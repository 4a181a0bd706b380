import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CACHE, DynamoCache, FactoryTimeoutError } from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import { localClient, memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { settledWithin } from '../support/seen-within.js';
import { cacheModule } from '../support/builders.js';

const OPERATION_TIMEOUT = 300;
/** What disconnect() waits for work in flight at most: 5 × operationTimeout. The rest is a busy machine's slack. */
const DISCONNECT_WAIT = 5 * OPERATION_TIMEOUT;
const SLACK = 2_000;
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

const { tableName } = useCacheTable('bounded_shutdown');
const apps: INestApplication[] = [];
const clients: Array<{ destroy(): void }> = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  for (const client of clients.splice(0)) client.destroy();
});

/** A cache named "reports" on the file's table, and the names of the commands its client sent. */
function cacheOn(prefix: string) {
  const client = localClient();
  clients.push(client);
  const sent = recordCommands(client);
  const logger = memoryLogger();
  const options = { tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger };
  const cache = new DynamoCache(new DynamoStore({ ...options, operationTimeout: OPERATION_TIMEOUT }), { name: 'reports' });
  // Another instance's view of the table, to see what was stored.
  const other = new DynamoCache(new DynamoStore({ ...options, logger: memoryLogger() }), { memory: false });
  const writesSince = (from: number) => sent.slice(from).filter((command) => WRITES.has(command));
  const warningsAbout = (key: string) => logger.warnings.filter((warning) => warning.includes(`"${key}"`));
  return { cache, other, sent, writesSince, warningsAbout };
}

/** A factory that settles only when the test says so. */
function controlledFactory<T>() {
  let finish!: (value: T) => void;
  let started = 0;
  const factory = () => {
    started++;
    return new Promise<T>((resolve) => (finish = resolve));
  };
  return { factory, finish: (value: T) => finish(value), started: () => started };
}

describe('shutdown with a factory that never settles', () => {
  it('lets app.close() resolve after a getOrSet with hardTimeout rejected its caller', async () => {
    const client = localClient();
    clients.push(client);
    const moduleRef = await Test.createTestingModule({
      imports: [cacheModule({ tableName, client }, { operationTimeout: OPERATION_TIMEOUT })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const cache = app.get<DynamoCache>(CACHE);
    await expect(cache.getOrSet('report:1', () => new Promise<never>(() => {}), { hardTimeout: 100 })).rejects.toBeInstanceOf(
      FactoryTimeoutError,
    );

    const closed = await settledWithin(app.close(), DISCONNECT_WAIT + SLACK);
    expect(closed.error).toBeUndefined();
  });

  it('resolves disconnect() within 5 × operationTimeout while a caller still waits on a factory that never settles', async () => {
    const { cache } = cacheOn('waiting:');
    const waiting = cache.getOrSet('report:2', () => new Promise<never>(() => {}));
    void waiting.catch(() => undefined);

    const disconnected = await settledWithin(cache.disconnect(), DISCONNECT_WAIT + SLACK);
    expect(disconnected.error).toBeUndefined();
    // It waited for the caller's factory as long as it said it would, and no longer.
    expect(disconnected.ms).toBeGreaterThanOrEqual(DISCONNECT_WAIT - 50);
  });
});

describe('a result that comes after disconnect() resolved', () => {
  it('writes nothing for a factory past its hardTimeout that finishes after disconnect(), lease release included, and says so once', async () => {
    const { cache, other, sent, writesSince, warningsAbout } = cacheOn('late-factory:');
    const { factory, finish, started } = controlledFactory<string>();
    const call = cache.getOrSet('report:3', factory, { hardTimeout: 100, distributedLock: true });
    await expect(call).rejects.toBeInstanceOf(FactoryTimeoutError);
    expect(started()).toBe(1);
    // Nobody waits for that factory any more: disconnect() does not either.
    const disconnected = await settledWithin(cache.disconnect(), DISCONNECT_WAIT + SLACK);
    expect(disconnected.error).toBeUndefined();
    expect(disconnected.ms).toBeLessThan(DISCONNECT_WAIT);

    const from = sent.length;
    finish('late');
    await vi.waitFor(() => expect(warningsAbout('report:3')).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(warningsAbout('report:3')[0]).toMatch(/Cache "reports": .*"report:3".* after disconnect\(\).*not stored/);
    // The late result would be written, and the lease released, in the same turn as the warning: a
    // read from another instance comes back after they would have been sent.
    expect(await other.get('report:3')).toBeUndefined();
    expect(writesSince(from)).toEqual([]);
  });

  it('writes nothing for a background refresh that finishes after disconnect() stopped waiting for it', async () => {
    const { cache, other, sent, writesSince, warningsAbout } = cacheOn('late-refresh:');
    expect(await cache.wrap('report:4', () => 'first', 60_000)).toBe('first');
    // A hit with less than 60 s left is refreshed in the background: this one at once.
    const { factory, finish, started } = controlledFactory<string>();
    expect(await cache.wrap('report:4', factory, 60_000, 60_000)).toBe('first');
    await vi.waitFor(() => expect(started()).toBe(1), { timeout: 5_000, interval: 20 });

    const disconnected = await settledWithin(cache.disconnect(), DISCONNECT_WAIT + SLACK);
    expect(disconnected.error).toBeUndefined();
    expect(disconnected.ms).toBeGreaterThanOrEqual(DISCONNECT_WAIT - 50);

    const from = sent.length;
    finish('second');
    await vi.waitFor(() => expect(warningsAbout('report:4')).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(await other.get('report:4')).toBe('first');
    expect(writesSince(from)).toEqual([]);
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { resolveBackplaneOptions } from '../../src/backplane/backplane-options.js';
import { resolveCacheOptions, resolveCallOptions } from '../../src/cache/cache-options.js';
import { InvalidOptionError } from '../../src/store/errors.js';
import { resolveStoreOptions } from '../../src/store/resolve-store-options.js';

describe('option resolution', () => {
  it('gives a cache its documented defaults', () => {
    const resolved = resolveCacheOptions({});
    expect(resolved).toMatchObject({
      name: 'default',
      throwOnErrors: false,
      memory: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, maxTtlMs: 5_000 },
      circuitBreaker: { threshold: 5, durationMs: 10_000 },
      defaults: { failSafe: false, failSafeMaxDurationMs: 86_400_000, failSafeThrottleMs: 30_000, jitterMs: 0 },
    });
    expect(resolved.defaults.lock).toBeUndefined();
  });

  it('turns the memory tier off with memory: false', () => {
    expect(resolveCacheOptions({ memory: false }).memory).toBeUndefined();
  });

  it('names a nested option by its path', () => {
    expect(() => resolveCacheOptions({ memory: { maxTtl: -1 } })).toThrow(/option "memory\.maxTtl" must be a duration in ms > 0, got -1/);
  });

  it("lets a call override the cache's defaults, one option at a time", () => {
    const base = resolveCallOptions({ failSafe: true, jitter: 100, distributedLock: { leaseDuration: 5_000 } });
    const call = resolveCallOptions({ hardTimeout: 300 }, base);
    expect(call).toMatchObject({ failSafe: true, jitterMs: 100, hardTimeoutMs: 300, lock: { leaseMs: 5_000, waitMs: 5_000 } });
    expect(resolveCallOptions({ distributedLock: false }, base).lock).toBeUndefined();
  });

  it.each([
    [{ eagerRefreshThreshold: 1 }, 'eagerRefreshThreshold'],
    [{ softTimeout: 0 }, 'softTimeout'],
    [{ hardTimeout: Number.NaN }, 'hardTimeout'],
    [{ failSafe: 'yes' }, 'failSafe'],
    [{ distributedLock: { leaseDuration: 0 } }, 'leaseDuration'],
  ])('refuses %j with an InvalidOptionError naming %s', (options, option) => {
    try {
      resolveCallOptions(options as Record<string, unknown>);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });

  it('gives a store its documented defaults, and reads a ttl of 0 as "no expiry"', () => {
    const store = resolveStoreOptions({ tableName: 'app_cache', ttl: 0 });
    expect(store).toMatchObject({
      partitionKeyPrefix: 'dc:',
      consistentReads: true,
      slidingRenewThreshold: 0.1,
      operationTimeoutMs: 2_000,
      startupCheck: 'fail',
    });
    expect(store.ttl).toBeUndefined();
  });

  it('refuses a table name DynamoDB would refuse, naming the option', () => {
    expect(() => resolveStoreOptions({ tableName: 'x' })).toThrow(/option "tableName"/);
  });

  it("requires the backplane's maxLag to be longer than its interval", () => {
    expect(() => resolveBackplaneOptions({ type: 'poll', interval: 1_000, maxLag: 1_000 })).toThrow(/backplane\.maxLag/);
    expect(resolveBackplaneOptions({ type: 'streams' })).toMatchObject({ intervalMs: 1_000, maxLagMs: 5_000, memoryTtlMs: 300_000 });
  });

  it('elects one stream reader by default, two at most, with a lease that outlives a renewal interval', () => {
    expect(resolveBackplaneOptions({ type: 'streams' })).toMatchObject({ streamReaders: 1, leaseMs: 3_000 });
    expect(resolveBackplaneOptions({ type: 'streams', pollInterval: 200, maxLag: 500 })).toMatchObject({ leaseMs: 400 });
    expect(resolveBackplaneOptions({ type: 'streams', pollInterval: 1_000, maxLag: 1_500 })).toMatchObject({ leaseMs: 1_250 });
    expect(() => resolveBackplaneOptions({ type: 'streams', leaseDuration: 60_000 })).toThrow(
      /backplane\.leaseDuration.*shorter than maxLag \(5000 ms\)/,
    );
    expect(() => resolveBackplaneOptions({ type: 'streams', streamReaders: 3 })).toThrow(/backplane\.streamReaders.*1 or 2/);
    expect(() => resolveBackplaneOptions({ type: 'streams', streamReaders: 0 })).toThrow(/backplane\.streamReaders/);
    expect(() => resolveBackplaneOptions({ type: 'streams', pollInterval: Number.NaN })).toThrow(/backplane\.pollInterval.*got NaN/);
    expect(() => resolveBackplaneOptions({ type: 'streams', streamreaders: 2 })).toThrow(
      /backplane\.streamreaders.*takes type, pollInterval, streamReaders/,
    );
    expect(() => resolveBackplaneOptions({ type: 'poll', pollInterval: 500 })).toThrow(/backplane\.pollInterval.*poll backplane/);
    expect(() => resolveBackplaneOptions({ type: 'streams', leaseDuration: 1_000 })).toThrow(
      /backplane\.leaseDuration.*longer than the pollInterval/,
    );
  });

  it('gives a sort key the value "dc" unless sortKeyValue says otherwise', () => {
    expect(resolveStoreOptions({ tableName: 'app_table', sortKeyName: 'SK' }).sortKey).toEqual({ name: 'SK', value: 'dc' });
    expect(resolveStoreOptions({ tableName: 'app_table', sortKeyName: 'SK', sortKeyValue: 'CACHE' }).sortKey).toEqual({
      name: 'SK',
      value: 'CACHE',
    });
    expect(resolveStoreOptions({ tableName: 'app_table' }).sortKey).toBeUndefined();
  });

  it.each([
    [{ sortKeyValue: 'CACHE' }, 'sortKeyValue', /needs sortKeyName/],
    [{ sortKeyName: 'v' }, 'sortKeyName', /"v" is one of the attribute names cache items use \(v, f, exp/],
    [{ sortKeyName: 'bpk' }, 'sortKeyName', /"bpk" is one of the attribute names/],
    [{ sortKeyName: 'pk', partitionKeyName: 'pk' }, 'sortKeyName', /is "pk", the same as partitionKeyName/],
    [{ sortKeyName: 'ttl', ttlAttributeName: 'ttl' }, 'sortKeyName', /is "ttl", the same as ttlAttributeName/],
    [{ sortKeyName: '' }, 'sortKeyName', /non-empty attribute name/],
    [{ sortKeyName: 42 }, 'sortKeyName', /got 42/],
    [{ sortKeyName: 'SK', sortKeyValue: '' }, 'sortKeyValue', /non-empty string of at most 1024 UTF-8 bytes/],
    [{ sortKeyName: 'SK', sortKeyValue: 'é'.repeat(513) }, 'sortKeyValue', /at most 1024 UTF-8 bytes/],
    [{ sortKeyName: 'SK', sortKeyValue: 'a\uD800' }, 'sortKeyValue', /non-empty string/],
  ])('refuses the sort key options %j with an InvalidOptionError naming %s', (options, option, message) => {
    try {
      resolveStoreOptions({ tableName: 'app_table', ...(options as object) });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('takes a DynamoDBClient or a DynamoDBDocumentClient as client, and refuses anything else naming the option', () => {
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    expect(() => resolveStoreOptions({ tableName: 'app_table', client })).not.toThrow();
    expect(() => resolveStoreOptions({ tableName: 'app_table', client: DynamoDBDocumentClient.from(client) })).not.toThrow();
    const refused = (value: unknown) => {
      try {
        resolveStoreOptions({ tableName: 'app_table', client: value as DynamoDBClient });
        return expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option).toBe('client');
        return (error as Error).message;
      }
    };
    expect(refused({})).toMatch(
      /must be a DynamoDBClient \(@aws-sdk\/client-dynamodb\) or a DynamoDBDocumentClient.*got an object \(Object\)/,
    );
    expect(refused(null)).toMatch(/got null, which is no AWS SDK v3 client/);
    expect(refused(new DynamoDBStreamsClient({ region: 'eu-west-1' }))).toMatch(/got a client of service "DynamoDB Streams"/);
    client.destroy();
  });
});

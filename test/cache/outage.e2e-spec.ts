import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { CircuitOpenError } from '../../src/cache/errors.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, memoryLogger, recordCommands, cacheTableAttributes } from '../support/dynamo.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { useStoppedClock } from '../support/stopped-clock.js';

const TABLE = 'outage_cache';

// This file stops and restarts a DynamoDB Local of its own.
const ownDynamo = useOwnDynamoDbLocal(TABLE, { maxAttempts: 1 });
// The breaker's open period and memory's bound are crossed on a clock the test moves: in real time,
// everything the test does while the circuit is open would have to beat its 1 s on a busy machine.
const clock = useStoppedClock();

describe('a DynamoDB outage', () => {
  it('serves fail-safe and memory values while DynamoDB Local is stopped, opens the circuit, and recovers when it is back', async () => {
    const dynamo = await ownDynamo.start();
    const { client } = dynamo;
    const sent = recordCommands(client);
    const logger = memoryLogger();
    const store = new DynamoStore({ tableName: TABLE, client, ...cacheTableAttributes, operationTimeout: 1_000, logger });
    // A short memory maxTtl, so that every read below goes past memory to the DynamoDB that is down.
    const cache = new DynamoCache(store, {
      failSafe: true,
      circuitBreakerThreshold: 3,
      circuitBreakerDuration: 1_000,
      memory: { maxTtl: 100 },
    });
    const errors: unknown[] = [];
    cache.on('error', (error) => errors.push(error));

    clock.stop();
    await cache.getOrSet('report', () => 'v1', { ttl: 200 });
    await cache.set('profile', { name: 'Ada' }, 60_000);
    clock.advance(250);
    await dynamo.stop();

    // The factory fails too, as it would when the database behind it went down with DynamoDB's region.
    const upstreamDown = () => Promise.reject(new Error('upstream down'));
    expect(await cache.getOrSet('report', upstreamDown, { ttl: 200 })).toBe('v1');
    expect(await cache.get('profile')).toEqual({ name: 'Ada' });
    expect(await cache.getOrSet('fresh', () => 'computed while down', { ttl: 60_000 })).toBe('computed while down');
    expect(await cache.get('never-seen')).toBeUndefined();
    expect(cache.circuitState).toBe('open');
    expect(logger.warnings.filter((line) => line.includes('circuit open'))).toHaveLength(1);

    clock.advance(150); // past memory's bound, still inside the open period
    const sentWhileOpen = sent.length;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => cache.get(`miss-${index}`)));
    expect(answers.every((answer) => answer === undefined)).toBe(true);
    expect(sent.length - sentWhileOpen).toBe(0);
    expect(await cache.getOrSet('fresh', () => 'not called', { ttl: 60_000 })).toBe('computed while down');

    await dynamo.restart();
    clock.advance(1_100);
    expect(await cache.get('never-seen')).toBeUndefined(); // the probe: succeeds, and closes the circuit
    expect(cache.circuitState).toBe('closed');
    expect(logger.warnings.filter((line) => line.includes('circuit closed'))).toHaveLength(1);
    await cache.set('after', 'back', 60_000);
    expect(await new DynamoStore({ tableName: TABLE, client, ...cacheTableAttributes }).get('after')).toBe('back');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    client.destroy();
    // It starts DynamoDB Local twice, which a busy machine is slow to do.
  }, 120_000);

  it('rejects with CircuitOpenError while the circuit is open when throwOnErrors is set', async () => {
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const cache = new DynamoCache(new DynamoStore({ tableName: TABLE, client, ...cacheTableAttributes, logger: memoryLogger() }), {
      throwOnErrors: true,
      circuitBreakerThreshold: 2,
      memory: false,
    });
    cache.on('error', () => undefined);
    await expect(cache.get('a')).rejects.toThrow();
    await expect(cache.get('a')).rejects.toThrow();
    const error = await cache.get('a').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as Error).message).toContain(`DynamoDB table "${TABLE}" is skipped until`);
    client.destroy();
  });
});

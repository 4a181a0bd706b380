import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { CACHE, type DynamoCache, DynamoCacheModule } from '../../src/index.js';
import { recordCommands, cacheTableAttributes } from '../support/dynamo.js';
import { useNestApps } from '../support/nest-apps.js';
import { useOwnDynamoDbLocal } from '../support/own-dynamodb-local.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { useInMemoryTelemetry, valueOf } from './telemetry-support.js';

const TABLE = 'telemetry_cache';
// This file stops its own DynamoDB Local (an outage); one attempt per call, so that a call fails at once.
const ownDynamo = useOwnDynamoDbLocal(TABLE, { maxAttempts: 1 });
const telemetry = useInMemoryTelemetry();
const apps = useNestApps();
const clock = useStoppedClock();
let dynamo: OwnDynamoDbLocal;
beforeAll(async () => {
  dynamo = await ownDynamo.start();
});

async function startCache(client: unknown, openTelemetry: object): Promise<DynamoCache> {
  const app = await apps.start({
    imports: [
      DynamoCacheModule.forRoot({
        tableName: TABLE,
        client: client as never,
        ...cacheTableAttributes,
        failSafe: true,
        circuitBreakerThreshold: 2,
        circuitBreakerDuration: 60_000,
        openTelemetry: { meterProvider: telemetry.meterProvider, tracerProvider: telemetry.tracerProvider, ...openTelemetry },
      }),
    ],
  });
  return app.get<DynamoCache>(CACHE);
}

type HistogramDataPoint = { attributes: Record<string, unknown>; value: { count: number } };
const sentOf = (sent: string[], operation: string) => sent.filter((name) => name === `${operation}Command`).length;
const histogramCount = (points: unknown[], attributes: Record<string, unknown>) =>
  (points as HistogramDataPoint[])
    .filter((point) => Object.entries(attributes).every(([name, value]) => point.attributes[name] === value))
    .reduce((sum, point) => sum + point.value.count, 0);

describe('OpenTelemetry metrics, spans and diagnostics channels', () => {
  it('counts exactly the hits, misses, stale serves, factory runs and DynamoDB calls of a known sequence, through an outage that opens the circuit', async () => {
    const sent = recordCommands(dynamo.client);
    const cache = await startCache(dynamo.client, {});
    const sentBefore = sent.length;

    clock.stop();
    await cache.set('a', 1);
    expect(await cache.get('a')).toBe(1); // memory hit
    expect(await cache.get('nothing')).toBeUndefined(); // memory miss, DynamoDB miss
    await cache.store.set('direct', 2); // past memory, straight into DynamoDB
    expect(await cache.get('direct')).toBe(2); // memory miss, DynamoDB hit
    expect(await cache.getOrSet('report', () => 'v1', { ttl: 100 })).toBe('v1'); // memory miss, DynamoDB miss, a factory run
    clock.advance(150); // 'report' expired; memory keeps it for fail-safe
    await dynamo.stop();
    const upstreamDown = () => Promise.reject(new Error('upstream down'));
    // Memory miss, DynamoDB fails, the factory fails: memory's copy served stale.
    expect(await cache.getOrSet('report', upstreamDown, { ttl: 100 })).toBe('v1');
    expect(await cache.get('other')).toBeUndefined(); // memory miss, DynamoDB fails again: the circuit opens
    expect(cache.circuitState).toBe('open');
    expect(await cache.get('skipped')).toBeUndefined(); // memory miss, DynamoDB skipped

    const expected = {
      memory: { hits: 1, misses: 6, stale: 1 },
      dynamodb: { hits: 1, misses: 2, stale: 0 },
    };
    expect(cache.stats().tiers).toEqual(expected);
    const lookups = await telemetry.points('dynamo_cache.lookups');
    for (const tier of ['memory', 'dynamodb'] as const) {
      for (const [result, count] of [
        ['hit', expected[tier].hits],
        ['miss', expected[tier].misses],
        ['stale', expected[tier].stale],
      ] as const) {
        expect(valueOf(lookups, { 'cache.name': 'default', 'cache.tier': tier, 'cache.result': result }), `${tier} ${result}`).toBe(count);
      }
    }
    const circuit = await telemetry.points('dynamo_cache.circuit.state');
    expect(valueOf(circuit, { 'cache.name': 'default', 'circuit.state': 'open' })).toBe(1);
    expect(valueOf(circuit, { 'cache.name': 'default', 'circuit.state': 'closed' })).toBe(0);
    expect(valueOf(await telemetry.points('dynamo_cache.memory.entries'), { 'cache.name': 'default' })).toBe(cache.stats().memory!.entries);

    const factories = await telemetry.points('dynamo_cache.factory.duration');
    expect(histogramCount(factories, { 'cache.name': 'default' })).toBe(2);
    expect(histogramCount(factories, { 'error.type': 'Error' })).toBe(1);

    // Every call the client sent after start-up is in the histogram, by operation; the two refused are errors.
    const calls = await telemetry.points('db.client.operation.duration');
    const since = sent.slice(sentBefore);
    for (const operation of ['GetItem', 'PutItem']) {
      expect(histogramCount(calls, { 'db.system.name': 'aws.dynamodb', 'db.operation.name': operation, 'cache.name': 'default' })).toBe(
        sentOf(since, operation),
      );
    }
    expect(sentOf(since, 'PutItem')).toBe(3);
    const failed = (calls as HistogramDataPoint[]).filter((point) => point.attributes['error.type'] !== undefined);
    expect(failed.reduce((sum, point) => sum + point.value.count, 0)).toBe(2);
    expect(failed.every((point) => point.attributes['db.operation.name'] === 'GetItem')).toBe(true);
    await dynamo.restart();
  });

  it('makes a factory run a child of the active span, and a DynamoDB call inside it its child, with no key unless recordKeys', async () => {
    const cache = await startCache(dynamo.client, {});
    const tracer = telemetry.tracerProvider.getTracer('test');
    telemetry.spans.reset();
    await tracer.startActiveSpan('GET /report', async (request) => {
      await cache.getOrSet('secret-outer', async () => `${await cache.get('secret-inner')}!`);
      request.end();
    });
    const spans = telemetry.spans.getFinishedSpans();
    const request = spans.find((span) => span.name === 'GET /report')!;
    const factory = spans.find((span) => span.name === 'dynamo_cache.factory')!;
    expect(factory.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(factory.attributes).toEqual({ 'cache.name': 'default', 'cache.background': false });
    const calls = spans.filter((span) => span.kind === 2); // CLIENT
    const parentOf = (span: (typeof spans)[number]) => span.parentSpanContext?.spanId;
    const [requestId, factoryId] = [request.spanContext().spanId, factory.spanContext().spanId];
    // Every DynamoDB call is a child of whichever span was active: the request's read before the
    // factory and its write after, the factory's own read of 'secret-inner'.
    expect(calls.every((span) => [requestId, factoryId].includes(parentOf(span)!))).toBe(true);
    const reads = calls.filter((span) => span.name === `GetItem ${TABLE}`);
    expect(new Set(reads.map(parentOf))).toEqual(new Set([requestId, factoryId]));
    expect(calls.filter((span) => span.name === `PutItem ${TABLE}`).map(parentOf)).toEqual([requestId]);
    const read = reads.find((span) => parentOf(span) === factoryId)!;
    expect(read.attributes).toMatchObject({
      'db.system.name': 'aws.dynamodb',
      'db.operation.name': 'GetItem',
      'db.collection.name': TABLE,
      'aws.dynamodb.table_names': [TABLE],
      'cache.name': 'default',
      'cache.tier': 'dynamodb',
    });
    expect(JSON.stringify(spans.map((span) => [span.name, span.attributes, span.events]))).not.toMatch(/secret/);
  });

  it('puts the key on factory spans when recordKeys is on', async () => {
    const cache = await startCache(dynamo.client, { recordKeys: true });
    telemetry.spans.reset();
    await cache.getOrSet('user:42', () => 'Ada');
    const factory = telemetry.spans.getFinishedSpans().find((span) => span.name === 'dynamo_cache.factory')!;
    expect(factory.attributes['cache.key']).toBe('user:42');
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('publishes factory runs and DynamoDB calls on diagnostics channels, without OpenTelemetry', async () => {
    const app = await apps.start({
      imports: [DynamoCacheModule.forRoot({ tableName: TABLE, client: dynamo.client, ...cacheTableAttributes })],
    });
    const cache = app.get<DynamoCache>(CACHE);
    const seen: string[] = [];
    const onFactory = (message: unknown) => {
      const { cache: name, key, background } = message as { cache: string; key: string; background: boolean };
      seen.push(`factory ${name} ${key} ${background}`);
    };
    const onCall = (message: unknown) => {
      const { cache: name, operation, tableName } = message as { cache: string; operation: string; tableName: string };
      seen.push(`call ${name} ${operation} ${tableName}`);
    };
    const onFactoryEnd = () => seen.push('factory end');
    subscribe('tracing:nest-dynamo-cache:factory:start', onFactory);
    subscribe('tracing:nest-dynamo-cache:factory:asyncEnd', onFactoryEnd);
    subscribe('tracing:nest-dynamo-cache:dynamodb:start', onCall);
    try {
      await cache.getOrSet('channel-key', () => 'v');
    } finally {
      unsubscribe('tracing:nest-dynamo-cache:factory:start', onFactory);
      unsubscribe('tracing:nest-dynamo-cache:factory:asyncEnd', onFactoryEnd);
      unsubscribe('tracing:nest-dynamo-cache:dynamodb:start', onCall);
    }
    // Reads (a GetItem, and whatever else the read needs), the factory's run, then its write.
    const factoryAt = seen.indexOf('factory default channel-key false');
    expect(factoryAt).toBeGreaterThan(0);
    expect(seen.slice(0, factoryAt)).toContain(`call default GetItem ${TABLE}`);
    expect(seen.slice(factoryAt)).toEqual(['factory default channel-key false', 'factory end', `call default PutItem ${TABLE}`]);
    expect(seen.filter((line) => line.startsWith('call')).every((line) => line.startsWith('call default ') && line.endsWith(TABLE))).toBe(
      true,
    );
  });
});

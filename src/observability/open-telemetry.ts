import type { Attributes, Histogram, Meter, BatchObservableResult, Span, Tracer } from '@opentelemetry/api';
import type { BackplaneStats } from '../backplane/backplane.js';
import type { CircuitState } from '../cache/circuit-breaker.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { InvalidOptionError } from '../store/errors.js';
import type { DynamoDBCallTraceMessage, FactoryTraceMessage, OperationObserver } from '../store/trace-points.js';
import { type InstrumentNames, createInstruments } from './instruments.js';

/** `openTelemetry` of the module, or the options of `instrumentCaches`. */
export interface OpenTelemetryOptions {
  /**
   * Counters, gauges and histograms (hits, misses, stale serves, memory size, capacity, the circuit,
   * the backplane, factory and DynamoDB call durations), under the meter `nest-dynamo-cache`.
   * @defaultValue `true`
   */
  metrics?: boolean;
  /**
   * A span per get-or-set factory run and per DynamoDB call, child of the active span.
   * @defaultValue `true`
   */
  traces?: boolean;
  /**
   * Puts the cache key on factory spans as `cache.key`: keys may hold personal data.
   * @defaultValue `false`
   */
  recordKeys?: boolean;
  /**
   * The meter provider the instruments are made with.
   * @defaultValue `@opentelemetry/api`'s global one (`metrics.getMeterProvider()`)
   */
  meterProvider?: {
    /** Returns the meter of a scope (here `nest-dynamo-cache`). */
    getMeter(name: string, version?: string): unknown;
  };
  /**
   * The tracer provider the spans are made with.
   * @defaultValue `@opentelemetry/api`'s global one (`trace.getTracerProvider()`)
   */
  tracerProvider?: {
    /** Returns the tracer of a scope (here `nest-dynamo-cache`). */
    getTracer(name: string, version?: string): unknown;
  };
}

/** The caches to instrument, and the backplane whose state and lag are reported, read at each collection. */
export interface TelemetrySource {
  /** The caches to report, read at each collection (`registry.all()` in the module). */
  caches(): readonly DynamoCache[];
  /** The backplane whose state and lag are reported, if any (`registry.backplane`). */
  backplane?():
    | {
        /** The backplane's state, lag and counters. */
        stats(): BackplaneStats;
      }
    | undefined;
  /** Told of each cache registered later (a named cache built on first use); returns the unsubscription. */
  onRegistered?(listener: (cache: DynamoCache) => void): () => void;
}

/** What `instrumentCaches` returns: the handle that stops the instrumentation. */
export interface CacheInstrumentation {
  /** Takes the spans, histograms and observable instruments off the caches. */
  stop(): void;
}

const SCOPE = 'nest-dynamo-cache';
// @opentelemetry/api's enums, by value: the package is loaded only when no provider is passed.
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;
const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];
const BACKPLANE_STATES: readonly BackplaneStats['state'][] = ['starting', 'healthy', 'degraded', 'stopped'];
const BACKPLANE_ROLES: readonly NonNullable<BackplaneStats['role']>[] = ['reader', 'follower'];

/**
 * Metrics and traces for a set of caches. Hits, misses, stale serves, memory size, capacity, the
 * circuit and the backplane are observable instruments read from `stats()` when the reader collects:
 * a hit costs nothing more with metrics on. Factory runs and DynamoDB calls are timed as they happen.
 */
export async function instrumentCaches(source: TelemetrySource, options: OpenTelemetryOptions = {}): Promise<CacheInstrumentation> {
  const { metrics = true, traces = true, recordKeys = false } = options;
  const api =
    (metrics && options.meterProvider === undefined) || (traces && options.tracerProvider === undefined) ? await loadApi() : undefined;
  const meter = metrics ? ((options.meterProvider ?? api!.metrics.getMeterProvider()).getMeter(SCOPE) as Meter) : undefined;
  const tracer = traces ? ((options.tracerProvider ?? api!.trace.getTracerProvider()).getTracer(SCOPE) as Tracer) : undefined;
  const instruments = meter && createInstruments(meter);

  const factoryObserver: OperationObserver<FactoryTraceMessage> = {
    observe: (message, run) => {
      const attributes: Attributes = { 'cache.name': message.cache, 'cache.background': message.background };
      const spanAttributes = recordKeys ? { ...attributes, 'cache.key': message.key } : attributes;
      return timed(tracer, 'dynamo_cache.factory', SPAN_KIND_INTERNAL, spanAttributes, instruments?.factoryDuration, attributes, run);
    },
  };
  const callObserver: OperationObserver<DynamoDBCallTraceMessage> = {
    observe: (message, run) => {
      const attributes: Attributes = {
        'db.system.name': 'aws.dynamodb',
        'db.operation.name': message.operation,
        'db.collection.name': message.tableName,
        ...(message.cache === undefined ? {} : { 'cache.name': message.cache }),
      };
      const spanAttributes = tracer && { ...attributes, 'aws.dynamodb.table_names': [message.tableName], 'cache.tier': 'dynamodb' };
      const name = `${message.operation} ${message.tableName}`;
      return timed(tracer, name, SPAN_KIND_CLIENT, spanAttributes, instruments?.operationDuration, attributes, run);
    },
  };

  const instrumented = new Set<DynamoCache>();
  const instrument = (cache: DynamoCache) => {
    if (instrumented.has(cache) || (!traces && instruments === undefined)) return;
    instrumented.add(cache);
    cache.forTelemetry().factoryObserver = factoryObserver;
    if ('sendHooks' in cache.store) cache.store.sendHooks.observer = callObserver;
  };
  for (const cache of source.caches()) instrument(cache);
  const unsubscribe = source.onRegistered?.(instrument);

  const observe = instruments && ((result: BatchObservableResult) => observeStats(result, instruments, source));
  if (observe) meter!.addBatchObservableCallback(observe, instruments!.observables);

  return {
    stop() {
      unsubscribe?.();
      if (observe) meter!.removeBatchObservableCallback(observe, instruments!.observables);
      for (const cache of instrumented) {
        const telemetry = cache.forTelemetry();
        if (telemetry.factoryObserver === factoryObserver) telemetry.factoryObserver = undefined;
        if ('sendHooks' in cache.store && cache.store.sendHooks.observer === callObserver) cache.store.sendHooks.observer = undefined;
      }
      instrumented.clear();
    },
  };
}

/** Runs `run` in a span (active, so that what it calls nests under it) and records its duration in seconds. */
function timed<R>(
  tracer: Tracer | undefined,
  name: string,
  kind: number,
  spanAttributes: Attributes | undefined,
  histogram: Histogram | undefined,
  attributes: Attributes,
  run: () => Promise<R>,
): Promise<R> {
  const body = async (span?: Span) => {
    const startedAt = performance.now();
    try {
      const result = await run();
      histogram?.record((performance.now() - startedAt) / 1000, attributes);
      return result;
    } catch (error) {
      const type = errorType(error);
      histogram?.record((performance.now() - startedAt) / 1000, { ...attributes, 'error.type': type });
      if (span !== undefined) {
        span.setAttribute('error.type', type);
        // The library's own messages name the key ("Cannot cache key …"), which may be personal data:
        // only the error's type goes on the span.
        span.addEvent('exception', { 'exception.type': type });
        span.setStatus({ code: STATUS_ERROR, message: type });
      }
      throw error;
    } finally {
      span?.end();
    }
  };
  if (tracer === undefined) return body();
  return tracer.startActiveSpan(name, { kind: kind as never, attributes: spanAttributes }, body);
}

function errorType(error: unknown): string {
  return (error as Error)?.name ?? (error as object)?.constructor?.name ?? '_OTHER';
}

function observeStats(result: BatchObservableResult, instruments: InstrumentNames, source: TelemetrySource): void {
  for (const cache of source.caches()) {
    const stats = cache.stats();
    const name = { 'cache.name': cache.name };
    for (const tier of ['memory', 'dynamodb'] as const) {
      const counts = stats.tiers[tier];
      // A memory-only cache has no dynamodb tier: no series of one.
      if (counts === undefined) continue;
      result.observe(instruments.lookups, counts.hits, { ...name, 'cache.tier': tier, 'cache.result': 'hit' });
      result.observe(instruments.lookups, counts.misses, { ...name, 'cache.tier': tier, 'cache.result': 'miss' });
      result.observe(instruments.lookups, counts.stale, { ...name, 'cache.tier': tier, 'cache.result': 'stale' });
    }
    if (stats.memory !== undefined) {
      result.observe(instruments.memoryEntries, stats.memory.entries, name);
      result.observe(instruments.memorySize, stats.memory.bytes, name);
    }
    if (stats.autoRecovery !== undefined) {
      result.observe(instruments.owedChanges, stats.autoRecovery.owed, name);
      result.observe(instruments.droppedChanges, stats.autoRecovery.dropped, name);
    }
    for (const state of CIRCUIT_STATES)
      result.observe(instruments.circuitState, stats.circuit === state ? 1 : 0, { ...name, 'circuit.state': state });
    // Nor of capacity that DynamoDB never billed, under a table that does not exist.
    if (stats.tiers.dynamodb === undefined) continue;
    const table = { ...name, 'db.collection.name': cache.forTelemetry().tableName };
    result.observe(instruments.consumedCapacity, stats.capacity.readUnits, { ...table, 'capacity.type': 'read' });
    result.observe(instruments.consumedCapacity, stats.capacity.writeUnits, { ...table, 'capacity.type': 'write' });
  }
  const backplane = source.backplane?.()?.stats();
  if (backplane !== undefined) {
    const type = { 'backplane.type': backplane.type };
    // Before its first complete read the lag is unbounded: +Inf, which Prometheus shows as such.
    result.observe(instruments.backplaneLag, backplane.lagMs / 1000, type);
    for (const state of BACKPLANE_STATES)
      result.observe(instruments.backplaneState, backplane.state === state ? 1 : 0, { ...type, 'backplane.state': state });
    // The poll backplane has no roles: every instance reads the version items itself.
    if (backplane.role !== undefined)
      for (const role of BACKPLANE_ROLES)
        result.observe(instruments.backplaneRole, backplane.role === role ? 1 : 0, { ...type, 'backplane.role': role });
    result.observe(instruments.backplaneInvalidations, backplane.invalidations, type);
    result.observe(instruments.backplaneFailedReads, backplane.failedReads, type);
  }
}

async function loadApi(): Promise<typeof import('@opentelemetry/api')> {
  try {
    return await import('@opentelemetry/api');
  } catch (error) {
    throw new InvalidOptionError(
      'openTelemetry',
      `needs the @opentelemetry/api package (npm install @opentelemetry/api), or meterProvider and tracerProvider passed in; loading it failed: ${(error as Error)?.message}`,
    );
  }
}

import type { FactoryTraceMessage, OperationObserver } from '../store/trace-points.js';
import type { EntryStore } from '../store/entry-store.js';
import type { EntryOptions } from '../store/expiry.js';
import type { WarningLogger } from '../store/table-schema.js';
import type { CacheCore } from './cache-core.js';
import { CircuitOpenError } from './errors.js';
import { peekHit } from './memory-hits.js';

// What code outside cache/ may do to a cache beyond its public API, one port per need. `DynamoCache`
// hands each out (`forMethods()`, `forRoutes()`, ...): nothing outside cache/ reaches its engine.

/** What `@Cacheable` on provider methods needs: the module's logger, and writes dated from when the method began. */
export interface MethodCachePort {
  readonly logger: WarningLogger;
  /** `set` for a value made by work that began at `startedAt` (a `stamp()`): an invalidation since then retires it. */
  setMadeAt<T>(key: string, value: T, ttl: number | EntryOptions | undefined, startedAt: number): Promise<T>;
}

/** What the route interceptor needs: as methods do, and the cache's default ttl and memory hits. */
export interface RouteCachePort extends MethodCachePort {
  /** The ttl of an entry written without one, in ms; undefined: such entries never expire. */
  readonly defaultTtlMs: number | undefined;
  /**
   * `peek` for a caller that asks `getOrSet` next when memory has nothing (the interceptor's fast
   * path): the miss is counted there, so that one lookup is counted once.
   */
  peekHit<T>(key: string): T | undefined;
}

/** What the session store needs: the table, its entries, and DynamoDB through the cache's circuit breaker. */
export interface SessionPort {
  readonly tableName: string;
  /** The part of a sliding window that renewing must gain before a read writes it. */
  readonly slidingRenewThreshold: number;
  readonly entries: EntryStore;
  /**
   * Runs `work` as one of the cache's DynamoDB calls: a failure is reported once (the cache's 'error'
   * listeners, else its logger) and rejects; an open circuit rejects at once with CircuitOpenError.
   */
  run<R>(operation: string, shownKey: string | undefined, work: () => Promise<R>): Promise<R>;
}

/** What the health indicator needs to probe an open circuit: when it may, and a call through the breaker. */
export interface HealthPort {
  /** While the circuit is open: when a call may go to DynamoDB again. */
  readonly retryAt: number;
  /** As `SessionPort.run`. */
  run<R>(operation: string, shownKey: string | undefined, work: () => Promise<R>): Promise<R>;
}

/** What the OpenTelemetry bridge needs beyond `stats()`: the table, and a hook around each factory run. */
export interface TelemetryPort {
  readonly tableName: string;
  /** A span and a duration around each factory run; undefined: none. */
  factoryObserver: OperationObserver<FactoryTraceMessage> | undefined;
}

export class HandlerAccess implements RouteCachePort {
  constructor(private readonly core: CacheCore) {}

  get logger(): WarningLogger {
    return this.core.config.logger;
  }

  get defaultTtlMs(): number | undefined {
    return this.core.config.defaultTtlMs;
  }

  peekHit<T>(key: string): T | undefined {
    return peekHit<T>(this.core, key);
  }

  setMadeAt<T>(key: string, value: T, ttl: number | EntryOptions | undefined, startedAt: number): Promise<T> {
    return this.core.set(key, value, ttl, startedAt);
  }
}

/** DynamoDB through the cache's DynamoDB tier, for the session store and the health indicator. */
export class TableAccess implements SessionPort, HealthPort {
  constructor(private readonly core: CacheCore) {}

  get tableName(): string {
    return this.core.config.tableName;
  }

  get slidingRenewThreshold(): number {
    return this.core.config.slidingRenewThreshold;
  }

  get entries(): EntryStore {
    return this.core.store;
  }

  get retryAt(): number {
    return this.core.distributed.retryAt;
  }

  async run<R>(operation: string, shownKey: string | undefined, work: () => Promise<R>): Promise<R> {
    const { distributed } = this.core;
    const outcome = await distributed.attempt(operation, shownKey, work);
    if (outcome.ok) return outcome.value;
    throw outcome.error ?? new CircuitOpenError(this.tableName, this.retryAt);
  }
}

export class TelemetryAccess implements TelemetryPort {
  constructor(private readonly core: CacheCore) {}

  get tableName(): string {
    return this.core.config.tableName;
  }

  get factoryObserver(): OperationObserver<FactoryTraceMessage> | undefined {
    return this.core.factoryObserver;
  }

  set factoryObserver(observer: OperationObserver<FactoryTraceMessage> | undefined) {
    this.core.factoryObserver = observer;
  }
}

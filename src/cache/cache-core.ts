import { randomUUID } from 'node:crypto';
import type { LocalTier } from '../backplane/backplane-port.js';
import type { CapacityRecord } from '../store/capacity.js';
import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import type { EntryStore } from '../store/entry-store.js';
import { MemoryStore } from '../store/memory-store.js';
import { type EntryOptions, isPast } from '../store/expiry.js';
import { partitionKeyFor } from '../store/keys.js';
import type { CacheConfig } from './cache-config.js';
import { CacheEvents } from './cache-events.js';
import type { ResolvedCallOptions } from './cache-options.js';
import { DistributedTier } from './distributed-tier.js';
import { type MemoryEntry, MemoryTier, memoryValue } from './memory-tier.js';
import { RefreshBackoff } from './refresh-backoff.js';
import { LookupCounters } from './lookup-counters.js';
import type { FactoryTraceMessage, OperationObserver } from '../observability/trace-points.js';

/** What a read of DynamoDB (through the memory tier) came to. */
export type ReadResult<T> =
  | { readonly kind: 'hit'; readonly value: T; readonly expiresAt?: number }
  | { readonly kind: 'stale'; readonly value: T; readonly expiresAt?: number; readonly staleUntil?: number }
  | { readonly kind: 'miss' }
  | { readonly kind: 'failed' };

/** A value with the instant it expires, as get-or-set resolves. */
export interface Resolved<T> {
  readonly value: T;
  readonly expiresAt?: number;
}

/** A value past its expiry that fail-safe may serve, and where it was found. */
export interface Fallback<T> {
  readonly value: T;
  readonly expiresAt?: number;
  readonly staleUntil?: number;
  readonly tier: 'memory' | 'dynamodb';
}

/** One key's get-or-set in progress in this process, which later callers of the key join. */
export interface Flight<T> {
  readonly promise: Promise<Resolved<T>>;
  readonly cacheName: string;
  readonly key: string;
  /** Set by the caller that started it once it holds a stale value, for joiners' own timeouts. */
  fallback?: Fallback<T>;
  /** The flights its factory has joined and still waits on: the edges in which a cycle is found. */
  readonly waitingOn: Set<Flight<unknown>>;
}

const FAILED: ReadResult<never> = Object.freeze({ kind: 'failed' });
const MISS: ReadResult<never> = Object.freeze({ kind: 'miss' });

/**
 * One cache's engine, under the `DynamoCache` facade: it owns the memory tier, the DynamoDB tier
 * (circuit breaker and error policy), the events, the calls in flight and the logger. Every
 * operation handler (get-or-set, the facade's methods, the route interceptor, the session store)
 * works through it, never through the store's settings.
 */
export class CacheCore {
  readonly memory?: MemoryTier;
  readonly distributed: DistributedTier;
  readonly events: CacheEvents;
  /** This instance's name as a distributed-lock owner. */
  readonly ownerId = randomUUID();
  private readonly flights = new Map<string, Flight<unknown>>();
  private readonly background = new Set<Promise<unknown>>();
  /** Background refreshes that failed wait `failSafeThrottleDuration` before they are tried again. */
  readonly refreshes = new RefreshBackoff();
  /** Hits, misses and stale serves per tier, for `stats()`. */
  readonly lookups = new LookupCounters();
  /** Set by the OpenTelemetry bridge: a span and a duration around each factory run. */
  factoryObserver?: OperationObserver<FactoryTraceMessage>;

  constructor(
    readonly store: EntryStore,
    readonly config: CacheConfig,
  ) {
    this.events = new CacheEvents(config.name);
    this.memory = config.memory && new MemoryTier(config.memory);
    this.distributed = new DistributedTier(config, (error, operation) => this.report(error, operation));
    // Store-level errors the cache did not see itself (a failed sliding renewal) reach the same listeners.
    store.on('error', (error: unknown) => this.report(error));
    store.on('capacity', (record: CapacityRecord) => this.events.emitIfHeard('cache:capacity', () => ({ cache: config.name, ...record })));
  }

  /** Checks and serializes a write, throwing a typed error for bad input before anything is sent or kept. */
  prepare(key: string, value: unknown, ttl: number | EntryOptions | undefined, call: ResolvedCallOptions): PreparedEntry {
    const keepStaleFor = call.failSafe ? call.failSafeMaxDurationMs : 0;
    return this.store.prepareEntry(key, value, withJitter(ttl ?? this.config.defaultTtlMs, call.jitterMs), { keepStaleFor });
  }

  /** Reads DynamoDB, keeping a hit in memory; `allowStale` also returns an entry kept for fail-safe. */
  async readThrough<T>(key: string, allowStale: boolean): Promise<ReadResult<T>> {
    const startedAt = Date.now();
    const outcome = await this.distributed.attempt('get', key, () => this.store.getEntry<T>(key, { allowStale }));
    if (!outcome.ok) return FAILED;
    const entry = outcome.value;
    if (entry === undefined) {
      this.dropContradicted(key);
      this.lookups.dynamodbMisses++;
      this.events.emitCache('cache:miss', key, 'dynamodb');
      return MISS;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      // Only kept for fail-safe: no live value, a miss unless it is served (counted then as stale).
      this.lookups.dynamodbMisses++;
      return { kind: 'stale', value: entry.value, expiresAt: entry.expiresAt, staleUntil: entry.staleUntil };
    }
    this.lookups.dynamodbHits++;
    this.events.emitCache('cache:hit', key, 'dynamodb');
    return { kind: 'hit', value: this.remember(key, entry, startedAt), expiresAt: entry.expiresAt };
  }

  /**
   * DynamoDB holds no live entry: memory drops a copy it still served as live (deleted or replaced
   * elsewhere), but keeps one already past its expiry, a fail-safe fallback and its throttle, which
   * a plain read's miss says nothing against.
   */
  private dropContradicted(key: string): void {
    const remembered = this.memory?.get(key, Date.now());
    if (remembered !== undefined && !isPast(remembered.expiresAt, Date.now())) this.memory!.delete(key);
  }

  /**
   * Writes memory first, so that this instance has the value even while DynamoDB cannot take it (an
   * outage the caller is not told of); under throwOnErrors, memory last. A write that rejects leaves
   * memory without it.
   */
  async write<T>(prepared: PreparedEntry, value: T): Promise<Resolved<T>> {
    // Under throwOnErrors the caller learns whether the write landed, so memory takes the value only
    // once it has: until then, readers get what DynamoDB holds, not a value that may be refused.
    const rememberedFirst = this.config.throwOnErrors ? undefined : this.rememberWritten(prepared);
    let outcome;
    try {
      outcome = await this.distributed.attempt('set', prepared.key, () => this.store.putEntry(prepared));
    } catch (error) {
      // A rejected write (input refused once encoded, or any failure under throwOnErrors) told the
      // caller nothing was stored: memory must not serve it either.
      this.forget([prepared.key]);
      throw error;
    }
    const remembered = rememberedFirst ?? (this.config.throwOnErrors ? this.rememberWritten(prepared) : undefined);
    if (outcome.ok) {
      this.events.emitCache('cache:set', prepared.key);
      this.events.emitIfHeard('set', () => ({ key: prepared.key, value }));
    }
    return { value: remembered ? memoryValue<T>(remembered) : value, expiresAt: prepared.expiration.expiresAt };
  }

  /** Keeps a value read from DynamoDB in memory; returns the copy every caller is handed. */
  remember<T>(key: string, entry: CacheEntry<T>, readStartedAt: number): T {
    if (this.memory === undefined) return entry.value;
    const now = Date.now();
    const lifetime = {
      expiresAt: entry.expiresAt,
      keepUntil: entry.staleUntil,
      renewAt: renewalDue(entry.expiresAt, entry.sliding?.windowMs, entry.sliding?.absoluteDeadline, this.config.slidingRenewThreshold),
    };
    const remembered = this.memory.set(key, entry.payload, entry.value, lifetime, now, readStartedAt);
    // A value memory keeps serialized decodes a copy per hit; the one just read is already a copy.
    return remembered.payload === undefined ? (remembered.frozenValue as T) : entry.value;
  }

  rememberWritten(prepared: PreparedEntry): MemoryEntry | undefined {
    const { expiresAt, staleUntil, slidingWindow, absoluteDeadline } = prepared.expiration;
    const renewAt = renewalDue(expiresAt, slidingWindow, absoluteDeadline, this.config.slidingRenewThreshold);
    return this.memory?.set(prepared.key, prepared.payload, undefined, { expiresAt, keepUntil: staleUntil, renewAt }, Date.now());
  }

  /** Keeps a fallback in memory as fresh for `throttleMs`, so that a failing factory is not retried per call. */
  throttle<T>(key: string, fallback: Fallback<T>, throttleMs: number): void {
    if (this.memory === undefined) return;
    const now = Date.now();
    const payload = this.store.prepareEntry(key, fallback.value, 0).payload;
    this.memory.set(
      key,
      payload,
      undefined,
      { expiresAt: fallback.expiresAt, keepUntil: fallback.staleUntil, freshUntil: now + throttleMs },
      now,
    );
  }

  /** Memory drops the keys, and no read already in flight may put their old values back. */
  forget(keys: readonly string[]): void {
    if (this.memory === undefined) return;
    const now = Date.now();
    for (const key of keys) this.memory.forget(key, now);
  }

  /** The flight in progress for `key`, or a new one that `start` begins. */
  flight<T>(key: string, start: (flight: Flight<T>) => Promise<Resolved<T>>): { flight: Flight<T>; joined: boolean } {
    const running = this.flights.get(key) as Flight<T> | undefined;
    if (running !== undefined) return { flight: running, joined: true };
    const flight = { cacheName: this.config.name, key, waitingOn: new Set() } as unknown as {
      -readonly [K in keyof Flight<T>]: Flight<T>[K];
    };
    flight.promise = start(flight).finally(() => this.flights.delete(key));
    this.flights.set(key, flight as Flight<unknown>);
    return { flight, joined: false };
  }

  /** Work that outlives the call that started it (a refresh, a factory past its timeout), awaited by `settle`. */
  track(work: Promise<unknown>): void {
    const tracked = work.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  /** Resolves once every flight and background task has settled. */
  async settle(): Promise<void> {
    while (this.flights.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...[...this.flights.values()].map((flight) => flight.promise), ...this.background]);
    }
  }

  report(error: unknown, operation?: string): void {
    this.events.emitCache('cache:error', undefined, undefined, error);
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    else
      this.config.logger.warn(
        `Cache ${this.config.id}: ${operation ? `${operation} failed: ` : ''}${(error as Error)?.message ?? String(error)}`,
      );
  }

  /**
   * This cache as a backplane drives it: undefined without a memory tier, or for a memory-only
   * cache, whose entries no other instance shares (nothing to keep coherent).
   */
  localTier(): LocalTier | undefined {
    const memory = this.memory;
    if (memory === undefined || this.store instanceof MemoryStore) return undefined;
    const prefix = this.config.partitionKeyPrefix;
    const invalidate = (key: string) => {
      memory.forget(key, Date.now());
      this.events.emitCache('cache:invalidated', key, 'memory');
    };
    return {
      cacheName: this.config.name,
      partitionKeyPrefix: prefix,
      invalidate,
      invalidateDigest: (partitionKey) => {
        for (const key of [...memory.keys()]) if (partitionKeyFor(prefix, key).value === partitionKey) invalidate(key);
      },
      clear: () => memory.clear(),
      readVersion: () => this.store.readVersion(),
      bumpVersion: () => this.store.bumpVersion(),
      watchWrites: (listener) => {
        this.distributed.afterWrite = listener;
      },
      setBound: (maxTtlMs, vouched) => {
        memory.maxTtlMs = maxTtlMs ?? memory.options.maxTtlMs;
        memory.vouched = (maxTtlMs !== undefined && vouched) || (() => false);
      },
    };
  }
}

/**
 * When a sliding entry's next read must reach DynamoDB: once renewing its window there would gain
 * `threshold` of it (see `slidingRenewal`). Undefined for an entry no read renews.
 */
export function renewalDue(
  expiresAt: number | undefined,
  windowMs: number | undefined,
  absoluteDeadline: number | undefined,
  threshold: number,
): number | undefined {
  if (windowMs === undefined || expiresAt === undefined) return undefined;
  // Near its absolute deadline no renewal can gain enough: memory may serve it to its end.
  if (absoluteDeadline !== undefined && absoluteDeadline - expiresAt < windowMs * threshold) return undefined;
  return expiresAt - (1 - threshold) * windowMs;
}

function withJitter(ttl: number | EntryOptions | undefined, jitterMs: number): number | EntryOptions | undefined {
  if (jitterMs <= 0 || typeof ttl !== 'number' || ttl <= 0) return ttl;
  return ttl + Math.floor(Math.random() * jitterMs);
}

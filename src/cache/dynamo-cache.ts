import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type Keyv from 'keyv';
import type { CapacityRecord, CapacityUnits } from '../store/capacity.js';
import type { CacheEntry, DynamoStore, PreparedEntry } from '../store/dynamo-store.js';
import type { EntryOptions } from '../store/expiry.js';
import { CacheEvents } from './cache-events.js';
import {
  type DynamoCacheOptions,
  type GetOrSetOptions,
  type ResolvedCacheOptions,
  type ResolvedCallOptions,
  resolveCacheOptions,
  resolveCallOptions,
} from './cache-options.js';
import { DistributedTier } from './distributed-tier.js';
import type { Factory } from './factory-run.js';
import { type CacheInternals, type ReadResult, type Resolved, type Ttl, loadOrCompute, refreshInBackground } from './get-or-set.js';
import { partitionKeyFor } from '../store/keys.js';
import { BATCH_TIMEOUT_FACTOR } from '../store/timed-sender.js';
import { keyvOver } from './keyv-bridge.js';
import { type MemoryEntry, MemoryTier, memoryValue } from './memory-tier.js';

export interface WrapOptions<T> {
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /** Refresh in the background when a hit has less than this many ms left. */
  refreshThreshold?: number | ((value: T) => number);
  /** Resolve to `{ value, expires }` instead of the value. */
  raw?: boolean;
}

/** What a backplane needs of a cache: its memory tier, addressed by key. */
export interface LocalTier {
  readonly cacheName: string;
  readonly partitionKeyPrefix: string;
  /** Another instance changed the key: drop this instance's copy (a `cache:invalidated` event). */
  invalidate(key: string): void;
  /** As `invalidate`, for a key stored in digest form (a long key), found by its partition key. */
  invalidateDigest(partitionKey: string): void;
  clear(): void;
  /** The poll backplane's version item of this cache (see `DynamoStore.readVersion`). */
  readVersion(): Promise<number>;
  bumpVersion(): Promise<number>;
  /** `listener` is told after each of this cache's writes that reached DynamoDB. */
  watchWrites(listener: () => void): void;
  /** How long memory may serve an entry; undefined restores `memory.maxTtl`. */
  setBound(maxTtlMs: number | undefined): void;
}

export interface CacheStats {
  readonly capacity: CapacityUnits;
  /** Absent when the memory tier is off. */
  readonly memory?: { readonly entries: number; readonly bytes: number };
  readonly circuit: string;
}

/** When a hit is old enough to be refreshed in the background: ms left below which it is. */
type RefreshPolicy<T> = (value: T) => number | undefined;

/**
 * The cache that `@Inject(CACHE)` and `@InjectCache(name)` give: cache-manager's `Cache` API (TTLs in
 * ms, `undefined` on a miss) over two tiers, this instance's memory and DynamoDB, with get-or-set
 * (stampede protection, fail-safe, timeouts, eager refresh, an optional distributed lock), absolute
 * and sliding expiration, and a DynamoDB outage that never fails a call unless asked to.
 */
export class DynamoCache {
  readonly name: string;
  private readonly options: ResolvedCacheOptions;
  private readonly memory?: MemoryTier;
  private readonly distributed: DistributedTier;
  private readonly events: CacheEvents;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly internals: CacheInternals;
  private readonly id: string;
  private keyvStores?: Keyv[];

  constructor(
    readonly store: DynamoStore,
    options: DynamoCacheOptions = {},
  ) {
    this.options = resolveCacheOptions(options);
    this.name = this.options.name;
    this.id = this.options.cacheId ?? `${store.tableName}/${store.opts.partitionKeyPrefix}`;
    this.events = new CacheEvents(this.name);
    this.memory = this.options.memory && new MemoryTier(this.options.memory);
    this.distributed = new DistributedTier(store, this.name, this.options.throwOnErrors, this.options.circuitBreaker, (error, operation) =>
      this.reportError(error, operation),
    );
    this.internals = {
      name: this.name,
      store,
      memory: this.memory,
      distributed: this.distributed,
      events: this.events,
      ownerId: randomUUID(),
      readThrough: (key, allowStale) => this.readThrough(key, allowStale),
      write: (key, value, ttl, call) => this.write(key, value, ttl, call),
      coalesce: (key, work) => this.coalesce(key, work),
      report: (error, operation) => this.reportError(error, operation),
    };
    // Store-level errors the cache did not see itself (a failed sliding renewal) reach the same listeners.
    store.on('error', (error: unknown) => this.reportError(error));
    store.on('capacity', (record: CapacityRecord) => this.events.emitIfHeard('cache:capacity', () => ({ cache: this.name, ...record })));
  }

  /** Not an async function: a memory hit then costs one resolved promise, not an async frame. */
  get<T>(key: string): Promise<T | undefined> {
    const now = Date.now();
    const remembered = this.memory?.get(key, now);
    if (remembered !== undefined && isFreshHit(remembered, now)) {
      this.events.emitCache('cache:hit', key, 'memory');
      return Promise.resolve(this.announceGet(key, memoryValue<T>(remembered)));
    }
    return this.getFromDynamo(key, remembered, now);
  }

  /**
   * The value this instance holds in memory for `key`, synchronously and without asking DynamoDB;
   * undefined when memory has no fresh entry (or is off). For code that cannot await. A hit is a
   * `cache:hit`; nothing is announced otherwise, since DynamoDB was not asked.
   */
  peek<T>(key: string): T | undefined {
    const now = Date.now();
    const remembered = this.memory?.get(key, now);
    if (remembered === undefined || !isFreshHit(remembered, now)) return undefined;
    this.events.emitCache('cache:hit', key, 'memory');
    return memoryValue<T>(remembered);
  }

  private async getFromDynamo<T>(key: string, remembered: MemoryEntry | undefined, now: number): Promise<T | undefined> {
    const read = await this.readThrough<T>(key, false);
    if (read.kind === 'hit') return this.announceGet(key, read.value);
    if (read.kind === 'failed' && remembered !== undefined && (remembered.expiresAt === undefined || now < remembered.expiresAt)) {
      this.events.emitCache('cache:stale', key, 'memory');
      return memoryValue<T>(remembered);
    }
    return this.announceGet(key, undefined);
  }

  async mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    const now = Date.now();
    const values = new Array<T | undefined>(keys.length);
    const missing: number[] = [];
    keys.forEach((key, index) => {
      const remembered = this.memory?.get(key, now);
      if (remembered !== undefined && isFreshHit(remembered, now)) {
        values[index] = memoryValue<T>(remembered);
      } else missing.push(index);
    });
    if (missing.length > 0) {
      const missingKeys = missing.map((index) => keys[index]!);
      const startedAt = Date.now();
      const outcome = await this.distributed.attempt('mget', missingKeys, () => this.store.getManyEntries<T>(missingKeys));
      if (outcome.ok) outcome.value.forEach((entry, at) => (values[missing[at]!] = entry && this.remember(missingKeys[at]!, entry, startedAt)));
    }
    this.events.emitIfHeard('mget', () => ({ keys, value: values }));
    return values;
  }

  /** The instant (epoch ms) the key expires; undefined for a miss or an entry that never expires. */
  async ttl(key: string): Promise<number | undefined> {
    const read = await this.readThrough(key, false);
    return read.kind === 'hit' ? read.expiresAt : undefined;
  }

  /** `ttl` in ms (0: never expires), or entry options with absolute and sliding expiration. */
  async set<T>(key: string, value: T, ttl?: number | EntryOptions): Promise<T> {
    await this.write(key, value, ttl, this.options.defaults);
    return value;
  }

  async mset<T>(list: Array<{ key: string; value: T; ttl?: number }>): Promise<Array<{ key: string; value: T; ttl?: number }>> {
    const outcome = await this.distributed.attempt(
      'mset',
      Array.isArray(list) ? list.map((entry) => entry?.key) : undefined,
      () => this.store.setManyEntries(list),
    );
    // Not written to DynamoDB: forget what memory held, rather than serve values older than the caller's.
    for (const { key } of list) this.memory?.delete(key);
    if (outcome.ok) for (const prepared of outcome.value) this.rememberWritten(prepared);
    this.events.emitIfHeard('mset', () => ({ list }));
    return list;
  }

  async del(key: string): Promise<boolean> {
    this.memory?.delete(key);
    const outcome = await this.distributed.attempt('del', key, () => this.store.delete(key));
    this.events.emitCache('cache:delete', key);
    this.events.emitIfHeard('del', () => ({ key }));
    return outcome.ok && outcome.value;
  }

  async mdel(keys: string[]): Promise<boolean> {
    if (Array.isArray(keys)) for (const key of keys) this.memory?.delete(key);
    const outcome = await this.distributed.attempt('mdel', keys, () => this.store.deleteKeys(keys));
    for (const key of keys) this.events.emitCache('cache:delete', key);
    this.events.emitIfHeard('mdel', () => ({ keys }));
    return outcome.ok;
  }

  /** Deletes this cache's entries, and no other item of the table: not another named cache's. */
  async clear(): Promise<boolean> {
    this.memory?.clear();
    const outcome = await this.distributed.attempt('clear', undefined, () => this.store.clear());
    this.events.emitCache('cache:clear', undefined);
    this.events.emitIfHeard('clear', () => ({}));
    return outcome.ok;
  }

  /** Renews a sliding entry without reading its value; resolves to whether the key holds an entry. */
  async refresh(key: string): Promise<boolean> {
    const outcome = await this.distributed.attempt('refresh', key, () => this.store.refresh(key));
    return outcome.ok && outcome.value;
  }

  /**
   * Get-or-set: a hit returns the stored value; a miss runs `factory` once however many callers of
   * this process ask at the same time (and, with `distributedLock`, however many instances), stores
   * its result and returns it. See GetOrSetOptions for fail-safe, timeouts, eager refresh and jitter.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): Promise<T> {
    const now = Date.now();
    const remembered = this.memory?.get(key, now);
    if (remembered !== undefined && now < remembered.freshUntil) {
      const value = memoryValue<T>(remembered);
      this.announceMemoryHit(key, remembered, now);
      const threshold = options?.eagerRefreshThreshold ?? this.options.defaults.eagerRefreshThreshold;
      if (threshold !== undefined) this.refreshIfDue(key, factory, options?.ttl, options, eagerPolicy(threshold, options?.ttl, this.store.opts.ttl), remembered.expiresAt, value, now);
      return Promise.resolve(value);
    }
    return this.getOrSetSlow(key, factory, options?.ttl, options, remembered).then((resolved) => resolved.value);
  }

  /**
   * cache-manager's wrap, on getOrSet: `refreshThreshold` is the ms left below which a hit is
   * refreshed in the background; `raw` resolves to `{ value, expires }`.
   */
  wrap<T>(key: string, factory: () => T | Promise<T>, ttl?: Ttl<T>, refreshThreshold?: WrapOptions<T>['refreshThreshold']): Promise<T>;
  wrap<T>(key: string, factory: () => T | Promise<T>, options: WrapOptions<T> & { raw?: false }): Promise<T>;
  wrap<T>(key: string, factory: () => T | Promise<T>, options: WrapOptions<T> & { raw: true }): Promise<{ value: T; expires?: number }>;
  async wrap<T>(
    key: string,
    factory: () => T | Promise<T>,
    ttlOrOptions?: Ttl<T> | WrapOptions<T>,
    refreshThreshold?: WrapOptions<T>['refreshThreshold'],
  ): Promise<unknown> {
    const options: WrapOptions<T> =
      typeof ttlOrOptions === 'object' && ttlOrOptions !== null && !isEntryOptions(ttlOrOptions)
        ? (ttlOrOptions as WrapOptions<T>)
        : { ttl: ttlOrOptions as Ttl<T>, refreshThreshold };
    const threshold = options.refreshThreshold;
    const policy: RefreshPolicy<T> | undefined =
      threshold === undefined ? undefined : typeof threshold === 'function' ? threshold : () => threshold;
    const now = Date.now();
    const remembered = this.memory?.get(key, now);
    let resolved: Resolved<T>;
    if (remembered !== undefined && now < remembered.freshUntil) {
      resolved = { value: memoryValue<T>(remembered), expiresAt: remembered.expiresAt };
      this.announceMemoryHit(key, remembered, now);
      if (policy) this.refreshIfDue(key, factory, options.ttl, undefined, policy, resolved.expiresAt, resolved.value, now);
    } else {
      resolved = await this.getOrSetSlow(key, factory, options.ttl, undefined, remembered, policy);
    }
    return options.raw ? { value: resolved.value, expires: resolved.expiresAt } : resolved.value;
  }

  /** `cache:*` events (see CacheEventName), `error`, and cache-manager's `get`, `set`, `del`, … */
  on(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.on(event, listener);
  }

  off(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.off(event, listener);
  }

  /**
   * What this cache has cost and holds: the read and write units DynamoDB billed for its calls
   * (counted while `returnConsumedCapacity` is on, the default), and its memory tier's size.
   */
  stats(): CacheStats {
    return {
      capacity: this.store.capacity,
      memory: this.memory && { entries: this.memory.size, bytes: this.memory.sizeBytes },
      circuit: this.distributed.circuitState,
    };
  }

  /**
   * This instance's memory tier as a backplane drives it: undefined when the cache keeps no memory
   * tier (nothing to keep coherent). Not for application code.
   */
  get localTier(): LocalTier | undefined {
    const memory = this.memory;
    if (memory === undefined) return undefined;
    const prefix = this.store.opts.partitionKeyPrefix;
    // The longest a read can be in flight: a batch call's bound, after a batch's retries.
    const opts = this.store.opts;
    const longestReadMs = opts.operationTimeoutMs * BATCH_TIMEOUT_FACTOR + opts.batchRetry.maxDurationMs;
    const invalidate = (key: string) => {
      memory.invalidate(key, Date.now(), longestReadMs);
      this.events.emitCache('cache:invalidated', key, 'memory');
    };
    return {
      cacheName: this.name,
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
      setBound: (maxTtlMs) => {
        memory.maxTtlMs = maxTtlMs ?? memory.options.maxTtlMs;
      },
    };
  }

  /** The state of the circuit breaker in front of DynamoDB: `closed` when calls go through. */
  get circuitState(): string {
    return this.distributed.circuitState;
  }

  async disconnect(): Promise<undefined> {
    await Promise.allSettled(this.inFlight.values());
    await this.store.disconnect();
    return undefined;
  }

  cacheId(): string {
    return this.id;
  }

  /** cache-manager's view of the tiers: a Keyv over the same DynamoDB entries. */
  get stores(): Keyv[] {
    return (this.keyvStores ??= [keyvOver(this.store)]);
  }

  private async getOrSetSlow<T>(
    key: string,
    factory: Factory<T>,
    ttl: Ttl<T>,
    options: GetOrSetOptions<T> | undefined,
    remembered: MemoryEntry | undefined,
    policy?: RefreshPolicy<T>,
  ): Promise<Resolved<T>> {
    const call = options === undefined ? this.options.defaults : resolveCallOptions(options as Record<string, unknown>, this.options.defaults);
    const resolved = await this.coalesce(key, () => loadOrCompute(this.internals, key, factory, ttl, call, remembered));
    const refreshPolicy = policy ?? (call.eagerRefreshThreshold === undefined ? undefined : eagerPolicy<T>(call.eagerRefreshThreshold, ttl, this.store.opts.ttl));
    if (refreshPolicy) this.refreshIfDue(key, factory, ttl, options, refreshPolicy, resolved.expiresAt, resolved.value, Date.now());
    return resolved;
  }

  private refreshIfDue<T>(
    key: string,
    factory: Factory<T>,
    ttl: Ttl<T>,
    options: GetOrSetOptions<T> | undefined,
    policy: RefreshPolicy<T>,
    expiresAt: number | undefined,
    value: T,
    now: number,
  ): void {
    if (expiresAt === undefined || expiresAt <= now) return;
    const below = policy(value);
    if (below === undefined || expiresAt - now >= below) return;
    const call = options === undefined ? this.options.defaults : resolveCallOptions(options as Record<string, unknown>, this.options.defaults);
    refreshInBackground(this.internals, key, factory, ttl, call, value);
  }

  private announceMemoryHit(key: string, remembered: MemoryEntry, now: number): void {
    // A fail-safe value served during its throttle is past its own expiry: a stale answer, not a hit.
    const stale = remembered.expiresAt !== undefined && remembered.expiresAt <= now;
    this.events.emitCache(stale ? 'cache:stale' : 'cache:hit', key, 'memory');
  }

  private announceGet<T>(key: string, value: T | undefined): T | undefined {
    // Checked here, so that a hit nobody listens to does not even allocate the payload's closure.
    if (this.events.heard) this.events.emitIfHeard('get', () => ({ key, value }));
    return value;
  }

  private async readThrough<T>(key: string, allowStale: boolean): Promise<ReadResult<T>> {
    const startedAt = Date.now();
    const outcome = await this.distributed.attempt('get', key, () => this.store.getEntry<T>(key, { allowStale }));
    if (!outcome.ok) return FAILED;
    const entry = outcome.value;
    if (entry === undefined) {
      this.memory?.delete(key);
      this.events.emitCache('cache:miss', key, 'dynamodb');
      return MISS;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      return { kind: 'stale', value: entry.value, expiresAt: entry.expiresAt, staleUntil: entry.staleUntil };
    }
    this.events.emitCache('cache:hit', key, 'dynamodb');
    return { kind: 'hit', value: this.remember(key, entry, startedAt), expiresAt: entry.expiresAt };
  }

  /** Writes memory first, so that this instance has the value even while DynamoDB cannot take it. */
  private async write<T>(key: string, value: T, ttl: number | EntryOptions | undefined, call: ResolvedCallOptions): Promise<Resolved<T>> {
    const keepStaleFor = call.failSafe ? call.failSafeMaxDurationMs : 0;
    const prepared = this.store.prepareEntry(key, value, withJitter(ttl ?? this.store.opts.ttl, call.jitterMs), { keepStaleFor });
    const remembered = this.rememberWritten(prepared);
    const outcome = await this.distributed.attempt('set', key, () => this.store.putEntry(prepared));
    if (outcome.ok) {
      this.events.emitCache('cache:set', key);
      this.events.emitIfHeard('set', () => ({ key, value }));
    }
    return { value: remembered ? memoryValue<T>(remembered) : value, expiresAt: prepared.expiration.expiresAt };
  }

  /** Keeps a value read from DynamoDB in memory; returns the copy every caller is handed. */
  private remember<T>(key: string, entry: CacheEntry<T>, readStartedAt: number): T {
    if (this.memory === undefined) return entry.value;
    const now = Date.now();
    const remembered = this.memory.set(key, entry.payload, entry.value, { expiresAt: entry.expiresAt, keepUntil: entry.staleUntil }, now, readStartedAt);
    // A value memory keeps serialized decodes a copy per hit; the one just read is already a copy.
    return remembered.payload === undefined ? (remembered.frozenValue as T) : entry.value;
  }

  private rememberWritten(prepared: PreparedEntry): MemoryEntry | undefined {
    const { expiresAt, staleUntil } = prepared.expiration;
    return this.memory?.set(prepared.key, prepared.payload, undefined, { expiresAt, keepUntil: staleUntil }, Date.now());
  }

  private coalesce<R>(key: string, work: () => Promise<R>): Promise<R> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<R>;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private reportError(error: unknown, operation?: string): void {
    this.events.emitCache('cache:error', undefined, undefined, error);
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    else this.store.opts.logger.warn(`Cache ${this.id}: ${operation ? `${operation} failed: ` : ''}${(error as Error)?.message ?? String(error)}`);
  }
}

/** A fail-safe value served for its throttle is fresh in memory but past its own expiry: not a hit for get. */
function isFreshHit(remembered: MemoryEntry, now: number): boolean {
  return now < remembered.freshUntil && (remembered.expiresAt === undefined || now < remembered.expiresAt);
}

const FAILED: ReadResult<never> = Object.freeze({ kind: 'failed' });
const MISS: ReadResult<never> = Object.freeze({ kind: 'miss' });

/** eagerRefreshThreshold 0.8 of a 60 s duration: refresh once less than 12 s are left. */
function eagerPolicy<T>(threshold: number, ttl: Ttl<T>, defaultTtl: number | undefined): RefreshPolicy<T> {
  return (value) => {
    const duration = typeof ttl === 'function' ? ttl(value) : (ttl ?? defaultTtl);
    return typeof duration === 'number' && duration > 0 ? (1 - threshold) * duration : undefined;
  };
}

function withJitter(ttl: number | EntryOptions | undefined, jitterMs: number): number | EntryOptions | undefined {
  if (jitterMs <= 0 || typeof ttl !== 'number' || ttl <= 0) return ttl;
  return ttl + Math.floor(Math.random() * jitterMs);
}

/** Entry options (absolute or sliding expiration) passed where wrap takes a ttl; `{ ttl }` alone means the same either way. */
function isEntryOptions(value: object): boolean {
  return 'absoluteExpiration' in value || 'slidingExpiration' in value;
}

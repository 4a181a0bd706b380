import type { EventEmitter } from 'node:events';
import type Keyv from 'keyv';
import type { CapacityUnits } from '../store/capacity.js';
import type { DynamoStore } from '../store/dynamo-store.js';
import type { MemoryStore } from '../store/memory-store.js';
import { InvalidCacheKeyError } from '../store/errors.js';
import type { EntryOptions } from '../store/expiry.js';
import { assertValidKey } from '../store/keys.js';
import { resolveCacheConfig } from './cache-config.js';
import { CacheCore, type Resolved, checkedTags } from './cache-core.js';
import { CLEARED_TAG, type CurrentCheck, stamp } from '../store/tags.js';
import type { CacheEventListener, CacheEventName } from './cache-events.js';
import {
  type DynamoCacheOptions,
  type GetOrSetOptions,
  type ResolvedCacheOptions,
  type ResolvedCallOptions,
  resolveCallOptions,
} from './cache-options.js';
import type { CircuitState } from './circuit-breaker.js';
import type { Factory } from './factory-run.js';
import { type Ttl, getOrSetMiss, refreshInBackground } from './get-or-set.js';
import { keyvOver } from './keyv-bridge.js';
import { type MemoryEntry, type MemoryTier, memoryValue } from './memory-tier.js';
import type { LookupCounters, TiersLookups } from './lookup-counters.js';

export interface WrapOptions<T> {
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /** Refresh in the background when a hit has less than this many ms left. */
  refreshThreshold?: number | ((value: T) => number);
  /** Resolve to `{ value, expires }` instead of the value. */
  raw?: boolean;
  /** Tags of the value, for `deleteByTag`. */
  tags?: readonly string[];
}

export interface CacheStats {
  readonly capacity: CapacityUnits;
  /** Absent when the memory tier is off. */
  readonly memory?: { readonly entries: number; readonly bytes: number };
  readonly circuit: CircuitState;
  /** Hits, misses and stale serves per tier since the cache was built (see TierLookups); no `dynamodb` when memory-only. */
  readonly tiers: TiersLookups;
}

/** When a hit is old enough to be refreshed in the background: ms left below which it is. */
type RefreshPolicy<T> = (value: T) => number | undefined;

/**
 * The cache that `@Inject(CACHE)` and `@InjectCache(name)` give: cache-manager's `Cache` API (TTLs in
 * ms, `undefined` on a miss) over two tiers, this instance's memory and DynamoDB, with get-or-set
 * (stampede protection, fail-safe, timeouts, eager refresh, an optional distributed lock), absolute
 * and sliding expiration, and a DynamoDB outage that never fails a call unless asked to.
 *
 * Bad input (a key that is not a non-empty string, a ttl that is not a duration, a value that cannot
 * be stored) always rejects with a typed error and writes nothing, whatever the state of DynamoDB.
 */
export class DynamoCache {
  readonly name: string;
  /** @internal The engine under this facade, for the module's own handlers (interceptor, sessions, backplane). */
  readonly core: CacheCore;
  private keyvStores?: Keyv[];
  // Read on every hit: one field each, not a chain of them.
  private readonly defaultEagerRefreshThreshold: number | undefined;
  private readonly events: CacheCore['events'];
  private readonly lookups: LookupCounters;

  constructor(
    /** Where its entries live: DynamoDB, or this process's memory for a memory-only cache (`distributed: false`). */
    readonly store: DynamoStore | MemoryStore,
    /** As a user writes them (resolved here, once), or resolved already by the module. */
    options: DynamoCacheOptions | ResolvedCacheOptions = {},
  ) {
    this.core = new CacheCore(store, resolveCacheConfig(store, options));
    this.name = this.core.config.name;
    this.defaultEagerRefreshThreshold = this.core.config.defaults.eagerRefreshThreshold;
    this.events = this.core.events;
    this.lookups = this.core.lookups;
    // Each DynamoDB call's span and channel message name the cache that made it.
    if ('sendHooks' in store) store.sendHooks.cacheName = this.name;
  }

  /** Not an async function: a memory hit then costs one resolved promise, not an async frame. */
  get<T>(key: string): Promise<T | undefined> {
    const now = Date.now();
    const memory = this.core.memory;
    const remembered = memory?.get(key, now);
    if (remembered !== undefined && isFreshHit(memory!, remembered, now)) {
      const value = memoryValue<T>(remembered);
      this.lookups.memoryHits++;
      // Checked here, so that a hit nobody listens to makes no call for its events.
      if (this.events.heard) {
        this.events.emitCache('cache:hit', key, 'memory');
        this.announceGet(key, value);
      }
      return Promise.resolve(value);
    }
    if (memory !== undefined) this.lookups.memoryMisses++;
    // Only a valid key is ever kept in memory, so the check costs nothing on a hit.
    return checked(key, () => this.getFromDynamo(key, remembered, now));
  }

  /**
   * The value this instance holds in memory for `key`, synchronously and without asking DynamoDB;
   * undefined when memory has no fresh entry (or is off). For code that cannot await. A hit is a
   * `cache:hit`; nothing is announced otherwise, since DynamoDB was not asked.
   */
  peek<T>(key: string): T | undefined {
    const value = this.peekHit<T>(key);
    if (value === undefined && this.core.memory !== undefined) this.lookups.memoryMisses++;
    return value;
  }

  /**
   * `peek` for a caller that asks `getOrSet` next when memory has nothing (the route interceptor's
   * fast path): the miss is counted there, so that one lookup is counted once.
   * @internal
   */
  peekHit<T>(key: string): T | undefined {
    const now = Date.now();
    const memory = this.core.memory;
    const remembered = memory?.get(key, now);
    if (remembered === undefined || !isFreshHit(memory!, remembered, now)) {
      assertValidKey(key);
      return undefined;
    }
    this.lookups.memoryHits++;
    this.core.events.emitCache('cache:hit', key, 'memory');
    return memoryValue<T>(remembered);
  }

  async mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    assertKeys(keys, 'mget');
    const { memory, distributed, events } = this.core;
    const now = Date.now();
    const values = new Array<T | undefined>(keys.length);
    const missing: number[] = [];
    keys.forEach((key, index) => {
      const remembered = memory?.get(key, now);
      if (remembered !== undefined && isFreshHit(memory!, remembered, now)) {
        values[index] = memoryValue<T>(remembered);
        this.lookups.memoryHits++;
      } else {
        if (memory !== undefined) this.lookups.memoryMisses++;
        missing.push(index);
      }
    });
    if (missing.length > 0) {
      const missingKeys = missing.map((index) => keys[index]!);
      const startedAt = stamp();
      // The cache's own cleared-at time, when not known, is read beside the entries: one round trip.
      const clearedKnown = this.core.knowTags(undefined, startedAt, true);
      const outcome = await distributed.attempt('mget', missingKeys, () => this.store.getManyEntries<T>(missingKeys));
      // Not needed if it failed: withoutRetired reads it again, reporting a failure.
      await clearedKnown;
      const entries = outcome.ok ? await this.core.withoutRetired(outcome.value, startedAt) : undefined;
      if (entries !== undefined)
        entries.forEach((entry, at) => {
          if (entry === undefined) this.lookups.dynamodbMisses++;
          else this.lookups.dynamodbHits++;
          values[missing[at]!] = entry && this.core.gated.remember(missingKeys[at]!, entry, startedAt);
        });
    }
    events.emitIfHeard('mget', () => ({ keys, value: values }));
    return values;
  }

  /** The instant (epoch ms) the key expires; undefined for a miss or an entry that never expires. */
  async ttl(key: string): Promise<number | undefined> {
    assertValidKey(key);
    // A read of the store that asks no memory tier: a memory-only cache counts it as a lookup (see LookupCounters).
    this.lookups.storeReadsPastMemory++;
    const read = await this.core.readThrough(key, false);
    return read.kind === 'hit' ? read.expiresAt : undefined;
  }

  /** `ttl` in ms (0: never expires), or entry options with absolute and sliding expiration. */
  async set<T>(key: string, value: T, ttl?: number | EntryOptions): Promise<T> {
    return this.setMadeAt(key, value, ttl, undefined);
  }

  /**
   * `set` for a value made by work that began at `startedAt` (a `stamp()`): an invalidation since
   * then retires it, since the work may have read what the invalidation was for.
   * @internal
   */
  async setMadeAt<T>(key: string, value: T, ttl: number | EntryOptions | undefined, startedAt: number | undefined): Promise<T> {
    const made = startedAt === undefined ? undefined : { startedAt };
    await this.core.write(this.core.prepare(key, value, ttl, this.core.config.defaults, made), value);
    return value;
  }

  async mset<T>(list: Array<{ key: string; value: T; ttl?: number }>): Promise<Array<{ key: string; value: T; ttl?: number }>> {
    if (!Array.isArray(list)) throw new InvalidCacheKeyError(`mset expects an array of { key, value, ttl? }, got ${typeof list}.`);
    const { defaults } = this.core.config;
    // Every entry is checked before anything is sent or kept: one bad entry writes nothing.
    const prepared = list.map((entry) => this.core.prepare(entry?.key, entry?.value, entry?.ttl, defaults));
    const keys = prepared.map((entry) => entry.key);
    // Retired before the call: a failure part-way leaves DynamoDB holding some new values and some
    // old, and memory must not answer for either.
    this.core.gated.retireKeys(keys);
    const sentAt = stamp();
    const outcome = await this.core.distributed.attempt('mset', keys, () => this.store.putEntries(prepared));
    if (outcome.ok) for (const entry of prepared) this.core.gated.keepLanded(entry, sentAt);
    this.core.events.emitIfHeard('mset', () => ({ list }));
    return list;
  }

  /** Resolves to whether DynamoDB held the key and deleted it; false when DynamoDB could not be asked. */
  async del(key: string): Promise<boolean> {
    assertValidKey(key);
    // Retired before the call and again once it landed: a read begun meanwhile may have fetched the old item.
    this.core.gated.retireKeys([key]);
    const outcome = await this.core.distributed.attempt('del', key, () => this.store.delete(key));
    this.core.gated.retireKeys([key]);
    if (!outcome.ok) return false;
    this.core.events.emitCache('cache:delete', key);
    this.core.events.emitIfHeard('del', () => ({ key }));
    return outcome.value;
  }

  async mdel(keys: string[]): Promise<boolean> {
    assertKeys(keys, 'mdel');
    this.core.gated.retireKeys(keys);
    const outcome = await this.core.distributed.attempt('mdel', keys, () => this.store.deleteKeys(keys));
    this.core.gated.retireKeys(keys);
    if (!outcome.ok) return false;
    for (const key of keys) this.core.events.emitCache('cache:delete', key);
    this.core.events.emitIfHeard('mdel', () => ({ keys }));
    return true;
  }

  /**
   * Retires every entry of this cache (not another named cache's), in one write whatever its size:
   * the cache's own cleared-at time, which every entry is checked against (see `deleteByTag`). The
   * entries are left to DynamoDB's TTL; those without one stay in the table, unread, until
   * overwritten (`store.clear()` deletes them, scanning the whole table).
   */
  async clear(): Promise<boolean> {
    if (!(await this.core.invalidateTags([CLEARED_TAG]))) return false;
    this.core.events.emitCache('cache:clear', undefined);
    this.core.events.emitIfHeard('clear', () => ({}));
    return true;
  }

  /**
   * Invalidates every entry that carries one of `tags` (bentocache's `deleteByTag`, FusionCache's
   * `RemoveByTag`): one write per tag, whatever the number of entries, and no entry read, written or
   * scanned. An entry stored (or whose factory began) before this is a miss from then on, on this
   * instance at once and on others within the backplane's bound (`memory.maxTtl` without one);
   * entries stored after are hits. Resolves to false when DynamoDB could not be told.
   */
  async deleteByTag(tags: string | readonly string[]): Promise<boolean> {
    const checked = checkedTags(tags, 'deleteByTag');
    if (checked.length === 0) return true;
    const ok = await this.core.invalidateTags(checked);
    if (ok) for (const tag of checked) this.core.events.emitCache('cache:delete', `#tag:${tag}`);
    return ok;
  }

  /**
   * Renews a sliding entry without reading its value; resolves to whether the key holds an entry.
   * One retired by `deleteByTag` or `clear()` holds nothing for reads: false, and it is not renewed
   * (false too when its tags' invalidation times could not be read).
   */
  async refresh(key: string): Promise<boolean> {
    assertValidKey(key);
    const startedAt = Date.now();
    // The cache's own cleared-at time, when not known, is read beside the entry, as a read does.
    const clearedAt = this.core.knowTags(undefined, startedAt, true);
    // Unknown (null: its tags' times could not be read) is not current: a read would fail too.
    const isCurrent: CurrentCheck = async (made) => ((await this.core.unlessRetired(made, startedAt)) ?? undefined) !== undefined;
    const outcome = await this.core.distributed.attempt('refresh', key, () => this.store.refresh(key, isCurrent));
    await clearedAt;
    return outcome.ok && outcome.value;
  }

  /**
   * Get-or-set: a hit returns the stored value; a miss runs `factory` once however many callers of
   * this process ask at the same time (and, with `distributedLock`, however many instances), stores
   * its result and returns it. See GetOrSetOptions for fail-safe, timeouts, eager refresh and jitter.
   * A factory that asks for its own key (directly or through other keys) gets a RecursiveFactoryError.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): Promise<T> {
    const now = Date.now();
    const memory = this.core.memory;
    const remembered = memory?.get(key, now);
    if (remembered !== undefined && memory!.isFresh(remembered, now)) {
      const value = memoryValue<T>(remembered);
      this.announceMemoryHit(key, remembered, now);
      const threshold = options?.eagerRefreshThreshold ?? this.defaultEagerRefreshThreshold;
      if (threshold !== undefined) {
        const policy = eagerPolicy(threshold, options?.ttl, this.core.config.defaultTtlMs);
        this.refreshIfDue(key, factory, options?.ttl, this.callOptions(options), policy, remembered.expiresAt, value, now);
      }
      return Promise.resolve(value);
    }
    return checked(key, () =>
      this.getOrSetSlow(key, factory, options?.ttl, this.callOptions(options), remembered).then((resolved) => resolved.value),
    );
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
    const defaults = this.core.config.defaults;
    const call = options.tags === undefined ? defaults : { ...defaults, tags: checkedTags(options.tags, 'wrap') };
    const now = Date.now();
    const remembered = this.core.memory?.get(key, now);
    let resolved: Resolved<T>;
    if (remembered !== undefined && this.core.memory!.isFresh(remembered, now)) {
      resolved = { value: memoryValue<T>(remembered), expiresAt: remembered.expiresAt };
      this.announceMemoryHit(key, remembered, now);
      if (policy) this.refreshIfDue(key, factory, options.ttl, call, policy, resolved.expiresAt, resolved.value, now);
    } else {
      assertValidKey(key);
      resolved = await this.getOrSetSlow(key, factory, options.ttl, call, remembered, policy);
    }
    return options.raw ? { value: resolved.value, expires: resolved.expiresAt } : resolved.value;
  }

  /**
   * `cache:*` events (see CacheEventName), typed: `on('cache:hit', (event) => event.tier)`; and
   * `error` and cache-manager's `get`, `set`, `del`, … with the listeners cache-manager gives them.
   */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): EventEmitter;
  on<E extends string>(event: E extends CacheEventName ? never : E, listener: (...args: any[]) => void): EventEmitter;
  on(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.core.events.on(event, listener);
  }

  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): EventEmitter;
  off<E extends string>(event: E extends CacheEventName ? never : E, listener: (...args: any[]) => void): EventEmitter;
  off(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.core.events.off(event, listener);
  }

  /**
   * What this cache has cost and holds: the read and write units DynamoDB billed for its calls
   * (counted while `returnConsumedCapacity` is on), and its memory tier's size.
   */
  stats(): CacheStats {
    const { memory } = this.core;
    return {
      capacity: this.store.capacity,
      memory: memory && { entries: memory.size, bytes: memory.sizeBytes },
      circuit: this.core.distributed.circuitState,
      tiers: this.lookups.snapshot(),
    };
  }

  /** The state of the circuit breaker in front of DynamoDB: `closed` when calls go through. */
  get circuitState(): CircuitState {
    return this.core.distributed.circuitState;
  }

  /**
   * Waits for this cache's calls in flight, get-or-set flights and background refreshes, for up to
   * 5 × operationTimeout, and not for a factory past its timeout (its callers have all gone); then
   * abandons the calls still in flight and closes a client the store built. A factory or refresh
   * that finishes after this resolved is not stored (a warning names the cache and the key).
   */
  async disconnect(): Promise<undefined> {
    await this.core.settle();
    await this.store.disconnect();
    return undefined;
  }

  cacheId(): string {
    return this.core.config.id;
  }

  /** cache-manager's view of the tiers: a Keyv over the same DynamoDB entries. */
  get stores(): Keyv[] {
    return (this.keyvStores ??= [keyvOver(this.store, (entries, startedAt) => this.core.withoutRetired(entries, startedAt))]);
  }

  private async getFromDynamo<T>(key: string, remembered: MemoryEntry | undefined, now: number): Promise<T | undefined> {
    const read = await this.core.readThrough<T>(key, false);
    if (read.kind === 'hit') return this.announceGet(key, read.value);
    // What memory held when the get began still serves through an outage, unless something retired it since.
    const stillHeld = remembered !== undefined && this.core.memory?.held(key) === remembered;
    if (read.kind === 'failed' && stillHeld && (remembered.expiresAt === undefined || now < remembered.expiresAt)) {
      this.lookups.memoryStale++;
      this.core.events.emitCache('cache:stale', key, 'memory');
      return memoryValue<T>(remembered);
    }
    return this.announceGet(key, undefined);
  }

  private callOptions<T>(options: GetOrSetOptions<T> | undefined): ResolvedCallOptions {
    const defaults = this.core.config.defaults;
    if (options === undefined) return defaults;
    const resolved = resolveCallOptions(options as Record<string, unknown>, defaults);
    return options.tags === undefined ? resolved : { ...resolved, tags: checkedTags(options.tags, 'getOrSet') };
  }

  private async getOrSetSlow<T>(
    key: string,
    factory: Factory<T>,
    ttl: Ttl<T>,
    call: ResolvedCallOptions,
    remembered: MemoryEntry | undefined,
    policy?: RefreshPolicy<T>,
  ): Promise<Resolved<T>> {
    if (this.core.memory !== undefined) this.lookups.memoryMisses++;
    const resolved = await getOrSetMiss(this.core, key, factory, ttl, call, remembered);
    const refreshPolicy =
      policy ??
      (call.eagerRefreshThreshold === undefined
        ? undefined
        : eagerPolicy<T>(call.eagerRefreshThreshold, ttl, this.core.config.defaultTtlMs));
    if (refreshPolicy) this.refreshIfDue(key, factory, ttl, call, refreshPolicy, resolved.expiresAt, resolved.value, Date.now());
    return resolved;
  }

  private refreshIfDue<T>(
    key: string,
    factory: Factory<T>,
    ttl: Ttl<T>,
    call: ResolvedCallOptions,
    policy: RefreshPolicy<T>,
    expiresAt: number | undefined,
    value: T,
    now: number,
  ): void {
    if (expiresAt === undefined || expiresAt <= now) return;
    const below = policy(value);
    if (below === undefined || expiresAt - now >= below) return;
    refreshInBackground(this.core, key, factory, ttl, call, value);
  }

  private announceMemoryHit(key: string, remembered: MemoryEntry, now: number): void {
    // A fail-safe value served during its throttle is past its own expiry: a stale answer, not a hit.
    const stale = remembered.expiresAt !== undefined && remembered.expiresAt <= now;
    if (stale) this.lookups.memoryStale++;
    else this.lookups.memoryHits++;
    if (!this.events.heard) return;
    this.core.events.emitCache(stale ? 'cache:stale' : 'cache:hit', key, 'memory');
  }

  private announceGet<T>(key: string, value: T | undefined): T | undefined {
    const { events } = this.core;
    // Checked here, so that a hit nobody listens to does not even allocate the payload's closure.
    if (events.heard) events.emitIfHeard('get', () => ({ key, value }));
    return value;
  }
}

/** A fail-safe value served for its throttle is fresh in memory but past its own expiry: not a hit for get. */
function isFreshHit(memory: MemoryTier, remembered: MemoryEntry, now: number): boolean {
  return memory.isFresh(remembered, now) && (remembered.expiresAt === undefined || now < remembered.expiresAt);
}

/** Runs `then` for a valid key; a bad key or option rejects the call's promise, as every other failure does. */
function checked<R>(key: string, then: () => Promise<R>): Promise<R> {
  try {
    assertValidKey(key);
    return then();
  } catch (error) {
    return Promise.reject(error);
  }
}

function assertKeys(keys: readonly string[], method: string): void {
  if (!Array.isArray(keys)) throw new InvalidCacheKeyError(`${method} expects an array of keys, got ${typeof keys}.`);
  for (const key of keys) assertValidKey(key);
}

/** eagerRefreshThreshold 0.8 of a 60 s duration: refresh once less than 12 s are left. */
function eagerPolicy<T>(threshold: number, ttl: Ttl<T>, defaultTtl: number | undefined): RefreshPolicy<T> {
  return (value) => {
    const duration = typeof ttl === 'function' ? ttl(value) : (ttl ?? defaultTtl);
    return typeof duration === 'number' && duration > 0 ? (1 - threshold) * duration : undefined;
  };
}

/** Entry options (absolute or sliding expiration) passed where wrap takes a ttl; `{ ttl }` alone means the same either way. */
function isEntryOptions(value: object): boolean {
  return 'absoluteExpiration' in value || 'slidingExpiration' in value;
}

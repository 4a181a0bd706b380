import type { EventEmitter } from 'node:events';
import type Keyv from 'keyv';
import type { BackplaneMember } from '../backplane/backplane-port.js';
import type { DynamoStore } from '../store/dynamo-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { EntryOptions } from '../store/expiry.js';
import {
  announceGet,
  clearAll,
  deleteMany,
  deleteOne,
  deleteTagged,
  expiryOf,
  getMany,
  getPastMemory,
  renew,
  setMany,
} from './keyed-operations.js';
import { resolveCacheConfig } from './cache-config.js';
import { expireOne, expireTagged } from './expiry-operations.js';
import { type CacheStats, statsOf } from './cache-stats.js';
import { CacheCore } from './cache-core.js';
import type { CacheEventListener, CacheEventName } from './cache-events.js';
import type { DynamoCacheOptions, GetOrSetOptions, ResolvedCacheOptions } from './cache-options.js';
import {
  HandlerAccess,
  type HealthPort,
  type MethodCachePort,
  type RouteCachePort,
  type SessionPort,
  TableAccess,
  TelemetryAccess,
  type TelemetryPort,
} from './cache-ports.js';
import type { CircuitState } from './circuit-breaker.js';
import type { Factory } from './factory-run.js';
import type { Ttl } from './get-or-set.js';
import { type WrapOptions, getOrSet, wrap, wrapOptionsOf } from './get-or-set-call.js';
import { type ManyLoader, getOrSetMany } from './get-or-set-many.js';
import { KeyvAccess } from './keyv-access.js';
import { keyvOver } from './keyv-bridge.js';
import { LocalTier } from './local-tier.js';
import type { LookupCounters } from './lookup-counters.js';
import { isFreshHit, peekHit } from './memory-hits.js';
import { memoryValue } from './memory-tier.js';

export type { WrapOptions } from './get-or-set-call.js';

export type { CacheStats } from './cache-stats.js';

// Set by DynamoCache's static block, the one place that can read its private engine.
let engineOfCache: (cache: DynamoCache) => CacheCore;

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
  /** The cache's name: `default` for the module's own, the `forFeature` name for a named cache. */
  readonly name: string;
  /** The engine under this facade: reached by cache/'s own modules through `engineOf`, by others through the ports. */
  readonly #core: CacheCore;
  private keyvStores?: Keyv[];
  private handlerAccess?: HandlerAccess;
  // Read on every hit: one field each, not a chain of them.
  private readonly defaultEagerRefreshThreshold: number | undefined;
  private readonly events: CacheCore['events'];
  private readonly lookups: LookupCounters;

  static {
    engineOfCache = (cache) => cache.#core;
  }

  constructor(
    /** Where its entries live: DynamoDB, or this process's memory for a memory-only cache (`distributed: false`). */
    readonly store: DynamoStore | MemoryStore,
    /** As a user writes them (resolved here, once), or resolved already by the module. */
    options: DynamoCacheOptions | ResolvedCacheOptions = {},
  ) {
    const core = new CacheCore(store, resolveCacheConfig(store, options));
    this.#core = core;
    this.name = core.config.name;
    this.defaultEagerRefreshThreshold = core.config.defaults.eagerRefreshThreshold;
    this.events = core.events;
    this.lookups = core.lookups;
    // Each DynamoDB call's span and channel message name the cache that made it.
    if ('sendHooks' in store) store.sendHooks.cacheName = this.name;
  }

  /** Not an async function: a memory hit then costs one resolved promise, not an async frame. */
  get<T>(key: string): Promise<T | undefined> {
    const now = Date.now();
    const memory = this.#core.memory;
    const remembered = memory?.get(key, now);
    if (remembered !== undefined && isFreshHit(memory!, remembered, now)) {
      const value = memoryValue<T>(remembered);
      this.lookups.memoryHits++;
      // Checked here, so that a hit nobody listens to makes no call for its events.
      if (this.events.heard) {
        this.events.emitCache('cache:hit', key, 'memory');
        announceGet(this.events, key, value);
      }
      return Promise.resolve(value);
    }
    if (memory !== undefined) this.lookups.memoryMisses++;
    return getPastMemory<T>(this.#core, key, remembered, now);
  }

  /**
   * The value this instance holds in memory for `key`, synchronously and without asking DynamoDB;
   * undefined when memory has no fresh entry (or is off). For code that cannot await. A hit is a
   * `cache:hit`; nothing is announced otherwise, since DynamoDB was not asked.
   */
  peek<T>(key: string): T | undefined {
    const value = peekHit<T>(this.#core, key);
    if (value === undefined && this.#core.memory !== undefined) this.lookups.memoryMisses++;
    return value;
  }

  /**
   * The values of several keys, in their order, `undefined` for each miss: memory first, then one
   * BatchGetItem per 100 keys for the rest.
   */
  mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    return getMany<T>(this.#core, keys);
  }

  /** The instant (epoch ms) the key expires; undefined for a miss or an entry that never expires. */
  ttl(key: string): Promise<number | undefined> {
    return expiryOf(this.#core, key);
  }

  /** `ttl` in ms (0: never expires), or entry options with absolute and sliding expiration. */
  set<T>(key: string, value: T, ttl?: number | EntryOptions): Promise<T> {
    return this.#core.set(key, value, ttl);
  }

  /**
   * Writes several entries (BatchWriteItem, 25 a call, unprocessed items retried for up to
   * `batchRetryTimeout`) and resolves to the list it was given; each `ttl` in ms, else the cache's.
   */
  mset<T>(
    list: Array<{
      /** The entry's key. */
      key: string;
      /** The value to store. */
      value: T;
      /** Its time to live in ms (0: never expires); the cache's `ttl` when absent. */
      ttl?: number;
    }>,
  ): Promise<
    Array<{
      /** The entry's key. */
      key: string;
      /** The value stored. */
      value: T;
      /** Its time to live in ms, as given. */
      ttl?: number;
    }>
  > {
    return setMany(this.#core, list);
  }

  /**
   * Resolves to whether the key held an entry that this deleted. A delete DynamoDB could not take
   * through an outage is acknowledged as a `set` is (memory forgets the key, and auto-recovery owes
   * the delete to DynamoDB): true, since whether the key held an entry is not known yet. False only
   * for a key that held none, or when DynamoDB could not be told and nothing is owed (auto-recovery
   * off). cache-manager 7's `del` resolves true once the delete is done.
   */
  del(key: string): Promise<boolean> {
    return deleteOne(this.#core, key);
  }

  /**
   * Deletes several keys (BatchWriteItem, 25 a call); resolves to true once the deletes are done or
   * owed (as `del`), false when DynamoDB could not be told and nothing is owed.
   */
  mdel(keys: string[]): Promise<boolean> {
    return deleteMany(this.#core, keys);
  }

  /**
   * Retires every entry of this cache (not another named cache's), in one write whatever its size:
   * the cache's own cleared-at time, which every entry is checked against (see `deleteByTag`). The
   * entries are left to DynamoDB's TTL; those without one stay in the table, unread, until
   * overwritten (`store.clear()` deletes them, scanning the whole table). Resolves as `deleteByTag`.
   */
  clear(): Promise<boolean> {
    return clearAll(this.#core);
  }

  /**
   * Invalidates every entry that carries one of `tags` (bentocache's `deleteByTag`, FusionCache's
   * `RemoveByTag`): one write per tag, whatever the number of entries, and no entry read, written or
   * scanned. An entry stored (or whose factory began) before this is a miss from then on, on this
   * instance at once and on others within the backplane's bound (`memory.maxTtl` without one);
   * entries stored after are hits. Resolves to true once the invalidation is acknowledged: written,
   * or owed to DynamoDB through an outage (auto-recovery: this instance holds it at once, the others
   * once it lands); false when DynamoDB could not be told and nothing is owed (auto-recovery off).
   */
  deleteByTag(tags: string | readonly string[]): Promise<boolean> {
    return deleteTagged(this.#core, tags);
  }

  /**
   * Makes the entry stale, not gone: `get` misses, fail-safe may serve it (see expiry-operations.ts).
   * Resolves as `del`: whether a live entry was there, true when the expire is owed through an outage.
   */
  expire(key: string): Promise<boolean> {
    return expireOne(this.#core, key);
  }

  /** `expire` for every entry made before it with one of `tags`: one write per tag; resolves as `deleteByTag`. */
  expireByTag(tags: string | readonly string[]): Promise<boolean> {
    return expireTagged(this.#core, tags);
  }

  /**
   * Renews a sliding entry without reading its value; resolves to whether the key holds a live entry,
   * one that `get` would return. One retired by `deleteByTag` or `clear()` holds nothing for reads, and
   * one made stale by `expire` or `expireByTag` is only a fail-safe fallback: false, and it is not
   * renewed (a renewal would push a stale value's life out, not make it live). False too when its
   * tags' invalidation times could not be read: a read would fail too. Through an outage, a change
   * this instance owes DynamoDB answers as it does for `get`, and the item it replaces is not renewed.
   */
  refresh(key: string): Promise<boolean> {
    return renew(this.#core, key);
  }

  /**
   * Get-or-set: a hit returns the stored value; a miss runs `factory` once however many callers of
   * this process ask at the same time (and, with `distributedLock`, however many instances), stores
   * its result and returns it. See GetOrSetOptions for fail-safe, timeouts, eager refresh and jitter.
   * A factory that asks for its own key (directly or through other keys) gets a RecursiveFactoryError.
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: GetOrSetOptions<T>): Promise<T> {
    return getOrSet(this.#core, key, factory, options, this.defaultEagerRefreshThreshold);
  }

  /** Get-or-set for many keys, in order: one loader call for those missing everywhere (see get-or-set-many.ts). */
  getOrSetMany<T>(keys: readonly string[], loader: ManyLoader<T>, options?: GetOrSetOptions<T>): Promise<Array<T | undefined>> {
    return getOrSetMany(this.#core, keys, loader, options);
  }

  /**
   * cache-manager's wrap, on getOrSet: `refreshThreshold` is the ms left below which a hit is
   * refreshed in the background; `raw` resolves to `{ value, expires }`.
   */
  wrap<T>(key: string, factory: () => T | Promise<T>, ttl?: Ttl<T>, refreshThreshold?: WrapOptions<T>['refreshThreshold']): Promise<T>;
  wrap<T>(key: string, factory: () => T | Promise<T>, options: WrapOptions<T> & { raw?: false }): Promise<T>;
  wrap<T>(
    key: string,
    factory: () => T | Promise<T>,
    options: WrapOptions<T> & { raw: true },
  ): Promise<{
    /** The value, cached or just made. */
    value: T;
    /** When it expires, in epoch ms; absent for a value that never expires. */
    expires?: number;
  }>;
  wrap<T>(
    key: string,
    factory: () => T | Promise<T>,
    ttlOrOptions?: Ttl<T> | WrapOptions<T>,
    refreshThreshold?: WrapOptions<T>['refreshThreshold'],
  ): Promise<unknown> {
    return wrap(this.#core, key, factory, wrapOptionsOf(ttlOrOptions, refreshThreshold));
  }

  /**
   * `cache:*` events (see CacheEventName), typed: `on('cache:hit', (event) => event.tier)`; and
   * `error` and cache-manager's `get`, `set`, `del`, … with the listeners cache-manager gives them.
   */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): EventEmitter;
  on<E extends string>(event: E extends CacheEventName ? never : E, listener: (...args: any[]) => void): EventEmitter;
  on(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.on(event, listener);
  }

  /** Removes a listener `on` added. */
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): EventEmitter;
  /** Removes a listener of cache-manager's events (`get`, `set`, `del`, …) or `error`. */
  off<E extends string>(event: E extends CacheEventName ? never : E, listener: (...args: any[]) => void): EventEmitter;
  off(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.off(event, listener);
  }

  /**
   * What this cache has cost and holds: the read and write units DynamoDB billed for its calls
   * (counted while `returnConsumedCapacity` is on), and its memory tier's size.
   */
  stats(): CacheStats {
    return statsOf(this.#core, this.store.capacity);
  }

  /** The state of the circuit breaker in front of DynamoDB: `closed` when calls go through. */
  get circuitState(): CircuitState {
    return this.#core.distributed.circuitState;
  }

  /**
   * Waits for this cache's calls in flight, get-or-set flights and background refreshes, for up to
   * 5 × operationTimeout, and not for a factory past its timeout (its callers have all gone); then
   * sends the changes owed since an outage (auto-recovery) within what is left of that bound,
   * warning of those it could not; abandons the calls still in flight and closes a client the store
   * built. A factory or refresh that finishes after this resolved is not stored (a warning names the
   * cache and the key).
   */
  async disconnect(): Promise<undefined> {
    // One bound for all of it: what the flights leave of it goes to the last replay.
    const deadline = Date.now() + this.#core.config.disconnectWaitMs;
    await this.#core.flights.settle();
    await this.#core.recovery?.close(deadline);
    await this.store.disconnect();
    return undefined;
  }

  /** cache-manager's id of this cache: the `cacheId` option, else the table name and key prefix. */
  cacheId(): string {
    return this.#core.config.id;
  }

  /** cache-manager's view of the tiers: a Keyv over the same DynamoDB entries. */
  get stores(): Keyv[] {
    return (this.keyvStores ??= [keyvOver(this.store, new KeyvAccess(this.#core))]);
  }

  /** @internal What provider methods' `@Cacheable` needs of this cache beyond its public API. */
  forMethods(): MethodCachePort {
    return this.forRoutes();
  }

  /** @internal What the route interceptor needs of this cache beyond its public API. */
  forRoutes(): RouteCachePort {
    return (this.handlerAccess ??= new HandlerAccess(this.#core));
  }

  /** @internal What the session store needs; undefined for a memory-only cache, which has no table to keep sessions in. */
  forSessions(): SessionPort | undefined {
    return this.store instanceof MemoryStore ? undefined : new TableAccess(this.#core);
  }

  /** @internal What the health indicator needs to probe an open circuit; undefined for a memory-only cache. */
  forHealth(): HealthPort | undefined {
    return this.store instanceof MemoryStore ? undefined : new TableAccess(this.#core);
  }

  /** @internal What the OpenTelemetry bridge needs beyond `stats()`. */
  forTelemetry(): TelemetryPort {
    return new TelemetryAccess(this.#core);
  }

  /**
   * @internal This cache as a backplane manages it; undefined without a memory tier, or for a
   * memory-only cache, whose entries no other instance shares (nothing to keep coherent).
   */
  forBackplane(): BackplaneMember | undefined {
    const { memory } = this.#core;
    return memory === undefined || this.store instanceof MemoryStore ? undefined : new LocalTier(this.#core, memory);
  }
}

/**
 * @internal The engine under a cache, for cache/'s own modules (the registry) and white-box tests. Code outside
 * cache/ uses the ports (`forRoutes()`, `forSessions()`, ...): an ESLint rule keeps it so.
 */
export function engineOf(cache: DynamoCache): CacheCore {
  return engineOfCache(cache);
}

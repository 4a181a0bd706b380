import { EventEmitter } from 'node:events';
import type Keyv from 'keyv';
import type { EntryOptions } from '../store/expiry.js';
import type { CacheEntry, DynamoStore } from '../store/dynamo-store.js';
import { keyvOver } from './keyv-bridge.js';

export interface DynamoCacheOptions {
  /**
   * When false (the default), a DynamoDB failure never rejects: reads resolve as misses, writes
   * resolve as if done, and the error goes to `on('error')` listeners (or the log when none listens).
   * When true, such failures also reject. Bad input (a key, ttl or value that cannot be stored)
   * always rejects, whatever this says.
   */
  throwOnErrors?: boolean;
  /** Names this cache in cache-manager's `cacheId()`. Default: the table name and key prefix. */
  cacheId?: string;
}

export interface WrapOptions<T> {
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /** Refresh in the background when a hit has less than this many ms left. */
  refreshThreshold?: number | ((value: T) => number);
  /** Resolve to `{ value, expires }` instead of the value. */
  raw?: boolean;
}

type Ttl<T> = WrapOptions<T>['ttl'];

/**
 * Bad input is reported with TypeError or RangeError subclasses (InvalidCacheKeyError, SerializationError,
 * ValueTooLargeError, InvalidExpirationError), thrown before anything is sent; anything else came from
 * DynamoDB or the network.
 */
const isInputError = (error: unknown): boolean => error instanceof TypeError || error instanceof RangeError;

/**
 * The cache that `@Inject(CACHE)` gives: cache-manager's `Cache` API (TTLs in ms, `undefined` on a
 * miss) over a DynamoStore, with entry options for absolute and sliding expiration and `refresh`.
 */
export class DynamoCache {
  private readonly events = new EventEmitter();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly throwOnErrors: boolean;
  private readonly id: string;
  private keyvStores?: Keyv[];

  constructor(
    readonly store: DynamoStore,
    options: DynamoCacheOptions = {},
  ) {
    this.throwOnErrors = options.throwOnErrors ?? false;
    this.id = options.cacheId ?? `${store.tableName}/${store.opts.partitionKeyPrefix}`;
    // Store-level errors the cache did not see itself (a failed sliding renewal) reach the same listeners.
    store.on('error', (error: unknown) => this.reportError(error));
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.read('get', { key }, () => this.store.getEntry<T>(key)))?.value;
  }

  async mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    const entries = await this.read('mget', { keys }, () => this.store.getManyEntries<T>(keys));
    return entries ? entries.map((entry) => entry?.value) : keys.map(() => undefined);
  }

  /** The instant (epoch ms) the key expires; undefined for a miss or an entry that never expires. */
  async ttl(key: string): Promise<number | undefined> {
    return (await this.read('ttl', { key }, () => this.store.getEntry(key)))?.expiresAt;
  }

  /** `ttl` in ms (0: never expires), or entry options with absolute and sliding expiration. */
  async set<T>(key: string, value: T, ttl?: number | EntryOptions): Promise<T> {
    await this.write('set', { key, value }, () => this.store.set(key, value, ttl));
    return value;
  }

  async mset<T>(list: Array<{ key: string; value: T; ttl?: number }>): Promise<Array<{ key: string; value: T; ttl?: number }>> {
    await this.write('mset', { list }, () => this.store.setMany(list));
    return list;
  }

  async del(key: string): Promise<boolean> {
    return (await this.write('del', { key }, () => this.store.delete(key))) ?? false;
  }

  async mdel(keys: string[]): Promise<boolean> {
    return (await this.write('mdel', { keys }, async () => (await this.store.deleteKeys(keys), true))) ?? false;
  }

  /** Deletes this cache's entries, and no other item of the table. */
  async clear(): Promise<boolean> {
    return (await this.write('clear', {}, async () => (await this.store.clear(), true))) ?? false;
  }

  /** Renews a sliding entry without reading its value; resolves to whether the key holds an entry. */
  async refresh(key: string): Promise<boolean> {
    return (await this.write('refresh', { key }, () => this.store.refresh(key))) ?? false;
  }

  /**
   * Get-or-set, as cache-manager's wrap: a hit returns the stored value; a miss runs `factory` once
   * however many callers of this process ask at the same time, stores its result and returns it.
   */
  wrap<T>(key: string, factory: () => T | Promise<T>, ttl?: Ttl<T>, refreshThreshold?: WrapOptions<T>['refreshThreshold']): Promise<T>;
  wrap<T>(key: string, factory: () => T | Promise<T>, options: WrapOptions<T> & { raw?: false }): Promise<T>;
  wrap<T>(key: string, factory: () => T | Promise<T>, options: WrapOptions<T> & { raw: true }): Promise<{ value: T; expires?: number }>;
  wrap<T>(
    key: string,
    factory: () => T | Promise<T>,
    ttlOrOptions?: Ttl<T> | WrapOptions<T>,
    refreshThreshold?: WrapOptions<T>['refreshThreshold'],
  ): Promise<unknown> {
    const options: WrapOptions<T> =
      typeof ttlOrOptions === 'object' && ttlOrOptions !== null && !isEntryOptions(ttlOrOptions)
        ? (ttlOrOptions as WrapOptions<T>)
        : { ttl: ttlOrOptions as Ttl<T>, refreshThreshold };
    return this.coalesce(key, async () => {
      const entry = await this.read('get', { key }, () => this.store.getEntry<T>(key));
      if (entry !== undefined) {
        this.refreshInBackgroundIfDue(key, entry, factory, options);
        return options.raw ? { value: entry.value, expires: entry.expiresAt } : entry.value;
      }
      const value = await factory();
      const stored = await this.storeResult(key, value, options.ttl);
      return options.raw ? { value, expires: stored } : value;
    });
  }

  on(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.on(event, listener);
  }

  off(event: string, listener: (...args: any[]) => void): EventEmitter {
    return this.events.off(event, listener);
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

  /** Stores a factory's result; resolves to the expiry it was written with (undefined: never, or not stored). */
  private async storeResult<T>(key: string, value: T, ttl: Ttl<T>): Promise<number | undefined> {
    const resolved = typeof ttl === 'function' ? ttl(value) : ttl;
    const expiration = await this.write('set', { key, value }, () => this.store.setEntry(key, value, resolved));
    return expiration?.expiration.expiresAt;
  }

  private refreshInBackgroundIfDue<T>(key: string, entry: CacheEntry<T>, factory: () => T | Promise<T>, options: WrapOptions<T>): void {
    const threshold = typeof options.refreshThreshold === 'function' ? options.refreshThreshold(entry.value) : options.refreshThreshold;
    if (threshold === undefined || entry.expiresAt === undefined || entry.expiresAt - Date.now() >= threshold) return;
    void this.coalesce(`\u0000refresh:${key}`, async () => {
      try {
        const value = await factory();
        await this.storeResult(key, value, options.ttl);
        this.events.emit('refresh', { key, value });
      } catch (error) {
        this.events.emit('refresh', { key, value: entry.value, error });
        this.reportError(error, `background refresh of "${key}"`);
      }
    });
  }

  private coalesce<R>(key: string, work: () => Promise<R>): Promise<R> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<R>;
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private async read<R>(event: string, data: Record<string, unknown>, operation: () => Promise<R>): Promise<R | undefined> {
    try {
      const result = await operation();
      // Most apps listen to no such event: a hit then allocates no payload.
      if (this.events.listenerCount(event) > 0) this.events.emit(event, { ...data, value: valuesOf(result) });
      return result;
    } catch (error) {
      return this.fail(event, data, error);
    }
  }

  private async write<R>(event: string, data: Record<string, unknown>, operation: () => Promise<R>): Promise<R | undefined> {
    try {
      const result = await operation();
      this.events.emit(event, data);
      return result;
    } catch (error) {
      return this.fail(event, data, error);
    }
  }

  private fail(event: string, data: Record<string, unknown>, error: unknown): undefined {
    this.events.emit(event, { ...data, error });
    if (isInputError(error)) throw error;
    this.reportError(error, `${event}${describeKeys(data)}`);
    if (this.throwOnErrors) throw error;
    return undefined;
  }

  private reportError(error: unknown, operation?: string): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    else this.store.opts.logger.warn(`Cache ${this.id}: ${operation ? `${operation} failed: ` : ''}${(error as Error)?.message ?? String(error)}`);
  }
}

/** Names the key (or the first keys) an operation was about, for a log line. */
function describeKeys(data: Record<string, unknown>): string {
  if (typeof data.key === 'string') return ` "${data.key}"`;
  const keys = Array.isArray(data.keys) ? data.keys : Array.isArray(data.list) ? data.list.map((entry: { key: string }) => entry.key) : [];
  if (keys.length === 0) return '';
  return ` of ${keys.length} keys ("${keys.slice(0, 3).join('", "')}"${keys.length > 3 ? ', …' : ''})`;
}

/** What cache-manager's read events carry: the values, not the entries. */
function valuesOf(result: unknown): unknown {
  if (Array.isArray(result)) return result.map((entry: CacheEntry | undefined) => entry?.value);
  return (result as CacheEntry | undefined)?.value;
}

/** Entry options (absolute or sliding expiration) passed where wrap takes a ttl; `{ ttl }` alone means the same either way. */
function isEntryOptions(value: object): boolean {
  return 'absoluteExpiration' in value || 'slidingExpiration' in value;
}

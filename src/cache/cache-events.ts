import { EventEmitter } from 'node:events';
import type { CapacityRecord } from '../store/capacity.js';

/** Where an event happened: this instance's memory tier, or the DynamoDB table. */
export type CacheTier = 'memory' | 'dynamodb';

/**
 * The names of the `cache:*` events: `cache.on('cache:hit', (event) => …)`. A hit, a miss, a write, a delete,
 * a clear, a stale value served by fail-safe, a background refresh, a DynamoDB failure that did not reject;
 * and the two below.
 */
export type CacheEventName =
  | 'cache:hit'
  | 'cache:miss'
  | 'cache:set'
  | 'cache:delete'
  | 'cache:clear'
  | 'cache:stale'
  | 'cache:refresh'
  | 'cache:error'
  /** One DynamoDB call's consumed units: `{ cache, operation, tableName, readUnits, writeUnits }`. */
  | 'cache:capacity'
  /** A backplane dropped this instance's memory copy of a key another instance changed. */
  | 'cache:invalidated';

/** What every `cache:*` event carries. */
export interface CacheEvent {
  /** The cache's name (`default`, or its `forFeature` name). */
  readonly cache: string;
  /** The key the event is about; absent for `cache:clear`. */
  readonly key?: string;
  /** Which tier answered or was written: `memory` or `dynamodb`. */
  readonly tier?: CacheTier;
  /** `cache:error`: what failed (an `OperationTimeoutError`, a `ThrottledError`, the SDK's error…). */
  readonly error?: unknown;
}

/** What `cache:capacity` carries: one DynamoDB call's consumed units, and the cache that made it. */
export interface CacheCapacityEvent extends CapacityRecord {
  /** The cache whose call consumed the units. */
  readonly cache: string;
}

/** The listener each `cache:*` event takes. */
export type CacheEventListener<E extends CacheEventName> = E extends 'cache:capacity'
  ? (event: CacheCapacityEvent) => void
  : (event: CacheEvent) => void;

/**
 * The cache's events: bentocache-style `cache:*` events with the cache name, key and tier, and
 * cache-manager's own (`get`, `set`, `del`, …). Nothing is built for an event nobody listens to,
 * so that a hit allocates no payload.
 */
export class CacheEvents extends EventEmitter {
  /** Whether any listener was ever added: one field read, where listenerCount costs a hit tens of ns. */
  heard = false;

  constructor(private readonly cacheName: string) {
    super();
    // 'newListener' fires for on, addListener, once and prepend* alike, so no way of listening is missed.
    super.on('newListener', () => (this.heard = true));
  }

  emitCache(name: CacheEventName, key: string | undefined, tier?: CacheTier, error?: unknown): void {
    if (!this.heard || this.listenerCount(name) === 0) return;
    const event: CacheEvent = error === undefined ? { cache: this.cacheName, key, tier } : { cache: this.cacheName, key, tier, error };
    this.emit(name, event);
  }

  emitIfHeard(name: string, payload: () => unknown): void {
    if (this.heard && this.listenerCount(name) > 0) this.emit(name, payload());
  }
}

import { EventEmitter } from 'node:events';
import type { CapacityRecord } from '../store/capacity.js';

export type CacheTier = 'memory' | 'dynamodb';

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
  readonly cache: string;
  readonly key?: string;
  readonly tier?: CacheTier;
  readonly error?: unknown;
}

/** What `cache:capacity` carries: one DynamoDB call's consumed units, and the cache that made it. */
export interface CacheCapacityEvent extends CapacityRecord {
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

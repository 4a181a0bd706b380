import type { CacheTier } from './cache-events.js';

/** One tier's answers since the cache was built. */
export interface TierLookups {
  /** A live value served from this tier. */
  readonly hits: number;
  /** The tier was asked and held no live value (DynamoDB: nothing, or only an entry kept for fail-safe). */
  readonly misses: number;
  /** A value past its expiry served from this tier: fail-safe, or memory's copy while DynamoDB failed. */
  readonly stale: number;
}

/** Lookups per tier; `dynamodb` is absent for a memory-only cache (`distributed: false`), which has none. */
export interface TiersLookups {
  /** The memory tier's answers (for a memory-only cache: its store's, which is memory too). */
  readonly memory: TierLookups;
  /** DynamoDB's answers to what memory did not hold. */
  readonly dynamodb?: TierLookups;
}

/** Where a cache's entries live, for what its counts mean. */
export interface LookupShape {
  /** `memory` for a memory-only cache, whose store is this process's memory too. */
  readonly store: CacheTier;
  /** Whether the memory tier is on (in front of the store). */
  readonly memoryTier: boolean;
}

/**
 * Hit, miss and stale counts per tier, for `stats()` and the metrics read from it. Plain integer
 * fields, incremented whether anyone reads them or not: a hit costs an add, never an allocation.
 * The `dynamodb*` fields count the store's answers, whichever it is (see `snapshot`).
 */
export class LookupCounters {
  memoryHits = 0;
  memoryMisses = 0;
  memoryStale = 0;
  dynamodbHits = 0;
  dynamodbMisses = 0;
  dynamodbStale = 0;
  /** Reads of the store that asked no memory tier first (`ttl()`), for a memory-only cache's count. */
  storeReadsPastMemory = 0;

  constructor(private readonly shape: LookupShape) {}

  stale(tier: CacheTier): void {
    if (tier === 'memory') this.memoryStale++;
    else this.dynamodbStale++;
  }

  /**
   * A memory-only cache has one tier, memory: the memory tier and the store behind it, both in this
   * process, counted as one. A lookup is a hit when either held a live value; a miss when the
   * memory tier missed and the store did not answer it with one (a stale serve is then a miss and
   * stale, as a distributed cache's memory counts it). Every store hit answers a lookup that the
   * memory tier (or `ttl()`, which skips it) counted as missed, so the misses are those less the hits.
   */
  snapshot(): TiersLookups {
    const memory = { hits: this.memoryHits, misses: this.memoryMisses, stale: this.memoryStale };
    const store = { hits: this.dynamodbHits, misses: this.dynamodbMisses, stale: this.dynamodbStale };
    if (this.shape.store === 'dynamodb') return { memory, dynamodb: store };
    if (!this.shape.memoryTier) return { memory: store };
    return {
      memory: {
        hits: memory.hits + store.hits,
        misses: memory.misses + this.storeReadsPastMemory - store.hits,
        stale: memory.stale + store.stale,
      },
    };
  }
}

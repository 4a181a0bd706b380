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

/**
 * Hit, miss and stale counts per tier, for `stats()` and the metrics read from it. Plain integer
 * fields, incremented whether anyone reads them or not: a hit costs an add, never an allocation.
 */
export class LookupCounters {
  memoryHits = 0;
  memoryMisses = 0;
  memoryStale = 0;
  dynamodbHits = 0;
  dynamodbMisses = 0;
  dynamodbStale = 0;

  stale(tier: CacheTier): void {
    if (tier === 'memory') this.memoryStale++;
    else this.dynamodbStale++;
  }

  snapshot(): { readonly memory: TierLookups; readonly dynamodb: TierLookups } {
    return {
      memory: { hits: this.memoryHits, misses: this.memoryMisses, stale: this.memoryStale },
      dynamodb: { hits: this.dynamodbHits, misses: this.dynamodbMisses, stale: this.dynamodbStale },
    };
  }
}

import type { CapacityUnits } from '../store/capacity.js';
import type { AutoRecoveryStats } from './auto-recovery.js';
import type { CacheCore } from './cache-core.js';
import type { CircuitState } from './circuit-breaker.js';
import type { TiersLookups } from './lookup-counters.js';

/**
 * What `cache.stats()` returns: counters since the cache was built, read without a DynamoDB call
 * (OpenTelemetry's instruments read them).
 */
export interface CacheStats {
  /** The read and write units its store's DynamoDB calls consumed (counted with `returnConsumedCapacity`; zero without). */
  readonly capacity: CapacityUnits;
  /** The memory tier's size now; absent when the memory tier is off. */
  readonly memory?: {
    /** Entries held. */
    readonly entries: number;
    /** Bytes held, counted as the serialized values plus the keys (what `memory.maxBytes` bounds). */
    readonly bytes: number;
  };
  /** The circuit breaker in front of DynamoDB: `closed`, `open` (DynamoDB skipped) or `half-open` (one call probing). */
  readonly circuit: CircuitState;
  /** Hits, misses and stale serves per tier since the cache was built (see TierLookups); no `dynamodb` when memory-only. */
  readonly tiers: TiersLookups;
  /** The changes owed to DynamoDB since an outage, and those dropped; absent when auto-recovery is off, and memory-only. */
  readonly autoRecovery?: AutoRecoveryStats;
}

/** `DynamoCache.stats()`: `capacity` is its store's, billed by DynamoDB. */
export function statsOf(core: CacheCore, capacity: CapacityUnits): CacheStats {
  const { memory, distributed, lookups } = core;
  return {
    capacity,
    memory: memory && { entries: memory.size, bytes: memory.sizeBytes },
    circuit: distributed.circuitState,
    tiers: lookups.snapshot(),
    autoRecovery: core.recovery?.stats,
  };
}

import type { EntryStore } from '../store/entry-store.js';
import type { WarningLogger } from '../store/table-schema.js';
import { BATCH_TIMEOUT_FACTOR } from '../store/timed-sender.js';
import {
  type DynamoCacheOptions,
  type ResolvedCacheOptions,
  type ResolvedCallOptions,
  isResolvedCacheOptions,
  resolveCacheOptions,
} from './cache-options.js';
import type { MemoryTierOptions } from './memory-tier.js';

/**
 * Everything one cache runs on, resolved once when it is built: its own options checked, and what
 * it needs of its store's options read here and nowhere else, so that no layer above reaches into
 * the store's settings.
 */
export interface CacheConfig {
  readonly name: string;
  /** cache-manager's `cacheId()`. */
  readonly id: string;
  readonly tableName: string;
  readonly partitionKeyPrefix: string;
  /** The ttl of an entry written without one, in ms; undefined: such entries never expire. */
  readonly defaultTtlMs: number | undefined;
  /** The part of a sliding window that renewing must gain before a read writes it. */
  readonly slidingRenewThreshold: number;
  readonly logger: WarningLogger;
  readonly throwOnErrors: boolean;
  readonly circuitBreaker: { readonly threshold: number; readonly durationMs: number };
  /** Absent when auto-recovery is off. */
  readonly autoRecovery?: { readonly maxItems: number };
  /** Absent when the memory tier is off. */
  readonly memory?: MemoryTierOptions;
  /**
   * The longest a DynamoDB read can be in flight, in ms: how long the admission gate remembers a
   * change, so that a read begun before it cannot put back what the change replaced.
   */
  readonly changeHorizonMs: number;
  /** Whether factories run where a cycle of flights waiting on each other is found (see factory-cycles.ts). */
  readonly detectRecursiveFactories: boolean;
  /** get-or-set's options where a call gives none. */
  readonly defaults: ResolvedCallOptions;
  /** How long `disconnect()` waits for work in flight: the longest one call may take, a batch call's bound. */
  readonly disconnectWaitMs: number;
}

/**
 * A cache's configuration from its store's resolved settings and its own options: options a user
 * wrote (a bare `new DynamoCache(store, options)`) are resolved here, once; a module's, resolved
 * already, are taken as they are.
 */
export function resolveCacheConfig(store: EntryStore, options: DynamoCacheOptions | ResolvedCacheOptions = {}): CacheConfig {
  const resolved = isResolvedCacheOptions(options) ? options : resolveCacheOptions(options);
  const settings = store.opts;
  // The longest a read can be in flight: a batch call's bound, after a batch's retries.
  const longestReadMs = settings.operationTimeoutMs * BATCH_TIMEOUT_FACTOR + settings.batchRetry.maxDurationMs;
  return Object.freeze({
    name: resolved.name,
    id: resolved.cacheId ?? `${settings.tableName}/${settings.partitionKeyPrefix}`,
    tableName: settings.tableName,
    partitionKeyPrefix: settings.partitionKeyPrefix,
    defaultTtlMs: settings.ttl,
    slidingRenewThreshold: settings.slidingRenewThreshold,
    logger: settings.logger,
    throwOnErrors: resolved.throwOnErrors,
    circuitBreaker: resolved.circuitBreaker,
    autoRecovery: resolved.autoRecovery,
    memory: resolved.memory,
    changeHorizonMs: longestReadMs,
    detectRecursiveFactories: resolved.detectRecursiveFactories,
    defaults: resolved.defaults,
    disconnectWaitMs: settings.operationTimeoutMs * BATCH_TIMEOUT_FACTOR,
  });
}

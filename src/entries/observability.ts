/**
 * `nest-dynamo-cache/observability`: OpenTelemetry for caches made without the module, the shapes of
 * what a cache reports (stats, lookups, events, health) and of the diagnostics channels' messages.
 *
 * @module nest-dynamo-cache/observability
 */
export {
  instrumentCaches,
  type CacheInstrumentation,
  type OpenTelemetryOptions,
  type TelemetrySource,
} from '../observability/open-telemetry.js';
export type { DynamoDBCallTraceMessage, FactoryTraceMessage } from '../store/trace-points.js';
export type { CacheStats } from '../cache/dynamo-cache.js';
export type { AutoRecoveryStats } from '../cache/auto-recovery.js';
export type { TierLookups, TiersLookups } from '../cache/lookup-counters.js';
export type { CacheCapacityEvent, CacheEventListener, CacheEventName, CacheTier } from '../cache/cache-events.js';
export type { CircuitState } from '../cache/circuit-breaker.js';
export type { BackplaneState, BackplaneStats } from '../backplane/backplane.js';
export type { DynamoCacheHealthDetails, DynamoCacheHealthOptions, DynamoCacheHealthResult } from '../nest/dynamo-cache.health.js';

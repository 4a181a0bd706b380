export { DynamoCache, type CacheStats, type WrapOptions } from './cache/dynamo-cache.js';
export type { DynamoCacheOptions, DistributedLockOptions, GetOrSetOptions, MemoryOptions } from './cache/cache-options.js';
export type { CacheCapacityEvent, CacheEvent, CacheEventListener, CacheEventName, CacheTier } from './cache/cache-events.js';
export { DynamoCacheRegistry, type NamedCacheOptions } from './cache/cache-registry.js';
export type { NamedCacheAsyncOptions } from './nest/dynamo-cache.providers.js';
export type { Factory, FactoryContext } from './cache/factory-run.js';
export { CacheRegistrationError, CircuitOpenError, FactoryTimeoutError, RecursiveFactoryError } from './cache/errors.js';
export type { CircuitState } from './cache/circuit-breaker.js';
export { CACHE, CACHE_MANAGER, getCacheToken } from './nest/dynamo-cache.constants.js';
export { InjectCache } from './nest/dynamo-cache.decorators.js';
export { Cacheable, CacheEvict, NoCache } from './nest/cacheable.decorators.js';
export { DEFAULT_CREDENTIAL_HEADERS } from './nest/http/http-cache-key.js';
export { DynamoCacheInterceptor } from './nest/http/http-cache.interceptor.js';
export type { CachedResponse } from './nest/http/cached-response.js';
export type { CacheableOptions, CacheableRequest, CacheEvictOptions } from './nest/interfaces/cacheable-options.js';
export { DynamoCacheModule } from './nest/dynamo-cache.module.js';
export {
  DynamoCacheHealthIndicator,
  type DynamoCacheHealthDetails,
  type DynamoCacheHealthOptions,
  type DynamoCacheHealthResult,
} from './nest/dynamo-cache.health.js';
export {
  type CacheInstrumentation,
  type OpenTelemetryOptions,
  type TelemetrySource,
  instrumentCaches,
} from './observability/open-telemetry.js';
export type { DynamoDBCallTraceMessage, FactoryTraceMessage } from './observability/trace-points.js';
export type { TierLookups, TiersLookups } from './cache/lookup-counters.js';
export type { BackplaneOptions, PollBackplaneOptions, StreamsBackplaneOptions, StreamsClientLike } from './backplane/backplane-options.js';
export type { BackplaneState, BackplaneStats } from './backplane/backplane.js';
export type {
  DistributedModuleOptions,
  DynamoCacheModuleOptions,
  MemoryOnlyModuleOptions,
} from './nest/interfaces/dynamo-cache-module-options.js';
export {
  DynamoSessionStore,
  type DynamoSessionOptions,
  type DynamoSessionStoreOptions,
  type SessionData,
} from './session/dynamo-session-store.js';
export { SessionStoreError } from './session/session-store-error.js';
export { DynamoStore, type CacheEntry, type SetManyEntry } from './store/dynamo-store.js';
export type { EntryOptions } from './store/expiry.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { DynamoStoreOptions } from './store/store-options.js';
export type { DynamoDBClientLike } from './store/dynamodb-client.js';
export type { CapacityRecord, CapacityUnits } from './store/capacity.js';
export type { CompressionAlgorithm } from './store/compression.js';
export type { ValueSerializer } from './store/value-serializer.js';
export type { TableSchema } from './store/item-codec.js';
export {
  CacheStartupError,
  InvalidCacheKeyError,
  InvalidExpirationError,
  InvalidOptionError,
  OperationTimeoutError,
  SerializationError,
  TableConfigurationError,
  ThrottledError,
  UnprocessedItemsError,
  ValueTooLargeError,
} from './store/errors.js';

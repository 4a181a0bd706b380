/**
 * `nest-dynamo-cache/options`: the parts of the options types, for code that builds options piece by
 * piece. `DynamoCacheModuleOptions` and `DynamoCacheOptions` (from the root) are what most code needs.
 *
 * @module nest-dynamo-cache/options
 */
export type { DistributedModuleOptions, MemoryOnlyModuleOptions } from '../nest/interfaces/dynamo-cache-module-options.js';
export type { NamedCacheAsyncOptions } from '../nest/dynamo-cache.providers.js';
export type { AutoRecoveryOptions, DistributedLockOptions, MemoryOptions } from '../cache/cache-options.js';
export type { Factory } from '../cache/factory-run.js';
export type { BackplaneOptions, PollBackplaneOptions, StreamsBackplaneOptions, StreamsClientLike } from '../backplane/backplane-options.js';
export type { CachedResponse } from '../nest/http/cached-response.js';
export type { CacheableRequest } from '../nest/interfaces/cacheable-options.js';

/**
 * What an app calls: the module and its tokens, the decorators, the cache and the options it takes,
 * the errors it throws, the health indicator. The rest is behind subpaths, for the few who need it:
 * `nest-dynamo-cache/store` (keyv stores, table schema), `/session`, `/observability` (OpenTelemetry
 * without Nest, stats and event types), `/options` (the parts of the options types), `/testing`.
 * Every option and its default: the options reference (docs/reference/options.md).
 *
 * @example
 * ```ts
 * @Module({ imports: [DynamoCacheModule.forRoot({ tableName: 'app_cache', isGlobal: true })] })
 * export class AppModule {}
 *
 * @Injectable()
 * export class Users {
 *   constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}
 *   find(id: string) {
 *     return this.cache.getOrSet(`user:${id}`, () => this.load(id), { ttl: 60_000 });
 *   }
 * }
 * ```
 *
 * @module nest-dynamo-cache
 */
export { DynamoCacheModule } from './nest/dynamo-cache.module.js';
export type { DynamoCacheModuleOptions } from './nest/interfaces/dynamo-cache-module-options.js';
export { DynamoCacheRegistry, type NamedCacheOptions } from './cache/cache-registry.js';
export { CACHE, CACHE_MANAGER, getCacheToken } from './nest/dynamo-cache.constants.js';
export { InjectCache } from './nest/dynamo-cache.decorators.js';
export { Cacheable, CacheEvict, NoCache } from './nest/cacheable.decorators.js';
export { CallerFailure } from './nest/cache-calls.js';
export type { CacheableOptions, CacheEvictOptions } from './nest/interfaces/cacheable-options.js';
export { DynamoCacheInterceptor } from './nest/http/http-cache.interceptor.js';
export { DEFAULT_CREDENTIAL_HEADERS } from './nest/http/http-cache-key.js';
export { DynamoCache, type WrapOptions } from './cache/dynamo-cache.js';
export type { DynamoCacheOptions, GetOrSetOptions } from './cache/cache-options.js';
export type { EntryOptions } from './store/expiry.js';
export type { FactoryContext } from './cache/factory-run.js';
export type { ManyLoader } from './cache/get-or-set-many.js';
export type { CacheEvent } from './cache/cache-events.js';
export { DynamoCacheHealthIndicator } from './nest/dynamo-cache.health.js';
export {
  CacheRegistrationError,
  CircuitOpenError,
  FactoryTimeoutError,
  InvalidLoaderResultError,
  RecursiveFactoryError,
  TtlFunctionError,
} from './cache/errors.js';
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

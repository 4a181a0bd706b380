export { DynamoCache, type DynamoCacheOptions, type WrapOptions } from './cache/dynamo-cache.js';
export { CACHE } from './nest/dynamo-cache.constants.js';
export { DynamoCacheModule } from './nest/dynamo-cache.module.js';
export type { DynamoCacheModuleOptions } from './nest/interfaces/dynamo-cache-module-options.js';
export { DynamoStore, type CacheEntry, type SetManyEntry } from './store/dynamo-store.js';
export type { EntryOptions } from './store/expiry.js';
export type { DynamoStoreOptions } from './store/store-options.js';
export type { TableSchema } from './store/item-codec.js';
export {
  InvalidCacheKeyError,
  InvalidExpirationError,
  InvalidOptionError,
  SerializationError,
  TableConfigurationError,
  UnprocessedItemsError,
  ValueTooLargeError,
} from './store/errors.js';

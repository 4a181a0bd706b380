import { Logger, type Provider } from '@nestjs/common';
import { DynamoCache } from '../cache/dynamo-cache.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { CACHE } from './dynamo-cache.constants.js';
import { DYNAMO_CACHE_MODULE_OPTIONS } from './dynamo-cache.module-definition.js';
import type { DynamoCacheModuleOptions } from './interfaces/dynamo-cache-module-options.js';

export function createDynamoCache(options: DynamoCacheModuleOptions): DynamoCache {
  const store = new DynamoStore({ ...options, logger: options.logger ?? new Logger('DynamoCache') });
  return new DynamoCache(store, options);
}

export const dynamoCacheProviders: Provider[] = [
  { provide: CACHE, inject: [DYNAMO_CACHE_MODULE_OPTIONS], useFactory: createDynamoCache },
  { provide: DynamoStore, inject: [CACHE], useFactory: (cache: DynamoCache) => cache.store },
];

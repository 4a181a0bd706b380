import { Logger, type Provider } from '@nestjs/common';
import { DynamoCacheRegistry, type NamedCacheOptions } from '../cache/cache-registry.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { DynamoSessionStore } from '../session/dynamo-session-store.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { CACHE, getCacheToken } from './dynamo-cache.constants.js';
import { DYNAMO_CACHE_MODULE_OPTIONS } from './dynamo-cache.module-definition.js';
import type { DynamoCacheModuleOptions } from './interfaces/dynamo-cache-module-options.js';

export const registryProvider: Provider = {
  provide: DynamoCacheRegistry,
  inject: [DYNAMO_CACHE_MODULE_OPTIONS],
  useFactory: (options: DynamoCacheModuleOptions) =>
    new DynamoCacheRegistry({
      ...options,
      logger: options.logger ?? new Logger('DynamoCache'),
      // A table the module creates gets the stream its backplane reads.
      tableStream: options.tableStream ?? options.backplane?.type === 'streams',
    }),
};

export const defaultCacheProviders: Provider[] = [
  { provide: CACHE, inject: [DynamoCacheRegistry], useFactory: (registry: DynamoCacheRegistry) => registry.default },
  { provide: DynamoStore, inject: [CACHE], useFactory: (cache: DynamoCache) => cache.store },
];

export const sessionStoreProvider: Provider = {
  provide: DynamoSessionStore,
  inject: [DynamoCacheRegistry, DYNAMO_CACHE_MODULE_OPTIONS],
  // Sessions never come from memory: another instance may have changed one a moment ago.
  useFactory: (registry: DynamoCacheRegistry, options: DynamoCacheModuleOptions) =>
    new DynamoSessionStore({ ...options.session, cache: registry.register({ name: SESSION_CACHE_NAME, memory: false }) }),
};

/** The named cache whose key prefix (`session:`) holds the sessions. */
export const SESSION_CACHE_NAME = 'session';

export function namedCacheProvider(options: NamedCacheOptions): Provider {
  return { provide: getCacheToken(options.name), inject: [DynamoCacheRegistry], useFactory: (registry: DynamoCacheRegistry) => registry.register(options) };
}

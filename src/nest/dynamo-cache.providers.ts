import { Logger, type Provider } from '@nestjs/common';
import { DynamoCacheRegistry, type NamedCacheOptions } from '../cache/cache-registry.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { CacheRegistrationError } from '../cache/errors.js';
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
  useFactory: (registry: DynamoCacheRegistry, options: DynamoCacheModuleOptions) => {
    if (options.session !== undefined) return new DynamoSessionStore({ ...options.session, cache: registry.register(SESSION_CACHE) });
    // Nest builds every provider at start-up, used or not: without the option, the cache is registered
    // on the store's first use, so that an app without sessions keeps the name for a cache of its own.
    return new DynamoSessionStore({ cache: () => registerOnFirstUse(registry) });
  },
};

/** The named cache whose key prefix (`session:`) holds the sessions. */
export const SESSION_CACHE_NAME = 'session';
// Sessions never come from memory: another instance may have changed one a moment ago.
const SESSION_CACHE: NamedCacheOptions = { name: SESSION_CACHE_NAME, memory: false };

function registerOnFirstUse(registry: DynamoCacheRegistry): DynamoCache {
  try {
    return registry.register(SESSION_CACHE);
  } catch (error) {
    if (!(error instanceof CacheRegistrationError)) throw error;
    throw new CacheRegistrationError(
      SESSION_CACHE_NAME,
      "is DynamoSessionStore's cache, and the app registers a cache of that name with forFeature({ name: 'session' }): give that cache another name. " +
        '(With session: {} in DynamoCacheModule.forRoot(), this clash fails start-up instead of the first request.)',
    );
  }
}

export function namedCacheProvider(options: NamedCacheOptions): Provider {
  return { provide: getCacheToken(options.name), inject: [DynamoCacheRegistry], useFactory: (registry: DynamoCacheRegistry) => registry.register(options) };
}

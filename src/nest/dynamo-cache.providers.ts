import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Provider } from '@nestjs/common';
import { DynamoCacheRegistry, type NamedCacheOptions } from '../cache/cache-registry.js';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { type CacheOverrides, checkCacheOptions } from '../cache/cache-options.js';
import { CacheRegistrationError } from '../cache/errors.js';
import { DynamoSessionStore } from '../session/dynamo-session-store.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { CACHE, CACHE_MANAGER, getCacheToken } from './dynamo-cache.constants.js';
import { DYNAMO_CACHE_CONFIG, type DynamoCacheModuleConfig, resolveModuleConfig } from './dynamo-cache.config.js';
import { DYNAMO_CACHE_MODULE_OPTIONS } from './dynamo-cache.module-definition.js';

/** forRootAsync's options are known only when its factory has run: they are resolved then, once. */
export const asyncConfigProvider: Provider = {
  provide: DYNAMO_CACHE_CONFIG,
  inject: [DYNAMO_CACHE_MODULE_OPTIONS],
  useFactory: resolveModuleConfig,
};

export const registryProvider: Provider = {
  provide: DynamoCacheRegistry,
  inject: [DYNAMO_CACHE_CONFIG],
  useFactory: ({ store, cache }: DynamoCacheModuleConfig) => new DynamoCacheRegistry({ store, cache }),
};

export const defaultCacheProviders: Provider[] = [
  { provide: CACHE, inject: [DynamoCacheRegistry], useFactory: (registry: DynamoCacheRegistry) => registry.default },
  { provide: DynamoStore, inject: [CACHE], useFactory: (cache: DynamoCache) => cache.store },
  { provide: CACHE_MANAGER, useExisting: CACHE },
];

export const sessionStoreProvider: Provider = {
  provide: DynamoSessionStore,
  inject: [DynamoCacheRegistry, DYNAMO_CACHE_CONFIG],
  useFactory: (registry: DynamoCacheRegistry, config: DynamoCacheModuleConfig) => {
    if (config.session !== undefined) return new DynamoSessionStore({ ...config.session, cache: registry.register(SESSION_CACHE) });
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

/** `forFeatureAsync`: the name is known when the module is written, the rest once `useFactory` resolves. */
export interface NamedCacheAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** The cache's name, known when the module is written: `@InjectCache(name)` injects it. */
  name: string;
  /** The providers `useFactory` is handed, in order (`ConfigService`…). */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the cache's options but its name (see `NamedCacheOptions`), or a promise of them. */
  useFactory: (...args: any[]) => Omit<NamedCacheOptions, 'name'> | Promise<Omit<NamedCacheOptions, 'name'>>;
}

export function asyncNamedCacheProvider(options: NamedCacheAsyncOptions): Provider {
  return {
    provide: getCacheToken(options.name),
    inject: [DynamoCacheRegistry, ...(options.inject ?? [])],
    useFactory: async (registry: DynamoCacheRegistry, ...dependencies: unknown[]) => {
      const named = { ...(await options.useFactory(...dependencies)), name: options.name };
      // Checked as forFeature checks its options where they are written: here, when they exist.
      return registry.register(named, checkCacheOptions(named));
    },
  };
}

/** `overrides`: the options as forFeature checked them where they were written. */
export function namedCacheProvider(options: NamedCacheOptions, overrides: CacheOverrides): Provider {
  return {
    provide: getCacheToken(options.name),
    inject: [DynamoCacheRegistry],
    useFactory: (registry: DynamoCacheRegistry) => registry.register(options, overrides),
  };
}

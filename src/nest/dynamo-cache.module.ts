import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { type NamedCacheOptions, DynamoCacheRegistry } from '../cache/cache-registry.js';
import { checkCacheOptions } from '../cache/cache-options.js';
import { DynamoSessionStore } from '../session/dynamo-session-store.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { CachedMethodsExplorer } from './methods/cached-methods.explorer.js';
import { CACHE, CACHE_MANAGER, getCacheToken } from './dynamo-cache.constants.js';
import { DynamoCacheHealthIndicator } from './dynamo-cache.health.js';
import { DynamoCacheLifecycle } from './dynamo-cache.lifecycle.js';
import { DynamoCacheTelemetry } from './dynamo-cache.telemetry.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableDynamoCacheModule, type OPTIONS_TYPE } from './dynamo-cache.module-definition.js';
import { DYNAMO_CACHE_CONFIG, resolveModuleConfig } from './dynamo-cache.config.js';
import {
  type NamedCacheAsyncOptions,
  asyncConfigProvider,
  asyncNamedCacheProvider,
  defaultCacheProviders,
  namedCacheProvider,
  registryProvider,
  sessionStoreProvider,
} from './dynamo-cache.providers.js';

/** Holds the options and the registry of caches, globally, so that `forFeature` works from any module. */
@Module({})
class DynamoCacheCoreModule {}

/**
 * `DynamoCacheModule.forRoot({ tableName: 'app_cache' })` registers the default cache under `CACHE`
 * (and its `DynamoStore`); `forRootAsync({ imports, inject, useFactory })` when the options come from
 * configuration; `forFeature({ name: 'weather', ... })` a named cache under `getCacheToken('weather')`.
 * `isGlobal: true` makes `CACHE` visible to every module.
 */
@Module({})
export class DynamoCacheModule extends ConfigurableDynamoCacheModule {
  /** Resolves the options here, once, so that a wrong one fails where it is written and names itself. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    const config = resolveModuleConfig(options);
    return withCore(super.forRoot(options), { provide: DYNAMO_CACHE_CONFIG, useValue: config });
  }

  /**
   * `forRoot` with options that come from configuration: `forRootAsync({ imports: [ConfigModule],
   * inject: [ConfigService], useFactory: (config) => ({ tableName: config.get('CACHE_TABLE') }) })`
   * (or `useClass`, `useExisting`). The options are checked when the factory resolves.
   */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withCore(super.forRootAsync(options), asyncConfigProvider);
  }

  /**
   * A named cache with its own key prefix and defaults, injected with `@InjectCache(name)`. Several
   * modules may import the same `forFeature`; the same name with other options fails start-up.
   */
  static forFeature(options: NamedCacheOptions): DynamicModule {
    const overrides = checkCacheOptions(options);
    return { module: DynamoCacheModule, providers: [namedCacheProvider(options, overrides)], exports: [getCacheToken(options.name)] };
  }

  /**
   * `forFeature` with options that come from configuration:
   * `forFeatureAsync({ name: 'weather', imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ ttl: config.get('WEATHER_TTL') }) })`.
   */
  static forFeatureAsync(options: NamedCacheAsyncOptions): DynamicModule {
    return {
      module: DynamoCacheModule,
      imports: options.imports ?? [],
      providers: [asyncNamedCacheProvider(options)],
      exports: [getCacheToken(options.name)],
    };
  }
}

/**
 * Moves what ConfigurableModuleBuilder generated (the options provider and the async imports) into a
 * global core module beside the registry, and leaves `CACHE` in a module that is global only when
 * `isGlobal` says so, as Nest's bull and TypeORM modules split theirs.
 */
function withCore(generated: DynamicModule, configProvider: Provider): DynamicModule {
  const core: DynamicModule = {
    module: DynamoCacheCoreModule,
    global: true,
    imports: [...(generated.imports ?? []), DiscoveryModule],
    providers: [
      ...(generated.providers ?? []),
      configProvider,
      registryProvider,
      sessionStoreProvider,
      DynamoCacheLifecycle,
      DynamoCacheTelemetry,
      DynamoCacheHealthIndicator,
      CachedMethodsExplorer,
    ],
    exports: [DynamoCacheRegistry, DynamoSessionStore, DynamoCacheHealthIndicator],
  };
  return {
    module: DynamoCacheModule,
    global: generated.global,
    imports: [core],
    providers: defaultCacheProviders,
    exports: [CACHE, CACHE_MANAGER, DynamoStore],
  };
}

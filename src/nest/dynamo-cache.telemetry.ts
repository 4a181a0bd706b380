import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DynamoCacheRegistry } from '../cache/cache-registry.js';
import { type CacheInstrumentation, instrumentCaches } from '../observability/open-telemetry.js';
import { DYNAMO_CACHE_CONFIG, type DynamoCacheModuleConfig } from './dynamo-cache.config.js';

/**
 * Connects the module's caches to OpenTelemetry when `openTelemetry` is set: at start-up (where the
 * API can be loaded asynchronously, so that neither build holds a top-level import of an optional
 * package), for every cache registered then and later. Without the option it does nothing.
 */
@Injectable()
export class DynamoCacheTelemetry implements OnModuleInit, OnApplicationShutdown {
  private instrumentation?: CacheInstrumentation;

  constructor(
    private readonly registry: DynamoCacheRegistry,
    @Inject(DYNAMO_CACHE_CONFIG) private readonly config: DynamoCacheModuleConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const options = this.config.openTelemetry;
    if (options === undefined) return;
    const registry = this.registry;
    this.instrumentation = await instrumentCaches(
      {
        caches: () => registry.all(),
        backplane: () => registry.backplane,
        onRegistered: (listener) => registry.onRegistered(listener),
      },
      options,
    );
  }

  onApplicationShutdown(): void {
    this.instrumentation?.stop();
  }
}

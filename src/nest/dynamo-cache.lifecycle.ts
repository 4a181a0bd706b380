import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DynamoCacheRegistry } from '../cache/cache-registry.js';

/**
 * Checks (or creates) the table when the app starts, so that a wrong table fails the deploy rather
 * than the first request; and at shutdown lets in-flight work finish and closes the client the
 * module built (never one the app passed in), after every named cache that shares it.
 */
@Injectable()
export class DynamoCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly registry: DynamoCacheRegistry) {}

  async onModuleInit(): Promise<void> {
    await this.registry.default.store.initialize();
  }

  async onApplicationShutdown(): Promise<void> {
    const [defaultCache, ...named] = this.registry.all();
    await Promise.all(named.map((cache) => cache.disconnect()));
    await defaultCache!.disconnect();
  }
}

import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DynamoCacheRegistry } from '../cache/cache-registry.js';
import { CacheStartupError, TableConfigurationError } from '../store/errors.js';
import { clientLocation } from '../store/table-schema.js';

/**
 * Checks (or creates) the table when the app starts, so that a wrong table fails the deploy rather
 * than the first request; and at shutdown lets in-flight work finish and closes the client the
 * module built (never one the app passed in), after every named cache that shares it.
 */
@Injectable()
export class DynamoCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly registry: DynamoCacheRegistry) {}

  async onModuleInit(): Promise<void> {
    const { store } = this.registry.default;
    const started = Date.now();
    try {
      await store.initialize();
    } catch (error) {
      // A table that answered and is wrong stays wrong: no option lets the app start on it.
      if (error instanceof TableConfigurationError) throw error;
      const failure = new CacheStartupError(store.tableName, await clientLocation(store.client), Date.now() - started, { cause: error });
      if (store.opts.startupCheck === 'fail') throw failure;
      // The store learns the schema again on first use, so the cache recovers once DynamoDB answers.
      store.opts.logger.warn(`${failure.message.replace(/ Check the endpoint.*$/, '')} Starting anyway (startupCheck: 'warn'): requests are answered without the cache until it is reachable.`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const [defaultCache, ...named] = this.registry.all();
    await Promise.all(named.map((cache) => cache.disconnect()));
    await defaultCache!.disconnect();
  }
}

import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DynamoCache } from '../cache/dynamo-cache.js';
import { CACHE } from './dynamo-cache.constants.js';

/**
 * Checks (or creates) the table when the app starts, so that a wrong table fails the deploy rather
 * than the first request; and at shutdown lets in-flight writes finish and closes the client the
 * module built (never one the app passed in).
 */
@Injectable()
export class DynamoCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(CACHE) private readonly cache: DynamoCache) {}

  async onModuleInit(): Promise<void> {
    await this.cache.store.initialize();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.disconnect();
  }
}

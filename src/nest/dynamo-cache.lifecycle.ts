import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Backplane } from '../backplane/backplane.js';
import { StreamsBackplane } from '../backplane/streams-backplane.js';
import { VersionPollBackplane } from '../backplane/version-poll-backplane.js';
import { DynamoCacheRegistry } from '../cache/cache-registry.js';
import { DynamoStore } from '../store/dynamo-store.js';
import { CacheStartupError, TableConfigurationError } from '../store/errors.js';
import { clientLocation } from '../store/table-schema.js';
import { installNotModifiedHook } from './http/not-modified.js';
import { DYNAMO_CACHE_CONFIG, type DynamoCacheModuleConfig } from './dynamo-cache.config.js';

/**
 * Checks (or creates) the table when the app starts, so that a wrong table fails the deploy rather
 * than the first request, and starts the backplane when there is one; at shutdown stops it (its
 * read in progress ends within operationTimeout per call), lets in-flight work finish for up to
 * 5 × operationTimeout per cache (see `DynamoCache.disconnect`) and closes the client the module
 * built (never one the app passed in), after every named cache that shares it.
 */
@Injectable()
export class DynamoCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  private backplane?: Backplane;

  constructor(
    private readonly registry: DynamoCacheRegistry,
    @Inject(DYNAMO_CACHE_CONFIG) private readonly config: DynamoCacheModuleConfig,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async onModuleInit(): Promise<void> {
    installNotModifiedHook(this.adapterHost?.httpAdapter);
    const { store } = this.registry.default;
    // A memory-only module has no table to check and nothing for a backplane to keep coherent.
    if (!(store instanceof DynamoStore)) {
      if (this.config.backplane !== undefined) {
        this.config.store.logger.warn(
          'DynamoCacheModule is memory-only (distributed: false): the backplane option is ignored, and each instance keeps its own entries.',
        );
      }
      return;
    }
    const started = Date.now();
    try {
      await store.initialize();
    } catch (error) {
      // A table that answered and is wrong stays wrong: no option lets the app start on it.
      if (error instanceof TableConfigurationError) throw error;
      const failure = new CacheStartupError(store.tableName, await clientLocation(store.client), Date.now() - started, { cause: error });
      if (this.config.store.startupCheck === 'fail') throw failure;
      // The store learns the schema again on first use, so the cache recovers once DynamoDB answers.
      this.config.store.logger.warn(
        `${failure.problem} Starting anyway (startupCheck: 'warn'): requests are answered without the cache until it is reachable` +
          `${this.config.backplane ? ', and without the backplane: memory keeps entries for memory.maxTtl only' : ''}.`,
      );
      return;
    }
    await this.startBackplane();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.backplane?.stop();
    const [defaultCache, ...named] = this.registry.all();
    await Promise.all(named.map((cache) => cache.disconnect()));
    await defaultCache!.disconnect();
  }

  private async startBackplane(): Promise<void> {
    const options = this.config.backplane;
    const { store } = this.registry.default;
    if (options === undefined || !(store instanceof DynamoStore)) return;
    const members = this.registry.all().flatMap((cache) => cache.forBackplane() ?? []);
    if (members.length === 0) return;
    const schema = await store.initialize();
    const backplane =
      options.type === 'streams'
        ? new StreamsBackplane(members, options, this.config.store.logger, {
            client: store.client,
            tableName: store.tableName,
            partitionKeyName: schema.partitionKeyName,
            operationTimeoutMs: this.config.store.operationTimeoutMs,
            journal: await store.reservedItems(),
          })
        : new VersionPollBackplane(members, options, this.config.store.logger, store.tableName);
    try {
      await backplane.start();
    } catch (error) {
      if (!(error instanceof TableConfigurationError) || options.missingStream === 'fail') throw error;
      this.config.store.logger.warn(
        `${error.message} Running without the backplane (backplane.missingStream: 'warn'): memory keeps entries for memory.maxTtl only.`,
      );
      return;
    }
    this.backplane = backplane;
    this.registry.backplane = backplane;
  }
}

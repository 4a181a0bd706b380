import { type DynamicModule, Module } from '@nestjs/common';
import { resolveStoreOptions } from '../store/store-options.js';
import { CACHE } from './dynamo-cache.constants.js';
import { DynamoCacheLifecycle } from './dynamo-cache.lifecycle.js';
import { ConfigurableDynamoCacheModule, type OPTIONS_TYPE } from './dynamo-cache.module-definition.js';
import { dynamoCacheProviders } from './dynamo-cache.providers.js';
import { DynamoStore } from '../store/dynamo-store.js';

/**
 * `DynamoCacheModule.forRoot({ tableName: 'app_cache' })` registers a DynamoDB-backed cache under
 * the `CACHE` token (and its `DynamoStore`); `forRootAsync({ imports, inject, useFactory })` when the
 * options come from configuration. `isGlobal: true` makes it visible to every module.
 */
@Module({
  providers: [...dynamoCacheProviders, DynamoCacheLifecycle],
  exports: [CACHE, DynamoStore],
})
export class DynamoCacheModule extends ConfigurableDynamoCacheModule {
  /** Validates the options here, so that a wrong one fails where it is written and names itself. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    resolveStoreOptions(options);
    return super.forRoot(options);
  }
}

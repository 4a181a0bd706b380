import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DynamoCacheModuleOptions } from './interfaces/dynamo-cache-module-options.js';

/** The module's own options that have a default (the store's and the cache's are `STORE_DEFAULTS` and `CACHE_DEFAULTS`). */
export const MODULE_DEFAULTS = Object.freeze({ isGlobal: false as boolean });

export const {
  ConfigurableModuleClass: ConfigurableDynamoCacheModule,
  MODULE_OPTIONS_TOKEN: DYNAMO_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DynamoCacheModuleOptions>({ moduleName: 'DynamoCache' })
  .setClassMethodName('forRoot')
  .setExtras(
    {
      /** Register the module globally: `CACHE` (the default cache) can be injected in every module without importing the module there. */
      isGlobal: MODULE_DEFAULTS.isGlobal,
    },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();

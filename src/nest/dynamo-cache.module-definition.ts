import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DynamoCacheModuleOptions } from './interfaces/dynamo-cache-module-options.js';

export const {
  ConfigurableModuleClass: ConfigurableDynamoCacheModule,
  MODULE_OPTIONS_TOKEN: DYNAMO_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DynamoCacheModuleOptions>({ moduleName: 'DynamoCache' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

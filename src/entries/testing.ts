/**
 * `nest-dynamo-cache/testing`: caches for an app's own unit tests, with no table, no AWS credentials
 * and no DynamoDB Local. They behave as the distributed ones do (memory tier, get-or-set, tags, the
 * decorators), over a `MemoryStore` in this process.
 *
 * @example
 * ```ts
 * const moduleRef = await Test.createTestingModule({ imports: [memoryCacheModule()], providers: [Prices] }).compile();
 * ```
 *
 * @module nest-dynamo-cache/testing
 */
import type { DynamicModule } from '@nestjs/common';
import type { DynamoCacheOptions } from '../cache/cache-options.js';
import { DynamoCache } from '../cache/dynamo-cache.js';
import { DynamoCacheModule } from '../nest/dynamo-cache.module.js';
import type { MemoryOnlyModuleOptions } from '../nest/interfaces/dynamo-cache-module-options.js';
import { MemoryStore, type MemoryStoreOptions } from '../store/memory-store.js';

/** What `memoryCacheModule()` takes: the module's options but `distributed`, which it sets to `false`. */
export type MemoryCacheModuleOptions = Omit<MemoryOnlyModuleOptions, 'distributed'> & {
  /** Register the module globally, as `DynamoCacheModule.forRoot({ isGlobal })`. */
  isGlobal?: boolean;
};

/** `DynamoCacheModule.forRoot({ distributed: false, ...options })`: import it in `Test.createTestingModule`. */
export function memoryCacheModule(options: MemoryCacheModuleOptions = {}): DynamicModule {
  return DynamoCacheModule.forRoot({ ...options, distributed: false });
}

/** A cache over a `MemoryStore`, without Nest; `disconnect()` it after the test as any cache. */
export function memoryCache(options: DynamoCacheOptions = {}, storeOptions: MemoryStoreOptions = {}): DynamoCache {
  return new DynamoCache(new MemoryStore(storeOptions), options);
}

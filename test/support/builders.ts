import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamicModule } from '@nestjs/common';
import type { DistributedModuleOptions } from '../../src/entries/options.js';
import { DynamoStore, type DynamoStoreOptions } from '../../src/entries/store.js';
import { DynamoCache, DynamoCacheModule, type DynamoCacheOptions } from '../../src/index.js';
import { cacheTableAttributes, localClient, memoryLogger } from './dynamo.js';

/** A test's cache table, and the client that reaches it: useCacheTable's, or by default a fresh one of the shared DynamoDB Local. */
export interface TestTable {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
}

/**
 * Options for a `DynamoStore` or `DynamoCacheModule.forRoot` on a test's cache table: its client,
 * its attribute names (no DescribeTable), warnings kept in memory; then the test's own.
 */
export function cacheOptions<Overrides extends object>({ tableName, client }: TestTable, overrides: Overrides) {
  return { tableName, client: client ?? localClient(), ...cacheTableAttributes, logger: memoryLogger(), ...overrides };
}

export function testStore(table: TestTable, overrides: Partial<DynamoStoreOptions> = {}): DynamoStore {
  return new DynamoStore(cacheOptions(table, overrides));
}

export function testCache(table: TestTable, storeOverrides: Partial<DynamoStoreOptions> = {}, options?: DynamoCacheOptions): DynamoCache {
  return new DynamoCache(testStore(table, storeOverrides), options);
}

export function cacheModule(
  table: TestTable,
  overrides: Partial<Omit<DistributedModuleOptions, 'tableName'>> & { isGlobal?: boolean } = {},
): DynamicModule {
  return DynamoCacheModule.forRoot(cacheOptions(table, overrides));
}

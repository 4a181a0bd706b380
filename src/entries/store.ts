/**
 * `nest-dynamo-cache/store`: the keyv stores on their own (DynamoDB, or memory), what they take and
 * what they hold. The module registers `DynamoStore` as a provider: import the class from here to get it.
 *
 * @module nest-dynamo-cache/store
 */
export { DynamoStore, type CacheEntry, type SetManyEntry } from '../store/dynamo-store.js';
export type { DynamoStoreOptions } from '../store/store-options.js';
export { MemoryStore, type MemoryStoreOptions } from '../store/memory-store.js';
export type { TableSchema } from '../store/item-codec.js';
export type { DynamoDBClientLike } from '../store/dynamodb-client.js';
export type { CapacityRecord, CapacityUnits } from '../store/capacity.js';
export type { CompressionAlgorithm } from '../store/compression.js';
export type { ValueSerializer } from '../store/value-serializer.js';

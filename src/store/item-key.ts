import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The names (and, for a sort key, the value) that the table's schema and the options decide. */
export interface TableSchema {
  /** The table's partition key attribute (a string). */
  readonly partitionKeyName: string;
  /** The attribute DynamoDB's TTL deletes items by (epoch seconds). */
  readonly ttlAttributeName: string;
  /**
   * A single-table design's sort key (a string): its attribute and the one value every item of the
   * cache holds in it. An item of the table with another value there is not the cache's, whatever
   * its partition key.
   */
  readonly sortKey?: {
    /** The sort key attribute. */
    readonly name: string;
    /** What every item of the cache holds in it (`sortKeyValue`). */
    readonly value: string;
  };
}

/** The item key of a partition key value: the value, and the cache's sort key value when the table has one. */
export function itemKey(schema: TableSchema, partitionKeyValue: string): Record<string, AttributeValue> {
  const key: Record<string, AttributeValue> = { [schema.partitionKeyName]: { S: partitionKeyValue } };
  if (schema.sortKey !== undefined) key[schema.sortKey.name] = { S: schema.sortKey.value };
  return key;
}

/** What the key attributes of an item cost in its size, as DynamoDB counts it (names plus values). */
export function keyBytes(schema: TableSchema, partitionKeyValue: string): number {
  const partition = Buffer.byteLength(schema.partitionKeyName) + Buffer.byteLength(partitionKeyValue);
  return schema.sortKey === undefined
    ? partition
    : partition + Buffer.byteLength(schema.sortKey.name) + Buffer.byteLength(schema.sortKey.value);
}

/** Whether an item (or a stream record's keys) is the cache's by its sort key: always, on a table without one. */
export function hasCacheSortKey(schema: Pick<TableSchema, 'sortKey'>, keys: Record<string, AttributeValue> | undefined): boolean {
  return schema.sortKey === undefined || keys?.[schema.sortKey.name]?.S === schema.sortKey.value;
}

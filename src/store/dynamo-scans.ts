import { BATCH_GET_LIMIT, scanPartitionKeys } from './batches.js';
import type { DynamoTable } from './dynamo-table.js';
import { BACKPLANE_MARKER } from './keys.js';

/**
 * What a DynamoStore learns by scanning its table: the keys under its prefix, its live entries, and
 * what `clear()` deletes. A Scan reads the whole table (other caches' and applications' items too),
 * so each is billed for the whole table's size: meant for tests, tools and rare resets.
 */
export class DynamoScans {
  constructor(private readonly table: DynamoTable) {}

  /** Deletes every item under the store's prefix and `namespace`, and nothing else, but the backplane's journal. */
  async clear(namespace: string | undefined): Promise<void> {
    const { table } = this;
    const { tableName, partitionKeyPrefix, consistentReads } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    const prefix = partitionKeyPrefix + (namespace ? `${namespace}:` : '');
    const pages = scanPartitionKeys(table.sender, tableName, schema, prefix, consistentReads);
    // The backplane's journal holds its lease and stream position: deleting them would lose what it read.
    const journal = partitionKeyPrefix + BACKPLANE_MARKER;
    for await (const page of pages)
      await table.deletePartitionKeys(
        schema,
        page.filter((key) => !key.startsWith(journal)),
      );
  }

  /** The keys under the store's prefix and `namespace`, a page at a time, without the namespace. */
  async *keys(namespace: string | undefined): AsyncGenerator<string[]> {
    const namespacePrefix = namespace ? `${namespace}:` : '';
    for await (const page of this.keyPages(namespace)) yield page.map((key) => key.slice(namespacePrefix.length));
  }

  /** Every live entry of `namespace` as `[key, value]`, read 100 keys a BatchGetItem, so that no more than 100 values are held at once. */
  async *entries<Value>(
    namespace: string | undefined,
    getMany: (keys: readonly string[]) => Promise<Array<Value | undefined>>,
  ): AsyncGenerator<[string, Value], void> {
    for await (const page of this.keyPages(namespace)) {
      for (let start = 0; start < page.length; start += BATCH_GET_LIMIT) {
        const keys = page.slice(start, start + BATCH_GET_LIMIT);
        const values = await getMany(keys);
        for (let index = 0; index < keys.length; index++) {
          const value = values[index];
          if (value !== undefined) yield [keys[index]!, value];
        }
      }
    }
  }

  /** The keys as the caller wrote them (with the namespace); digest-form keys and the store's own items are not listed. */
  private async *keyPages(namespace: string | undefined): AsyncGenerator<string[]> {
    const { table } = this;
    const { tableName, partitionKeyPrefix, consistentReads } = table.settings;
    const schema = table.schema ?? (await table.initialize());
    const prefix = partitionKeyPrefix + (namespace ? `${namespace}:` : '');
    for await (const page of scanPartitionKeys(table.sender, tableName, schema, prefix, consistentReads)) {
      yield page
        .filter((partitionKey) => !partitionKey.startsWith('#', prefix.length))
        .map((partitionKey) => partitionKey.slice(partitionKeyPrefix.length));
    }
  }
}

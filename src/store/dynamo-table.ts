import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { batchGetAll, batchWriteAll } from './batches.js';
import { EntryReader } from './entry-reader.js';
import { type TableSchema, itemKey } from './item-codec.js';
import { type PartitionKey, assertValidKey, partitionKeyFor } from './keys.js';
import type { ResolvedStoreOptions } from './store-options.js';
import type { ValueStorage } from './stored-value.js';
import type { TimedSender } from './timed-sender.js';

/**
 * What the parts of a `DynamoStore` (its entries, scans and reserved items) share: one table, its
 * settings, one bounded sender, and the table's schema, learnt once.
 */
export class DynamoTable {
  readonly valueStorage: ValueStorage;
  readonly reader: EntryReader;
  /** Replaced by a store that shares another's table (`withPrefix`), so that the schema is learnt once for all. */
  learnSchema: () => Promise<TableSchema>;
  private known?: TableSchema;
  private learning?: Promise<TableSchema>;

  constructor(
    readonly settings: ResolvedStoreOptions,
    readonly sender: TimedSender,
    learnSchema: () => Promise<TableSchema>,
    /** For what fails after a call succeeded (a renewal, a clean-up): never lost, never failing the call. */
    readonly reportError: (error: Error) => void,
  ) {
    this.learnSchema = learnSchema;
    this.valueStorage = { ...settings, sender };
    this.reader = new EntryReader(settings, this.valueStorage, reportError);
  }

  /** The schema once learnt: a caller that has it sends without awaiting anything first. */
  get schema(): TableSchema | undefined {
    return this.known;
  }

  /** Learns (or creates) the table's schema; idempotent, and retried after a failure. */
  initialize(): Promise<TableSchema> {
    this.learning ??= this.learnSchema().then(
      (schema) => (this.known = schema),
      (error: unknown) => {
        this.learning = undefined;
        throw error;
      },
    );
    return this.learning;
  }

  partitionKey(key: string): PartitionKey {
    assertValidKey(key);
    return partitionKeyFor(this.settings.partitionKeyPrefix, key);
  }

  uniquePartitionKeys(keys: readonly string[], method: string): string[] {
    if (!Array.isArray(keys)) throw new TypeError(`${method} expects an array of keys, got ${typeof keys}.`);
    // A batch that names one key twice is rejected by DynamoDB.
    return [...new Set(keys.map((key) => this.partitionKey(key).value))];
  }

  batchGet(schema: TableSchema, values: readonly string[], projectAttribute?: string) {
    const { tableName, consistentReads, batchRetry } = this.settings;
    const keys = values.map((value) => itemKey(schema, value));
    return batchGetAll(this.sender, tableName, keys, consistentReads, batchRetry, projectAttribute);
  }

  async deletePartitionKeys(schema: TableSchema, values: readonly string[]): Promise<void> {
    const deletes = values.map((value): WriteRequest => ({ DeleteRequest: { Key: itemKey(schema, value) } }));
    if (deletes.length > 0) await batchWriteAll(this.sender, this.settings.tableName, deletes, this.settings.batchRetry);
  }
}

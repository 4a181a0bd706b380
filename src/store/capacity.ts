import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';

/** Capacity units DynamoDB billed for the calls of one store (one cache). */
export interface CapacityUnits {
  /** Read capacity units (an eventually consistent read of up to 4 KB is 0.5, a strongly consistent one 1). */
  readonly readUnits: number;
  /** Write capacity units (a write of up to 1 KB is 1). */
  readonly writeUnits: number;
}

/** One call's bill, as the store's `capacity` event carries it. */
export interface CapacityRecord extends CapacityUnits {
  /** The DynamoDB operation (`GetItem`, `BatchWriteItem`…). */
  readonly operation: string;
  /** The table it was billed on. */
  readonly tableName: string;
}

/** The calls that take ReturnConsumedCapacity; the others (DescribeTable, …) are not billed in units. */
export const METERED_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchGetItem',
  'BatchWriteItem',
  'Scan',
  'Query',
]);

const READ_OPERATIONS: ReadonlySet<string> = new Set(['GetItem', 'BatchGetItem', 'Scan', 'Query']);

/** Adds up what DynamoDB reports in each response's ConsumedCapacity (one object, or one per table for batches). */
export class CapacityMeter {
  readUnits = 0;
  writeUnits = 0;

  constructor(private readonly onRecord: (record: CapacityRecord) => void) {}

  record(operation: string, tableName: string, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    if (consumed === undefined) return;
    let readUnits = 0;
    let writeUnits = 0;
    for (const part of Array.isArray(consumed) ? consumed : [consumed]) {
      // Provisioned and on-demand tables report the split; when only the total is given, the operation tells which it is.
      const total = part.CapacityUnits ?? 0;
      readUnits += part.ReadCapacityUnits ?? (READ_OPERATIONS.has(operation) ? total : 0);
      writeUnits += part.WriteCapacityUnits ?? (READ_OPERATIONS.has(operation) ? 0 : total);
    }
    this.readUnits += readUnits;
    this.writeUnits += writeUnits;
    this.onRecord({ operation, tableName, readUnits, writeUnits });
  }

  snapshot(): CapacityUnits {
    return { readUnits: this.readUnits, writeUnits: this.writeUnits };
  }
}

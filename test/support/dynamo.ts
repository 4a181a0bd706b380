import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { PERMISSIONS, type PermissionMode, enforcePolicy } from './iam-policy.js';

/** DynamoDB Local accepts any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export function dynamoEndpoint(): string {
  return inject('dynamoEndpoint');
}

/**
 * A client of the shared DynamoDB Local. Unless `admin`, it refuses every command outside the
 * widest permission list the README documents (`createTableIfNotExists` mode), as IAM would: every
 * test that hands it to the library also checks that the library needs no undocumented permission.
 */
export function localClient(config: DynamoDBClientConfig = {}, access: PermissionMode | 'admin' = 'create'): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...config });
  if (access !== 'admin') enforcePolicy(client, { actions: PERMISSIONS[access] });
  return client;
}

/** The options the sample's main.ts gives its app, pointed at the shared DynamoDB Local: the table made on first start. */
export function localModuleOptions(tableName: string) {
  return { tableName, createTableIfNotExists: true, endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

/** A table name no other test uses, so that test files can run side by side on one DynamoDB Local. */
export function uniqueTableName(purpose: string): string {
  return `${purpose}_${randomUUID().slice(0, 8)}`;
}

/**
 * Test clean-up, with a client of its own: the clients the library is given may not delete tables.
 * A table already gone is no error; any other failure is.
 */
export async function deleteTable(tableName: string): Promise<void> {
  const admin = localClient({}, 'admin');
  try {
    await admin.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  } finally {
    admin.destroy();
  }
}

/**
 * The attribute names of the cache tables the tests create (useCacheTable, useOwnDynamoDbLocal):
 * given to a store or a module, they spare it the DescribeTable that would find them.
 */
export const cacheTableAttributes = { partitionKeyName: 'pk', ttlAttributeName: 'ttl' };

export interface TableShape {
  partitionKeyName?: string;
  partitionKeyType?: 'S' | 'N' | 'B';
  sortKeyName?: string;
  /** The attribute to enable TTL on; none leaves TTL disabled. */
  ttlAttributeName?: string;
  /** A KEYS_ONLY stream, which the streams backplane reads. */
  stream?: boolean;
}

/** Creates a table the way an operator would, outside the library, to test what the library makes of it. */
export async function createTable(client: DynamoDBClient, tableName: string, shape: TableShape = {}): Promise<void> {
  const partitionKeyName = shape.partitionKeyName ?? 'pk';
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKeyName, AttributeType: shape.partitionKeyType ?? 'S' },
        ...(shape.sortKeyName ? [{ AttributeName: shape.sortKeyName, AttributeType: 'S' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: partitionKeyName, KeyType: 'HASH' },
        ...(shape.sortKeyName ? [{ AttributeName: shape.sortKeyName, KeyType: 'RANGE' as const }] : []),
      ],
      ...(shape.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' as const } } : {}),
    }),
  );
  if (shape.ttlAttributeName) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: shape.ttlAttributeName, Enabled: true },
      }),
    );
  }
}

/** Records the name of every command a client sends, to prove which calls an operation makes. */
export function recordCommands(client: DynamoDBClient): string[] {
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

/** A logger that keeps what it was told, to assert on warnings. */
export function memoryLogger(): { warn(message: string): void; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => void warnings.push(message) };
}

/**
 * A client and a fresh cache table (partition key `pk`, TTL on `ttl`) for one test file: created
 * before its tests, deleted after them.
 */
export function useCacheTable(purpose: string): { client: DynamoDBClient; tableName: string } {
  const client = localClient();
  const admin = localClient({}, 'admin');
  const tableName = uniqueTableName(purpose);
  beforeAll(() => createTable(admin, tableName, cacheTableAttributes));
  afterAll(async () => {
    await deleteTable(tableName);
    client.destroy();
    admin.destroy();
  });
  return { client, tableName };
}

/** Names fresh tables for one test file (`table(purpose)`), every one of them deleted after its tests. */
export function useTableNames(): (purpose: string) => string {
  const tables: string[] = [];
  afterAll(() => Promise.all(tables.map((name) => deleteTable(name))));
  return (purpose) => {
    const name = uniqueTableName(purpose);
    tables.push(name);
    return name;
  };
}

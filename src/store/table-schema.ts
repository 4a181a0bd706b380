import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { withinBound } from './bounded-call.js';
import type { DynamoDBClientLike } from './dynamodb-client.js';
import { OperationTimeoutError, TableConfigurationError } from './errors.js';
import type { CommandSender } from './timed-sender.js';
import { type TableSchema, isReservedAttributeName, ITEM_ATTRIBUTES } from './item-codec.js';

/** The names a table created by this library gets when the options name none. */
export const DEFAULT_PARTITION_KEY_NAME = 'pk';
export const DEFAULT_TTL_ATTRIBUTE_NAME = 'ttl';

export interface TableSetup {
  readonly tableName: string;
  readonly partitionKeyName?: string;
  readonly ttlAttributeName?: string;
  /** The sort key the options name, for a table of a single-table design. */
  readonly sortKey?: TableSchema['sortKey'];
  readonly createTableIfNotExists: boolean;
  /** How long to wait for a created table to become ACTIVE. */
  readonly tableReadyTimeoutMs: number;
  /** Create the table with a KEYS_ONLY stream (for the streams backplane). */
  readonly tableStream?: boolean;
}

export interface WarningLogger {
  warn(message: string): void;
}

/**
 * Works out the partition key and TTL attribute names, creating the table when asked to.
 *
 * With both names given and no creation asked for, it sends nothing at all: production can then run
 * with data-plane permissions only, and start without a control-plane round trip. Otherwise it
 * describes the table and its TTL (DescribeTable, DescribeTimeToLive) and fails on a table that
 * cannot hold cache items, naming the table and what to change.
 */
export async function prepareTable(
  client: DynamoDBClientLike,
  sender: CommandSender,
  setup: TableSetup,
  logger: WarningLogger,
): Promise<TableSchema> {
  const { tableName, partitionKeyName, ttlAttributeName, sortKey } = setup;
  const withSortKey = (names: Omit<TableSchema, 'sortKey'>): TableSchema => (sortKey === undefined ? names : { ...names, sortKey });
  if (partitionKeyName !== undefined && ttlAttributeName !== undefined && !setup.createTableIfNotExists) {
    return checkNames(tableName, withSortKey({ partitionKeyName, ttlAttributeName }));
  }

  const table = await describeTable(sender, tableName);
  if (table === undefined) {
    if (!setup.createTableIfNotExists) {
      throw new TableConfigurationError(
        tableName,
        `does not exist in region ${await regionOf(client)}${await endpointNote(client)}. ` +
          `Create it (a string partition key${sortKey === undefined ? '' : ` and a string sort key "${sortKey.name}"`}, TTL enabled), ` +
          'or set createTableIfNotExists: true to let the cache create it.',
      );
    }
    const schema = checkNames(
      tableName,
      withSortKey({
        partitionKeyName: partitionKeyName ?? DEFAULT_PARTITION_KEY_NAME,
        ttlAttributeName: ttlAttributeName ?? DEFAULT_TTL_ATTRIBUTE_NAME,
      }),
    );
    await createTable(client, sender, tableName, schema, setup.tableReadyTimeoutMs, setup.tableStream === true);
    return schema;
  }

  const tablePartitionKey = checkKeySchema(table, tableName, sortKey?.name);
  if (partitionKeyName !== undefined && partitionKeyName !== tablePartitionKey) {
    throw new TableConfigurationError(
      tableName,
      `its partition key is "${tablePartitionKey}", but the option partitionKeyName says "${partitionKeyName}". ` +
        "Fix the option, or leave it out to use the table's.",
    );
  }
  const ttl = await sender.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  const enabledAttribute = status === 'ENABLED' || status === 'ENABLING' ? ttl.TimeToLiveDescription?.AttributeName : undefined;
  if (enabledAttribute !== undefined && ttlAttributeName !== undefined && enabledAttribute !== ttlAttributeName) {
    throw new TableConfigurationError(
      tableName,
      `TTL is enabled on attribute "${enabledAttribute}", but the option ttlAttributeName says "${ttlAttributeName}": ` +
        "expired entries would never be deleted. Set ttlAttributeName to the table's TTL attribute.",
    );
  }
  if (enabledAttribute === undefined) {
    logger.warn(
      `DynamoDB table "${tableName}" has TTL ${status === undefined ? 'disabled' : status.toLowerCase()}: expired cache items will not be ` +
        `deleted and will fill the table (reads still treat them as misses). Enable TTL on attribute "${ttlAttributeName ?? DEFAULT_TTL_ATTRIBUTE_NAME}".`,
    );
  }
  return checkNames(
    tableName,
    withSortKey({
      partitionKeyName: tablePartitionKey,
      ttlAttributeName: enabledAttribute ?? ttlAttributeName ?? DEFAULT_TTL_ATTRIBUTE_NAME,
    }),
  );
}

function checkNames(tableName: string, schema: TableSchema): TableSchema {
  const names = { partitionKeyName: schema.partitionKeyName, ttlAttributeName: schema.ttlAttributeName };
  for (const [option, name] of Object.entries(names)) {
    if (isReservedAttributeName(name)) {
      throw new TableConfigurationError(
        tableName,
        `${option} "${name}" is one of the attribute names cache items use (${Object.values(ITEM_ATTRIBUTES).join(', ')}). Choose another.`,
      );
    }
  }
  if (schema.partitionKeyName === schema.ttlAttributeName) {
    throw new TableConfigurationError(tableName, `partitionKeyName and ttlAttributeName are both "${schema.partitionKeyName}".`);
  }
  // The options' names were checked against each other when resolved; a discovered TTL attribute was not.
  if (schema.sortKey !== undefined && schema.sortKey.name === schema.ttlAttributeName) {
    throw new TableConfigurationError(
      tableName,
      `TTL is enabled on "${schema.ttlAttributeName}", its sort key, which the option sortKeyName names: a sort key cannot be the TTL attribute.`,
    );
  }
  return schema;
}

async function describeTable(sender: CommandSender, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await sender.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/**
 * A cache item is addressed by a string partition key and, in a table of a single-table design,
 * the string sort key that the option `sortKeyName` names: any other key schema cannot hold it.
 */
function checkKeySchema(table: TableDescription, tableName: string, sortKeyName: string | undefined): string {
  const keys = table.KeySchema ?? [];
  const typeOf = (name: string) => table.AttributeDefinitions?.find((definition) => definition.AttributeName === name)?.AttributeType;
  const rangeKey = keys.find((key) => key.KeyType === 'RANGE')?.AttributeName;
  if (rangeKey !== undefined && sortKeyName === undefined) {
    throw new TableConfigurationError(
      tableName,
      `has a sort (range) key "${rangeKey}", which the options do not name. For a table of a single-table design, set ` +
        `sortKeyName: '${rangeKey}' (and sortKeyValue, what every cache item holds in it); otherwise use a table with a partition key only.`,
    );
  }
  if (rangeKey === undefined && sortKeyName !== undefined) {
    throw new TableConfigurationError(
      tableName,
      `has no sort key, but the option sortKeyName says "${sortKeyName}". Leave the option out, or use the table that has that sort key.`,
    );
  }
  if (rangeKey !== undefined && rangeKey !== sortKeyName) {
    throw new TableConfigurationError(
      tableName,
      `its sort key is "${rangeKey}", but the option sortKeyName says "${sortKeyName}". Set sortKeyName to the table's sort key.`,
    );
  }
  if (rangeKey !== undefined && typeOf(rangeKey) !== 'S') {
    throw new TableConfigurationError(
      tableName,
      `its sort key "${rangeKey}" (the option sortKeyName) is of type ${typeOf(rangeKey) ?? 'unknown'}; ` +
        'the cache writes a string in it, so it needs a string (S) sort key.',
    );
  }
  const hashKey = keys.find((key) => key.KeyType === 'HASH')?.AttributeName;
  if (hashKey === undefined) throw new TableConfigurationError(tableName, 'DescribeTable returned no partition key.');
  const type = typeOf(hashKey);
  if (type !== 'S') {
    throw new TableConfigurationError(
      tableName,
      `its partition key "${hashKey}" is of type ${type ?? 'unknown'}; a cache table needs a string (S) partition key.`,
    );
  }
  return hashKey;
}

async function createTable(
  client: DynamoDBClientLike,
  sender: CommandSender,
  tableName: string,
  schema: TableSchema,
  readyTimeoutMs: number,
  stream: boolean,
): Promise<void> {
  const attributes: AttributeDefinition[] = [{ AttributeName: schema.partitionKeyName, AttributeType: 'S' }];
  const keySchema: KeySchemaElement[] = [{ AttributeName: schema.partitionKeyName, KeyType: 'HASH' }];
  if (schema.sortKey !== undefined) {
    attributes.push({ AttributeName: schema.sortKey.name, AttributeType: 'S' });
    keySchema.push({ AttributeName: schema.sortKey.name, KeyType: 'RANGE' });
  }
  try {
    await sender.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributes,
        KeySchema: keySchema,
        BillingMode: 'PAY_PER_REQUEST',
        ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' as const } } : {}),
      }),
    );
  } catch (error) {
    // Several instances starting together race to create the table; the losers wait for it like the winner.
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  // The waiter only sends DescribeTable, which a DocumentClient sends as its DynamoDBClient would. It
  // checks its maxWaitTime only between its calls, so a call that stalls (credentials that never
  // resolve) would hold start-up forever: the wait is bounded as a whole.
  const maxWaitTime = Math.max(1, Math.ceil(readyTimeoutMs / 1000));
  const waited = await withinBound(
    maxWaitTime * 1000,
    (abortSignal) =>
      waitUntilTableExists(
        { client: client as DynamoDBClient, maxWaitTime, minDelay: 1, maxDelay: 5, abortSignal },
        { TableName: tableName },
      ),
    () => new OperationTimeoutError(tableName, 'DescribeTable', maxWaitTime * 1000),
  ).catch((error: unknown) => ({ state: 'FAILURE', reason: error }));
  if (waited.state !== 'SUCCESS') {
    throw new TableConfigurationError(tableName, `was created but did not become ACTIVE within ${readyTimeoutMs} ms.`, {
      cause: waited.reason,
    });
  }
  try {
    await sender.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: schema.ttlAttributeName, Enabled: true },
      }),
    );
  } catch (error) {
    // The instance that won the creation race may have enabled it first.
    if (!/already enabled/i.test((error as Error).message)) throw error;
  }
}

/** Where the client sends its calls, for an error message: ` (region …, endpoint …)`. */
export async function clientLocation(client: DynamoDBClientLike): Promise<string> {
  return ` (region ${await regionOf(client)}${await endpointNote(client)})`;
}

async function regionOf(client: DynamoDBClientLike): Promise<string> {
  try {
    return await client.config.region();
  } catch {
    return '(unknown)';
  }
}

async function endpointNote(client: DynamoDBClientLike): Promise<string> {
  try {
    const url = await endpointUrl(client);
    return url ? ` at endpoint ${url}` : '';
  } catch {
    return '';
  }
}

/** The endpoint the client was configured with, as a URL; undefined when the SDK resolves AWS's own. */
export async function endpointUrl(client: DynamoDBClientLike): Promise<string | undefined> {
  const endpoint = await client.config.endpoint?.();
  return endpoint && `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path}`;
}

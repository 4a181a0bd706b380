import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { TableConfigurationError } from '../../src/store/errors.js';
import { createTable, localClient, memoryLogger, recordCommands, useTableNames } from '../support/dynamo.js';

const client = localClient();
const table = useTableNames();

afterAll(() => {
  client.destroy();
});

describe('table lifecycle', () => {
  it('creates a missing table on demand, with a string hash key and TTL enabled, when asked to', async () => {
    const tableName = table('created');
    const store = new DynamoStore({ tableName, client, createTableIfNotExists: true, logger: memoryLogger() });
    expect(await store.initialize()).toEqual({ partitionKeyName: 'pk', ttlAttributeName: 'ttl' });
    const description = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table!;
    expect(description.TableStatus).toBe('ACTIVE');
    expect(description.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(description.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(description.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription!;
    expect(ttl).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
  });

  it('creates the table once when several instances start together', async () => {
    const tableName = table('race');
    const stores = [1, 2, 3].map(
      () => new DynamoStore({ tableName, client, createTableIfNotExists: true, partitionKeyName: 'id', ttlAttributeName: 'expires_at' }),
    );
    const schemas = await Promise.all(stores.map((store) => store.initialize()));
    expect(schemas).toEqual(Array(3).fill({ partitionKeyName: 'id', ttlAttributeName: 'expires_at' }));
  });

  it('fails start-up on a missing table, naming the table, region, endpoint and the option that would create it', async () => {
    const tableName = table('missing');
    const store = new DynamoStore({ tableName, client });
    const error = await store.initialize().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TableConfigurationError);
    const message = (error as Error).message;
    expect(message).toContain(`"${tableName}"`);
    expect(message).toContain('us-east-1');
    expect(message).toMatch(/endpoint http:\/\/127\.0\.0\.1:\d+/);
    expect(message).toContain('createTableIfNotExists');
  });

  it('discovers the partition key and TTL attribute of an existing table', async () => {
    const tableName = table('discover');
    await createTable(client, tableName, { partitionKeyName: 'cache_id', ttlAttributeName: 'cache_ttl' });
    const store = new DynamoStore({ tableName, client });
    expect(await store.initialize()).toEqual({ partitionKeyName: 'cache_id', ttlAttributeName: 'cache_ttl' });
    await store.set('k', 'v', 60_000);
    expect(await store.get('k')).toBe('v');
  });

  it('refuses a table with a sort key', async () => {
    const tableName = table('ranged');
    await createTable(client, tableName, { sortKeyName: 'sk', ttlAttributeName: 'ttl' });
    await expect(new DynamoStore({ tableName, client }).initialize()).rejects.toThrow(/sort \(range\) key "sk"/);
  });

  it('refuses a table whose partition key is a number', async () => {
    const tableName = table('numeric');
    await createTable(client, tableName, { partitionKeyType: 'N', ttlAttributeName: 'ttl' });
    await expect(new DynamoStore({ tableName, client }).initialize()).rejects.toThrow(/partition key "pk" is of type N/);
  });

  it('refuses a partitionKeyName option that is not the table key', async () => {
    const tableName = table('wrongkey');
    await createTable(client, tableName, { ttlAttributeName: 'ttl' });
    await expect(new DynamoStore({ tableName, client, partitionKeyName: 'id' }).initialize()).rejects.toThrow(
      /partition key is "pk", but the option partitionKeyName says "id"/,
    );
  });

  it('refuses a table whose TTL is enabled on another attribute than the configured one', async () => {
    const tableName = table('otherttl');
    await createTable(client, tableName, { ttlAttributeName: 'expires' });
    await expect(new DynamoStore({ tableName, client, ttlAttributeName: 'ttl' }).initialize()).rejects.toThrow(
      /TTL is enabled on attribute "expires", but the option ttlAttributeName says "ttl"/,
    );
  });

  it('warns that expired items will not be deleted when TTL is disabled, and still filters them on read', async () => {
    const tableName = table('nottl');
    await createTable(client, tableName, {});
    const logger = memoryLogger();
    const store = new DynamoStore({ tableName, client, logger });
    await store.initialize();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(new RegExp(`table "${tableName}" has TTL disabled: expired cache items will not be deleted`));
    await store.set('k', 'v', 50);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await store.get('k')).toBeUndefined();
  });

  it('sends no control-plane call at all when both names are configured and no table is created', async () => {
    const tableName = table('leastprivilege');
    await createTable(client, tableName, { partitionKeyName: 'id', ttlAttributeName: 'expires' });
    const counted = localClient();
    const sent = recordCommands(counted);
    const store = new DynamoStore({ tableName, client: counted, partitionKeyName: 'id', ttlAttributeName: 'expires' });
    await store.initialize();
    await store.set('a', 1, { slidingExpiration: 60_000 });
    await store.get('a');
    await store.refresh('a');
    await store.setMany([{ key: 'b', value: 2 }]);
    await store.getMany(['a', 'b']);
    await store.deleteMany(['b']);
    await store.delete('a');
    await store.clear();
    const dataPlane = new Set([
      'GetItemCommand',
      'PutItemCommand',
      'UpdateItemCommand',
      'DeleteItemCommand',
      'BatchGetItemCommand',
      'BatchWriteItemCommand',
      'ScanCommand',
    ]);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((name) => !dataPlane.has(name))).toEqual([]);
    counted.destroy();
  });
});

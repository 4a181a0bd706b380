import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import Keyv from 'keyv';
import * as Vitest from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { createTable, deleteTable, localClient, uniqueTableName } from '../support/dynamo.js';

// Keyv's own test suite for store adapters, run against the store on DynamoDB Local.
const client = localClient();
const tableName = uniqueTableName('keyv');

Vitest.beforeAll(async () => {
  await createTable(client, tableName, { partitionKeyName: 'pk', ttlAttributeName: 'ttl' });
});
Vitest.afterAll(async () => {
  await deleteTable(client, tableName);
  client.destroy();
});

const store = () => new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' });

keyvTestSuite(Vitest, Keyv, store);
void keyvIteratorTests;

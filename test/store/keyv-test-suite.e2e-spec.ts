import keyvTestSuite from '@keyv/test-suite';
import Keyv from 'keyv';
import * as Vitest from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { useCacheTable } from '../support/dynamo.js';

// Keyv's own test suite for store adapters, run against the store on DynamoDB Local.
const { client, tableName } = useCacheTable('keyv');

const store = () => new DynamoStore({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl' });

keyvTestSuite(Vitest, Keyv, store);

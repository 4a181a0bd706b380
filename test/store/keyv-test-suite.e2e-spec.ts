import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import Keyv, { type KeyvOptions } from 'keyv';
import * as Vitest from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { useCacheTable, cacheTableAttributes } from '../support/dynamo.js';

// Keyv's own test suite for store adapters, run against the store on DynamoDB Local.
const { client, tableName } = useCacheTable('keyv');

const store = () => new DynamoStore({ tableName, client, ...cacheTableAttributes });

keyvTestSuite(Vitest, Keyv, store);

/**
 * Keyv 5 attaches a store's iterator by itself only for an allow-list of its own adapters' dialects;
 * this Keyv attaches any store's, as Keyv 6 does, so that the suite's iterator tests run.
 */
class IteratingKeyv extends Keyv {
  constructor(options?: KeyvOptions) {
    super(options);
    const own = this.store as DynamoStore;
    if (this.iterator === undefined && typeof own.iterator === 'function') this.iterator = this.generateIterator(own.iterator.bind(own));
  }
}

Vitest.describe('iterator', () => keyvIteratorTests(Vitest, IteratingKeyv as typeof Keyv, store));

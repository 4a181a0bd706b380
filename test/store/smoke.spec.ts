import { describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { localClient, uniqueTableName } from '../support/dynamo.js';

describe('smoke', () => {
  it('round trips', async () => {
    const store = new DynamoStore({ tableName: uniqueTableName('smoke'), client: localClient(), createTableIfNotExists: true });
    await store.set('a', { x: new Date(0), m: new Map([[1, 2]]) }, 10_000);
    expect(await store.get('a')).toEqual({ x: new Date(0), m: new Map([[1, 2]]) });
  });
});

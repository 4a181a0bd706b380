import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoCache } from '../../src/cache/dynamo-cache.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, cacheTableAttributes, recordCommands } from './dynamo.js';

/**
 * A cache whose DynamoDB cannot be reached (nothing listens on port 9), its circuit opened by one
 * failed read, and the commands its client sends from then on: for bad input, checked in every state.
 */
export async function cacheWithOpenCircuit(): Promise<{ cache: DynamoCache; commands: string[] }> {
  const client = new DynamoDBClient({
    endpoint: 'http://127.0.0.1:9',
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const commands = recordCommands(client);
  const store = new DynamoStore({ tableName: 'unreachable', client, ...cacheTableAttributes, operationTimeout: 1_000 });
  const cache = new DynamoCache(store, { circuitBreakerThreshold: 1, circuitBreakerDuration: 60_000 });
  cache.on('error', () => undefined);
  await cache.get('probe');
  expect(cache.circuitState).toBe('open');
  commands.length = 0;
  return { cache, commands };
}

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { afterAll } from 'vitest';
import { type RunningDynamoDbLocal, startDynamoDbLocal } from '../../sample/dynamodb-local.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createTable } from './dynamo.js';
import { PERMISSIONS, enforcePolicy } from './iam-policy.js';

export interface OwnDynamoDbLocal {
  readonly endpoint: string;
  /** Held to the documented permissions, like every client the suite hands the library. */
  readonly client: DynamoDBClient;
  /** Kills DynamoDB Local: an outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port; it runs in memory, so the table is created again. */
  restart(): Promise<void>;
}

/**
 * A DynamoDB Local of the calling file's own, for tests that stop or restart it, or that the shared
 * one's load would slow (the shared one stays up for the others). `start()` launches it and, when
 * `tableName` is given, creates that cache table (`pk`, TTL on `ttl`). Stopped after the file.
 */
export function useOwnDynamoDbLocal(tableName?: string, clientConfig: DynamoDBClientConfig = {}): { start(): Promise<OwnDynamoDbLocal> } {
  let running: RunningDynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  afterAll(async () => {
    client?.destroy();
    await running?.stop();
  });
  const createCacheTable = async () => {
    if (tableName !== undefined) await createTable(client!, tableName, { ttlAttributeName: 'ttl' });
  };
  return {
    async start() {
      running = await startDynamoDbLocal();
      const { port, endpoint } = running;
      client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...clientConfig });
      enforcePolicy(client, { actions: PERMISSIONS.create });
      await createCacheTable();
      return {
        endpoint,
        client,
        stop: async () => {
          await running?.stop();
          running = undefined;
        },
        restart: async () => {
          running = await startDynamoDbLocal(port);
          await createCacheTable();
        },
      };
    },
  };
}

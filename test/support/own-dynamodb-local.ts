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
 * `tableName` is given, creates that cache table (`pk`, TTL on `ttl`).
 *
 * Every one launched (by each `start()` and each restart) is stopped after the file, whatever
 * happened: the stop is registered before any starts, and a launch still pending then (a test that
 * timed out while DynamoDB Local was starting goes on running) is stopped as soon as it is up. A
 * worker killed outside of it takes its JVMs with it (`startDynamoDbLocal`'s watchdog).
 */
export function useOwnDynamoDbLocal(tableName?: string, clientConfig: DynamoDBClientConfig = {}): { start(): Promise<OwnDynamoDbLocal> } {
  const launched = new Set<RunningDynamoDbLocal>();
  const clients = new Set<DynamoDBClient>();
  let fileEnded = false;
  const stopEveryLaunch = () => Promise.all([...launched].map((running) => running.stop()));
  afterAll(async () => {
    fileEnded = true;
    for (const client of clients) client.destroy();
    await stopEveryLaunch();
  });
  const launch = async (port?: number): Promise<RunningDynamoDbLocal> => {
    const running = await startDynamoDbLocal(port);
    launched.add(running);
    if (fileEnded) {
      await stopEveryLaunch();
      throw new Error('DynamoDB Local came up after its test file had ended; it is stopped');
    }
    return running;
  };
  return {
    async start() {
      let running = await launch();
      const { port, endpoint } = running;
      const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...clientConfig });
      clients.add(client);
      enforcePolicy(client, { actions: PERMISSIONS.create });
      const createCacheTable = async () => {
        if (tableName !== undefined) await createTable(client, tableName, { ttlAttributeName: 'ttl' });
      };
      await createCacheTable();
      return {
        endpoint,
        client,
        stop: () => running.stop(),
        restart: async () => {
          running = await launch(port);
          await createCacheTable();
        },
      };
    },
  };
}

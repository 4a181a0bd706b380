import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CACHE, type DynamoCache, DynamoCacheModule, type DynamoCacheModuleOptions, OperationTimeoutError } from '../../src/index.js';
import { DynamoStore } from '../../src/entries/store.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  dynamoEndpoint,
  localClient,
  memoryLogger,
  useCacheTable,
  useTableNames,
  cacheTableAttributes,
} from '../support/dynamo.js';
import { settledWithin } from '../support/seen-within.js';

// DynamoDB Local cannot stall a call before its socket: these tests stall it in the SDK itself,
// with a credentials provider that never resolves and a middleware (build step) that waits.

const OPERATION_TIMEOUT = 1_000;
/**
 * A get reads its entry (GetItem) and, beside it, the cache's cleared-at time (a BatchGetItem, whose
 * bound is 5 × operationTimeout); both start at once. The rest is a busy machine's slack.
 */
const GET_BOUND = 5 * OPERATION_TIMEOUT + 2_000;
const SLACK = 2_000;

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: DynamoCacheModuleOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [DynamoCacheModule.forRoot(options)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.init();
  return app;
}

describe('a DynamoDB call that stalls before its socket', () => {
  const { tableName } = useCacheTable('stalled_sdk');

  it('answers get with a miss within operationTimeout when the credentials provider never resolves, and store.get names the table and operation', async () => {
    const app = await start({
      tableName,
      endpoint: dynamoEndpoint(),
      region: LOCAL_REGION,
      credentials: () => new Promise(() => {}),
      // Both names given: start-up sends nothing, so the app starts and meets the stall on its first call.
      ...cacheTableAttributes,
      operationTimeout: OPERATION_TIMEOUT,
      logger: memoryLogger(),
    });
    const cache = app.get<DynamoCache>(CACHE);

    const got = await settledWithin(cache.get('order:1'), GET_BOUND);
    expect(got.error).toBeUndefined();
    expect(got.value).toBeUndefined();

    const failed = await settledWithin(cache.store.get('order:1'), OPERATION_TIMEOUT + SLACK);
    expect(failed.error).toBeInstanceOf(OperationTimeoutError);
    expect(failed.error).toMatchObject({ tableName, operation: 'GetItem', timeoutMs: OPERATION_TIMEOUT });
    expect((failed.error as Error).message).toContain(`GetItem on DynamoDB table "${tableName}"`);
    expect(failed.ms).toBeGreaterThanOrEqual(OPERATION_TIMEOUT - 50);
  });

  it('bounds a call that a middleware holds before the socket, and never sends it, nor keeps its answer in memory, after it gave up', async () => {
    const writer = new DynamoStore({ tableName, client: localClient(), logger: memoryLogger() });
    await writer.set('price', 10, 60_000);
    const client = localClient();
    // A middleware that holds GetItem until released, as a slow signer or an interceptor would.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const late: Array<'answered' | 'refused'> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'GetItemCommand') return next(args);
        await released;
        try {
          const output = await next(args);
          late.push('answered');
          return output;
        } catch (error) {
          late.push('refused');
          throw error;
        }
      },
      { step: 'build', name: 'stallGetItem' },
    );
    const app = await start({ tableName, client, operationTimeout: OPERATION_TIMEOUT, logger: memoryLogger() });
    const cache = app.get<DynamoCache>(CACHE);

    const got = await settledWithin(cache.get('price'), GET_BOUND);
    expect(got.error).toBeUndefined();
    expect(got.value).toBeUndefined(); // an outage is a miss, never a failed request

    release();
    await vi.waitFor(() => expect(late).toEqual(['refused']), { timeout: 5_000, interval: 20 });
    // The abort signal reached the handler: the request was never put on a socket, and nothing came back to keep.
    expect(cache.peek('price')).toBeUndefined();
    client.destroy();
    writer.client.destroy();
  });
});

describe('app.close() while the streams client stalls', () => {
  const table = useTableNames();

  it("resolves within a stated bound when the streams client's credentials provider stops resolving", async () => {
    const tableName = table('stalled_streams');
    const admin = localClient({}, 'admin');
    await createTable(admin, tableName, { ...cacheTableAttributes, stream: true });
    admin.destroy();
    let stalled = false;
    let stalledCalls = 0;
    // Credentials that expire at once are asked for again on every call: the stall reaches the next one.
    const credentials = () => {
      if (!stalled) return Promise.resolve({ ...LOCAL_CREDENTIALS, expiration: new Date() });
      stalledCalls++;
      return new Promise<never>(() => {});
    };
    const streams = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials });
    const client = localClient();
    await start({
      tableName,
      client,
      operationTimeout: OPERATION_TIMEOUT,
      logger: memoryLogger(),
      backplane: { type: 'streams', pollInterval: 100, maxLag: 10_000, client: streams },
    });
    // The table's only instance reads the stream: start-up opened it (ListStreams, DescribeStream,
    // GetShardIterator); its next GetRecords meets the stall.
    stalled = true;
    await vi.waitFor(() => expect(stalledCalls).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });

    // The stated bound: the backplane's read in progress ends when its stalled call reaches
    // operationTimeout; handing its lane over takes two more calls, each bounded alike.
    const closed = await settledWithin(apps.pop()!.close(), 3 * OPERATION_TIMEOUT + SLACK);
    expect(closed.error).toBeUndefined();
    streams.destroy();
    client.destroy();
  });
});

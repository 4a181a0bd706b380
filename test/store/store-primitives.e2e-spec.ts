import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { OperationTimeoutError } from '../../src/store/errors.js';
import { LEASE_MARKER, leasePartitionKey } from '../../src/store/keys.js';
import { localClient, memoryLogger, recordCommands, useCacheTable, cacheTableAttributes } from '../support/dynamo.js';
import { useStoppedClock } from '../support/stopped-clock.js';
import { sleep } from '../support/seen-within.js';

const { client, tableName } = useCacheTable('primitives');
const clock = useStoppedClock();
const storeOn = (prefix: string) =>
  new DynamoStore({ tableName, client, ...cacheTableAttributes, partitionKeyPrefix: prefix, logger: memoryLogger() });
const rawItem = async (pk: string) =>
  (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;

describe('fail-safe retention', () => {
  it('keeps an entry past its expiry for keepStaleFor: a miss to normal reads, returned as stale on request', async () => {
    const store = storeOn('stale:');
    const { expiration } = await store.setEntry('report', { n: 1 }, 200, { keepStaleFor: 60_000 });
    expect(expiration.staleUntil).toBe(expiration.expiresAt! + 60_000);
    const item = await rawItem('stale:report');
    // DynamoDB's TTL follows the fail-safe horizon, or it could delete the fallback too early.
    expect(Number(item!.ttl!.N)).toBe(Math.ceil(expiration.staleUntil! / 1000));
    await sleep(250);
    expect(await store.get('report')).toBeUndefined();
    expect(await store.has('report')).toBe(false);
    expect(await store.refresh('report')).toBe(false);
    const stale = await store.getEntry('report', { allowStale: true });
    expect(stale?.value).toEqual({ n: 1 });
    expect(stale!.expiresAt).toBeLessThanOrEqual(Date.now());
  });

  it('keeps nothing past the expiry of a sliding entry, whose renewals would cut the extension short', async () => {
    const store = storeOn('stale-sliding:');
    const { expiration } = await store.setEntry('s', 1, { slidingExpiration: 60_000 }, { keepStaleFor: 60_000 });
    expect(expiration.staleUntil).toBeUndefined();
  });
});

describe('reserved key space', () => {
  it('digests a caller key that begins with "#", so no key can address a lease item', async () => {
    const store = storeOn('reserved:');
    expect(await store.acquireLease('k', 'owner-a', 60_000)).toBe(true);
    const leaseKey = leasePartitionKey('reserved:', 'k');
    const before = await rawItem(leaseKey);
    await store.set(`${LEASE_MARKER}k`, 'impostor');
    await store.delete(`${LEASE_MARKER}k`);
    expect(await rawItem(leaseKey)).toEqual(before);
  });
});

describe('leases', () => {
  it('lets one of many concurrent owners take a lease, and another only once it is released or expired', async () => {
    const store = storeOn('lease:');
    const owners = Array.from({ length: 8 }, (_, index) => `owner-${index}`);
    // On a stopped clock, so that the lease is still held when the calls below ask, however slow they are.
    clock.stop();
    const taken = await Promise.all(owners.map((owner) => store.acquireLease('job', owner, 300)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    const holder = owners[taken.indexOf(true)]!;
    const other = owners.find((owner) => owner !== holder)!;
    await store.releaseLease('job', other); // not the holder's: changes nothing
    clock.advance(299);
    expect(await store.acquireLease('job', other, 300)).toBe(false);
    clock.advance(1);
    expect(await store.acquireLease('job', other, 60_000)).toBe(true);
    await store.releaseLease('job', other);
    expect(await store.acquireLease('job', holder, 60_000)).toBe(true);
  });
});

describe('DynamoStore.withPrefix', () => {
  it('shares the client and one schema look-up, and keeps its own prefix and default ttl', async () => {
    const recorded = localClient();
    const sent = recordCommands(recorded);
    const root = new DynamoStore({ tableName, client: recorded, partitionKeyPrefix: 'root:', logger: memoryLogger() });
    const sibling = root.withPrefix('root:orders:', { ttl: 5_000 });
    await Promise.all([root.set('a', 1), sibling.set('a', 2)]);
    expect(sent.filter((name) => name === 'DescribeTableCommand')).toHaveLength(1);
    expect(await root.get('a')).toBe(1);
    expect(await sibling.get('a')).toBe(2);
    expect((await sibling.getEntry('a'))!.expiresAt! - Date.now()).toBeLessThanOrEqual(5_000);
    await sibling.disconnect();
    expect(await root.get('a')).toBe(1); // the sibling did not destroy the shared client
    recorded.destroy();
  });
});

describe('operationTimeout', () => {
  it('abandons a call to a DynamoDB that accepts the connection and never answers', async () => {
    // DynamoDB Local always answers; a loopback server that swallows requests is the only way to hang a socket.
    const sockets = new Set<Socket>();
    const blackHole = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as { port: number };
    const hung = localClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    const store = new DynamoStore({ tableName, client: hung, ...cacheTableAttributes, operationTimeout: 300, logger: memoryLogger() });
    const started = Date.now();
    const error = await store.get('k').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OperationTimeoutError);
    expect((error as Error).message).toContain(`GetItem on DynamoDB table "${tableName}" did not answer within 300 ms`);
    // Abandoned, not left to wait on the socket, which would take the OS's minutes: a busy machine's
    // late timer stays far inside this.
    expect(Date.now() - started).toBeLessThan(10_000);
    hung.destroy();
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  });
});

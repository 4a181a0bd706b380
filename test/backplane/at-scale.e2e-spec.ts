import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CACHE,
  type CacheEvent,
  type DynamoCache,
  DynamoCacheModule,
  type DynamoCacheModuleOptions,
  DynamoCacheRegistry,
} from '../../src/index.js';
import { type StreamsBackplaneOptions } from '../../src/entries/options.js';
import type { BackplaneStats } from '../../src/backplane/backplane.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, dynamoEndpoint, localClient, memoryLogger, uniqueTableName } from '../support/dynamo.js';
import { faultyClient } from '../support/fault-injection.js';
import { caughtUpAfter, seenWithin } from '../support/seen-within.js';

// The defaults: pollInterval 1,000, maxLag 5,000 (so a lease of 3,000), memory on.
const INTERVAL = 1_000;
const MAX_LAG = 5_000;
const LEASE = 3_000;

interface Instance {
  readonly name: string;
  readonly app: INestApplication;
  readonly cache: DynamoCache;
  /** GetRecords calls this instance sent, and every DynamoDB command it sent, by name. */
  readonly getRecords: { count: number };
  readonly dynamoCommands: string[];
  stats(): BackplaneStats;
  /** Cuts this instance off DynamoDB and its stream, as a dead host or a network partition would, without a shutdown. */
  cut(): void;
  /** Fails the next DynamoDB command that matches, as a dropped connection would. */
  failNextMatching(predicate: (command: string, input: Record<string, unknown>) => boolean): void;
  /** Fails every DynamoDB command that matches, until called again with undefined. */
  failAllMatching(predicate: ((command: string, input: Record<string, unknown>) => boolean) | undefined): void;
  closed: boolean;
}

const running: Instance[] = [];
afterAll(() => Promise.all(running.filter((instance) => !instance.closed).map((instance) => instance.app.close())));

async function start(
  name: string,
  tableName: string,
  backplane: Partial<StreamsBackplaneOptions> = {},
  options: Partial<DynamoCacheModuleOptions> = {},
): Promise<Instance> {
  let cut = false;
  const getRecords = { count: 0 };
  // Each instance its own streams client, so that the GetRecords calls of each are counted apart.
  const streams = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint(), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  streams.middlewareStack.add(
    (next, context) => async (args) => {
      if (cut) throw Object.assign(new Error('network cut (injected)'), { name: 'ECONNRESET' });
      if (context.commandName === 'GetRecordsCommand') getRecords.count++;
      return next(args);
    },
    { step: 'initialize', name: 'countGetRecords' },
  );
  const client = localClient();
  const dynamoCommands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      dynamoCommands.push(context.commandName as string);
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  const faults = faultyClient(client);
  let failNext: ((command: string, input: Record<string, unknown>) => boolean) | undefined;
  let failAll: ((command: string, input: Record<string, unknown>) => boolean) | undefined;
  faults.failWhen((command, input) => {
    if (cut || failAll?.(command, input)) return true;
    if (failNext === undefined || !failNext(command, input)) return false;
    failNext = undefined;
    return true;
  });
  const moduleRef = await Test.createTestingModule({
    imports: [
      DynamoCacheModule.forRoot({
        tableName,
        client,
        createTableIfNotExists: true,
        logger: memoryLogger(),
        backplane: { type: 'streams', client: streams, ...backplane },
        ...options,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const registry = app.get(DynamoCacheRegistry);
  const instance: Instance = {
    name,
    app,
    cache: app.get<DynamoCache>(CACHE),
    getRecords,
    dynamoCommands,
    stats: () => registry.backplane!.stats(),
    cut: () => (cut = true),
    failNextMatching: (predicate) => (failNext = predicate),
    failAllMatching: (predicate) => (failAll = predicate),
    closed: false,
  };
  running.push(instance);
  return instance;
}

async function close(instance: Instance): Promise<void> {
  instance.closed = true;
  await instance.app.close();
}

/** Every instance holds `value` in memory, with the news of its own write already applied. */
async function heldByAll(instances: readonly Instance[], key: string, value: string): Promise<void> {
  // The write's own news reaches every instance (the stream can bring it a little after a cycle
  // that began later): only after it has, what an instance reads stays in its memory.
  const told = new Set<Instance>();
  const listeners = instances.map((instance) => {
    const listener = (event: CacheEvent) => void (event.key === key && told.add(instance));
    instance.cache.on('cache:invalidated', listener);
    return () => instance.cache.off('cache:invalidated', listener);
  });
  await instances[0]!.cache.set(key, value, 3_600_000);
  await seenWithin(async () => told.size, instances.length, 2 * MAX_LAG);
  for (const stopListening of listeners) stopListening();
  for (const instance of instances) {
    const tiers: string[] = [];
    const hits = (event: CacheEvent) => tiers.push(event.tier!);
    instance.cache.on('cache:hit', hits);
    // A follower may be told of the write twice (its news read again after a lane changed hands), and
    // a read in flight then is not kept: it is kept by a later one, within the bound.
    await seenWithin(
      async () => {
        await instance.cache.get(key);
        await instance.cache.get(key);
        return tiers.at(-1);
      },
      'memory',
      MAX_LAG,
    );
    instance.cache.off('cache:hit', hits);
  }
}

/** Every instance holds an old value in memory, then `writer` changes it: each must stop serving the old one within maxLag. */
async function everyoneSees(instances: readonly Instance[], writer: Instance, key: string, value: string): Promise<number[]> {
  await heldByAll(instances, key, `before ${value}`);
  await writer.cache.set(key, value, 3_600_000);
  return Promise.all(instances.map((instance) => seenWithin(() => instance.cache.get(key), value, MAX_LAG)));
}

describe('six instances on one table with the streams backplane, at its defaults', () => {
  const tableName = uniqueTableName('bp_scale');
  let six: Instance[];

  it('has one of them read the stream, and each change on any reaches all within maxLag', async () => {
    six = [];
    for (let i = 0; i < 6; i++) six.push(await start(`app${i}`, tableName));
    const readers = () => six.filter((instance) => !instance.closed && instance.stats().role === 'reader');
    expect(readers()).toHaveLength(1);

    for (const instance of six) instance.getRecords.count = 0;
    for (const [i, writer] of six.entries()) await everyoneSees(six, writer, 'price', `v${i}`);
    // DynamoDB Streams throttles a third reader of a shard: only the elected one sent GetRecords.
    expect(six.filter((instance) => instance.getRecords.count > 0)).toEqual(readers());
    for (const instance of six) expect(instance.stats()).toMatchObject({ state: 'healthy' });
  }, 120_000);

  it('costs a follower one DynamoDB request per interval while nothing happens', async () => {
    const followers = six.filter((instance) => instance.stats().role === 'follower');
    for (const instance of followers) instance.dynamoCommands.length = 0;
    const window = 5 * INTERVAL;
    const started = Date.now();
    await seenWithin(async () => Date.now() - started >= window, true, window + 1_000);
    for (const instance of followers) {
      // One BatchGetItem of the lane heads (and the entry it expects next) per interval; a window
      // of five intervals can hold six reads, depending on where it falls between two of them.
      expect(instance.dynamoCommands.every((command) => command === 'BatchGetItemCommand')).toBe(true);
      expect(instance.dynamoCommands.length).toBeGreaterThanOrEqual(4);
      expect(instance.dynamoCommands.length).toBeLessThanOrEqual(6);
    }
  }, 30_000);

  it('has another take over when the reader shuts down, with a change made in the meantime seen by all', async () => {
    const reader = six.find((instance) => instance.stats().role === 'reader')!;
    const survivors = six.filter((instance) => instance !== reader);
    await heldByAll(survivors, 'during-takeover', 'before');
    await close(reader);
    await survivors[0]!.cache.set('during-takeover', 'after-close', 3_600_000);
    await Promise.all(survivors.map((instance) => seenWithin(() => instance.cache.get('during-takeover'), 'after-close', MAX_LAG)));
    const readers = survivors.filter((instance) => instance.stats().role === 'reader');
    expect(readers).toHaveLength(1);
    expect(readers[0]!.stats().takeovers).toBe(1);
    for (const instance of survivors) expect(instance.stats()).toMatchObject({ state: 'healthy' });
  }, 60_000);

  it('has another take over when the reader dies without a word, and resumes the stream where it was', async () => {
    const survivors = six.filter((instance) => !instance.closed);
    const reader = survivors.find((instance) => instance.stats().role === 'reader')!;
    const rest = survivors.filter((instance) => instance !== reader);
    await heldByAll(rest, 'while-dead', 'before');
    reader.cut();
    // Written after the reader's last read: only the saved stream position brings it to the successor.
    await rest[0]!.cache.set('while-dead', 'written-while-no-one-reads', 3_600_000);
    // The lease lapses, a follower takes the lane and reads from the dead reader's position.
    await Promise.all(
      rest.map((instance) => seenWithin(() => instance.cache.get('while-dead'), 'written-while-no-one-reads', LEASE + MAX_LAG)),
    );
    const readers = rest.filter((instance) => instance.stats().role === 'reader');
    expect(readers).toHaveLength(1);
    expect(readers[0]!.stats().takeovers).toBeGreaterThanOrEqual(1);
    await seenWithin(async () => rest.every((instance) => instance.stats().state === 'healthy'), true, MAX_LAG);
    await everyoneSees(rest, rest[rest.length - 1]!, 'after-failover', 'v');
  }, 60_000);
});

describe('two stream readers', () => {
  it('has two instances read the stream, and one of them closing leaves no gap', async () => {
    const tableName = uniqueTableName('bp_two_readers');
    const four: Instance[] = [];
    for (let i = 0; i < 4; i++) four.push(await start(`two${i}`, tableName, { streamReaders: 2 }));
    for (const instance of four) instance.getRecords.count = 0;
    await everyoneSees(four, four[0]!, 'k', 'v1');
    const readers = four.filter((instance) => instance.stats().role === 'reader');
    expect(readers).toHaveLength(2);
    expect(four.filter((instance) => instance.getRecords.count > 0)).toEqual(readers);

    await close(readers[0]!);
    const rest = four.filter((instance) => !instance.closed);
    // The other reader keeps publishing: within one interval or two, not a lease later.
    const seen = await everyoneSees(rest, rest[0]!, 'k', 'v2');
    expect(Math.max(...seen)).toBeLessThan(MAX_LAG);
    for (const instance of rest) expect(instance.stats()).toMatchObject({ state: 'healthy' });
  }, 60_000);
});

describe('a reader whose publication fails half-way', () => {
  it('publishes what it read with its next one, so that no follower misses it', async () => {
    const tableName = uniqueTableName('bp_publish_fails');
    const reader = await start('reader', tableName);
    const writer = await start('writer', tableName);
    const observer = await start('observer', tableName);
    expect(reader.stats().role).toBe('reader');
    await heldByAll([reader, writer, observer], 'k', 'before');
    // The entry is written, then the head's write fails: the stream's cursor has moved past the record.
    const headKey = 'dc:default:#bp:0';
    reader.failNextMatching(
      (command, input) => command === 'PutItemCommand' && (input.Item as Record<string, { S?: string }>).pk?.S === headKey,
    );
    await writer.cache.set('k', 'after', 3_600_000);
    await seenWithin(() => observer.cache.get('k'), 'after', MAX_LAG);
    expect(reader.stats()).toMatchObject({ role: 'reader', failedReads: 1 });
  }, 60_000);
});

describe('a reader that can no longer publish', () => {
  it('gives its lane up once its lease lapses, so that one instance, not two, reads the stream', async () => {
    const tableName = uniqueTableName('bp_cannot_publish');
    const three = [await start('reader', tableName), await start('writer', tableName), await start('observer', tableName)];
    const [reader, writer, observer] = three as [Instance, Instance, Instance];
    expect(reader.stats().role).toBe('reader');
    await heldByAll(three, 'k', 'before');
    // Its journal writes fail from now on; it still reaches the stream.
    reader.failAllMatching(
      (command, input) =>
        command === 'PutItemCommand' && ((input.Item as Record<string, { S?: string }>).pk?.S ?? '').startsWith('dc:default:#bp:0'),
    );
    await writer.cache.set('k', 'after', 3_600_000);
    await seenWithin(() => observer.cache.get('k'), 'after', LEASE + MAX_LAG);
    await seenWithin(async () => reader.stats().role, 'follower', LEASE + MAX_LAG);
    expect(reader.stats().failedReads).toBeGreaterThan(0);
    for (const instance of three) instance.getRecords.count = 0;
    const quietFrom = Date.now();
    await seenWithin(async () => Date.now() - quietFrom > 3 * INTERVAL, true, 5 * INTERVAL);
    expect(three.filter((instance) => instance.getRecords.count > 0)).toHaveLength(1);
    expect(reader.getRecords.count).toBe(0);
  }, 60_000);
});

describe('what other code does to the table', () => {
  it("leaves the backplane's journal alone when the default cache is cleared, and every instance forgets what was cleared", async () => {
    const tableName = uniqueTableName('bp_clear');
    const three = [await start('reader', tableName), await start('clearing', tableName), await start('observer', tableName)];
    const [reader, clearing, observer] = three as [Instance, Instance, Instance];
    await heldByAll(three, 'a', 'cached a');
    await heldByAll(three, 'b', 'cached b');
    await clearing.cache.clear();
    await seenWithin(async () => [await observer.cache.get('a'), await observer.cache.get('b')].join(), ',', MAX_LAG);
    await seenWithin(async () => [await reader.cache.get('a'), await reader.cache.get('b')].join(), ',', MAX_LAG);
    expect(reader.stats()).toMatchObject({ role: 'reader', state: 'healthy' });
    await everyoneSees(three, clearing, 'after-clear', 'v');
  }, 60_000);

  it("publishes a caller's key spelled like a journal item, as any other key", async () => {
    const tableName = uniqueTableName('bp_journal_like_keys');
    const three = [await start('reader', tableName), await start('writer', tableName), await start('observer', tableName)];
    for (const key of ['a:#bp:0', 'order:#bp:1:position', 'x:default:#bp:0:5']) await everyoneSees(three, three[1]!, key, 'new');
  }, 60_000);

  it("does not publish, as news, another app's journal items on the same table", async () => {
    const tableName = uniqueTableName('bp_two_apps');
    const ours = await start('ours', tableName);
    await start('theirs', tableName, {}, { partitionKeyPrefix: 'x:' });
    const admin = localClient({}, 'admin');
    const seqOfOurLane = async () =>
      Number(
        (await admin.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'dc:default:#bp:0' } }, ConsistentRead: true }))).Item
          ?.bps?.N,
      );
    await caughtUpAfter(ours, Date.now(), 2 * MAX_LAG);
    const before = await seqOfOurLane();
    // Their reader renews its lease every interval: four of its writes reach our reader's stream.
    const quietFrom = Date.now();
    await seenWithin(async () => Date.now() - quietFrom > 4 * INTERVAL, true, 6 * INTERVAL);
    await caughtUpAfter(ours, Date.now(), 2 * MAX_LAG);
    expect(await seqOfOurLane()).toBe(before);
    admin.destroy();
  }, 60_000);
});

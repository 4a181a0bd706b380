import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, type CacheEvent, type DynamoCache, DynamoCacheModule, DynamoCacheRegistry } from 'nest-dynamo-cache';

/**
 * One of the coherence-at-scale bench's worker processes (bench/scale.ts forks it): a share of the
 * simulated instances, each a Nest application context with its own DynamoDB client, all on the
 * same table under the streams backplane with its defaults. It answers the parent's requests over
 * IPC and tells it, as they happen, of each `cache:invalidated` of a watched key and each change of
 * an instance's backplane role, stamped with this process's clock (the parent's is the same).
 */

/** Keys whose invalidations the parent times; the background load's keys are not watched. */
const WATCHED_PREFIX = 'scale:';
/** The parent imports only types from here (a value import would run this worker in its process). */
export type WatchedKey = `${typeof WATCHED_PREFIX}${string}`;

export type WorkerRequest =
  | { id: number; op: 'start'; endpoint: string; tableName: string; first: number; count: number }
  | { id: number; op: 'read'; keys: WatchedKey[]; expected: number[]; confirmMemory: boolean }
  | { id: number; op: 'stats' }
  | { id: number; op: 'stop' };

export type WorkerEvent =
  | { event: 'invalidated'; instance: number; key: string; at: number }
  | { event: 'role'; instance: number; role: string; at: number }
  | { event: 'warning'; instance: number; message: string };

export interface InstanceStats {
  instance: number;
  role?: string;
  state: string;
  streamReads: number;
  journalReads: number;
  takeovers: number;
  failedReads: number;
}

/** What a `read` found: values other than expected, and (with confirmMemory) keys a second get did not serve from memory. */
export interface ReadResult {
  wrong: Array<{ instance: number; key: string; got: unknown }>;
  notInMemory: number;
}

interface Instance {
  readonly index: number;
  readonly app: INestApplicationContext;
  readonly cache: DynamoCache;
  readonly registry: DynamoCacheRegistry;
  readonly memoryHits: Set<string>;
  role?: string;
}

const instances: Instance[] = [];
// performance.now() alone has a per-process origin; with timeOrigin, stamps compare across processes.
const now = () => performance.timeOrigin + performance.now();
const send = (message: unknown) => process.send?.(message);

async function startInstance(index: number, endpoint: string, tableName: string): Promise<Instance> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  const logger = { warn: (message: string) => send({ event: 'warning', instance: index, message } satisfies WorkerEvent) };
  @Module({
    imports: [
      DynamoCacheModule.forRoot({
        tableName,
        client,
        partitionKeyName: 'pk',
        ttlAttributeName: 'ttl',
        logger,
        backplane: { type: 'streams' },
      }),
    ],
  })
  class InstanceModule {}
  const app = await NestFactory.createApplicationContext(InstanceModule, { logger: false });
  const cache = app.get<DynamoCache>(CACHE);
  const instance: Instance = { index, app, cache, registry: app.get(DynamoCacheRegistry), memoryHits: new Set() };
  cache.on('cache:invalidated', ({ key }: CacheEvent) => {
    if (key?.startsWith(WATCHED_PREFIX)) send({ event: 'invalidated', instance: index, key, at: now() } satisfies WorkerEvent);
  });
  cache.on('cache:hit', ({ key, tier }: CacheEvent) => {
    if (tier === 'memory' && key !== undefined) instance.memoryHits.add(key);
  });
  return instance;
}

/** Gets in flight per worker: 4 workers × 8 keep DynamoDB Local (2 cores) within the operation timeout. */
const READ_CONCURRENCY = 8;
/** A get that failed (a timeout under the burst) answers undefined: asked again, since it is no answer. */
const READ_ATTEMPTS = 3;

async function read(keys: WatchedKey[], expected: number[], confirmMemory: boolean): Promise<ReadResult> {
  const result: ReadResult = { wrong: [], notInMemory: 0 };
  const work = instances.flatMap((instance) => keys.map((key, i) => ({ instance, key, expected: expected[i] })));
  const next = async (): Promise<void> => {
    for (let job = work.pop(); job !== undefined; job = work.pop()) {
      const { instance, key } = job;
      let got: number | undefined;
      for (let attempt = 0; attempt < READ_ATTEMPTS && got === undefined; attempt++) got = await instance.cache.get<number>(key);
      if (got !== job.expected) result.wrong.push({ instance: instance.index, key, got });
      if (!confirmMemory) continue;
      // The first get may have come from DynamoDB; the second must be a memory hit, or the
      // round would not test that the backplane drops a copy held in memory.
      instance.memoryHits.delete(key);
      await instance.cache.get(key);
      if (!instance.memoryHits.has(key)) result.notInMemory++;
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, next));
  return result;
}

function stats(): InstanceStats[] {
  return instances.map(({ index, registry }) => {
    const s = registry.backplane!.stats();
    return {
      instance: index,
      role: s.role,
      state: s.state,
      streamReads: s.streamReads ?? 0,
      journalReads: s.journalReads ?? 0,
      takeovers: s.takeovers ?? 0,
      failedReads: s.failedReads,
    };
  });
}

/** A takeover is timed from the moment an instance's stats first say 'reader': looked at every 20 ms. */
function watchRoles(): void {
  setInterval(() => {
    for (const instance of instances) {
      const role = instance.registry.backplane?.stats().role;
      if (role === undefined || role === instance.role) continue;
      instance.role = role;
      send({ event: 'role', instance: instance.index, role, at: now() } satisfies WorkerEvent);
    }
  }, 20).unref();
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      // One after another: 25 contexts starting at once on 2 cores would time out their first reads.
      for (let i = 0; i < request.count; i++) instances.push(await startInstance(request.first + i, request.endpoint, request.tableName));
      watchRoles();
      return instances.length;
    case 'read':
      return read(request.keys, request.expected, request.confirmMemory);
    case 'stats':
      return stats();
    case 'stop':
      // Closed one by one, so that the reader releases its lane cleanly.
      for (const { app } of instances) await app.close();
      setImmediate(() => process.exit(0));
      return instances.length;
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (result) => send({ id: request.id, result }),
    (error: unknown) => send({ id: request.id, error: (error as Error)?.stack ?? String(error) }),
  );
});
// A parent that died leaves no orphan behind.
process.on('disconnect', () => process.exit(1));

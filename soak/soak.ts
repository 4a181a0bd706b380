import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTable, percentile } from '../bench/table.js';
import { linkPackageToSources } from './resolve-package.js';

export interface SoakOptions {
  readonly endpoint: string;
  /** How long the load runs, warm-up included. */
  readonly durationMs: number;
  /** RSS is first measured after this much load. */
  readonly warmupMs: number;
  readonly instances: number;
  /** Requests in flight at once (each worker sends one after another). */
  readonly workers: number;
  /** The documented staleness bound a read is checked against, in ms. */
  readonly staleBoundMs: number;
  readonly tableName: string;
  /** Run the instances with this backplane (the table then gets a stream for 'streams'). */
  readonly backplane?: 'streams' | 'poll';
}

export interface SoakResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statuses: Record<string, number>;
  readonly serverErrors: number;
  readonly failedRequests: number;
  readonly faults: number;
  readonly noteReads: number;
  readonly noteWrites: number;
  /** Reads that returned a note older than the bound allows, or one not written yet. */
  readonly violations: string[];
  /** How far behind the latest acknowledged write the stalest read was, in ms (0: never behind). */
  readonly maxStalenessMs: number;
  readonly staleReads: number;
  readonly rssAfterWarmup: number[];
  readonly rssAtEnd: number[];
  /** The V8 heap in use after a full GC: what a leak in JavaScript would grow. */
  readonly heapAfterWarmup: number[];
  readonly heapAtEnd: number[];
}

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

const NOTES = 20;
const credentials = { accessKeyId: 'soak', secretAccessKey: 'soak' };

interface Write {
  readonly version: number;
  readonly startedAt: number;
  ackedAt: number;
}

interface Read {
  readonly id: number;
  readonly version: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

function startInstance(endpoint: string, tableName: string, backplane: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./instance.js', import.meta.url)), [], {
    // glibc gives each thread that allocates an arena of its own, whose pages it keeps: RSS then
    // swings by tens of MB with no change in what the process holds. Two arenas keep it readable.
    env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, CACHE_TABLE: tableName, SOAK_BACKPLANE: backplane, MALLOC_ARENA_MAX: '2' },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a soak instance exited with code ${code} before listening`)));
    child.once('message', (message: { port: number }) => {
      child.removeAllListeners('exit');
      resolve({ child, port: message.port });
    });
  });
}

const MEASURE_MS = 1_000;

/** Each instance's memory: the median of five samples over a second, each after a full GC. */
async function measure(children: ChildProcess[]): Promise<Memory[]> {
  const samples: Memory[][] = [];
  for (let sample = 0; sample < 5; sample++) {
    samples.push(await Promise.all(children.map((child) => ask<Memory>(child, 'measure'))));
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS / 5));
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return children.map((_, index) => ({
    rss: median(samples.map((s) => s[index]!.rss)),
    heapUsed: median(samples.map((s) => s[index]!.heapUsed)),
  }));
}

function ask<T>(child: ChildProcess, question: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer: T) => resolve(answer));
    child.send(question);
  });
}

async function createTables(endpoint: string, tableName: string, stream: boolean): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(client, tableName, 'pk', { ttl: 'ttl', stream });
  await createTable(client, `${tableName}_notes`, 'id');
  client.destroy();
}

/**
 * Several instances of the sample app, each in a process of its own, on one table; workers send
 * cached reads of versioned notes, writes that bump a note's version (and evict its entry), reads
 * of the cached user list and evictions of the whole list, to a random instance each time. Then it
 * checks every note read against the writes: the version read must have been the latest at some
 * moment no earlier than the read's start minus the staleness bound.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  await linkPackageToSources(fileURLToPath(new URL('..', import.meta.url)));
  await createTables(options.endpoint, options.tableName, options.backplane === 'streams');
  const instances = await Promise.all(
    Array.from({ length: options.instances }, () => startInstance(options.endpoint, options.tableName, options.backplane ?? '')),
  );
  const bases = instances.map(({ port }) => `http://127.0.0.1:${port}`);
  const pick = () => bases[Math.floor(Math.random() * bases.length)]!;

  const writes: Write[][] = Array.from({ length: NOTES }, () => []);
  const writing = new Set<number>();
  const putNote = async (id: number, version: number) => {
    const write: Write = { version, startedAt: Date.now(), ackedAt: Number.POSITIVE_INFINITY };
    writes[id]!.push(write);
    const answer = await fetch(`${pick()}/notes/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version, text: `note ${id} v${version}` }),
    });
    await answer.arrayBuffer();
    if (answer.ok) write.ackedAt = Date.now();
    return answer.status;
  };
  for (let id = 0; id < NOTES; id++) await putNote(id, 0);

  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const reads: Read[] = [];
  let failedRequests = 0;
  const started = Date.now();
  const deadline = started + options.durationMs;
  // Both measured under the same load, the second just before it stops: RSS measured idle after a
  // busy one would compare two different things.
  const measureAt = (at: number) =>
    new Promise<Memory[]>((resolve) => setTimeout(() => resolve(measure(instances.map(({ child }) => child))), at - Date.now()));
  const afterWarmupMeasured = measureAt(started + options.warmupMs);
  const atEndMeasured = measureAt(deadline - MEASURE_MS - 500);

  const worker = async () => {
    while (Date.now() < deadline) {
      const roll = Math.random();
      const id = Math.floor(Math.random() * NOTES);
      const requestStarted = Date.now();
      let status: number;
      try {
        if (roll < 0.1 && !writing.has(id)) {
          writing.add(id);
          status = await putNote(id, writes[id]!.length).finally(() => writing.delete(id));
        } else if (roll < 0.9) {
          const answer = await fetch(`${pick()}/notes/${id}`);
          status = answer.status;
          const note = (await answer.json()) as { version?: number };
          if (answer.ok) reads.push({ id, version: note.version!, startedAt: requestStarted, endedAt: Date.now() });
        } else if (roll < 0.985) {
          const answer = await fetch(`${pick()}/users`);
          status = answer.status;
          await answer.arrayBuffer();
        } else {
          const answer = await fetch(`${pick()}/users/cache`, { method: 'DELETE' });
          status = answer.status;
          await answer.arrayBuffer();
        }
      } catch {
        failedRequests++;
        continue;
      }
      latencies.push(Date.now() - requestStarted);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  const elapsedMs = Date.now() - started;
  const [afterWarmup, atEnd] = [await afterWarmupMeasured, await atEndMeasured];
  const faults = (
    await Promise.all(instances.map(({ child }) => ask<{ faults: number }>(child, 'faults').then((answer) => answer.faults)))
  ).reduce((a, b) => a + b, 0);
  await Promise.all(
    instances.map(({ child }) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      return exited;
    }),
  );

  const violations: string[] = [];
  let maxStalenessMs = 0;
  let staleReads = 0;
  for (const read of reads) {
    const history = writes[read.id]!;
    const write = history[read.version];
    if (write === undefined || write.startedAt > read.endedAt) {
      violations.push(`note ${read.id}: read version ${read.version}, which no write had started by ${read.endedAt}`);
      continue;
    }
    // The read is stale when a newer version was acknowledged before it started; by how much is what the bound limits.
    const newer = history[read.version + 1];
    if (newer === undefined || newer.ackedAt >= read.startedAt) continue;
    staleReads++;
    const staleness = read.startedAt - newer.ackedAt;
    maxStalenessMs = Math.max(maxStalenessMs, staleness);
    if (staleness > options.staleBoundMs) {
      violations.push(`note ${read.id}: read version ${read.version} ${staleness} ms after version ${newer.version} was acknowledged`);
    }
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const serverErrors = Object.entries(statuses)
    .filter(([status]) => Number(status) >= 500)
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    requests: latencies.length,
    requestsPerSecond: Math.round((latencies.length / elapsedMs) * 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    statuses,
    serverErrors,
    failedRequests,
    faults,
    noteReads: reads.length,
    noteWrites: writes.reduce((sum, history) => sum + history.length, 0) - NOTES,
    violations,
    maxStalenessMs,
    staleReads,
    rssAfterWarmup: afterWarmup.map((memory) => memory.rss),
    rssAtEnd: atEnd.map((memory) => memory.rss),
    heapAfterWarmup: afterWarmup.map((memory) => memory.heapUsed),
    heapAtEnd: atEnd.map((memory) => memory.heapUsed),
  };
}

import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CACHE, type DynamoCache, DynamoCacheModule } from 'nest-dynamo-cache';
import type { Report } from './report.js';
import { ScaleFleet } from './scale-fleet.js';
import type { ReadResult, WatchedKey } from './scale-worker.js';
import { createTable, median, percentile } from './table.js';

const WORKERS = 4;
const TTL = 600_000;
const BACKGROUND_SETS_PER_SECOND = 20;
/** The backplane's defaults, which the instances run with: what the targets are stated in. */
const POLL_INTERVAL_MS = 1_000;
const MAX_LAG_MS = 5_000;
/** Writes after the kill, one every FAILOVER_WRITE_EVERY_MS: 12 s of them, well past maxLag. */
const FAILOVER_WRITES = 60;
const FAILOVER_WRITE_EVERY_MS = 200;
/** How long an instance may take to report an invalidation before it counts as not signalled. */
const SEEN_TIMEOUT_MS = 10_000;

/** The value every measured key holds before its measured write. */
const OLD_VALUE = -1;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface ScaleFigures {
  readonly instances: number;
  readonly lags: number[];
  /** Ack to the first instance's drop: the stream reader's, before followers read its journal. */
  readonly firstLags: number[];
  readonly rounds: number;
  /** Rounds in which some instance reported no invalidation within SEEN_TIMEOUT_MS. */
  readonly unsignalledRounds: number;
  /** Instance-round pairs whose get after the round still answered the old value. */
  readonly missed: number;
  /** Instance-key reads that failed three times (the answer is not known, so not counted as missed). */
  readonly unreadable: number;
  readonly notInMemory: number;
  /** Instances whose drop came over half an interval after the first instance's in most rounds. */
  readonly usuallyLate: number;
  /** Instance-rounds with a drop over half an interval after the first instance's. */
  readonly lateRounds: number;
  readonly streamReaders: number;
  readonly followerReadsPerSecond: number[];
  readonly failover: FailoverFigures;
  readonly backgroundSetsPerSecond: number;
}

interface FailoverFigures {
  readonly readerAfterMs: number;
  readonly seenAfterMs: number;
  readonly writesDuringTakeover: number;
  readonly writes: number;
  readonly unsignalled: number;
  readonly missed: number;
  readonly unreadable: number;
}

/** Of the answers other than the new value: the old one served from memory (missed), or none (the read failed). */
function tally(result: ReadResult) {
  const stale = result.wrong.filter(({ got }) => got === OLD_VALUE).length;
  return { stale, unreadable: result.wrong.length - stale };
}

/**
 * Coherence at scale: 10, 50 and 100 instances of an app (Nest application contexts, each with
 * its own DynamoDB client, the streams backplane with its defaults) spread over forked worker
 * processes, on one DynamoDB Local table with a stream, under a steady background write load from
 * this process. Per size: the lag until every instance dropped a key another wrote, how many
 * instances read the stream, how often followers read the table, and the gap when the stream
 * reader's process is killed.
 */
export async function scaleTable(endpoint: string, report: Report, quick: boolean): Promise<void> {
  const sizes = quick ? [10] : [10, 50, 100];
  const rounds = quick ? 10 : 40;
  const figures: ScaleFigures[] = [];
  for (const size of sizes) figures.push(await measureSize(endpoint, size, rounds));
  const largest = figures.at(-1)!;
  const p99 = (f: ScaleFigures) =>
    percentile(
      [...f.lags].sort((a, b) => a - b),
      0.99,
    );
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  report.add({
    title: 'Coherence at scale: N instances on one table under the streams backplane (defaults), one stream reader',
    header: [
      'instances',
      'lag p50 ms',
      'lag p99 ms',
      'max ms',
      'first instance (the reader) p50 / p99 ms',
      'rounds (unsignalled, missed)',
      'instances that sent GetRecords',
      'journal reads per follower per s, median / max',
      'failover: new reader after ms',
      'failover: all survivors saw a new write after ms',
      'failover writes checked (during takeover), unsignalled, missed',
    ],
    rows: figures.map((f) => {
      const sorted = [...f.lags].sort((a, b) => a - b);
      const first = [...f.firstLags].sort((a, b) => a - b);
      const reads = f.followerReadsPerSecond;
      return [
        String(f.instances),
        percentile(sorted, 0.5).toFixed(0),
        percentile(sorted, 0.99).toFixed(0),
        (sorted.at(-1) ?? 0).toFixed(0),
        `${percentile(first, 0.5).toFixed(0)} / ${percentile(first, 0.99).toFixed(0)}`,
        `${f.rounds} (${f.unsignalledRounds}, ${f.missed})`,
        String(f.streamReaders),
        `${median(reads).toFixed(2)} / ${Math.max(...reads).toFixed(2)}`,
        f.failover.readerAfterMs.toFixed(0),
        f.failover.seenAfterMs.toFixed(0),
        `${f.failover.writes} (${f.failover.writesDuringTakeover}), ${f.failover.unsignalled}, ${f.failover.missed}`,
      ];
    }),
    note:
      `${WORKERS} worker processes, background load ${figures.map((f) => f.backgroundSetsPerSecond.toFixed(1)).join(' / ')} sets/s. ` +
      `Lag: from a write's acknowledgement to the last instance's cache:invalidated (p99 of ${rounds} rounds is their max). ` +
      `Targets: p99 ≤ 2,000 ms at ${largest.instances} instances (${met(p99(largest) <= 2_000)}); ≤ 2 stream readers ` +
      `(${met(figures.every((f) => f.streamReaders <= 2))}); ≤ 1 journal read per follower per ${POLL_INTERVAL_MS} ms interval ` +
      `(${met(figures.every((f) => Math.max(...f.followerReadsPerSecond) <= 1_000 / POLL_INTERVAL_MS))}; a rate over the window ` +
      'between two stats() snapshots, exact to ± 1 read over the window); failover within maxLag ' +
      `${MAX_LAG_MS} ms with no invalidation missed ` +
      `(${met(figures.every((f) => Math.max(f.failover.readerAfterMs, f.failover.seenAfterMs) <= MAX_LAG_MS && f.failover.missed === 0))}).` +
      figures
        .map(
          (f) =>
            ` At ${f.instances}: ${f.lateRounds} of ${f.instances * f.rounds} drops came over ${POLL_INTERVAL_MS / 2} ms after ` +
            `the first instance's; ${f.usuallyLate} instances were that late in most rounds.`,
        )
        .join('') +
      figures
        .filter((f) => f.notInMemory + f.unreadable + f.failover.unreadable > 0)
        .map(
          (f) =>
            ` At ${f.instances}: ${f.notInMemory} reads before a write not served from memory, ` +
            `${f.unreadable + f.failover.unreadable} checks whose get failed three times (neither counted as missed).`,
        )
        .join(''),
  });
}

async function measureSize(endpoint: string, size: number, rounds: number): Promise<ScaleFigures> {
  const tableName = `bench_scale_${size}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await createTable(client, tableName, 'pk', { ttl: 'ttl', stream: true });
  let fleet: ScaleFleet | undefined;
  const writer = await writerApp(endpoint, tableName);
  const load = backgroundLoad(writer.cache);
  try {
    const startedAt = now();
    fleet = await ScaleFleet.start(endpoint, tableName, size, WORKERS);
    console.log(`scale: ${size} instances started in ${((now() - startedAt) / 1000).toFixed(1)} s`);
    const roundKeys = Array.from({ length: rounds }, (_, r): WatchedKey => `scale:round:${r}`);
    const failoverKeys = Array.from({ length: FAILOVER_WRITES }, (_, i): WatchedKey => `scale:failover:${i}`);
    await prefill(fleet, writer.cache, [...roundKeys, ...failoverKeys]);

    const before = await fleet.stats();
    const windowStart = now();
    const roundFigures = await coherenceRounds(fleet, writer.cache, roundKeys);
    const after = await fleet.stats();
    const windowSeconds = (now() - windowStart) / 1000;
    const streamReaders = after.filter((s) => s.streamReads > (before.find((b) => b.instance === s.instance)?.streamReads ?? 0)).length;
    const followerReadsPerSecond = after
      .filter((s) => s.role === 'follower' && before.find((b) => b.instance === s.instance)?.role === 'follower')
      .map((s) => (s.journalReads - before.find((b) => b.instance === s.instance)!.journalReads) / windowSeconds);

    const failover = await killTheReader(fleet, writer.cache, failoverKeys);
    const warnings = fleet.warningSummary();
    if (warnings.length > 0) console.log(`scale: ${size} instances logged:\n${warnings.map((w) => `  ${w}`).join('\n')}`);
    return {
      instances: size,
      ...roundFigures,
      rounds,
      streamReaders,
      followerReadsPerSecond,
      failover,
      backgroundSetsPerSecond: load.rate(),
    };
  } finally {
    await load.stop();
    await fleet?.stop();
    await writer.app.close();
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch((error: unknown) => console.error(error));
    client.destroy();
  }
}

/** The writer: an app of its own without a backplane (it must not compete for the stream reader's lane). */
async function writerApp(endpoint: string, tableName: string) {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  // throwOnErrors: a measured write that did not land must be known (and sent again), not taken for acknowledged.
  @Module({
    imports: [DynamoCacheModule.forRoot({ tableName, client, partitionKeyName: 'pk', ttlAttributeName: 'ttl', throwOnErrors: true })],
  })
  class WriterModule {}
  const app = await NestFactory.createApplicationContext(WriterModule, { logger: false });
  return { app, cache: app.get<DynamoCache>(CACHE) };
}

/**
 * Sets until DynamoDB has the value: under the load of 100 instances DynamoDB Local sometimes does
 * not answer in time, and a write that failed has no stream record for any instance to see.
 */
async function landed(cache: DynamoCache, key: string, value: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cache.set(key, value, TTL);
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(100);
    }
  }
}

/** Sets of other keys at a steady rate, not waiting for one to finish before the next is due. */
function backgroundLoad(cache: DynamoCache) {
  const inFlight = new Set<Promise<unknown>>();
  const startedAt = now();
  let writes = 0;
  let failures = 0;
  const timer = setInterval(() => {
    const write = cache.set(`load:${writes % 500}`, writes, TTL).then(
      () => writes++,
      () => failures++,
    );
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
  }, 1_000 / BACKGROUND_SETS_PER_SECOND);
  return {
    rate: () => writes / ((now() - startedAt) / 1000),
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
      if (failures > 0) console.log(`scale: ${failures} background sets failed`);
    },
  };
}

/**
 * Writes every key the measurement will use, and waits until every instance has had their
 * invalidations: one arriving late would otherwise be taken for the news of a measured write.
 */
async function prefill(fleet: ScaleFleet, cache: DynamoCache, keys: WatchedKey[]): Promise<void> {
  const since = now();
  for (const key of keys) await landed(cache, key, OLD_VALUE);
  const late = await Promise.all(keys.map((key) => fleet.seenBy(key, fleet.instances(), since, 30_000)));
  const unseen = late.reduce((total, seen) => total + fleet.instances().length - seen.size, 0);
  if (unseen > 0) console.log(`scale: ${unseen} instance-key invalidations of the prefill were not reported within 30 s`);
}

/**
 * Each round: every instance reads the key (its memory now holds the old value), a random wait
 * within one poll interval, the write; its lag is the latest instance's drop time less the ack.
 */
async function coherenceRounds(fleet: ScaleFleet, cache: DynamoCache, keys: WatchedKey[]) {
  const lags: number[] = [];
  const firstLags: number[] = [];
  /** instance → how long after the first instance it dropped each round's key. */
  const behindFirst = new Map<number, number[]>();
  let unsignalledRounds = 0;
  let missed = 0;
  let unreadable = 0;
  let notInMemory = 0;
  for (const [round, key] of keys.entries()) {
    notInMemory += (await fleet.read(fleet.instances(), [key], [OLD_VALUE], true)).notInMemory;
    await sleep(Math.random() * POLL_INTERVAL_MS);
    const since = now();
    await landed(cache, key, round);
    const acknowledged = now();
    const seen = await fleet.seenBy(key, fleet.instances(), since, SEEN_TIMEOUT_MS);
    if (seen.size < fleet.instances().length) unsignalledRounds++;
    else {
      lags.push(Math.max(...seen.values()) - acknowledged);
      firstLags.push(Math.min(...seen.values()) - acknowledged);
      const first = Math.min(...seen.values());
      for (const [instance, at] of seen) behindFirst.set(instance, [...(behindFirst.get(instance) ?? []), at - first]);
    }
    const check = tally(await fleet.read(fleet.instances(), [key], [round], false));
    missed += check.stale;
    unreadable += check.unreadable;
  }
  // Which instances are usually an interval late tells a follower's timing from the stream's delay.
  const usuallyLate = [...behindFirst.values()].filter((gaps) => median(gaps) > POLL_INTERVAL_MS / 2).length;
  const lateRounds = [...behindFirst.values()].flat().filter((gap) => gap > POLL_INTERVAL_MS / 2).length;
  return { lags, firstLags, unsignalledRounds, missed, unreadable, notInMemory, usuallyLate, lateRounds };
}

/**
 * SIGKILLs the worker process whose instance reads the stream, then writes a key every 200 ms.
 * The gap ends when a survivor has taken the lane and every survivor has dropped the first key
 * written after the kill; every key written is then checked on every survivor.
 */
async function killTheReader(fleet: ScaleFleet, cache: DynamoCache, keys: WatchedKey[]): Promise<FailoverFigures> {
  await fleet.read(
    fleet.instances(),
    keys,
    keys.map(() => OLD_VALUE),
    true,
  );
  // Those reads are a burst of thousands of GetItems at 100 instances: let DynamoDB Local drain it.
  await sleep(2_000);
  const readers = (await fleet.stats()).filter((s) => s.role === 'reader');
  if (readers.length !== 1) throw new Error(`expected one stream reader before the kill, found ${readers.length}`);
  const killedAt = fleet.kill(readers[0]!.instance);
  const survivors = fleet.instances();
  const written: Array<{ since: number; acknowledged: number }> = [];
  for (const [i, key] of keys.entries()) {
    await sleep(killedAt + i * FAILOVER_WRITE_EVERY_MS - now());
    const since = now();
    await landed(cache, key, i);
    written.push({ since, acknowledged: now() });
  }
  const seen = await Promise.all(keys.map((key, i) => fleet.seenBy(key, survivors, written[i]!.since, SEEN_TIMEOUT_MS)));
  const firstSeen = seen[0]!.size === survivors.length ? Math.max(...seen[0]!.values()) : Number.POSITIVE_INFINITY;
  const readerAt = fleet.firstRole('reader', survivors, killedAt) ?? Number.POSITIVE_INFINITY;
  const gapEnd = Math.max(readerAt, firstSeen);
  const check = tally(
    await fleet.read(
      survivors,
      keys,
      keys.map((_, i) => i),
      false,
    ),
  );
  return {
    readerAfterMs: readerAt - killedAt,
    seenAfterMs: firstSeen - killedAt,
    writes: keys.length,
    writesDuringTakeover: written.filter((w) => w.acknowledged <= gapEnd).length,
    unsignalled: seen.reduce((total, s) => total + survivors.length - s.size, 0),
    missed: check.stale,
    unreadable: check.unreadable,
  };
}

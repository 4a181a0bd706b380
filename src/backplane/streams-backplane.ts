import { randomUUID } from 'node:crypto';
import type { WarningLogger } from '../store/table-schema.js';
import { Backplane, type BackplaneStats } from './backplane.js';
import type { ResolvedBackplaneOptions } from './backplane-options.js';
import type { BackplaneMember } from './backplane-port.js';
import { CLEAR_ALL, type JournalEntry, type JournalHead, compactKeys, followerDelay } from './journal.js';
import { catchUpLane } from './journal-catch-up.js';
import { JournalTable } from './journal-table.js';
import { KeyRouter } from './key-router.js';
import { type StreamPosition, StreamShards } from './stream-shards.js';
import type { HeldLane, LaneCursor, StreamsBackplaneSetup } from './streams-lanes.js';

/** DynamoDB Streams' GetRecords limit per shard, across its readers. */
const STREAM_READS_PER_SHARD_PER_SECOND = 5;
/** What one entry may list before caches are cleared instead (DynamoDB's item limit is 400 KB). */
const ENTRY_BUDGET_BYTES = 256 * 1024;

/**
 * The streams backplane. DynamoDB Streams throttles more than two readers of a shard, so at most
 * `streamReaders` instances read the stream: each holds a lane, a lease in the table renewed every
 * cycle, and publishes the keys it read as journal entries in the table. Every other instance (a
 * follower) reads the lanes' heads, and the entries it expects next, in one BatchGetItem per
 * interval, timed just after the readers publish; when a lane's lease lapses, a follower takes it
 * and resumes the stream where the last reader saved its position. See README, "At scale".
 */
export class StreamsBackplane extends Backplane {
  private readonly owner = randomUUID();
  private readonly router: KeyRouter;
  private readonly cursors: LaneCursor[];
  /**
   * How long after a reader's publication this follower reads: a tenth of the interval at least, for
   * a reader's cycle that took longer than the last; spread over a fifth more, so that the
   * followers' reads of one head item do not all come in the same millisecond.
   */
  private readonly offsetMs: number;
  private journal!: JournalTable;
  private held?: HeldLane;
  private journalReads = 0;
  private streamReads = 0;
  private takeovers = 0;
  private readerCycleStartedAt = 0;
  /** Lanes whose head this instance has seen: one that vanished (deleted) had a reader whose news is unknown. */
  private readonly lanesSeen = new Set<number>();

  constructor(
    caches: readonly BackplaneMember[],
    options: ResolvedBackplaneOptions,
    logger: WarningLogger,
    private readonly setup: StreamsBackplaneSetup,
  ) {
    super(caches, options, logger, setup.tableName);
    this.router = new KeyRouter(caches);
    this.cursors = Array.from({ length: options.streamReaders }, () => ({ seq: 0 }));
    this.offsetMs = options.intervalMs * (0.1 + Math.random() * 0.2);
  }

  /**
   * Reads the heads; takes a free lane at once, so that the first instance on a table reads the
   * stream from its start-up on (and a table without a stream fails that start-up). A follower is
   * coherent from now on only if a reader is reading already: one that lost the race for a free
   * lane waits for the winner's first publication, which may open the stream after this instant.
   */
  protected async connect(): Promise<boolean> {
    const getRecordsPerSecond = (this.options.streamReaders * 1_000) / this.options.intervalMs;
    if (getRecordsPerSecond > STREAM_READS_PER_SHARD_PER_SECOND) {
      this.logger.warn(
        `Backplane (streams) on DynamoDB table "${this.tableName}": ${this.options.streamReaders} reader(s) every ${this.options.intervalMs} ms ` +
          `make ${getRecordsPerSecond} GetRecords per second per shard, where DynamoDB Streams allows about ${STREAM_READS_PER_SHARD_PER_SECOND}: ` +
          'expect throttled reads on AWS (DynamoDB Local does not throttle). Raise backplane.pollInterval.',
      );
    }
    this.journal = new JournalTable(this.setup.journal);
    const { heads } = await this.readHeads([]);
    const now = Date.now();
    heads.forEach((head, lane) => {
      this.cursors[lane] = { seq: head?.seq ?? 0, publishedAt: head?.publishedAt };
      if (head !== undefined) this.lanesSeen.add(lane);
    });
    const readerAlready = heads.some((head) => head !== undefined && head.leaseUntil >= now);
    await this.takeFreeLane(heads);
    if (this.held === undefined) return readerAlready;
    try {
      await this.openStream(this.held);
    } catch (error) {
      await this.journal.release(this.held.index, this.held.head).catch(() => undefined);
      this.held = undefined;
      throw error;
    }
    return true;
  }

  protected readAll(startedAt: number): Promise<number | undefined> {
    return this.held === undefined ? this.followJournal(startedAt) : this.readStream(this.held, startedAt);
  }

  protected async disconnect(): Promise<void> {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    held.shards?.close();
    // A successor resumes where this reader stopped, and need not wait for the lease to lapse.
    try {
      if (held.shards !== undefined) await this.savePosition(held, held.shards.position(held.head.through));
      await this.journal.release(held.index, held.head);
    } catch (error) {
      this.logger.warn(
        `Backplane (streams) on DynamoDB table "${this.tableName}": releasing stream reader lane ${held.index} failed ` +
          `(another instance takes it when its lease lapses): ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }

  protected override nextDelay(): number {
    // A reader keeps a fixed rate, so that its followers, timed on its last publication, find the next one there.
    if (this.held !== undefined) return Math.max(0, this.readerCycleStartedAt + this.options.intervalMs - Date.now());
    const latest = Math.max(0, ...this.cursors.map((cursor) => cursor.publishedAt ?? 0));
    return followerDelay(Date.now(), latest, this.options.intervalMs, this.offsetMs);
  }

  protected override roleStats(): Partial<BackplaneStats> {
    return {
      role: this.held === undefined ? 'follower' : 'reader',
      journalReads: this.journalReads,
      streamReads: this.streamReads,
      takeovers: this.takeovers,
    };
  }

  private async readStream(held: HeldLane, startedAt: number): Promise<number | undefined> {
    this.readerCycleStartedAt = startedAt;
    try {
      return await this.readAndPublish(held, startedAt);
    } catch (error) {
      // A reader that cannot publish must not go on reading once its lease has lapsed: another has
      // taken the lane, or will, and re-reads from the saved position what this one could not publish.
      if (Date.now() >= held.head.leaseUntil) this.stepDown(held, 'it could not publish within its lease');
      throw error;
    }
  }

  /** An entry DynamoDB refuses (past its item limit, however the budget was counted) becomes a clear of everything. */
  private async publish(lane: number, head: JournalHead, entry: JournalEntry | undefined): Promise<boolean> {
    try {
      return await this.journal.publish(lane, head, entry);
    } catch (error) {
      if (entry === undefined || entry.keys.length === 0 || (error as Error).name !== 'ValidationException') throw error;
      this.logger.warn(
        `Backplane (streams) on DynamoDB table "${this.tableName}": DynamoDB refused journal entry ${entry.seq} of ${entry.keys.length} keys ` +
          `(${(error as Error).message}); every instance clears its memory instead.`,
      );
      this.router.clear(CLEAR_ALL);
      return this.journal.publish(lane, head, { ...entry, keys: [], clear: [CLEAR_ALL] });
    }
  }

  private stepDown(held: HeldLane, why: string): void {
    this.logger.warn(
      `Backplane (streams) on DynamoDB table "${this.tableName}": stream reader lane ${held.index} given up (${why}); this instance follows the journal again.`,
    );
    held.shards?.close();
    this.held = undefined;
    this.cursors[held.index] = { seq: held.head.seq, publishedAt: held.head.publishedAt };
  }

  private async readAndPublish(held: HeldLane, startedAt: number): Promise<number | undefined> {
    if (held.shards === undefined) await this.openStream(held);
    const shards = held.shards!;
    const read = await shards.read();
    this.streamReads += read.calls;
    for (const partitionKey of read.partitionKeys) {
      if (this.journal.isJournalItem(partitionKey)) continue;
      const routed = this.router.apply(partitionKey);
      if (routed.dropped) this.invalidations++;
      if (routed.news) held.unpublished.push(partitionKey);
    }
    if (read.lost) held.lost = true;
    const { lost, unpublished: news } = held;
    if (lost) this.router.clear(CLEAR_ALL);
    const entry: JournalEntry | undefined =
      news.length > 0 || lost
        ? {
            seq: held.head.seq + 1,
            term: held.head.term,
            ...(lost ? { keys: [], clear: [CLEAR_ALL] } : compactKeys(news, this.router.prefixes, ENTRY_BUDGET_BYTES)),
          }
        : undefined;
    const now = Date.now();
    const head: JournalHead = {
      ...held.head,
      seq: entry?.seq ?? held.head.seq,
      leaseUntil: now + this.options.leaseMs,
      through: startedAt,
      publishedAt: now,
    };
    if (!(await this.publish(held.index, head, entry))) {
      // What this reader read but could not publish, its successor reads again from the saved position.
      this.stepDown(held, 'another instance took it: this one missed renewing its lease');
      return startedAt;
    }
    held.head = head;
    held.unpublished = [];
    held.lost = false;
    this.cursors[held.index] = { seq: head.seq, publishedAt: head.publishedAt };
    await this.savePosition(held, shards.position(startedAt));
    return startedAt;
  }

  private async followJournal(startedAt: number): Promise<number | undefined> {
    const { heads, entries } = await this.readHeads(this.cursors.map((cursor, lane) => ({ lane, seq: cursor.seq + 1 })));
    let through: number | undefined;
    for (const [lane, head] of heads.entries()) {
      if (head === undefined) continue;
      this.lanesSeen.add(lane);
      await this.catchUp(lane, head, entries[lane]!);
      this.cursors[lane] = { seq: head.seq, publishedAt: head.publishedAt };
      through = Math.max(through ?? 0, head.through);
    }
    await this.takeFreeLane(heads);
    // A new reader reads the stream at once: the lane has gone a lease without one already.
    if (this.held !== undefined) return this.readStream(this.held, startedAt);
    return through;
  }

  /** Applies the lane's entries after this instance's cursor, up to the head, in order. */
  private async catchUp(lane: number, head: JournalHead, prefetched: readonly JournalEntry[]): Promise<void> {
    const done = await catchUpLane(this.journal, this.router, lane, this.cursors[lane]!.seq, head, prefetched);
    if (done.readEntries) this.journalReads++;
    if (done.kind === 'lost') return this.lostTrack(lane, done.why);
    this.invalidations += done.invalidations;
  }

  private lostTrack(lane: number, why: string): void {
    this.router.clear(CLEAR_ALL);
    this.logger.warn(
      `Backplane (streams) on DynamoDB table "${this.tableName}": lane ${lane} of the journal cannot be followed (${why}): memory was cleared.`,
    );
  }

  /** A follower takes the first lane with no live lease; an instance holds one lane at most. */
  private async takeFreeLane(heads: ReadonlyArray<JournalHead | undefined>): Promise<void> {
    if (this.held !== undefined) return;
    const now = Date.now();
    const lane = heads.findIndex((head) => head === undefined || head.leaseUntil < now);
    if (lane < 0) return;
    const observed = heads[lane];
    const head = await this.journal.takeLane(lane, observed, this.owner, this.options.leaseMs);
    if (head === undefined) return;
    if (observed !== undefined) this.takeovers++;
    this.held = { index: lane, head, unpublished: [], lost: false, succeeds: observed !== undefined || this.lanesSeen.has(lane) };
    this.cursors[lane] = { seq: head.seq, publishedAt: head.publishedAt };
  }

  /** Where the last reader of the lane stopped, or from now on when the lane never had one. */
  private async openStream(held: HeldLane): Promise<void> {
    const shards = await StreamShards.find({
      ...this.setup,
      sortKey: this.setup.journal.schema.sortKey,
      batchSize: this.options.batchSize,
      streamsClient: this.options.client,
    });
    try {
      const saved = await this.journal.readPosition(held.index);
      held.lost = saved === undefined && held.succeeds;
      await shards.open(saved?.position);
      held.savedPosition = saved === undefined ? undefined : positionKey(saved.position);
    } catch (error) {
      shards.close();
      throw error;
    }
    held.shards = shards;
  }

  private async savePosition(held: HeldLane, position: StreamPosition): Promise<void> {
    const key = positionKey(position);
    if (key === held.savedPosition) return;
    await this.journal.savePosition(held.index, held.head.term, position);
    held.savedPosition = key;
  }

  private readHeads(expected: ReadonlyArray<{ lane: number; seq: number }>) {
    this.journalReads++;
    return this.journal.readHeads(this.options.streamReaders, expected);
  }
}

/** A position differs from the saved one when a shard moved, not when only its time did. */
function positionKey(position: StreamPosition): string {
  return JSON.stringify([position.shards, position.finished]);
}

import type { CacheEntry } from '../store/dynamo-store.js';
import type { TagInvalidations } from '../store/coordination.js';
import { CLEARED_TAG, expiredTagKey, stamp } from '../store/tags.js';
import type { DistributedTier, Outcome } from './distributed-tier.js';
import type { AutoRecovery, ChangeOutcome } from './auto-recovery.js';
import type { GatedMemory } from './gated-memory.js';
import { type TagTimes, staleAsOf } from './tag-times.js';

/** What a read of tags' invalidation times came to: the times it read, or `'unreadable'` when it failed. */
export type TagTimesRead = ReadonlyMap<string, number> | 'unreadable';

/**
 * An entry checked against the invalidations known: itself (past its expiry, kept as a fallback, when
 * `expireByTag` made it stale), `'retired'` when one retires it, or `'unreadable'` when its tags'
 * times could not be read (then nobody can tell).
 */
export type CheckedEntry<E> = E | 'retired' | 'unreadable';

/** How a read of tag times goes to DynamoDB: reported as its own call, or beside an entry's read. */
type TagTimesSender = (read: () => Promise<Map<string, number>>) => Promise<Outcome<Map<string, number>>>;

type TaggedEntry = {
  readonly tags?: readonly string[];
  readonly storedAt?: number;
  readonly expiresAt?: number;
  readonly staleUntil?: number;
};

/**
 * A cache's tags and clears (see docs/glossary.md, "retired"): invalidating them with one write per
 * tag, and checking what a read found against what they retire, reading the times this instance does
 * not know yet.
 */
export class TagInvalidation {
  /** Tag reads in flight, shared by the checks that find the same tags unknown. */
  private readonly reads = new Map<string, Promise<TagTimesRead>>();

  constructor(
    private readonly store: TagInvalidations,
    private readonly distributed: DistributedTier,
    private readonly known: TagTimes,
    private readonly gated: GatedMemory,
    /** Absent when auto-recovery is off: an invalidation that failed is then not kept. */
    private readonly recovery?: AutoRecovery,
  ) {}

  /**
   * The cache's own cleared-at time, when not known, read beside an entry's read: one round trip.
   * Its failure is not reported (the entry's read reports DynamoDB's, else the check reads it again).
   */
  knowClearedAt(readStartedAt: number): Promise<TagTimesRead> {
    return this.know(undefined, readStartedAt, (read) => this.distributed.attemptBeside(read));
  }

  /**
   * Reads the invalidation times of `tags` (and the cache's own) that are not known, in one batch.
   * Resolves to what this call read, for the check it is made for (a batch's tags may be more than
   * the instance keeps known).
   */
  knowTags(tags: readonly string[] | undefined, readStartedAt: number): Promise<TagTimesRead> {
    return this.know(tags, readStartedAt, (read) => this.distributed.attempt('read tags', undefined, read));
  }

  /** The entry, checked against every invalidation known once its tags' missing times are read. */
  async unlessRetired<E extends TaggedEntry>(entry: E, readStartedAt: number): Promise<CheckedEntry<E>> {
    const read = await this.knowTags(entry.tags, readStartedAt);
    if (read === 'unreadable') return 'unreadable';
    if (this.known.retires(entry.storedAt, entry.tags, read)) return 'retired';
    const expiredAt = this.known.expiredAt(entry.storedAt, entry.tags, read);
    return expiredAt === undefined ? entry : staleAsOf(entry, expiredAt);
  }

  /** As `unlessRetired` for a batch: every entry's missing tag times in one more batch; undefined when it failed. */
  async withoutRetired<T>(
    entries: ReadonlyArray<CacheEntry<T> | undefined>,
    readStartedAt: number,
  ): Promise<Array<CacheEntry<T> | undefined> | undefined> {
    const tags = new Set<string>();
    for (const entry of entries) if (entry?.tags !== undefined) for (const tag of entry.tags) tags.add(tag);
    const read = await this.knowTags([...tags], readStartedAt);
    if (read === 'unreadable') return undefined;
    return entries.map((entry) => (entry !== undefined && this.liveBy(entry, read) ? entry : undefined));
  }

  /**
   * Whether an entry a read found live is live for reads too: neither retired by an invalidation, nor
   * made stale by `expireByTag`; false too when its tags' times could not be read (nobody can tell).
   */
  async isLive(entry: TaggedEntry, readStartedAt: number): Promise<boolean> {
    const read = await this.knowTags(entry.tags, readStartedAt);
    return read !== 'unreadable' && this.liveBy(entry, read);
  }

  private liveBy(entry: TaggedEntry, read: ReadonlyMap<string, number>): boolean {
    return !this.known.retires(entry.storedAt, entry.tags, read) && this.known.expiredAt(entry.storedAt, entry.tags, read) === undefined;
  }

  /**
   * Invalidates the tags (`CLEARED_TAG`: the whole cache) as of now: one small write per tag, whatever
   * the number of entries; this instance's memory drops what they retire at once, other instances
   * through the backplane (or once their knowledge lapses, after `memory.maxTtl`).
   */
  async invalidate(tags: readonly string[]): Promise<ChangeOutcome> {
    const at = stamp();
    const invalidatedAt = new Map(tags.map((tag) => [tag, at]));
    // Memory forgets at once, as a delete does: a synchronous caller (a sync method's @CacheEvict) sees it
    // before the write lands. It is marked again after, for reads that were in flight meanwhile.
    this.gated.retireTagged(invalidatedAt);
    const outcome = await this.distributed.attempt('invalidateTags', tags.map(shownTag), () => this.store.writeTagTimes(tags, at));
    // Without auto-recovery, known here only once DynamoDB holds it: an invalidation that failed is
    // the fleet's to miss alike, not this instance's alone to keep (it would diverge from every other
    // one until it restarts). With it, owed: this instance answers as if it landed, and it will.
    const owed = !outcome.ok && this.recovery !== undefined && this.recovery.oweInvalidation(tags, at);
    if (!outcome.ok && !owed) return 'failed';
    this.known.record(tags, at, Date.now());
    this.gated.retireTagged(invalidatedAt);
    return owed ? 'owed' : 'landed';
  }

  private async know(tags: readonly string[] | undefined, readStartedAt: number, send: TagTimesSender): Promise<TagTimesRead> {
    const missing = this.known.missing(tags, Date.now());
    if (missing.length === 0) return NOTHING_READ;
    // Concurrent reads that find the same tags unknown (every read, for the cache's own) share one read of them.
    const awaited = new Set<Promise<TagTimesRead>>();
    const unread: string[] = [];
    for (const tag of missing) {
      const reading = this.reads.get(tag);
      if (reading === undefined) unread.push(tag);
      else awaited.add(reading);
    }
    if (unread.length > 0) {
      const reading = this.read(unread, readStartedAt, send).finally(() => {
        for (const tag of unread) if (this.reads.get(tag) === reading) this.reads.delete(tag);
      });
      for (const tag of unread) this.reads.set(tag, reading);
      awaited.add(reading);
    }
    const reads = await Promise.all(awaited);
    const times: Array<ReadonlyMap<string, number>> = [];
    for (const read of reads) {
      if (read === 'unreadable') return 'unreadable';
      times.push(read);
    }
    return times.length === 1 ? times[0]! : new Map(times.flatMap((read) => [...read]));
  }

  private async read(tags: string[], readStartedAt: number, send: TagTimesSender): Promise<TagTimesRead> {
    const outcome = await send(() => this.store.readTagTimes(tags));
    if (!outcome.ok) return 'unreadable';
    const times = this.withOwed(tags, outcome.value);
    const changedSince = (tag: string) => this.gated.gate.retiredSince(readStartedAt, undefined, [tag]);
    // Memory drops what the times learned retire. The gate needs no mark: it asks what is known at
    // every admission, and a mark would refuse the very read that learned them.
    const advanced = this.known.learn(tags, times, readStartedAt, changedSince);
    if (advanced.size > 0) this.gated.memory?.forgetTagged(advanced);
    return times;
  }

  /**
   * Times read, never before an invalidation or an expiry (under `expiredTagKey`) this instance owes
   * DynamoDB (its knowledge of them lapses as any).
   */
  private withOwed(tags: readonly string[], times: Map<string, number>): Map<string, number> {
    const recovery = this.recovery;
    if (recovery === undefined) return times;
    const atLeast = (name: string, owed: number | undefined) => {
      const read = times.get(name);
      if (owed !== undefined && (read === undefined || read < owed)) times.set(name, owed);
    };
    for (const tag of tags) {
      atLeast(tag, recovery.owedTagTime(tag));
      atLeast(expiredTagKey(tag), recovery.owedTagExpiry(tag));
    }
    return times;
  }
}

const NOTHING_READ: ReadonlyMap<string, number> = new Map();

const shownTag = (tag: string) => (tag === CLEARED_TAG ? '(the whole cache)' : `tag ${tag}`);

import { CLEARED_TAG } from '../store/tags.js';

/**
 * The one door into a cache's memory tier. Every operation that may put a value into memory (a read
 * of DynamoDB, a write, a factory's result, a fail-safe throttle) takes a `stamp()` when it *begins*;
 * every event that retires values (this instance's own write, delete, deleteByTag or clear, each
 * before its call is sent and again when it lands, and every piece of backplane news) marks what it
 * retires with a later stamp. A value is admitted only when nothing it could be retired by was marked
 * at or after its operation began: so a read that fetched the old item just before a delete landed,
 * or a factory that ran while its tag was invalidated, cannot put back what the change replaced,
 * whenever its answer arrives.
 *
 * Stamps are epoch ms that never repeat within a process (`stamp()`), so they order events like a
 * sequence. Marks older than `horizonMs` are forgotten as new ones come; an operation that began
 * before the newest forgotten mark cannot be judged and is refused (its value still reaches its
 * caller and DynamoDB, only not memory). How long an answer may be served is counted from when its
 * operation began too (see `MemoryTier.set`).
 */
export class AdmissionGate {
  // Insertion order is mark order (a key is re-inserted when marked again), so the oldest are at the front.
  private readonly keyMarks = new Map<string, number>();
  private readonly tagMarks = new Map<string, number>();
  // This instance's own writes and deletes of keys, oldest first, for `keyChangedSince`.
  private readonly ownKeyMarks = new Map<string, number>();
  private allMark = Number.NEGATIVE_INFINITY;
  // Expiries (`expire`, `expireByTag`): they retire as the marks above do, but leave the value a
  // fail-safe fallback (see `fallbackAdmitted`), which a delete, a write or an invalidation does not.
  private readonly expiredKeyMarks = new Map<string, number>();
  private readonly expiredTagMarks = new Map<string, number>();
  // Backplane news: it retires as a delete does, but cannot say whether the change was one, or only an
  // expiry (a KEYS_ONLY stream record, a poll's version), nor whether it is this instance's own
  // change coming back: a fallback it alone retired is asked of DynamoDB again (see `fallbackQuestioned`).
  private readonly newsKeyMarks = new Map<string, number>();
  private readonly newsTagMarks = new Map<string, number>();
  private newsAllMark = Number.NEGATIVE_INFINITY;
  /** Operations that began at or before it are refused: a mark they would be judged by may be forgotten. */
  private forgottenThrough = Number.NEGATIVE_INFINITY;

  constructor(
    /** How long marks are kept at least: the longest a DynamoDB read is expected to stay in flight. */
    private readonly horizonMs: number,
  ) {}

  /** The key changed (written or deleted by this instance) at `at`. */
  retireKey(key: string, at: number): void {
    this.mark(this.keyMarks, [key], at);
  }

  /** The tags were invalidated at `at`; the cache's own tag (`CLEARED_TAG`) retires everything. */
  retireTags(tags: Iterable<string>, at: number): void {
    this.markTags(this.tagMarks, tags, at, (clearedAt) => this.retireAll(clearedAt));
  }

  /** News that the key changed, at `at`: as `retireKey`, but kept apart (see `newsKeyMarks`). */
  retireKeyOnNews(key: string, at: number): void {
    this.mark(this.newsKeyMarks, [key], at);
  }

  /** News that the tags changed (invalidated or expired), at `at`; of `CLEARED_TAG`: of a clear. */
  retireTagsOnNews(tags: Iterable<string>, at: number): void {
    this.markTags(this.newsTagMarks, tags, at, (clearedAt) => this.retireAllOnNews(clearedAt));
  }

  /** News that anything may have changed (a poll backplane's, a backplane that lost track). */
  retireAllOnNews(at: number): void {
    this.newsAllMark = Math.max(this.newsAllMark, at);
  }

  /** The key was made stale at `at` (`expire`): no longer fresh, still a fallback. */
  expireKey(key: string, at: number): void {
    this.mark(this.expiredKeyMarks, [key], at);
  }

  /** What carries the tags was made stale at `at` (`expireByTag`). */
  expireTags(tags: Iterable<string>, at: number): void {
    this.mark(this.expiredTagMarks, tags, at);
  }

  /** Anything may have changed (a clear, a poll backplane's news, a backplane that lost track). */
  retireAll(at: number): void {
    this.allMark = Math.max(this.allMark, at);
  }

  /**
   * Whether a value that an operation begun at `startedAt` produced for `key`, with `tags`, may enter
   * memory: nothing that retires it was marked since the operation began.
   */
  admits(startedAt: number, key: string, tags: readonly string[] | undefined): boolean {
    return startedAt > this.forgottenThrough && !this.retiredSince(startedAt, key, tags);
  }

  /** This instance's own write or delete of the key at `at` (not news of another's). */
  markOwnKeyChange(key: string, at: number): void {
    this.ownKeyMarks.delete(key);
    this.ownKeyMarks.set(key, at);
    for (const [name, markedAt] of this.ownKeyMarks) {
      if (markedAt >= at - this.horizonMs) break;
      this.ownKeyMarks.delete(name);
    }
  }

  /**
   * Whether this instance wrote or deleted the key at or after `since`: then what a factory begun
   * before read is out of date. A forgotten mark (older than the horizon) answers no.
   */
  keyChangedSince(since: number, key: string): boolean {
    return (this.ownKeyMarks.get(key) ?? Number.NEGATIVE_INFINITY) >= since;
  }

  /**
   * Whether a fallback (a value past its expiry) that an operation begun at `startedAt` found may
   * still be served by fail-safe: nothing but an expiry marked its key or tags since.
   */
  fallbackAdmitted(startedAt: number, key: string, tags: readonly string[] | undefined): boolean {
    return startedAt > this.forgottenThrough && !this.deletedSince(startedAt, key, tags);
  }

  /**
   * Whether only backplane news made the fallback that an operation begun at `startedAt` found
   * unservable: then DynamoDB, read again, tells a delete from an expiry.
   */
  fallbackQuestioned(startedAt: number, key: string, tags: readonly string[] | undefined): boolean {
    return startedAt > this.forgottenThrough && !this.ownDeletedSince(startedAt, key, tags) && this.newsSince(startedAt, key, tags);
  }

  /** Whether the key, one of the tags, or everything was marked (expiries included) at or after `since`. */
  retiredSince(since: number, key: string | undefined, tags: readonly string[] | undefined): boolean {
    if (this.deletedSince(since, key, tags)) return true;
    if (key !== undefined && (this.expiredKeyMarks.get(key) ?? Number.NEGATIVE_INFINITY) >= since) return true;
    if (tags !== undefined && this.expiredTagMarks.size > 0)
      for (const tag of tags) if ((this.expiredTagMarks.get(tag) ?? Number.NEGATIVE_INFINITY) >= since) return true;
    return false;
  }

  /** As `retiredSince`, expiries aside: what fail-safe may no longer serve. */
  private deletedSince(since: number, key: string | undefined, tags: readonly string[] | undefined): boolean {
    return this.ownDeletedSince(since, key, tags) || this.newsSince(since, key, tags);
  }

  /** As `deletedSince`, for this instance's own changes only. */
  private ownDeletedSince(since: number, key: string | undefined, tags: readonly string[] | undefined): boolean {
    return markedSince(since, key, tags, this.allMark, this.keyMarks, this.tagMarks);
  }

  private newsSince(since: number, key: string | undefined, tags: readonly string[] | undefined): boolean {
    return markedSince(since, key, tags, this.newsAllMark, this.newsKeyMarks, this.newsTagMarks);
  }

  /** Marks the names at `at`, the cache's own tag as everything (`retireAll` or its news). */
  private markTags(marks: Map<string, number>, tags: Iterable<string>, at: number, cleared: (at: number) => void): void {
    const named = [...tags];
    if (named.includes(CLEARED_TAG)) cleared(at);
    this.mark(
      marks,
      named.filter((tag) => tag !== CLEARED_TAG),
      at,
    );
  }

  /** Re-inserted when marked again, so that insertion order stays mark order. */
  private mark(marks: Map<string, number>, names: Iterable<string>, at: number): void {
    for (const name of names) {
      marks.delete(name);
      marks.set(name, at);
    }
    this.forgetBefore(marks, at - this.horizonMs);
  }

  private forgetBefore(marks: Map<string, number>, horizon: number): void {
    for (const [name, at] of marks) {
      if (at >= horizon) break;
      marks.delete(name);
      this.forgottenThrough = Math.max(this.forgottenThrough, at);
    }
  }
}

/** Whether everything, the key or one of the tags was marked at or after `since`, in one kind of marks. */
function markedSince(
  since: number,
  key: string | undefined,
  tags: readonly string[] | undefined,
  allMark: number,
  keyMarks: ReadonlyMap<string, number>,
  tagMarks: ReadonlyMap<string, number>,
): boolean {
  if (allMark >= since) return true;
  if (key !== undefined && (keyMarks.get(key) ?? Number.NEGATIVE_INFINITY) >= since) return true;
  if (tags !== undefined) for (const tag of tags) if ((tagMarks.get(tag) ?? Number.NEGATIVE_INFINITY) >= since) return true;
  return false;
}

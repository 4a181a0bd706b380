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
  /** Operations that began at or before it are refused: a mark they would be judged by may be forgotten. */
  private forgottenThrough = Number.NEGATIVE_INFINITY;

  constructor(
    /** How long marks are kept at least: the longest a DynamoDB read is expected to stay in flight. */
    private readonly horizonMs: number,
  ) {}

  /** The key changed (written, deleted, or news of another instance's change) at `at`. */
  retireKey(key: string, at: number): void {
    this.keyMarks.delete(key);
    this.keyMarks.set(key, at);
    this.forgetBefore(this.keyMarks, at - this.horizonMs);
  }

  /** The tags were invalidated at `at`; the cache's own tag (`CLEARED_TAG`) retires everything. */
  retireTags(tags: Iterable<string>, at: number): void {
    for (const tag of tags) {
      if (tag === CLEARED_TAG) {
        this.retireAll(at);
        continue;
      }
      this.tagMarks.delete(tag);
      this.tagMarks.set(tag, at);
    }
    this.forgetBefore(this.tagMarks, at - this.horizonMs);
  }

  /** The key was made stale at `at` (`expire`): no longer fresh, still a fallback. */
  expireKey(key: string, at: number): void {
    this.expiredKeyMarks.delete(key);
    this.expiredKeyMarks.set(key, at);
    this.forgetBefore(this.expiredKeyMarks, at - this.horizonMs);
  }

  /** What carries the tags was made stale at `at` (`expireByTag`). */
  expireTags(tags: Iterable<string>, at: number): void {
    for (const tag of tags) {
      this.expiredTagMarks.delete(tag);
      this.expiredTagMarks.set(tag, at);
    }
    this.forgetBefore(this.expiredTagMarks, at - this.horizonMs);
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
    if (this.allMark >= since) return true;
    if (key !== undefined && (this.keyMarks.get(key) ?? Number.NEGATIVE_INFINITY) >= since) return true;
    if (tags !== undefined) for (const tag of tags) if ((this.tagMarks.get(tag) ?? Number.NEGATIVE_INFINITY) >= since) return true;
    return false;
  }

  private forgetBefore(marks: Map<string, number>, horizon: number): void {
    for (const [name, at] of marks) {
      if (at >= horizon) break;
      marks.delete(name);
      this.forgottenThrough = Math.max(this.forgottenThrough, at);
    }
  }
}

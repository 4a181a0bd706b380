import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import { isPast } from '../store/expiry.js';
import { stamp } from '../store/tags.js';
import type { SerializedPayload } from '../store/value-serializer.js';
import type { AdmissionGate } from './admission-gate.js';
import type { Fallback } from './cache-core.js';
import type { MemoryEntry, MemoryTier } from './memory-tier.js';
import type { TagTimes } from './tag-times.js';

/**
 * Words of our own used here (retired, landed, vouched, horizon...): see docs/glossary.md.
 *
 * A cache's memory tier behind its admission gate: every value enters through here, and every change
 * that retires values (a write, a delete, an invalidation, backplane news) is marked here, so that
 * one rule decides what memory may hold whatever path brings it (see AdmissionGate).
 */
export class GatedMemory {
  constructor(
    /** Undefined when the memory tier is off: then nothing is kept, and marks only guard tag knowledge. */
    readonly memory: MemoryTier | undefined,
    readonly gate: AdmissionGate,
    private readonly tags: TagTimes,
    private readonly slidingRenewThreshold: number,
  ) {}

  /**
   * Retires, as of now, what carries the tags: the gate refuses every value whose operation began
   * before, and memory drops the entries made at or before each tag's time (`undefined`: whenever
   * made, for news that does not say when). The cache's own tag retires everything.
   */
  retireTagged(invalidatedAt: ReadonlyMap<string, number | undefined>): void {
    this.gate.retireTags(invalidatedAt.keys(), stamp());
    this.memory?.forgetTagged(invalidatedAt);
  }

  /**
   * As `retireTagged`, for news from the backplane that the tags changed, whenever and however: an
   * invalidation or only an expiry (`expireByTag`), this instance's own or another's.
   */
  retireTaggedOnNews(tags: readonly string[]): void {
    this.gate.retireTagsOnNews(tags, stamp());
    this.memory?.forgetTagged(new Map(tags.map((tag) => [tag, undefined])));
  }

  /**
   * The keys changed (this instance's write or delete, or another instance's news): the gate refuses
   * what any operation begun before brings, and memory drops its copies but `keep`, the entry the
   * change itself put there.
   */
  retireKeys(keys: readonly string[], keep?: MemoryEntry): void {
    const at = stamp();
    for (const key of keys) {
      this.gate.retireKey(key, at);
      this.gate.markOwnKeyChange(key, at);
      const held = this.memory?.held(key);
      if (held !== undefined && held !== keep) this.memory!.delete(key);
    }
  }

  /**
   * As `retireKeys`, for news from the backplane: not this instance's own change. Streams echo this
   * instance's own writes back too, so news cannot tell a factory that its value is out of date; nor
   * can it say a delete from an expiry, so a fallback it retires is asked of DynamoDB again before
   * fail-safe gives up on it (see `questioned`).
   */
  retireKeysOnNews(keys: readonly string[]): void {
    const at = stamp();
    for (const key of keys) {
      this.gate.retireKeyOnNews(key, at);
      if (this.memory?.held(key) !== undefined) this.memory.delete(key);
    }
  }

  /** Everything may have changed (the keyv view's clear): nothing begun before may enter memory. */
  retireAll(): void {
    this.tags.forgetAll(Date.now());
    this.gate.retireAll(stamp());
    this.memory?.clear();
  }

  /** As `retireAll`, for news from the backplane (a poll's, or a backplane that lost track). */
  retireAllOnNews(): void {
    this.tags.forgetAll(Date.now());
    this.gate.retireAllOnNews(stamp());
    this.memory?.clear();
  }

  /**
   * The admission gate's whole rule, for every path into memory: a value made at `madeAt` by an
   * operation begun at `startedAt` enters only if nothing that retires it (its key, one of its tags,
   * the cache) changed since the operation began, and no invalidation known now retires it.
   */
  admissible(startedAt: number, key: string, made: { readonly madeAt: number; readonly tags?: readonly string[] }): boolean {
    const { madeAt, tags } = made;
    return this.gate.admits(startedAt, key, tags) && !this.tags.retires(madeAt, tags) && this.tags.expiredAt(madeAt, tags) === undefined;
  }

  /**
   * Whether fail-safe may still serve `fallback`: nothing retired it since its get-or-set began but
   * an expiry (`expire`, `expireByTag`), which leaves a value stale, not gone. A delete, a write, an
   * invalidation by tag or a clear (or another instance's news of any change) still retires it.
   */
  servable(key: string, fallback: Fallback<unknown>): boolean {
    const { foundAt, madeAt = 0, tags } = fallback;
    return this.gate.fallbackAdmitted(foundAt, key, tags) && !this.tags.retires(madeAt, tags);
  }

  /**
   * Whether only backplane news made `fallback` unservable: news of an expiry (this instance's own,
   * coming back through the stream, or another's) says no more than news of a delete, so DynamoDB is
   * asked whether the value is still there, stale (see `serveStaleChecked`).
   */
  questioned(key: string, fallback: Fallback<unknown>): boolean {
    const { foundAt, madeAt = 0, tags } = fallback;
    return this.gate.fallbackQuestioned(foundAt, key, tags) && !this.tags.retires(madeAt, tags);
  }

  /**
   * `expire(key)`: what any operation begun before brings is not admitted as fresh, and memory's copy
   * stays only as a fallback, until `keepUntil` (what DynamoDB keeps it for).
   */
  expireKey(key: string, keepUntil: number): void {
    this.gate.expireKey(key, stamp());
    this.memory?.markExpired(key, Date.now(), keepUntil);
  }

  /** `expireByTag`: as `expireKey`, for the entries made at or before `at` that carry one of the tags. */
  expireTagged(tags: readonly string[], at: number): void {
    this.gate.expireTags(tags, stamp());
    this.memory?.markExpiredTagged(new Set(tags), at, Date.now());
  }

  /**
   * DynamoDB holds no live entry: memory drops a copy it still served as live (deleted or replaced
   * elsewhere), but keeps one already past its expiry, a fail-safe fallback and its throttle, which
   * a plain read's miss says nothing against.
   */
  dropContradicted(key: string): void {
    const remembered = this.memory?.get(key, Date.now());
    if (remembered !== undefined && !isPast(remembered.expiresAt, Date.now())) this.memory!.delete(key);
  }

  /**
   * After writes that landed together (an mset, a write under throwOnErrors): each value enters memory
   * unless something retired its key or tags since it was sent (`sentAt`, after the writes' own marks),
   * or the gate refused it before (`admissible: false`).
   */
  keepLanded(
    prepared: PreparedEntry,
    sentAt: number,
    { admissible = true }: { readonly admissible?: boolean } = {},
  ): MemoryEntry | undefined {
    const keep = admissible && !this.gate.retiredSince(sentAt, prepared.key, prepared.tags);
    // Whatever memory held for the key is older than what DynamoDB now holds.
    this.retireKeys([prepared.key]);
    return keep ? this.keepWritten(prepared) : undefined;
  }

  /** Keeps a value read from DynamoDB in memory, if the gate admits it; returns the copy every caller is handed. */
  remember<T>(key: string, entry: CacheEntry<T>, readStartedAt: number): T {
    const memory = this.memory;
    const made = { madeAt: entry.storedAt ?? 0, tags: entry.tags };
    if (memory === undefined || !this.admissible(readStartedAt, key, made)) return entry.value;
    const lifetime = {
      expiresAt: entry.expiresAt,
      keepUntil: entry.staleUntil,
      renewAt: renewalDue(entry.expiresAt, entry.sliding?.windowMs, entry.sliding?.absoluteDeadline, this.slidingRenewThreshold),
      // A copy taken just before the knowledge of its tags lapses is not served a whole maxTtl past it.
      knownUntil: this.tags.knownUntil(entry.tags),
    };
    const remembered = memory.set(key, entry.payload, entry.value, lifetime, readStartedAt, made);
    // A value memory keeps serialized decodes a copy per hit; the one just read is already a copy.
    return remembered.payload === undefined ? (remembered.frozenValue as T) : entry.value;
  }

  /**
   * Keeps a value this instance wrote, already judged by the gate, fresh from when it was made: a
   * factory's value from when the factory began, since another instance's invalidation while it ran
   * reaches this one only when memory asks DynamoDB again.
   */
  keepWritten(prepared: PreparedEntry): MemoryEntry | undefined {
    const { expiresAt, staleUntil, slidingWindow, absoluteDeadline } = prepared.expiration;
    const renewAt = renewalDue(expiresAt, slidingWindow, absoluteDeadline, this.slidingRenewThreshold);
    const lifetime = { expiresAt, keepUntil: staleUntil, renewAt };
    return this.memory?.set(prepared.key, prepared.payload, undefined, lifetime, prepared.storedAt, writtenBy(prepared));
  }

  /**
   * Keeps a fallback in memory as fresh for `throttleMs`, so that a failing factory is not retried per
   * call: through the gate, with its tags, so that an invalidation drops it as it drops any entry.
   */
  throttle<T>(key: string, fallback: Fallback<T>, throttleMs: number, serialize: (value: T) => SerializedPayload): void {
    if (this.memory === undefined || !this.servable(key, fallback)) return;
    const now = Date.now();
    const payload = serialize(fallback.value);
    const lifetime = { expiresAt: fallback.expiresAt, keepUntil: fallback.staleUntil, freshUntil: now + throttleMs };
    this.memory.set(key, payload, undefined, lifetime, now, { madeAt: fallback.madeAt ?? 0, tags: fallback.tags });
  }
}

const writtenBy = (prepared: PreparedEntry) => ({ madeAt: prepared.storedAt, tags: prepared.tags });

/**
 * When a sliding entry's next read must reach DynamoDB: once renewing its window there would gain
 * `threshold` of it (see `slidingRenewal`). Undefined for an entry no read renews.
 */
export function renewalDue(
  expiresAt: number | undefined,
  windowMs: number | undefined,
  absoluteDeadline: number | undefined,
  threshold: number,
): number | undefined {
  if (windowMs === undefined || expiresAt === undefined) return undefined;
  // Near its absolute deadline no renewal can gain enough: memory may serve it to its end.
  if (absoluteDeadline !== undefined && absoluteDeadline - expiresAt < windowMs * threshold) return undefined;
  return expiresAt - (1 - threshold) * windowMs;
}

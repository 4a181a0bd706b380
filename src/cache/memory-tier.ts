import { PayloadFormat, type SerializedPayload, readPayload } from '../store/value-serializer.js';
import { deepFreeze } from './deep-freeze.js';
import { CLEARED_TAG } from '../store/tags.js';

export interface MemoryTierOptions {
  /** Most entries kept; the least recently used go first. */
  readonly maxEntries: number;
  /** Most bytes kept, counted as the serialized value plus the key. */
  readonly maxBytes: number;
  /** Longest an entry is served from memory before DynamoDB is asked again, in ms. */
  readonly maxTtlMs: number;
}

/**
 * One entry of the memory tier. A plain JSON value is parsed once into a private copy and frozen,
 * so a hit hands it out with no serialization work and no caller can change it under another.
 * A value with Dates, Maps, Sets, BigInts or bytes cannot be frozen (their contents stay mutable):
 * it is kept serialized and each hit decodes its own copy.
 */
export interface MemoryEntry {
  readonly frozenValue: unknown;
  readonly payload: SerializedPayload | undefined;
  /** Logical expiry (epoch ms); undefined: never. */
  readonly expiresAt: number | undefined;
  /** Served as a hit until then: the logical expiry, capped by maxTtl (or a fail-safe throttle). */
  readonly freshUntil: number;
  /**
   * Past this instant (stored + `memory.maxTtl`), a hit needs a backplane that is keeping up to vouch
   * for it: only its news of other instances' changes lets memory serve longer than that.
   */
  readonly unvouchedUntil: number;
  /** Kept until then as a fallback for when DynamoDB or the factory fails. */
  readonly keepUntil: number;
  readonly bytes: number;
  /** Its tags: learning that one was invalidated drops it (see `forgetTagged`). */
  readonly tags?: readonly string[];
  /** When its value was made (a `stamp()`; a factory's: when it began), which an invalidation at or after retires. */
  readonly madeAt: number;
  /** Second-chance eviction: set on a hit, so that a hit costs one write and no reordering. */
  recentlyUsed: boolean;
}

const NEVER_VOUCHED = () => false;

// A Map entry, the record and its numbers, beside the payload and key.
const ENTRY_OVERHEAD_BYTES = 120;

/** How long memory keeps an entry, all epoch ms. */
export interface MemoryLifetime {
  /** The entry's logical expiry; undefined: never. */
  readonly expiresAt: number | undefined;
  /** Kept past its expiry until then, as a fail-safe fallback. */
  readonly keepUntil?: number;
  /** Served as a hit until then, overriding the rule below (a fail-safe throttle). */
  readonly freshUntil?: number;
  /**
   * A sliding entry's: from then on a read must reach DynamoDB, where renewing the window gains
   * enough to be written; memory serving it past then would let the entry lapse while in use.
   */
  readonly renewAt?: number;
  /**
   * A value read from DynamoDB: until when what this instance knows of its tags (and of the cache's
   * clear) is current without a backplane. Past it, as past `memory.maxTtl`, only a backplane that
   * keeps up lets memory serve it.
   */
  readonly knownUntil?: number;
}

export function memoryValue<T>(entry: MemoryEntry): T {
  return (entry.payload === undefined ? entry.frozenValue : readPayload(entry.payload)) as T;
}

/**
 * The in-process first tier: bounded by entries and bytes, evicting the least recently used (by
 * second chance: insertion order, skipping once over entries hit since they were last passed).
 */
export class MemoryTier {
  private readonly entries = new Map<string, MemoryEntry>();
  private bytes = 0;
  /** The bound in force: `options.maxTtlMs`, or what a backplane sets. */
  maxTtlMs: number;
  /**
   * Whether a backplane has applied every other instance's change up to `maxLag` ago, asked at the
   * hit itself: a process frozen past that (a Lambda between invocations, SIGSTOP) must not answer
   * from memory on waking, before the backplane's own timer has run and noticed.
   */
  vouched: (now: number) => boolean = NEVER_VOUCHED;

  constructor(readonly options: MemoryTierOptions) {
    this.maxTtlMs = options.maxTtlMs;
  }

  /**
   * Whether `entry` may be served as a hit now: before its freshness ends, and, past `memory.maxTtl`
   * from when it was stored, only while the backplane vouches (one comparison without a backplane).
   */
  isFresh(entry: MemoryEntry, now: number): boolean {
    return now < entry.freshUntil && (now < entry.unvouchedUntil || this.vouched(now));
  }

  /** The entry, if it is still kept (fresh or as a fallback). */
  get(key: string, now: number): MemoryEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.keepUntil) {
      this.delete(key);
      return undefined;
    }
    entry.recentlyUsed = true;
    return entry;
  }

  /**
   * Keeps a value, unconditionally: the cache's admission gate has already judged it. Its freshness is
   * counted from `startedAt`, when the operation that produced it began, not from now: an answer that
   * was in flight across a freeze (a Lambda between invocations, SIGSTOP) is as old as its question.
   * It is served as a hit until its logical expiry capped by maxTtl; `keepUntil` keeps it longer as a
   * fail-safe fallback; `freshUntil` overrides when it is served as a hit (the fail-safe throttle).
   */
  set(
    key: string,
    payload: SerializedPayload,
    parsedValue: unknown,
    lifetime: MemoryLifetime,
    startedAt: number,
    made: { readonly madeAt: number; readonly tags?: readonly string[] },
  ): MemoryEntry {
    const { expiresAt } = lifetime;
    // A stamp may run a fraction of a millisecond ahead of the clock (stamps never repeat).
    const origin = Math.min(startedAt, Date.now());
    const freshUntil =
      lifetime.freshUntil ??
      Math.min(origin + this.maxTtlMs, expiresAt ?? Number.POSITIVE_INFINITY, lifetime.renewAt ?? Number.POSITIVE_INFINITY);
    // A fail-safe throttle's own freshness needs no backplane: it serves a value known to be stale.
    const unvouchedUntil = lifetime.freshUntil ?? Math.min(origin + this.options.maxTtlMs, lifetime.knownUntil ?? Number.POSITIVE_INFINITY);
    const freezable = payload.format === PayloadFormat.Json;
    const bytes = payload.bytes.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    const entry: MemoryEntry = {
      // A value just written has no parsed copy yet: parsing its bytes gives one no caller holds.
      frozenValue: freezable ? deepFreeze(parsedValue === undefined ? readPayload(payload) : parsedValue) : undefined,
      payload: freezable ? undefined : payload,
      expiresAt,
      freshUntil,
      unvouchedUntil,
      keepUntil: Math.max(lifetime.keepUntil ?? expiresAt ?? Number.POSITIVE_INFINITY, freshUntil),
      bytes,
      tags: made.tags,
      madeAt: made.madeAt,
      recentlyUsed: false,
    };
    this.delete(key);
    if (bytes > this.options.maxBytes) return entry;
    this.entries.set(key, entry);
    this.bytes += bytes;
    this.evictOverflow();
    return entry;
  }

  /** The entry held for `key`, as it is, without counting a use or dropping it: for identity checks. */
  held(key: string): MemoryEntry | undefined {
    return this.entries.get(key);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /**
   * Drops every entry that carries one of the tags and was made at or before its invalidation
   * (`undefined`: whenever it was made, for news that does not say when): one pass over memory, so
   * that a hit never has to look at tags.
   */
  forgetTagged(invalidatedAt: ReadonlyMap<string, number | undefined>): number {
    // The cache's own tag is on no entry: it retires every entry made at or before it.
    const clearedAt = invalidatedAt.has(CLEARED_TAG) ? (invalidatedAt.get(CLEARED_TAG) ?? Number.POSITIVE_INFINITY) : undefined;
    const retires = (tag: string, madeAt: number) => {
      if (!invalidatedAt.has(tag)) return false;
      const at = invalidatedAt.get(tag);
      return at === undefined || at >= madeAt;
    };
    let dropped = 0;
    for (const [key, entry] of [...this.entries]) {
      const retired = (clearedAt !== undefined && clearedAt >= entry.madeAt) || entry.tags?.some((tag) => retires(tag, entry.madeAt));
      if (retired) {
        this.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * `expire`: the entry is no longer served as a hit, but kept as a fail-safe fallback until
   * `keepUntil` (its own keeping time when not given). A new object, so that a read holding the old
   * one (`held(key) === remembered`) sees it changed.
   */
  markExpired(key: string, now: number, keepUntil?: number): void {
    const entry = this.entries.get(key);
    if (entry === undefined || (entry.expiresAt !== undefined && entry.expiresAt <= now)) return;
    const expired = { ...entry, expiresAt: now, freshUntil: now, keepUntil: keepUntil ?? entry.keepUntil };
    this.entries.set(key, expired);
  }

  /** `expireByTag`: `markExpired` for every entry that carries one of `tags` and was made at or before `at`. */
  markExpiredTagged(tags: ReadonlySet<string>, at: number, now: number): void {
    for (const [key, entry] of this.entries) if (entry.madeAt <= at && entry.tags?.some((tag) => tags.has(tag))) this.markExpired(key, now);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private evictOverflow(): void {
    const { maxEntries, maxBytes } = this.options;
    while (this.entries.size > maxEntries || this.bytes > maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, MemoryEntry];
      this.entries.delete(oldestKey);
      if (oldest.recentlyUsed) {
        oldest.recentlyUsed = false;
        this.entries.set(oldestKey, oldest);
      } else {
        this.bytes -= oldest.bytes;
      }
    }
  }
}

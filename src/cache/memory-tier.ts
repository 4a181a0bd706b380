import { PayloadFormat, type SerializedPayload, readPayload } from '../store/value-serializer.js';
import { deepFreeze } from './deep-freeze.js';

export interface MemoryTierOptions {
  /** Most entries kept; the least recently used go first. */
  readonly maxEntries: number;
  /** Most bytes kept, counted as the serialized value plus the key. */
  readonly maxBytes: number;
  /** Longest an entry is served from memory before DynamoDB is asked again, in ms. */
  readonly maxTtlMs: number;
  /**
   * The longest a DynamoDB read can be in flight, in ms: how long a key's last change is remembered,
   * so that a read begun before it cannot put back what the change replaced.
   */
  readonly changeHorizonMs: number;
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
  /** When each key last changed (this instance's write or delete, or another's news from a backplane), for `set`'s `readStartedAt`. */
  private readonly changedAt = new Map<string, number>();
  /** When the whole tier was last cleared: a read begun before then may hold what the clear meant to drop. */
  private clearedAt = -1;
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
   * Keeps a value read from or written to DynamoDB, served as a hit until its logical expiry capped
   * by maxTtl. `keepUntil` keeps it longer as a fail-safe fallback; `freshUntil` overrides when it
   * is served as a hit (the fail-safe throttle serves a stale value for a while).
   */
  set(
    key: string,
    payload: SerializedPayload,
    parsedValue: unknown,
    lifetime: MemoryLifetime,
    now: number,
    /** For a value read from DynamoDB: when the read began. A change to the key since then means it may be stale. */
    readStartedAt?: number,
    tags?: readonly string[],
  ): MemoryEntry {
    const { expiresAt } = lifetime;
    const freshUntil =
      lifetime.freshUntil ??
      Math.min(now + this.maxTtlMs, expiresAt ?? Number.POSITIVE_INFINITY, lifetime.renewAt ?? Number.POSITIVE_INFINITY);
    // A fail-safe throttle's own freshness needs no backplane: it serves a value known to be stale.
    const unvouchedUntil = lifetime.freshUntil ?? Math.min(now + this.options.maxTtlMs, lifetime.knownUntil ?? Number.POSITIVE_INFINITY);
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
      tags,
      recentlyUsed: false,
    };
    if (readStartedAt === undefined) {
      this.noteChange(key, now);
    } else if (Math.max(this.changedAt.get(key) ?? -1, this.clearedAt) >= readStartedAt) {
      // The read may have fetched the value just before the key changed (here, or on another instance
      // whose news arrived while it was in flight): keeping it would put back what the change replaced,
      // and dropping what is there now would lose the change's own value.
      return entry;
    }
    this.delete(key);
    if (bytes > this.options.maxBytes) return entry;
    this.entries.set(key, entry);
    this.bytes += bytes;
    this.evictOverflow();
    return entry;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  clear(now = Date.now()): void {
    this.entries.clear();
    this.bytes = 0;
    this.clearedAt = now;
  }

  /**
   * Drops the key because it changed (a write or delete of this instance that did not leave its value
   * here, or another instance's change), and remembers when, so that no read begun before can put
   * the old value back (see `set`).
   */
  forget(key: string, now: number): void {
    this.delete(key);
    this.noteChange(key, now);
  }

  /**
   * Drops every entry that carries one of `tags`, once this instance learns of its invalidation: one pass over
   * memory, so that a hit never has to look at tags.
   */
  forgetTagged(tags: ReadonlySet<string>, now: number): number {
    let dropped = 0;
    for (const [key, entry] of [...this.entries]) {
      if (entry.tags?.some((tag) => tags.has(tag))) {
        this.forget(key, now);
        dropped++;
      }
    }
    return dropped;
  }

  private noteChange(key: string, now: number): void {
    // Re-inserted, so that the map stays in time order and the oldest are forgotten from its front.
    this.changedAt.delete(key);
    this.changedAt.set(key, now);
    const horizon = now - this.options.changeHorizonMs;
    for (const [oldKey, at] of this.changedAt) {
      if (at >= horizon) break;
      this.changedAt.delete(oldKey);
    }
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

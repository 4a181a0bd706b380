import { CLEARED_TAG, expiredByTagAt, expiredTagKey, isRetired } from '../store/tags.js';

interface Knowledge {
  /** The tag's invalidation instant as last read (or made here); undefined: never invalidated. */
  readonly at: number | undefined;
  /** Until then it is taken as current without reading DynamoDB again (then only while a backplane vouches). */
  readonly until: number;
  /** Set by news of a change: read again before it is used, whatever the backplane vouches. */
  readonly unsettled?: boolean;
}

/** Tags known at once; past it, the least recently learned are read again when next needed. */
const MAX_KNOWN_TAGS = 10_000;

/**
 * This instance's knowledge of when its cache's tags were last invalidated, and of when the cache was
 * last cleared (`CLEARED_TAG`), held as the memory tier holds entries: read from DynamoDB when missing
 * or lapsed, taken as current for `memory.maxTtl` (longer while a backplane keeps up and vouches),
 * and dropped when the backplane brings news of a change. So a read of a tagged entry costs no call
 * for its tags while they are known, and a memory hit never looks at tags at all: memory drops the
 * entries a newly learned invalidation retires (see `learn`).
 */
export class TagTimes {
  private readonly known = new Map<string, Knowledge>();

  constructor(
    /** How long knowledge is taken as current without a backplane. */
    private readonly validityMs: number,
    /** Whether a backplane is keeping up now (the memory tier's own check). */
    private readonly vouched: (now: number) => boolean,
  ) {}

  /** The tags among `tags` (and the cache's own, always) whose invalidation time must be read. */
  missing(tags: readonly string[] | undefined, now: number): string[] {
    const wanted: string[] = [];
    if (this.lapsed(CLEARED_TAG, now)) wanted.push(CLEARED_TAG);
    if (tags !== undefined) for (const tag of tags) if (this.lapsed(tag, now)) wanted.push(tag);
    return wanted;
  }

  /**
   * Takes in what a read begun at `readStartedAt` found for `asked` (absent from `times`: never
   * invalidated), but for the tags `changedSince` says news of a change reached while it was in flight
   * (the read may predate that change). Knowledge is current from when the read began, not from when
   * its answer came. Returns the tags whose known invalidation moved forward, with the new time:
   * entries memory holds with them, made at or before it, are now retired. A tag learned for the first
   * time counts too: this instance may hold a value it made itself while not knowing of the tag.
   */
  learn(
    asked: readonly string[],
    times: ReadonlyMap<string, number>,
    readStartedAt: number,
    changedSince: (tag: string) => boolean,
  ): Map<string, number> {
    const advanced = new Map<string, number>();
    for (const tag of asked) {
      if (changedSince(tag)) continue;
      const until = readStartedAt + this.validityMs;
      const moved = this.learnOne(tag, times.get(tag), until);
      // Its expired-at time after it: of the two, the tag is evicted first, and both are read again then.
      // One never set, and not known, takes no room.
      const twin = expiredTagKey(tag);
      const expiredAt = times.get(twin);
      const expiryMoved = expiredAt === undefined && !this.known.has(twin) ? undefined : this.learnOne(twin, expiredAt, until);
      // Memory drops what an expiry made stale too: its fallback is read from DynamoDB when needed.
      const latest = Math.max(moved ?? Number.NEGATIVE_INFINITY, expiryMoved ?? Number.NEGATIVE_INFINITY);
      if (latest !== Number.NEGATIVE_INFINITY) advanced.set(tag, latest);
    }
    return advanced;
  }

  /** Takes in one time read; returns it when it moved what was known forward. */
  private learnOne(name: string, at: number | undefined, until: number): number | undefined {
    const before = this.known.get(name)?.at;
    // Never backwards: a read that raced a newer invalidation may return the older time.
    const latest = at === undefined ? before : before === undefined ? at : Math.max(at, before);
    this.set(name, { at: latest, until });
    return at !== undefined && (before === undefined || at > before) ? at : undefined;
  }

  /** This instance invalidated the tags at `at`: known at once, without a read. */
  record(tags: readonly string[], at: number, now: number): void {
    for (const tag of tags) {
      const before = this.known.get(tag)?.at;
      this.set(tag, { at: before === undefined ? at : Math.max(at, before), until: now + this.validityMs });
    }
  }

  /**
   * Another instance changed the tag (backplane news): read it again when next needed. What was
   * known stays as the floor it is, so that reading back a time already known retires nothing more.
   */
  forget(tag: string, now: number): void {
    for (const name of [tag, expiredTagKey(tag)]) {
      const before = this.known.get(name);
      if (before !== undefined) this.set(name, { at: before.at, until: now, unsettled: true });
    }
  }

  /**
   * The latest expiry by tag (`expireByTag`) known, or found by a read for this very check, that
   * makes an entry made at `storedAt` with `tags` stale; undefined when none does.
   */
  expiredAt(storedAt: number | undefined, tags: readonly string[] | undefined, read?: ReadonlyMap<string, number>): number | undefined {
    return expiredByTagAt(storedAt, tags, (name) => this.timeOf(name, read));
  }

  /**
   * Every tag may have changed (a poll backplane's version moved, or it lost track): each is read again
   * before it is next used. The times known stay as floors: a read between learning a tag's time and
   * checking an entry against it must still see every invalidation this instance knew of.
   */
  forgetAll(now: number): void {
    for (const [tag, knowledge] of [...this.known]) this.known.set(tag, { at: knowledge.at, until: now, unsettled: true });
  }

  /**
   * Whether what is known, and what a read for this very check found (`read`: a batch may bring more
   * tags than are kept known), retires an entry made at `storedAt` with `tags`.
   */
  retires(storedAt: number | undefined, tags: readonly string[] | undefined, read?: ReadonlyMap<string, number>): boolean {
    return isRetired(storedAt, tags, (tag) => this.timeOf(tag, read));
  }

  private timeOf(name: string, read: ReadonlyMap<string, number> | undefined): number | undefined {
    const known = this.known.get(name)?.at;
    const found = read?.get(name);
    return known === undefined ? found : found === undefined ? known : Math.max(known, found);
  }

  /**
   * Until when what is known of the cache's own tag and of `tags` may be taken as current without a
   * backplane: memory serves an entry no longer than that, so that it is never served past the bound
   * by a copy taken just before the knowledge lapsed.
   */
  knownUntil(tags: readonly string[] | undefined): number {
    let until = this.known.get(CLEARED_TAG)?.until ?? 0;
    if (tags !== undefined) for (const tag of tags) until = Math.min(until, this.known.get(tag)?.until ?? 0);
    return until;
  }

  private lapsed(tag: string, now: number): boolean {
    const knowledge = this.known.get(tag);
    return knowledge === undefined || knowledge.unsettled === true || (now >= knowledge.until && !this.vouched(now));
  }

  private set(tag: string, knowledge: Knowledge): void {
    this.known.delete(tag);
    this.known.set(tag, knowledge);
    if (this.known.size <= MAX_KNOWN_TAGS) return;
    // The least recently learned goes, never the cache's own (every read needs it): that one moves to the back.
    const [oldest, kept] = this.known.entries().next().value!;
    this.known.delete(oldest);
    if (oldest !== CLEARED_TAG) return;
    this.known.set(oldest, kept);
    this.known.delete(this.known.keys().next().value!);
  }
}

/**
 * An entry read live from DynamoDB that `expireByTag` made stale at `expiredAt`: past its expiry from
 * then, and kept as a fallback for as long as it would have lived (or its own fail-safe window).
 */
export function staleAsOf<E extends { readonly expiresAt?: number; readonly staleUntil?: number }>(entry: E, expiredAt: number): E {
  // Whole ms: a stamp may run a fraction ahead of the clock, and a read in its millisecond must find it past.
  const expiresAt = Math.min(entry.expiresAt ?? Number.POSITIVE_INFINITY, Math.floor(expiredAt));
  return { ...entry, expiresAt, staleUntil: entry.staleUntil ?? entry.expiresAt };
}

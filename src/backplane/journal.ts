/**
 * The streams backplane's journal, as its readers write it and every other instance reads it. Each
 * lane (one per allowed stream reader) has a head item: the lease of the instance that reads the
 * stream for it, the number of its last entry (`seq`), and `through`, the instant up to which every
 * change is in its entries. An entry lists the partition keys that one reader cycle read, or, when
 * there were too many, the key prefixes to clear. The rules here take no I/O and no clock.
 */
export interface JournalHead {
  readonly owner: string;
  /** Counts the lane's takeovers: a reader that was replaced can no longer write under its own term. */
  readonly term: number;
  readonly leaseUntil: number;
  readonly seq: number;
  readonly through: number;
  readonly publishedAt: number;
  /** The lane's `seq` when this term began: later entries are this term's, earlier ones an older term's. */
  readonly termStart: number;
}

export interface JournalEntry {
  readonly seq: number;
  readonly term: number;
  readonly keys: readonly string[];
  /** Key prefixes whose cache's memory is cleared; `''` clears every cache. */
  readonly clear: readonly string[];
}

/**
 * The shape of a journal item of any app on the table: the default cache's prefix (ending in
 * `default:`), `#bp:`, a lane, and an entry number or `position`. Asked only of keys of no cache
 * this instance has: in a cache it has, the cache's own rule tells a caller's key from its items.
 */
const JOURNAL_ITEM = /default:#bp:\d+(:\d+|:position)?$/;

export function isJournalShaped(partitionKey: string): boolean {
  return JOURNAL_ITEM.test(partitionKey);
}

/** Clears every cache: what was read is not known (a lost stream position, or keys of no known cache, too many to list). */
export const CLEAR_ALL = '';

/**
 * Whether `entry` is the one the head's lane published at its number. An entry is written before
 * the head that counts it, so one numbered past the head is not published yet; one of the current
 * term written by a reader that has since lost its lease is overwritten by the next term before
 * that term's head counts it, which `term` tells apart.
 */
export function isPublished(head: JournalHead, entry: JournalEntry): boolean {
  if (entry.seq > head.seq) return false;
  return entry.seq <= head.termStart ? entry.term < head.term : entry.term === head.term;
}

/**
 * The entry for the keys one cycle read, within `budgetBytes` of JSON. Past it, the keys of the
 * cache with the most are replaced by its prefix (a clear of that cache), then the next, until
 * the rest fits; keys of no cache this reader knows, too many to list, clear everything.
 * `prefixes` are the known caches', longest first, so that a key goes to the most specific.
 */
export function compactKeys(
  partitionKeys: readonly string[],
  prefixes: readonly string[],
  budgetBytes: number,
): { keys: string[]; clear: string[] } {
  const unique = [...new Set(partitionKeys)];
  // As JSON writes them: a control character in a key takes six bytes there.
  const size = (keys: readonly string[]) => keys.reduce((total, key) => total + Buffer.byteLength(JSON.stringify(key), 'utf8') + 1, 2);
  if (size(unique) <= budgetBytes) return { keys: unique, clear: [] };
  const groups = new Map<string, string[]>();
  for (const key of unique) {
    const prefix = prefixes.find((candidate) => key.startsWith(candidate)) ?? CLEAR_ALL;
    groups.set(prefix, [...(groups.get(prefix) ?? []), key]);
  }
  const clear: string[] = [];
  const largestFirst = [...groups].sort(([, a], [, b]) => size(b) - size(a));
  for (const [prefix] of largestFirst) {
    clear.push(prefix);
    groups.delete(prefix);
    if (prefix === CLEAR_ALL) return { keys: [], clear: [CLEAR_ALL] };
    const rest = [...groups.values()].flat();
    if (size(rest) + size(clear) <= budgetBytes) return { keys: rest, clear };
  }
  return { keys: [], clear };
}

/**
 * How long a follower waits before its next read of the journal: until just after the head's
 * reader is due to publish again (`publishedAt` plus whole intervals, plus this instance's
 * `offsetMs`), so that news waits about `offsetMs` in the journal rather than up to a whole
 * interval; never sooner than a quarter interval, so that the reads stay at one per interval.
 */
export function followerDelay(now: number, publishedAt: number | undefined, intervalMs: number, offsetMs: number): number {
  if (publishedAt === undefined || publishedAt <= 0) return intervalMs;
  const remainder = (((publishedAt + offsetMs - now) % intervalMs) + intervalMs) % intervalMs;
  return remainder < intervalMs / 4 ? remainder + intervalMs : remainder;
}

import { InvalidCacheKeyError } from './errors.js';
import { describeType } from './keys.js';

/** Where a tag's invalidation item lives, in the cache's reserved key space (no caller's key can address it). */
export const TAG_MARKER = '#tag:';
/** The item that holds when the cache was last cleared: the cache's own tag, which every entry carries. */
export const CLEARED_MARKER = '#cleared';
/** The cache's own tag, in the lists of tags the store reads and writes: `clear()` invalidates it. */
export const CLEARED_TAG = '';

// The last stamp this process gave: stamps never repeat and never go back, within a process.
let lastStamp = 0;
// An exact binary fraction, so that adding it to an epoch-ms number is exact.
const STAMP_STEP = 2 ** -10;

/**
 * Now, in epoch ms, but never the same or earlier than the last stamp this process gave: an entry
 * made in the same millisecond as an invalidation (a write right after `clear()`) is ordered after
 * it, or before it, as it was. Across processes, the clocks' own order (and skew) decides.
 */
export function stamp(): number {
  const now = Date.now();
  lastStamp = now > lastStamp ? now : lastStamp + STAMP_STEP;
  return lastStamp;
}

/**
 * Where a tag's expired-at time (`expireByTag`) goes in the maps of tag times that the store reads
 * and the cache keeps: beside the tag's own invalidation time, under a name no tag can have (a tag
 * is a well-formed string, and this one starts with a lone surrogate), so that it is read, known,
 * forgotten and lapses with its tag and no map changes shape. The cache's own tag has none.
 */
export const expiredTagKey = (tag: string): string => EXPIRED_MARK + tag;
const EXPIRED_MARK = '\uDBFF';

/** Bounds that keep a tagged item small and one BatchGetItem able to fetch an entry's tags with the cache's own. */
export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 256;

/** The partition key of a tag's item, or of the cache's cleared-at item for `CLEARED_TAG`. */
export function tagPartitionKey(prefix: string, tag: string): string {
  return tag === CLEARED_TAG ? prefix + CLEARED_MARKER : prefix + TAG_MARKER + tag;
}

/**
 * Checks the tags a write (`about`: the key) or an invalidation names, and drops duplicates. A tag
 * is any non-empty string of up to 256 characters: it only ever addresses an item under its own
 * cache's prefix and marker, so no spelling reaches another cache's tags or any key.
 */
export function checkTags(tags: unknown, about: string): readonly string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags)) throw new InvalidCacheKeyError(`${about}: tags must be an array of strings, got ${describeType(tags)}.`);
  const unique = [...new Set(tags as unknown[])];
  if (unique.length > MAX_TAGS) throw new InvalidCacheKeyError(`${about}: at most ${MAX_TAGS} tags, got ${unique.length}.`);
  for (const tag of unique) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH || !tag.isWellFormed()) {
      const shown = typeof tag === 'string' ? JSON.stringify(tag.slice(0, 40)) : describeType(tag);
      throw new InvalidCacheKeyError(`${about}: a tag must be a string of 1 to ${MAX_TAG_LENGTH} characters, got ${shown}.`);
    }
  }
  return unique.length === 0 ? undefined : (unique as string[]);
}

/**
 * Asked by a store that knows no invalidation times (the cache does) before it renews an entry:
 * whether the entry made at `storedAt` with `tags` is still current: neither retired by one nor
 * made stale by an expiry by tag.
 */
export type CurrentCheck = (made: { readonly tags?: readonly string[]; readonly storedAt?: number }) => Promise<boolean>;

/** Whether an entry made at `storedAt` with `tags` is retired by the invalidation times known (a miss). */
export function isRetired(
  storedAt: number | undefined,
  tags: readonly string[] | undefined,
  invalidatedAt: (tag: string) => number | undefined,
): boolean {
  // Equal stamps are one process's same instant; written first, the invalidation retires it.
  // An entry written before tags existed has no storedAt: any clear or invalidation since retires it.
  const madeAt = storedAt ?? 0;
  const cleared = invalidatedAt(CLEARED_TAG);
  if (cleared !== undefined && cleared >= madeAt) return true;
  if (tags === undefined) return false;
  for (const tag of tags) {
    const at = invalidatedAt(tag);
    if (at !== undefined && at >= madeAt) return true;
  }
  return false;
}

/**
 * The latest expired-at time among `tags` (see `expiredTagKey`) that makes an entry made at
 * `storedAt` stale, as `isRetired` makes it gone; undefined when none does.
 */
export function expiredByTagAt(
  storedAt: number | undefined,
  tags: readonly string[] | undefined,
  timeOf: (name: string) => number | undefined,
): number | undefined {
  if (tags === undefined) return undefined;
  const madeAt = storedAt ?? 0;
  let latest: number | undefined;
  for (const tag of tags) {
    const at = timeOf(expiredTagKey(tag));
    if (at !== undefined && at >= madeAt && (latest === undefined || at > latest)) latest = at;
  }
  return latest;
}

/** The tags a write carries: its entry options' and its caller's (a factory's), checked, without duplicates. */
export function entryTags(
  key: string,
  ttl: number | { tags?: readonly string[] } | undefined,
  options: { tags?: readonly string[] } | undefined,
): readonly string[] | undefined {
  const own = typeof ttl === 'object' && ttl !== null ? ttl.tags : undefined;
  if (own === undefined && options?.tags === undefined) return undefined;
  const about = `Cannot cache key "${key}"`;
  return checkTags([...(checkTags(own, about) ?? []), ...(checkTags(options?.tags, about) ?? [])], about);
}

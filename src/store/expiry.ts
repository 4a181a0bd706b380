import { InvalidExpirationError } from './errors.js';

/** The furthest instant a JavaScript Date can hold; a ttl reaching past it is an error, not "forever". */
const LATEST_TIME_MS = 8.64e15;

/**
 * How a caller may say when an entry expires, as in .NET's DistributedCacheEntryOptions: the `ttl` of
 * `set`, `getOrSet` and `wrap`, when it is more than a number of ms. None given: the cache's `ttl`.
 *
 * @example
 * ```ts
 * await cache.set('session:1', data, { slidingExpiration: 20 * 60_000, absoluteExpiration: Date.now() + 8 * 3_600_000 });
 * ```
 */
export interface EntryOptions {
  /** Time to live in ms from now; 0 means no expiry. Wins over `absoluteExpiration`. */
  ttl?: number;
  /** The instant the entry expires, a Date or epoch ms (an instant, not a duration); must be in the future. */
  absoluteExpiration?: Date | number;
  /** Expire after this many ms without a read; each read renews it, never past the absolute deadline. */
  slidingExpiration?: number;
  /** Tags to invalidate the entry by, with others (`deleteByTag`); say nothing of expiry. */
  tags?: readonly string[];
}

export interface Expiration {
  /** Epoch ms after which the entry reads as a miss; undefined for an entry that never expires. */
  readonly expiresAt?: number;
  /** The sliding window in ms, for entries that a read renews. */
  readonly slidingWindow?: number;
  /** Epoch ms past which a sliding entry is never renewed. */
  readonly absoluteDeadline?: number;
  /**
   * Epoch ms until which an entry past `expiresAt` is kept as a fail-safe fallback: normal reads see
   * a miss, a get-or-set whose factory fails may still serve it. DynamoDB's TTL deletes it after this.
   */
  readonly staleUntil?: number;
}

export const NEVER: Expiration = Object.freeze({});

function checkDuration(key: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidExpirationError(
      `Cannot cache key "${key}": ${name} must be a finite number of milliseconds >= 0, got ${String(value)}.`,
    );
  }
  return Math.ceil(value);
}

function checkInstant(key: string, name: string, instant: number, now: number): number {
  if (!Number.isFinite(instant) || instant > LATEST_TIME_MS) {
    throw new InvalidExpirationError(`Cannot cache key "${key}": ${name} reaches past the latest date JavaScript can hold.`);
  }
  if (instant <= now) {
    throw new InvalidExpirationError(`Cannot cache key "${key}": ${name} ${new Date(instant).toISOString()} is not in the future.`);
  }
  return instant;
}

/**
 * Turns what the caller said (a ttl number, entry options, or nothing) into instants. The cache's
 * default ttl applies only when the caller said nothing about expiry at all.
 */
export function resolveExpiration(
  key: string,
  requested: number | EntryOptions | undefined,
  defaultTtl: number | undefined,
  now: number,
  keepStaleFor = 0,
): Expiration {
  const expiration = resolveLogicalExpiration(key, requested, defaultTtl, now);
  // A sliding entry is renewed in place, which would cut a fail-safe extension short: none is kept.
  if (keepStaleFor <= 0 || expiration.expiresAt === undefined || expiration.slidingWindow !== undefined) return expiration;
  return { ...expiration, staleUntil: Math.min(expiration.expiresAt + keepStaleFor, LATEST_TIME_MS) };
}

function resolveLogicalExpiration(
  key: string,
  requested: number | EntryOptions | undefined,
  defaultTtl: number | undefined,
  now: number,
): Expiration {
  const options: EntryOptions =
    requested === undefined || requested === null ? {} : typeof requested === 'object' ? requested : { ttl: requested };
  if (options.ttl === undefined && options.absoluteExpiration === undefined && options.slidingExpiration === undefined) {
    // The default was validated with the options, when the store was built.
    return defaultTtl ? { expiresAt: now + defaultTtl } : NEVER;
  }

  let deadline: number | undefined;
  const ttl = options.ttl === undefined ? 0 : checkDuration(key, 'ttl', options.ttl);
  if (ttl > 0) {
    deadline = checkInstant(key, `ttl ${ttl} ms`, now + ttl, now);
  } else if (options.absoluteExpiration !== undefined) {
    const absolute = options.absoluteExpiration;
    const instant = absolute instanceof Date ? absolute.getTime() : absolute;
    if (typeof instant !== 'number' || Number.isNaN(instant)) {
      throw new InvalidExpirationError(`Cannot cache key "${key}": absoluteExpiration must be a valid Date or epoch ms.`);
    }
    deadline = checkInstant(key, 'absoluteExpiration', instant, now);
  }

  if (options.slidingExpiration === undefined) {
    return deadline === undefined ? NEVER : { expiresAt: deadline };
  }
  const window = checkDuration(key, 'slidingExpiration', options.slidingExpiration);
  if (window === 0) {
    throw new InvalidExpirationError(`Cannot cache key "${key}": slidingExpiration must be more than 0 ms.`);
  }
  const slidingEnd = checkInstant(key, `slidingExpiration ${window} ms`, now + window, now);
  return { expiresAt: Math.min(slidingEnd, deadline ?? slidingEnd), slidingWindow: window, absoluteDeadline: deadline };
}

/**
 * A read renews a sliding entry only once renewing would push its expiry out by at least
 * `renewThreshold` of the window, so that a hot key costs one write per that part of the window,
 * not one write per read as in AWS's .NET provider. Returns the new expiry, or undefined for no write.
 */
export function slidingRenewal(expiration: Expiration, now: number, renewThreshold: number): number | undefined {
  const { expiresAt, slidingWindow, absoluteDeadline } = expiration;
  if (slidingWindow === undefined || expiresAt === undefined) return undefined;
  const renewed = Math.min(now + slidingWindow, absoluteDeadline ?? Number.POSITIVE_INFINITY);
  return renewed - expiresAt >= slidingWindow * renewThreshold && renewed > expiresAt ? renewed : undefined;
}

/**
 * How many windows ahead of a sliding head its chunks are kept. Renewing a head is one small
 * UpdateItem, but renewing its chunks' TTL is one UpdateItem per chunk, each billed on the chunk's
 * size (up to 396 write units a chunk): so chunks are given a TTL this many windows out, and a
 * renewal that would carry the head past it renews the chunks first, once per 9 windows of reads.
 * An orphaned chunk (an overwrite whose clean-up failed) is then deleted within 10 windows.
 */
export const SLIDING_CHUNK_WINDOWS = 10;

/**
 * The instant until which an entry's chunks must be kept: as long as its head may be read. A
 * sliding head is renewed in place, so its chunks keep to its absolute deadline, or to
 * `SLIDING_CHUNK_WINDOWS` windows past its expiry when that comes first (see there).
 */
export function chunksKeptUntil(expiration: Expiration): number | undefined {
  const { expiresAt, slidingWindow, absoluteDeadline, staleUntil } = expiration;
  if (slidingWindow === undefined || expiresAt === undefined) return staleUntil ?? expiresAt;
  return Math.min(absoluteDeadline ?? LATEST_TIME_MS, expiresAt + slidingWindow * (SLIDING_CHUNK_WINDOWS - 1), LATEST_TIME_MS);
}

/** DynamoDB's TTL attribute holds epoch seconds; rounding up never deletes an item before its time. */
export function ttlSecondsFor(expiresAtMs: number): number {
  return Math.ceil(expiresAtMs / 1000);
}

/** Whether an instant (an expiry, a deadline) has come; undefined never does. */
export const isPast = (instant: number | undefined, now: number): boolean => instant !== undefined && instant <= now;

import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import { isPast } from '../store/expiry.js';
import { readPayload } from '../store/value-serializer.js';
import type { CacheCore, ReadResult } from './cache-core.js';
import type { OwedExpiry, OwedKeyChange } from './owed-writes.js';
import { staleAsOf } from './tag-times.js';

// The one rule every read of DynamoDB follows about the changes this instance owes it (see
// AutoRecovery), whichever path reads: `get`, `getOrSet`, `mget`, `getOrSetMany`, `ttl`, `refresh`,
// the keyv view, fail-safe. A change owed for a key (now, or when the read began: `OwedAtStart`)
// made after the item found answers as if it had landed: an owed value, a miss for an owed delete;
// an owed expire leaves the value it applies to (owed, or found) stale, a fallback only. An owed
// value also reads as the tags known now make it: retired, or stale. Nothing of such an answer
// enters memory.

/**
 * What a read goes on with once this instance's owed changes are laid over what DynamoDB returned:
 * `answered` when an owed change newer than what was found answers instead (as if it had landed);
 * else what was found, which DynamoDB's answer stands on (made stale by an owed expire newer than it).
 */
export type OwedView<T> =
  | { readonly answered: ReadResult<T>; readonly found?: undefined }
  | { readonly answered?: undefined; readonly found: CacheEntry<T> | undefined };

/** What a read takes when it begins, so that an owed change that lands while it is in flight still counts. */
export type OwedAtStart = OwedKeyChange<PreparedEntry> | undefined;

type Lifetime = { readonly expiresAt?: number; readonly staleUntil?: number };
type Found = Lifetime & { readonly storedAt?: number };
type OwedSet = Extract<OwedKeyChange<PreparedEntry>, { kind: 'set' }>;

/**
 * What the owed change of `key` leaves of `found` (DynamoDB's item, before any tag check), counting
 * nothing: `found` when DynamoDB's item stands (nothing newer owed); `expired`, that item made stale
 * by an expire owed since; `owed`, an owed value that answers instead; `gone`, nothing (an owed
 * delete, or an owed expire with nothing found).
 */
type Laid<E> =
  | { readonly kind: 'found' | 'expired'; readonly found: E | undefined }
  | { readonly kind: 'owed'; readonly owed: OwedSet }
  | { readonly kind: 'gone' };

function layOwed<E extends Found>(core: CacheCore, key: string, owedAtStart: OwedAtStart, found: E | undefined): Laid<E> {
  const owed = core.recovery?.owedOver(key, owedAtStart, found);
  if (owed === undefined) return { kind: 'found', found };
  if (owed.kind === 'expire' || (found !== undefined && (found.storedAt ?? 0) >= owed.madeAt)) {
    // Only an expire owed since is newer than the item found: that item, stale as of it.
    return found === undefined ? { kind: 'gone' } : { kind: 'expired', found: expiredAsOf(found, owed.expired!) };
  }
  return owed.kind === 'set' ? { kind: 'owed', owed } : { kind: 'gone' };
}

/**
 * A read of DynamoDB that found `found` (with `allowStale`, an entry kept for fail-safe counts); an
 * answer of what is owed is counted and announced as a DynamoDB read's (a hit, a miss).
 */
export function overOwed<T>(
  core: CacheCore,
  key: string,
  owedAtStart: OwedAtStart,
  found: CacheEntry<T> | undefined,
  options: { readonly allowStale: boolean },
): OwedView<T> {
  const view = owedView(core, key, owedAtStart, found, options);
  if (view.answered !== undefined) counted(core, key, view.answered);
  return view;
}

/** As `overOwed`, counting nothing: for the keyv view, whose reads are not the cache's lookups. */
export function owedView<T>(
  core: CacheCore,
  key: string,
  owedAtStart: OwedAtStart,
  found: CacheEntry<T> | undefined,
  { allowStale }: { readonly allowStale: boolean },
): OwedView<T> {
  const laid = layOwed(core, key, owedAtStart, found);
  if (laid.kind === 'found' || (laid.kind === 'expired' && allowStale)) return { found: laid.found };
  return { answered: laid.kind === 'owed' ? answerOwedValue<T>(core, laid.owed, { allowStale }) : MISS };
}

/**
 * A read that could not reach DynamoDB (circuit open, or the call failed): a value this instance
 * owes it still answers, the latest write it acknowledged, as memory answers it while it keeps it
 * (and with the memory tier off, or once memory let it go, as well); undefined otherwise: the read failed.
 */
export function owedWithoutRead<T>(
  core: CacheCore,
  key: string,
  owedAtStart: OwedAtStart,
  { allowStale }: { readonly allowStale: boolean },
): ReadResult<T> | undefined {
  const laid = layOwed(core, key, owedAtStart, undefined);
  return laid.kind === 'owed' ? counted(core, key, answerOwedValue<T>(core, laid.owed, { allowStale })) : undefined;
}

/**
 * For `refresh`, which renews without reading the value and counts no lookup: whether what is owed
 * for `key`, laid over the item found (its made-at; undefined: none live, or none read), leaves a
 * live value; undefined when nothing owed is newer, and DynamoDB's item stands.
 */
export function owedLive(core: CacheCore, key: string, owedAtStart: OwedAtStart, found: Found | undefined): boolean | undefined {
  const laid = layOwed(core, key, owedAtStart, found);
  if (laid.kind === 'found') return undefined;
  const lifetime = laid.kind === 'owed' ? owedLifetime(core, laid.owed) : undefined;
  return lifetime !== undefined && !isPast(lifetime.expiresAt, Date.now());
}

/** An owed value as a read answers it: a hit, stale (`allowStale`), or a miss. */
function answerOwedValue<T>(core: CacheCore, owed: OwedSet, { allowStale }: { readonly allowStale: boolean }): ReadResult<T> {
  const lifetime = owedLifetime(core, owed);
  const now = Date.now();
  if (lifetime !== undefined && !isPast(lifetime.expiresAt, now))
    return { kind: 'hit', value: readPayload(owed.entry.payload) as T, expiresAt: lifetime.expiresAt };
  if (lifetime === undefined || !allowStale || isPast(lifetime.staleUntil, now)) return MISS;
  const { tags, madeAt } = owed;
  return { kind: 'stale', value: readPayload(owed.entry.payload) as T, ...lifetime, tags, madeAt };
}

/** Counts and announces an answer as a DynamoDB read's: a stale one is a miss unless it is served (then counted as stale). */
function counted<T>(core: CacheCore, key: string, answer: ReadResult<T>): ReadResult<T> {
  if (answer.kind === 'miss') return core.missed(key);
  if (answer.kind === 'stale') core.lookups.dynamodbMisses++;
  else if (answer.kind === 'hit') {
    core.lookups.dynamodbHits++;
    core.events.emitCache('cache:hit', key, 'dynamodb');
  }
  return answer;
}

const MISS: ReadResult<never> = Object.freeze({ kind: 'miss' });

/** An owed value's life as a read would find it once landed; undefined when an invalidation known now retires it. */
function owedLifetime(core: CacheCore, owed: OwedSet): Lifetime | undefined {
  if (core.tags.retires(owed.madeAt, owed.tags)) return undefined;
  const { expiresAt, staleUntil } = owed.entry.expiration;
  let lifetime: Lifetime = { expiresAt, staleUntil };
  if (owed.expired !== undefined) lifetime = expiredAsOf(lifetime, owed.expired);
  const expiredByTag = core.tags.expiredAt(owed.madeAt, owed.tags);
  return expiredByTag === undefined ? lifetime : staleAsOf(lifetime, expiredByTag);
}

/** An entry as `expire` (`expireItem`) leaves it: stale from `at` and kept until `keepUntil`, unless past its expiry by then. */
function expiredAsOf<E extends Lifetime>(entry: E, { at, keepUntil }: OwedExpiry): E {
  return isPast(entry.expiresAt, at) ? entry : { ...entry, expiresAt: at, staleUntil: keepUntil };
}

import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import { isPast } from '../store/expiry.js';
import { readPayload } from '../store/value-serializer.js';
import type { CacheCore, ReadResult } from './cache-core.js';
import type { OwedExpiry, OwedKeyChange } from './owed-writes.js';
import { staleAsOf } from './tag-times.js';

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

/**
 * The one rule every read of DynamoDB follows about the changes this instance owes it (see
 * AutoRecovery): `get`, `getOrSet`, `mget`, `getOrSetMany`, `ttl`, `refresh` and the keyv view. A
 * change owed for `key` (now, or when the read began: `owedAtStart`) made after the item `found`
 * answers as if it had landed: an owed value, a miss for an owed delete; an owed expire leaves the
 * value it applies to (owed, or found) stale, a fallback only (`allowStale`). An owed value also
 * reads as the tags known now make it: retired, or stale. Nothing of such an answer enters memory.
 * `found`: what DynamoDB returned, before any tag check.
 */
export function overOwed<T>(
  core: CacheCore,
  key: string,
  owedAtStart: OwedAtStart,
  found: CacheEntry<T> | undefined,
  { allowStale }: { readonly allowStale: boolean },
): OwedView<T> {
  const owed = core.recovery?.owedOver(key, owedAtStart, found);
  if (owed === undefined) return { found };
  if (owed.kind === 'expire' || (found !== undefined && (found.storedAt ?? 0) >= owed.madeAt)) {
    // Only an expire owed since is newer than the item found: that item, stale as of it.
    const stale = found && expiredAsOf(found, owed.expired!);
    return allowStale && stale !== undefined ? { found: stale } : { answered: core.missed(key) };
  }
  // An owed delete: nothing.
  if (owed.kind !== 'set') return { answered: core.missed(key) };
  const value = owedValue<T>(core, owed);
  const now = Date.now();
  if (value !== undefined && !isPast(value.expiresAt, now)) {
    core.lookups.dynamodbHits++;
    core.events.emitCache('cache:hit', key, 'dynamodb');
    return { answered: { kind: 'hit', value: value.value, expiresAt: value.expiresAt } };
  }
  if (value === undefined || !allowStale || isPast(value.staleUntil, now)) return { answered: core.missed(key) };
  // Kept only for fail-safe: a miss unless it is served, as a stale item read from DynamoDB.
  core.lookups.dynamodbMisses++;
  const { tags, madeAt } = owed;
  return { answered: { kind: 'stale', value: value.value, expiresAt: value.expiresAt, staleUntil: value.staleUntil, tags, madeAt } };
}

/** An owed value as a read would find it once landed; undefined when an invalidation known now retires it. */
function owedValue<T>(core: CacheCore, owed: Extract<OwedKeyChange<PreparedEntry>, { kind: 'set' }>) {
  if (core.tags.retires(owed.madeAt, owed.tags)) return undefined;
  const { expiresAt, staleUntil } = owed.entry.expiration;
  let lifetime: Lifetime = { expiresAt, staleUntil };
  if (owed.expired !== undefined) lifetime = expiredAsOf(lifetime, owed.expired);
  const expiredByTag = core.tags.expiredAt(owed.madeAt, owed.tags);
  if (expiredByTag !== undefined) lifetime = staleAsOf(lifetime, expiredByTag);
  return { value: readPayload(owed.entry.payload) as T, ...lifetime };
}

/** An entry as `expire` (`expireItem`) leaves it: stale from `at` and kept until `keepUntil`, unless past its expiry by then. */
function expiredAsOf<E extends Lifetime>(entry: E, { at, keepUntil }: OwedExpiry): E {
  return isPast(entry.expiresAt, at) ? entry : { ...entry, expiresAt: at, staleUntil: keepUntil };
}

import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import { isPast } from '../store/expiry.js';
import { readPayload } from '../store/value-serializer.js';
import type { CacheCore, ReadResult } from './cache-core.js';
import type { OwedKeyChange } from './owed-writes.js';

/**
 * What a read goes on with once this instance's owed changes are laid over what DynamoDB returned:
 * `answered` when an owed change newer than what was found answers instead (as if it had landed);
 * else what was found, which DynamoDB's answer stands on.
 */
export type OwedView<T> =
  | { readonly answered: ReadResult<T>; readonly found?: undefined }
  | { readonly answered?: undefined; readonly found: CacheEntry<T> | undefined };

/** What a read takes when it begins, so that an owed change that lands while it is in flight still counts. */
export type OwedAtStart = OwedKeyChange<PreparedEntry> | undefined;

/**
 * The one rule every read of DynamoDB follows about the changes this instance owes it (see
 * AutoRecovery): `get`, `getOrSet`, `mget`, `getOrSetMany`, `ttl`, `refresh` and the keyv view. A change owed for
 * `key` (now, or when the read began: `owedAtStart`) made after the item `found` answers as if it
 * had landed: an owed value (unless it expired, or an invalidation known since retired it), or a
 * miss for an owed delete. Nothing of such an answer enters memory. `found`: what DynamoDB returned,
 * before any tag check.
 */
export function overOwed<T>(core: CacheCore, key: string, owedAtStart: OwedAtStart, found: CacheEntry<T> | undefined): OwedView<T> {
  const owed = core.recovery?.owedOver(key, owedAtStart, found);
  if (owed === undefined) return { found };
  const value = owed.kind === 'set' && !core.tags.retires(owed.madeAt, owed.tags) ? owedEntry<T>(owed) : undefined;
  if (value === undefined || isPast(value.expiresAt, Date.now())) return { answered: core.missed(key) };
  core.lookups.dynamodbHits++;
  core.events.emitCache('cache:hit', key, 'dynamodb');
  return { answered: { kind: 'hit', value: value.value, expiresAt: value.expiresAt } };
}

/** An owed value as a read would find it once landed. */
function owedEntry<T>(owed: Extract<OwedKeyChange<PreparedEntry>, { kind: 'set' }>): { value: T; expiresAt?: number } {
  return { value: readPayload(owed.entry.payload) as T, expiresAt: owed.entry.expiration.expiresAt };
}

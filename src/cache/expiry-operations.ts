import { assertValidKey } from '../store/keys.js';
import { expiredTagKey, stamp } from '../store/tags.js';
import { type CacheCore, checkedTags } from './cache-core.js';

// Soft expiry (bentocache's `expire`, FusionCache's `Expire`): an entry made stale, not gone, so
// that the next get-or-set recomputes it while fail-safe may still serve it if the factory fails.

/**
 * `DynamoCache.expire`: one UpdateItem moving the entry's expiry to now and keeping it as a fallback
 * for the cache's `failSafeMaxDuration` (as a fail-safe write keeps a value past its expiry). This
 * instance's memory keeps its copy only as a fallback at once; other instances learn of it as of any
 * write of the key. One that DynamoDB could not take is owed (auto-recovery) as a `set` is: sent once
 * it answers, landing only on an item made before it, and this instance's reads answer as if it had.
 * Resolves to whether a live entry was there; true for an owed one (acknowledged, as `del`'s), false
 * when DynamoDB could not be told and nothing is owed.
 */
export async function expireOne(core: CacheCore, key: string): Promise<boolean> {
  assertValidKey(key);
  // The clock, not a stamp, which may run a fraction of a millisecond ahead of it: a read in this very
  // millisecond must find the entry past its expiry.
  const now = Date.now();
  const keepUntil = now + core.config.defaults.failSafeMaxDurationMs;
  // Marked before the call and again once it landed: a read begun meanwhile may have fetched the live item.
  core.gated.expireKey(key, keepUntil);
  // What it expires, when owed: the items made before this stamp.
  const expiry = { madeAt: stamp(), at: now, keepUntil };
  const outcome = await core.distributed.attempt('expire', key, () => core.store.expireEntry(key, now, keepUntil));
  core.gated.expireKey(key, keepUntil);
  if (!outcome.ok) return core.recovery?.oweExpiry(key, expiry) ?? false;
  core.recovery?.expiryLanded(key, expiry);
  return outcome.value;
}

/**
 * `DynamoCache.expireByTag`: one write per tag, the tag item's expired-at time beside its
 * invalidation time (`deleteByTag`'s), read with it at no extra call; entries made at or before it
 * read as stale: a miss for `get`, a fallback for fail-safe. One DynamoDB could not take is owed
 * (auto-recovery) as an invalidation is, and resolves to true; false when it could not be told and
 * nothing is owed.
 */
export async function expireTagged(core: CacheCore, tags: string | readonly string[]): Promise<boolean> {
  const checked = checkedTags(tags, 'expireByTag');
  if (checked.length === 0) return true;
  const at = stamp();
  core.gated.expireTagged(checked, at);
  const shown = checked.map((tag) => `tag ${tag}`);
  const outcome = await core.distributed.attempt('expireTags', shown, () => core.store.writeTagExpiries(checked, at));
  // Known here only once DynamoDB holds it or owes it, as an invalidation is (see TagInvalidation.invalidate).
  if (!outcome.ok && !(core.recovery?.oweTagExpiry(checked, at) ?? false)) return false;
  core.tags.record(
    checked.map((tag) => expiredTagKey(tag)),
    at,
    Date.now(),
  );
  core.gated.expireTagged(checked, at);
  return true;
}

import { InvalidCacheKeyError } from '../store/errors.js';
import { assertValidKey } from '../store/keys.js';
import { CLEARED_TAG, type CurrentCheck, stamp } from '../store/tags.js';
import { type CacheCore, checkedTags } from './cache-core.js';
import type { CacheEvents } from './cache-events.js';
import type { Outcome } from './distributed-tier.js';
import { isFreshHit } from './memory-hits.js';
import { overOwed, owedLive, owedWithoutRead } from './owed-reads.js';
import { type MemoryEntry, memoryValue } from './memory-tier.js';

// cache-manager's operations on keys, past the facade's memory hits: one handler each.

/** `get` once memory has no fresh hit: DynamoDB, else what memory held through an outage. A bad key rejects. */
export async function getPastMemory<T>(
  core: CacheCore,
  key: string,
  remembered: MemoryEntry | undefined,
  now: number,
): Promise<T | undefined> {
  // Only a valid key is ever kept in memory, so the check costs nothing on a hit.
  assertValidKey(key);
  const read = await core.readThrough<T>(key, { allowStale: false });
  if (read.kind === 'hit') return announceGet(core.events, key, read.value);
  // What memory held when the get began still serves through an outage, unless something retired it since.
  const stillHeld = remembered !== undefined && core.memory?.held(key) === remembered;
  if (read.kind === 'failed' && stillHeld && (remembered.expiresAt === undefined || now < remembered.expiresAt)) {
    core.lookups.memoryStale++;
    core.events.emitCache('cache:stale', key, 'memory');
    return memoryValue<T>(remembered);
  }
  return announceGet(core.events, key, undefined);
}

/** cache-manager's `get` event, for listeners of it. */
export function announceGet<T>(events: CacheEvents, key: string, value: T | undefined): T | undefined {
  // Checked here, so that a hit nobody listens to does not even allocate the payload's closure.
  if (events.heard) events.emitIfHeard('get', () => ({ key, value }));
  return value;
}

/** cache-manager's `mget`: memory first, then one batch read of DynamoDB for the keys memory lacks. */
export async function getMany<T>(core: CacheCore, keys: string[]): Promise<Array<T | undefined>> {
  assertKeys(keys, 'mget');
  const { memory, distributed, events, lookups } = core;
  const now = Date.now();
  const values = new Array<T | undefined>(keys.length);
  const missing: number[] = [];
  keys.forEach((key, index) => {
    const remembered = memory?.get(key, now);
    if (remembered !== undefined && isFreshHit(memory!, remembered, now)) {
      values[index] = memoryValue<T>(remembered);
      lookups.memoryHits++;
    } else {
      if (memory !== undefined) lookups.memoryMisses++;
      missing.push(index);
    }
  });
  if (missing.length > 0) {
    const missingKeys = missing.map((index) => keys[index]!);
    const startedAt = stamp();
    const owedAtStart = missingKeys.map((key) => core.recovery?.owedFor(key));
    const clearedAtKnown = core.invalidation.knowClearedAt(startedAt);
    const outcome = await distributed.attempt('mget', missingKeys, () => core.store.getManyEntries<T>(missingKeys));
    // Not needed if it failed: withoutRetired reads it again, reporting a failure.
    await clearedAtKnown;
    // Compared with what DynamoDB returned, retired or not: a newer change owed answers instead (as for get).
    const owedOnly = { allowStale: false };
    const views = outcome.ok
      ? outcome.value.map((found, at) => overOwed<T>(core, missingKeys[at]!, owedAtStart[at], found, owedOnly))
      : undefined;
    const entries =
      views &&
      (await core.invalidation.withoutRetired(
        views.map((view) => view.found),
        startedAt,
      ));
    missingKeys.forEach((key, at) => {
      // DynamoDB could not be read: a value this instance owes it still answers.
      const answered = views === undefined ? owedWithoutRead<T>(core, key, owedAtStart[at], owedOnly) : views[at]!.answered;
      if (answered !== undefined) values[missing[at]!] = answered.kind === 'hit' ? answered.value : undefined;
      else if (entries !== undefined) {
        const entry = entries[at];
        if (entry === undefined) lookups.dynamodbMisses++;
        else lookups.dynamodbHits++;
        values[missing[at]!] = entry && core.gated.remember(key, entry, startedAt);
      }
    });
  }
  events.emitIfHeard('mget', () => ({ keys, value: values }));
  return values;
}

/** cache-manager's `mset`: every entry checked first, one bad entry writes nothing. */
export async function setMany<T>(
  core: CacheCore,
  list: Array<{ key: string; value: T; ttl?: number }>,
): Promise<Array<{ key: string; value: T; ttl?: number }>> {
  if (!Array.isArray(list)) throw new InvalidCacheKeyError(`mset expects an array of { key, value, ttl? }, got ${typeof list}.`);
  const { defaults } = core.config;
  const prepared = list.map((entry) => core.prepare(entry?.key, entry?.value, entry?.ttl, defaults));
  const keys = prepared.map((entry) => entry.key);
  // Retired before the call: a failure part-way leaves DynamoDB holding some new values and some
  // old, and memory must not answer for either.
  core.gated.retireKeys(keys);
  const sentAt = stamp();
  const outcome = await core.distributed.attempt('mset', keys, () => core.store.putEntries(prepared));
  // An mset DynamoDB could not take is owed to it (auto-recovery) and, as `set`, answered from memory meanwhile.
  if (outcome.ok || core.recovery !== undefined) for (const entry of prepared) core.gated.keepLanded(entry, sentAt);
  for (const entry of prepared)
    if (!outcome.ok) core.recovery?.oweWrite(entry);
    else core.recovery?.settled([entry.key], entry.storedAt);
  core.events.emitIfHeard('mset', () => ({ list }));
  return list;
}

/** `DynamoCache.ttl`. */
export async function expiryOf(core: CacheCore, key: string): Promise<number | undefined> {
  assertValidKey(key);
  // A read of the store that asks no memory tier: a memory-only cache counts it as a lookup (see LookupCounters).
  core.lookups.storeReadsPastMemory++;
  const read = await core.readThrough(key, { allowStale: false });
  return read.kind === 'hit' ? read.expiresAt : undefined;
}

// Deletes and invalidations resolve as `set` does through an outage: an acknowledged change (landed,
// or owed to DynamoDB by auto-recovery) answers true, false only when it is not kept at all. Events
// announce only what DynamoDB did: an owed change's come from no one (as an owed set's).

/** `DynamoCache.del`: whether the key held an entry; true for an owed delete (it is not known yet). */
export async function deleteOne(core: CacheCore, key: string): Promise<boolean> {
  assertValidKey(key);
  // Retired before the call and again once it landed: a read begun meanwhile may have fetched the old item.
  core.gated.retireKeys([key]);
  const at = stamp();
  const outcome = await core.distributed.attempt('del', key, () => core.store.delete(key));
  core.gated.retireKeys([key]);
  const acknowledged = owedOrSettled(core, [key], at, outcome);
  if (!outcome.ok) return acknowledged;
  core.events.emitCache('cache:delete', key);
  core.events.emitIfHeard('del', () => ({ key }));
  return outcome.value;
}

/** cache-manager's `mdel`: true once the deletes are acknowledged (landed or owed). */
export async function deleteMany(core: CacheCore, keys: string[]): Promise<boolean> {
  assertKeys(keys, 'mdel');
  // Retired before the call and again once it landed: a read begun meanwhile may have fetched the old items.
  core.gated.retireKeys(keys);
  const at = stamp();
  const outcome = await core.distributed.attempt('mdel', keys, () => core.store.deleteKeys(keys));
  core.gated.retireKeys(keys);
  const acknowledged = owedOrSettled(core, keys, at, outcome);
  if (!outcome.ok) return acknowledged;
  for (const key of keys) core.events.emitCache('cache:delete', key);
  core.events.emitIfHeard('mdel', () => ({ keys }));
  return true;
}

/** `DynamoCache.clear`: the cache's own cleared-at time, one write. */
export async function clearAll(core: CacheCore): Promise<boolean> {
  const outcome = await core.invalidation.invalidate([CLEARED_TAG]);
  if (outcome === 'landed') {
    core.events.emitCache('cache:clear', undefined);
    core.events.emitIfHeard('clear', () => ({}));
  }
  return outcome !== 'failed';
}

/** `DynamoCache.deleteByTag`: one write per tag. */
export async function deleteTagged(core: CacheCore, tags: string | readonly string[]): Promise<boolean> {
  const checked = checkedTags(tags, 'deleteByTag');
  if (checked.length === 0) return true;
  const outcome = await core.invalidation.invalidate(checked);
  if (outcome === 'landed') for (const tag of checked) core.events.emitCache('cache:delete', `#tag:${tag}`);
  return outcome !== 'failed';
}

/**
 * `DynamoCache.refresh`: a sliding entry renewed only while a read would find it live: not once an
 * invalidation retired it, nor once `expireByTag` made it stale (or its tags could not be read).
 * (`expire(key)` moves the item's own expiry, which the store's read sees.) What this instance owes
 * DynamoDB answers as for a read (owed-reads.ts), and the older item it replaces is not renewed.
 */
export async function renew(core: CacheCore, key: string): Promise<boolean> {
  assertValidKey(key);
  const { invalidation, distributed } = core;
  const startedAt = Date.now();
  const owedAtStart = core.recovery?.owedFor(key);
  const clearedAtKnown = invalidation.knowClearedAt(startedAt);
  // The item the store found live, if it asked: one older than a change this instance owes is not renewed.
  let found: { readonly storedAt?: number } | undefined;
  const isLiveEntry: CurrentCheck = async (made) => {
    found = made;
    return owedLive(core, key, owedAtStart, made) === undefined && invalidation.isLive(made, startedAt);
  };
  const outcome = await distributed.attempt('refresh', key, () => core.store.refresh(key, isLiveEntry));
  await clearedAtKnown;
  if (outcome.ok && outcome.value) return true;
  // Nothing renewed: what this instance owes answers, as for a read (a value it owes is live until it expires).
  return owedLive(core, key, owedAtStart, found) ?? false;
}

/**
 * A delete made at `at`: one that landed settles what was owed before it; one DynamoDB could not take
 * is owed (with auto-recovery). Answers whether it is acknowledged: landed, or owed.
 */
function owedOrSettled(core: CacheCore, keys: readonly string[], at: number, outcome: Outcome<unknown>): boolean {
  if (!outcome.ok) return core.recovery?.oweDeletes(keys, at) ?? false;
  core.recovery?.settled(keys, at);
  return true;
}

function assertKeys(keys: readonly string[], method: string): void {
  if (!Array.isArray(keys)) throw new InvalidCacheKeyError(`${method} expects an array of keys, got ${typeof keys}.`);
  for (const key of keys) assertValidKey(key);
}

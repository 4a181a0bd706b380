import { assertValidKey } from '../store/keys.js';
import type { CacheCore } from './cache-core.js';
import { type MemoryEntry, type MemoryTier, memoryValue } from './memory-tier.js';

/** A fail-safe value served for its throttle is fresh in memory but past its own expiry: not a hit for get. */
export function isFreshHit(memory: MemoryTier, remembered: MemoryEntry, now: number): boolean {
  return memory.isFresh(remembered, now) && (remembered.expiresAt === undefined || now < remembered.expiresAt);
}

/**
 * The value memory holds fresh for `key`, counted and announced as a hit; undefined, uncounted, when
 * it holds none (the caller counts the miss, once per lookup). A bad key throws.
 */
export function peekHit<T>(core: CacheCore, key: string): T | undefined {
  const now = Date.now();
  const memory = core.memory;
  const remembered = memory?.get(key, now);
  if (remembered === undefined || !isFreshHit(memory!, remembered, now)) {
    assertValidKey(key);
    return undefined;
  }
  core.lookups.memoryHits++;
  core.events.emitCache('cache:hit', key, 'memory');
  return memoryValue<T>(remembered);
}

/** Counts and announces get-or-set's answer from memory: a hit, or a stale answer during a fail-safe throttle. */
export function announceMemoryHit(core: CacheCore, key: string, remembered: MemoryEntry, now: number): void {
  // A fail-safe value served during its throttle is past its own expiry: a stale answer, not a hit.
  const stale = remembered.expiresAt !== undefined && remembered.expiresAt <= now;
  if (stale) core.lookups.memoryStale++;
  else core.lookups.memoryHits++;
  if (!core.events.heard) return;
  core.events.emitCache(stale ? 'cache:stale' : 'cache:hit', key, 'memory');
}

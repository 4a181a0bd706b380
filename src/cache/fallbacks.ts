import { stamp } from '../store/tags.js';
import type { CacheCore, Fallback, ReadResult, Resolved } from './cache-core.js';
import { type MemoryEntry, memoryValue } from './memory-tier.js';

// Fail-safe's fallbacks: what a get-or-set may serve when its factory or loader fails, and the checks
// that keep it from serving one a change retired since it was found.

/** A read's stale answer (past its expiry, kept for fail-safe) as the fallback of a get-or-set begun at `foundAt`. */
export function staleFallback<T>(read: Extract<ReadResult<T>, { readonly kind: 'stale' }>, foundAt: number): Fallback<T> {
  const { value, expiresAt, staleUntil, tags, madeAt } = read;
  return { value, expiresAt, staleUntil, tags, madeAt, foundAt, tier: 'dynamodb' };
}

export function rememberedFallback<T>(entry: MemoryEntry, foundAt: number): Fallback<T> {
  const { expiresAt, keepUntil: staleUntil, tags, madeAt } = entry;
  return { value: memoryValue<T>(entry), expiresAt, staleUntil, tags, madeAt, foundAt, tier: 'memory' };
}

/**
 * Serves a fallback, unless something retired it since it was found (undefined then: the caller
 * fails as it would without one); with a throttle, keeps serving it from memory for that long
 * before the factory is tried again.
 */
export function serveStale<T>(core: CacheCore, key: string, fallback: Fallback<T>, throttleMs?: number): Resolved<T> | undefined {
  if (!core.gated.servable(key, fallback)) return undefined;
  if (throttleMs !== undefined && throttleMs > 0)
    core.gated.throttle(key, fallback, throttleMs, (value) => core.store.prepareEntry(key, value, 0).payload);
  core.lookups.stale(fallback.tier);
  core.events.emitCache('cache:stale', key, fallback.tier);
  return { value: fallback.value, expiresAt: fallback.expiresAt };
}

/**
 * As `serveStale`, after a failed factory or loader, which may wait for one more read: a fallback that
 * only backplane news retired since it was found is read again from DynamoDB. News cannot say whether
 * the change was a delete or an expiry (`expire`, `expireByTag`), nor whether it is this instance's
 * own coming back through the stream; DynamoDB can: the value still there, stale, is served; a live
 * one is answered as a hit; none (deleted), or no answer, serves nothing.
 */
export async function serveStaleChecked<T>(
  core: CacheCore,
  key: string,
  fallback: Fallback<T>,
  throttleMs?: number,
): Promise<Resolved<T> | undefined> {
  let found = fallback;
  // News may come while DynamoDB is read again (a stream's record of the same change, late): a few reads.
  for (let reads = 0; reads < QUESTIONED_READS; reads++) {
    const served = serveStale(core, key, found, throttleMs);
    if (served !== undefined || !core.gated.questioned(key, found)) return served;
    const foundAt = stamp();
    const read = await core.readThrough<T>(key, { allowStale: true });
    if (read.kind === 'hit') return read;
    if (read.kind !== 'stale') return undefined;
    found = staleFallback(read, foundAt);
  }
  return serveStale(core, key, found, throttleMs);
}

/** How many times a questioned fallback is read again before fail-safe gives it up. */
const QUESTIONED_READS = 3;

import type { DynamoStore } from '../store/dynamo-store.js';
import type { EntryOptions } from '../store/expiry.js';
import { sleep } from '../store/retry.js';
import type { CacheEvents } from './cache-events.js';
import type { ResolvedCallOptions } from './cache-options.js';
import type { DistributedTier } from './distributed-tier.js';
import { FactoryTimeoutError } from './errors.js';
import { type Factory, FactoryRun, raceTimeouts } from './factory-run.js';
import { type MemoryEntry, type MemoryTier, memoryValue } from './memory-tier.js';

export type Ttl<T> = number | EntryOptions | ((value: T) => number | EntryOptions) | undefined;

/** What a read of DynamoDB (through the memory tier) came to. */
export type ReadResult<T> =
  | { readonly kind: 'hit'; readonly value: T; readonly expiresAt?: number }
  | { readonly kind: 'stale'; readonly value: T; readonly expiresAt?: number; readonly staleUntil?: number }
  | { readonly kind: 'miss' }
  | { readonly kind: 'failed' };

/** A value with the instant it expires, as get-or-set resolves. */
export interface Resolved<T> {
  readonly value: T;
  readonly expiresAt?: number;
}

/** The parts of a cache that get-or-set works with. */
export interface CacheInternals {
  readonly name: string;
  readonly store: DynamoStore;
  readonly memory: MemoryTier | undefined;
  readonly distributed: DistributedTier;
  readonly events: CacheEvents;
  readonly ownerId: string;
  readThrough<T>(key: string, allowStale: boolean): Promise<ReadResult<T>>;
  write<T>(key: string, value: T, ttl: number | EntryOptions | undefined, call: ResolvedCallOptions): Promise<Resolved<T>>;
  coalesce<R>(key: string, work: () => Promise<R>): Promise<R>;
  report(error: unknown, operation: string): void;
}

type Fallback<T> = { readonly value: T; readonly expiresAt?: number; readonly staleUntil?: number; readonly tier: 'memory' | 'dynamodb' };

const isLive = (expiresAt: number | undefined, now: number) => expiresAt === undefined || now < expiresAt;

/**
 * A miss in memory, for one key of one process at a time (callers are coalesced before this):
 * read DynamoDB; on a miss, run the factory (under the distributed lock if asked), store its result
 * and return it. Fail-safe, when on, serves the last known value if the factory fails or times out.
 */
export async function loadOrCompute<T>(
  cache: CacheInternals,
  key: string,
  factory: Factory<T>,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
  remembered: MemoryEntry | undefined,
): Promise<Resolved<T>> {
  const read = await cache.readThrough<T>(key, call.failSafe);
  if (read.kind === 'hit') return read;
  const now = Date.now();
  let fallback: Fallback<T> | undefined;
  if (read.kind === 'stale') fallback = { ...read, tier: 'dynamodb' };
  else if (read.kind === 'failed' && remembered !== undefined) {
    // DynamoDB cannot answer: what this instance last knew still serves, within its own expiry.
    if (isLive(remembered.expiresAt, now)) return serveStale(cache, key, rememberedFallback<T>(remembered));
    if (call.failSafe) fallback = rememberedFallback<T>(remembered);
  }

  let leaseHeld = false;
  if (call.lock !== undefined && read.kind !== 'failed') {
    const waited = await takeLeaseOrWait<T>(cache, key, call.lock);
    if (waited.found) return waited.found;
    leaseHeld = waited.holder;
  }
  const releaseLease = () => {
    if (leaseHeld) void cache.distributed.attempt('unlock', key, () => cache.store.releaseLease(key, cache.ownerId));
    leaseHeld = false;
  };

  const run = new FactoryRun<T>(key, fallback?.value, fallback !== undefined);
  const running = Promise.resolve().then(() => factory(run));
  let outcome;
  try {
    outcome = await raceTimeouts(running, call.softTimeoutMs, call.hardTimeoutMs, fallback !== undefined);
  } catch (error) {
    releaseLease();
    if (!call.failSafe || fallback === undefined) throw error;
    cache.report(error, `factory of "${key}"`);
    return serveStale(cache, key, fallback, call.failSafeThrottleMs);
  }
  if (outcome.kind === 'value') {
    try {
      return await storeResult(cache, key, outcome.value, run, ttl, call);
    } finally {
      releaseLease();
    }
  }
  // Timed out: the factory goes on, and its result is stored when it comes.
  void running
    .then((value) => storeResult(cache, key, value, run, ttl, call))
    .catch((error: unknown) => cache.report(error, `factory of "${key}" (finished after its timeout)`))
    .finally(releaseLease);
  if (fallback !== undefined) return serveStale(cache, key, fallback);
  throw new FactoryTimeoutError(cache.name, key, call.hardTimeoutMs!);
}

/** Runs the factory in the background for a hit near its expiry; concurrent hits start it once. */
export function refreshInBackground<T>(cache: CacheInternals, key: string, factory: Factory<T>, ttl: Ttl<T>, call: ResolvedCallOptions, current: T): void {
  void cache.coalesce(`\u0000refresh:${key}`, async () => {
    const run = new FactoryRun<T>(key, undefined, false);
    try {
      const value = await factory(run);
      await storeResult(cache, key, value, run, ttl, call);
      cache.events.emitCache('cache:refresh', key);
      cache.events.emitIfHeard('refresh', () => ({ key, value }));
    } catch (error) {
      cache.events.emitIfHeard('refresh', () => ({ key, value: current, error }));
      cache.report(error, `background refresh of "${key}"`);
    }
  });
}

async function storeResult<T>(cache: CacheInternals, key: string, value: T, run: FactoryRun<T>, ttl: Ttl<T>, call: ResolvedCallOptions): Promise<Resolved<T>> {
  // undefined has no stored form: it is "nothing found", returned as such and never cached.
  if (run.skipped || value === undefined) return { value };
  const resolvedTtl = run.ttlOverride ?? (typeof ttl === 'function' ? ttl(value) : ttl);
  return cache.write(key, value, resolvedTtl, call);
}

function rememberedFallback<T>(entry: MemoryEntry): Fallback<T> {
  return { value: memoryValue<T>(entry), expiresAt: entry.expiresAt, staleUntil: entry.keepUntil, tier: 'memory' };
}

/** Serves a fallback; with a throttle, keeps serving it from memory for that long before the factory is tried again. */
function serveStale<T>(cache: CacheInternals, key: string, fallback: Fallback<T>, throttleMs?: number): Resolved<T> {
  if (throttleMs !== undefined && throttleMs > 0 && cache.memory !== undefined) {
    const now = Date.now();
    const entry = cache.store.prepareEntry(key, fallback.value, 0);
    cache.memory.set(key, entry.payload, undefined, { expiresAt: fallback.expiresAt, keepUntil: fallback.staleUntil, freshUntil: now + throttleMs }, now);
  }
  cache.events.emitCache('cache:stale', key, fallback.tier);
  return { value: fallback.value, expiresAt: fallback.expiresAt };
}

/**
 * Takes the key's lease, or, while another instance holds it, polls DynamoDB for the value that
 * instance is computing, with backoff. Gives up waiting after `waitMs` (the holder may have died
 * and its lease not yet expired) and runs the factory without the lease.
 */
async function takeLeaseOrWait<T>(
  cache: CacheInternals,
  key: string,
  lock: { leaseMs: number; waitMs: number },
): Promise<{ holder: boolean; found?: Resolved<T> }> {
  const deadline = Date.now() + lock.waitMs;
  let delay = 20;
  for (let waited = false; ; waited = true) {
    const taken = await cache.distributed.attempt('lock', key, () => cache.store.acquireLease(key, cache.ownerId, lock.leaseMs));
    if (!taken.ok) return { holder: false };
    if (taken.value) {
      if (!waited) return { holder: true };
      // The holder may have stored its value and released the lease just now.
      const read = await cache.readThrough<T>(key, false);
      if (read.kind === 'hit') {
        void cache.distributed.attempt('unlock', key, () => cache.store.releaseLease(key, cache.ownerId));
        return { holder: false, found: read };
      }
      return { holder: true };
    }
    const read = await cache.readThrough<T>(key, false);
    if (read.kind === 'hit') return { holder: false, found: read };
    if (Date.now() + delay > deadline) return { holder: false };
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

import type { EntryOptions } from '../store/expiry.js';
import { sleep } from '../store/retry.js';
import type { CacheCore, Fallback, Resolved } from './cache-core.js';
import { rememberedFallback, serveStale, serveStaleChecked, staleFallback } from './fallbacks.js';
import type { Flight } from './flights.js';
import type { ResolvedCallOptions } from './cache-options.js';
import { FactoryTimeoutError, MissingLoadedValueError, TtlFunctionError } from './errors.js';
import { computeWithin, waitOn } from './factory-cycles.js';
import { type Factory, FactoryRun, raceTimeouts, runFactory } from './factory-run.js';
import type { MemoryEntry } from './memory-tier.js';
import { stamp } from '../store/tags.js';

export type Ttl<T> = number | EntryOptions | ((value: T) => number | EntryOptions) | undefined;

const isLive = (expiresAt: number | undefined, now: number) => expiresAt === undefined || now < expiresAt;

/**
 * A get-or-set's ttl for `value`, the one place a `ttl` function is called (getOrSet, wrap, eager
 * refresh, getOrSetMany): one that throws is the caller's bad input, a TtlFunctionError naming the
 * cache and the key, before anything is written.
 */
export function ttlFor<T>(core: CacheCore, key: string, ttl: Ttl<T>, value: T): number | EntryOptions | undefined {
  if (typeof ttl !== 'function') return ttl;
  try {
    return ttl(value);
  } catch (error) {
    throw new TtlFunctionError(core.config.name, key, error);
  }
}

/**
 * A miss in memory: joins this process's flight for the key, or starts one that reads DynamoDB and,
 * on a miss, runs the factory. A caller that joins is bound by its own timeouts, not the starter's,
 * and runs its own factory when the flight was a getOrSetMany's whose loader had no value for the key.
 */
export function getOrSetMiss<T>(
  core: CacheCore,
  key: string,
  factory: Factory<T>,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
  remembered: MemoryEntry | undefined,
): Promise<Resolved<T>> {
  const { flight, joined } = core.flights.joinOrStart<T>(
    key,
    (started) => loadOrCompute(core, key, factory, ttl, call, remembered, started),
    call.tags,
  );
  const cycle = waitOn(core.config.name, flight as Flight<unknown>, joined);
  if (cycle !== undefined) return Promise.reject(cycle);
  if (!joined) return flight.promise;
  // The loader's "no value" answers its own caller (undefined), not one with a factory of its own,
  // which a moment later would have run it: a getOrSet rejects only with its factory's error.
  return withinOwnTimeouts(core, key, flight, call).catch((error: unknown) => {
    if (!(error instanceof MissingLoadedValueError)) throw error;
    return getOrSetMiss(core, key, factory, ttl, call, remembered);
  });
}

/**
 * For one key of one process at a time: read DynamoDB; on a miss, run the factory (under the
 * distributed lock if asked), store its result and return it. Fail-safe, when on, serves the last
 * known value if the factory fails or times out.
 */
async function loadOrCompute<T>(
  core: CacheCore,
  key: string,
  factory: Factory<T>,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
  remembered: MemoryEntry | undefined,
  flight: Flight<T>,
): Promise<Resolved<T>> {
  const foundAt = stamp();
  const read = await core.readThrough<T>(key, { allowStale: call.failSafe });
  if (read.kind === 'hit') return read;
  const now = Date.now();
  let fallback: Fallback<T> | undefined;
  if (read.kind === 'stale') {
    fallback = staleFallback(read, foundAt);
  } else if (read.kind === 'failed' && remembered !== undefined) {
    // DynamoDB cannot answer: what this instance last knew still serves, within its own expiry.
    const known = rememberedFallback<T>(remembered, foundAt);
    const served = isLive(remembered.expiresAt, now) ? serveStale(core, key, known) : undefined;
    if (served !== undefined) return served;
    if (call.failSafe) fallback = known;
  }
  // Never handed on (to the factory, to joiners, to fail-safe) once something retired it; one that
  // only news retired may still be, once DynamoDB is asked again (see `serveStaleChecked`).
  if (fallback !== undefined && !core.gated.servable(key, fallback) && !core.gated.questioned(key, fallback)) fallback = undefined;
  flight.fallback = fallback;

  let leaseHeld = false;
  if (call.lock !== undefined && read.kind !== 'failed') {
    const waited = await takeLeaseOrWait<T>(core, key, call.lock);
    if (waited.found) return waited.found;
    leaseHeld = waited.holder;
  }
  // Awaited, so that nothing of the call is still running once it has returned; a release that fails
  // leaves the lease to expire by itself.
  const releaseLease = async () => {
    if (!leaseHeld) return;
    leaseHeld = false;
    // After disconnect() nothing is written: the lease expires by itself.
    if (core.flights.isLate(run.startedAt)) return;
    await releaseOwnLease(core, key);
  };

  const run = new FactoryRun<T>(key, fallback);
  const running = computeWithin(flight as Flight<unknown>, core.config.detectRecursiveFactories, () =>
    Promise.resolve().then(() => runFactory(factory, run, { observer: core.factoryObserver, cache: core.config.name, background: false })),
  );
  let outcome;
  try {
    outcome = await raceTimeouts(running, {
      softTimeoutMs: call.softTimeoutMs,
      hardTimeoutMs: call.hardTimeoutMs,
      hasStaleValue: fallback !== undefined,
    });
  } catch (error) {
    await releaseLease();
    const served =
      call.failSafe && fallback !== undefined ? await serveStaleChecked(core, key, fallback, call.failSafeThrottleMs) : undefined;
    if (served === undefined) throw error;
    core.report(error, `factory of "${key}"`);
    return served;
  }
  if (outcome.kind === 'value') {
    try {
      return await storeResult(core, key, outcome.value, run, ttl, call);
    } finally {
      await releaseLease();
    }
  }
  // Timed out: the factory goes on, and its result is stored when it comes, unless disconnect()
  // resolved first: every caller of it has gone, and disconnect() does not wait for it.
  void running
    .then((value) => storeResult(core, key, value, run, ttl, call))
    .catch((error: unknown) => core.report(error, `factory of "${key}" (finished after its timeout)`))
    .finally(releaseLease);
  const served = fallback === undefined ? undefined : await serveStaleChecked(core, key, fallback);
  if (served !== undefined) return served;
  throw new FactoryTimeoutError(core.config.name, key, call.hardTimeoutMs!);
}

/**
 * A caller that joined another's flight: its own softTimeout serves the stale value the flight
 * found, its own hardTimeout gives up (on the stale value with fail-safe, else FactoryTimeoutError).
 * The flight goes on either way, and its result is stored.
 */
function withinOwnTimeouts<T>(core: CacheCore, key: string, flight: Flight<T>, call: ResolvedCallOptions): Promise<Resolved<T>> {
  const { softTimeoutMs, hardTimeoutMs } = call;
  if (softTimeoutMs === undefined && hardTimeoutMs === undefined) return flight.promise;
  return new Promise<Resolved<T>>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const settle = (finish: () => void) => {
      for (const timer of timers) clearTimeout(timer);
      finish();
    };
    flight.promise.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
    if (softTimeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          const served = flight.fallback === undefined ? undefined : serveStale(core, key, flight.fallback);
          if (served !== undefined) settle(() => resolve(served));
        }, softTimeoutMs),
      );
    }
    if (hardTimeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          const fallback = call.failSafe ? flight.fallback : undefined;
          const served = fallback === undefined ? undefined : serveStale(core, key, fallback);
          settle(() => (served !== undefined ? resolve(served) : reject(new FactoryTimeoutError(core.config.name, key, hardTimeoutMs))));
        }, hardTimeoutMs),
      );
    }
  });
}

/** Runs the factory in the background for a hit near its expiry; concurrent hits start it once. */
export function refreshInBackground<T>(
  core: CacheCore,
  key: string,
  factory: Factory<T>,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
  current: T,
): void {
  // A refresh that failed is not tried again on every hit: an upstream already down would get one
  // call per request, and the log one warning per request.
  if (!core.refreshes.mayTry(key, Date.now())) return;
  core.flights.joinOrStart<T>(`\u0000refresh:${key}`, async () => {
    const run = new FactoryRun<T>(key);
    try {
      const value = await runFactory(factory, run, { observer: core.factoryObserver, cache: core.config.name, background: true });
      const stored = await storeResult(core, key, value, run, ttl, call);
      core.refreshes.succeeded(key);
      core.events.emitCache('cache:refresh', key);
      core.events.emitIfHeard('refresh', () => ({ key, value }));
      return stored;
    } catch (error) {
      core.refreshes.failed(key, Date.now() + call.failSafeThrottleMs);
      core.events.emitIfHeard('refresh', () => ({ key, value: current, error }));
      core.report(error, `background refresh of "${key}"`);
      return { value: current };
    }
  });
}

async function storeResult<T>(
  core: CacheCore,
  key: string,
  value: T,
  run: FactoryRun<T>,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
): Promise<Resolved<T>> {
  // undefined has no stored form: it is "nothing found", returned as such and never cached.
  if (run.skipped || value === undefined || core.flights.dropsLate(key, run.startedAt)) return { value };
  const resolvedTtl = run.ttlOverride ?? ttlFor(core, key, ttl, value);
  const tags = run.tags.length === 0 ? call.tags : [...(call.tags ?? []), ...run.tags];
  // A write or delete of the key known here since the factory began made what it read out of date:
  // stored, it would undo a del for every instance (a del leaves no item to date it against) or
  // overwrite a newer set. Its own caller still gets it. Tags and clears need no such rule: the item
  // is dated by when its factory began, and reads as a miss against a later invalidation.
  if (core.gated.gate.keyChangedSince(run.startedAt, key)) return { value };
  return core.write(core.prepare(key, value, resolvedTtl, call, { startedAt: run.startedAt, tags }), value);
}

/**
 * Takes the key's lease, or, while another instance holds it, polls DynamoDB for the value that
 * instance is computing, with backoff. Gives up waiting after `waitMs` (the holder may have died
 * and its lease not yet expired) and runs the factory without the lease.
 */
async function takeLeaseOrWait<T>(
  core: CacheCore,
  key: string,
  lock: { leaseMs: number; waitMs: number },
): Promise<{ holder: boolean; found?: Resolved<T> }> {
  const deadline = Date.now() + lock.waitMs;
  let delay = 20;
  for (let waited = false; ; waited = true) {
    const taken = await core.distributed.attempt('lock', key, () => core.store.acquireLease(key, core.ownerId, lock.leaseMs));
    if (!taken.ok) return { holder: false };
    if (taken.value) {
      if (!waited) return { holder: true };
      // The holder may have stored its value and released the lease just now.
      const read = await core.readThrough<T>(key, { allowStale: false });
      if (read.kind === 'hit') {
        await releaseOwnLease(core, key);
        return { holder: false, found: read };
      }
      return { holder: true };
    }
    const read = await core.readThrough<T>(key, { allowStale: false });
    if (read.kind === 'hit') return { holder: false, found: read };
    if (Date.now() + delay > deadline) return { holder: false };
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

async function releaseOwnLease(core: CacheCore, key: string): Promise<void> {
  await core.distributed.attempt('unlock', key, () => core.store.releaseLease(key, core.ownerId)).catch(() => undefined);
}

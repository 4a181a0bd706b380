import { AsyncLocalStorage } from 'node:async_hooks';
import { RecursiveFactoryError } from './errors.js';
import type { Flight } from './flights.js';

/**
 * Whether this process's AsyncLocalStorage is built on AsyncContextFrame (Node 24 and later, or 22
 * with `--experimental-async-context-frame`), where tracking which flight a factory runs in costs a
 * factory's own calls only. Where it is built on async hooks (Node 20, and 22 by default), its first
 * `run()` turns on promise hooks for the whole process, for good: every promise of the app, cached
 * or not, then costs more (bench/async-context.ts measures it: a promise-heavy loop 2.7× slower after
 * the first miss on Node 20, a Nest route 1.4×). That implementation alone has `_enable`.
 */
export const ASYNC_CONTEXT_IS_CHEAP = typeof (AsyncLocalStorage.prototype as { _enable?: unknown })._enable !== 'function';

/** The flight whose factory the current async context runs inside, if any (a cache that detects cycles). */
const computing = new AsyncLocalStorage<Flight<unknown>>();

/**
 * Runs a flight's factory so that what it asks of a cache knows it comes from this flight, when
 * `detect` (the cache's `detectRecursiveFactories`); as a plain call otherwise, which leaves async
 * hooks off.
 */
export function computeWithin<R>(flight: Flight<unknown>, detect: boolean, compute: () => R): R {
  return detect ? computing.run(flight, compute) : compute();
}

/**
 * Records that the factory running in this context (if any) waits on `awaited`, and answers the
 * error to fail the call with when that closes a cycle: a factory that asks for a key held by a flight
 * which waits, through others, for that factory's own flight would wait for itself forever (a needs b
 * needs a, in one call or across concurrent ones). A flight just started waits on nothing yet, so
 * only a join can close one. Nothing is known, and nothing found, where no factory ran under
 * `computeWithin` with detection on: `getStore()` alone turns no hooks on.
 */
export function waitOn(cacheName: string, awaited: Flight<unknown>, joined: boolean): RecursiveFactoryError | undefined {
  const waiter = computing.getStore();
  if (waiter === undefined) return undefined;
  const cycle = joined ? pathTo(awaited, waiter) : undefined;
  if (cycle !== undefined) {
    return new RecursiveFactoryError(
      cacheName,
      [...cycle, awaited].map((step) => ({ cache: step.cacheName, key: step.key })),
    );
  }
  // Every flight a factory awaits is an edge, joined or started by it: a cycle can run through either.
  waiter.waitingOn.add(awaited);
  const done = () => waiter.waitingOn.delete(awaited);
  void awaited.promise.then(done, done);
  return undefined;
}

/** The flights from `from` to `to` along what each waits on, both included; undefined when `from` does not wait for `to`. */
function pathTo(from: Flight<unknown>, to: Flight<unknown>, seen = new Set<Flight<unknown>>()): Flight<unknown>[] | undefined {
  if (from === to) return [from];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const next of from.waitingOn) {
    const rest = pathTo(next, to, seen);
    if (rest !== undefined) return [from, ...rest];
  }
  return undefined;
}

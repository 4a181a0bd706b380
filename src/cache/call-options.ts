import type { EntryOptions } from '../store/expiry.js';
import { isBoolean, isDuration, isObject, isPositiveDuration, optional } from '../store/option-checks.js';

/**
 * The distributed lock (`distributedLock: { … }`): a lease item in the table that lets one
 * instance among all of them run the factory for a missing key while the others wait for its value.
 */
export interface DistributedLockOptions {
  /** How long a lease holds before another instance may take over (its holder died), in ms. */
  leaseDuration?: number;
  /**
   * How long a waiter polls for the holder's value before running the factory itself, in ms.
   * @defaultValue `leaseDuration`
   */
  waitTimeout?: number;
}

/**
 * Per-call options of `getOrSet` (and of `@Cacheable`); each one left out is the cache's own, which
 * the module's options set. Defaults: see the options reference (docs/reference/options.md).
 *
 * @example
 * ```ts
 * const user = await cache.getOrSet(`user:${id}`, () => users.find(id), {
 *   ttl: 60_000,
 *   failSafe: true,
 *   softTimeout: 100,
 *   tags: [`tenant:${tenantId}`],
 * });
 * ```
 */
export interface GetOrSetOptions<T = unknown> {
  /**
   * The entry's time to live: ms (0: never expires), entry options (`{ slidingExpiration }`,
   * `{ absoluteExpiration }`), or a function of the factory's value returning either.
   * @defaultValue the cache's `ttl`
   */
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /**
   * Serve the last known value when the factory fails (or times out), and keep values past their
   * expiry for that, up to `failSafeMaxDuration`.
   */
  failSafe?: boolean;
  /** How long past its expiry a value is kept to serve when the factory fails, in ms. */
  failSafeMaxDuration?: number;
  /** After a failure, how long the stale value is served before the factory is tried again, in ms. */
  failSafeThrottleDuration?: number;
  /** With a stale value at hand: serve it after this many ms and let the factory finish in the background. */
  softTimeout?: number;
  /** Give up on the factory after this many ms: the stale value if any, else a `FactoryTimeoutError`. */
  hardTimeout?: number;
  /** 0..1: a hit past this part of its duration is returned at once and refreshed in the background, once. */
  eagerRefreshThreshold?: number;
  /** Tags of the value the factory makes, for `deleteByTag` (a factory may add its own: `context.addTags`). */
  tags?: readonly string[];
  /** Up to this many ms added at random to the ttl, so that keys written together do not expire together. */
  jitter?: number;
  /**
   * Across instances: one factory call among all of them for a missing key, through a lease item:
   * `true`, or `{ leaseDuration, waitTimeout }`.
   */
  distributedLock?: boolean | DistributedLockOptions;
}

export interface ResolvedCallOptions {
  readonly failSafe: boolean;
  readonly failSafeMaxDurationMs: number;
  readonly failSafeThrottleMs: number;
  readonly softTimeoutMs?: number;
  readonly hardTimeoutMs?: number;
  readonly eagerRefreshThreshold?: number;
  readonly jitterMs: number;
  readonly lock?: { readonly leaseMs: number; readonly waitMs: number };
  /** A call's own (never a cache's default). */
  readonly tags?: readonly string[];
}

/**
 * Every get-or-set option that has a default, under the option's own name: the one place each is
 * written. The options reference (`npm run docs:options`) shows it.
 */
export const CALL_DEFAULTS = Object.freeze({
  failSafe: false,
  /** A day. */
  failSafeMaxDuration: 86_400_000,
  failSafeThrottleDuration: 30_000,
  jitter: 0,
  distributedLock: false,
});

/** `distributedLock: true`'s lease; a waiter polls for as long as the lease (`waitTimeout`'s default). */
export const DISTRIBUTED_LOCK_DEFAULTS = Object.freeze({ leaseDuration: 10_000 });

const isFraction = (value: unknown) => typeof value === 'number' && value > 0 && value < 1;

/** Call options as given, checked: each one present overrides its base's when laid on it (`layerCallOptions`). */
export interface CallOverrides {
  readonly failSafe?: boolean;
  readonly failSafeMaxDurationMs?: number;
  readonly failSafeThrottleMs?: number;
  readonly softTimeoutMs?: number;
  readonly hardTimeoutMs?: number;
  readonly eagerRefreshThreshold?: number;
  readonly jitterMs?: number;
  readonly lock?: false | { readonly leaseMs?: number; readonly waitMs?: number };
}

export const RESOLVED_CALL_DEFAULTS: ResolvedCallOptions = Object.freeze({
  failSafe: CALL_DEFAULTS.failSafe,
  failSafeMaxDurationMs: CALL_DEFAULTS.failSafeMaxDuration,
  failSafeThrottleMs: CALL_DEFAULTS.failSafeThrottleDuration,
  jitterMs: CALL_DEFAULTS.jitter,
});

export function checkCallOptions(raw: Record<string, unknown>): CallOverrides {
  const lock = optional<boolean | DistributedLockOptions>(
    raw,
    'distributedLock',
    (value) => isBoolean(value) || isObject(value),
    'true, false or { leaseDuration, waitTimeout }',
  );
  let lockOverride: CallOverrides['lock'];
  if (lock === false) lockOverride = false;
  else if (lock !== undefined) {
    const lockOptions = (lock === true ? {} : lock) as Record<string, unknown>;
    lockOverride = {
      leaseMs: optional<number>(lockOptions, 'leaseDuration', isPositiveDuration, 'a duration in ms > 0'),
      waitMs: optional<number>(lockOptions, 'waitTimeout', isDuration, 'a duration in ms >= 0'),
    };
  }
  return {
    lock: lockOverride,
    failSafe: optional<boolean>(raw, 'failSafe', isBoolean, 'true or false'),
    failSafeMaxDurationMs: optional<number>(raw, 'failSafeMaxDuration', isDuration, 'a duration in ms >= 0'),
    failSafeThrottleMs: optional<number>(raw, 'failSafeThrottleDuration', isDuration, 'a duration in ms >= 0'),
    softTimeoutMs: optional<number>(raw, 'softTimeout', isPositiveDuration, 'a duration in ms > 0'),
    hardTimeoutMs: optional<number>(raw, 'hardTimeout', isPositiveDuration, 'a duration in ms > 0'),
    eagerRefreshThreshold: optional<number>(raw, 'eagerRefreshThreshold', isFraction, 'a number between 0 and 1'),
    jitterMs: optional<number>(raw, 'jitter', isDuration, 'a duration in ms >= 0'),
  };
}

export function layerCallOptions(base: ResolvedCallOptions, own: CallOverrides): ResolvedCallOptions {
  let lock = base.lock;
  if (own.lock === false) lock = undefined;
  else if (own.lock !== undefined) {
    const leaseMs = own.lock.leaseMs ?? base.lock?.leaseMs ?? DISTRIBUTED_LOCK_DEFAULTS.leaseDuration;
    lock = { leaseMs, waitMs: own.lock.waitMs ?? leaseMs };
  }
  return {
    failSafe: own.failSafe ?? base.failSafe,
    failSafeMaxDurationMs: own.failSafeMaxDurationMs ?? base.failSafeMaxDurationMs,
    failSafeThrottleMs: own.failSafeThrottleMs ?? base.failSafeThrottleMs,
    softTimeoutMs: own.softTimeoutMs ?? base.softTimeoutMs,
    hardTimeoutMs: own.hardTimeoutMs ?? base.hardTimeoutMs,
    eagerRefreshThreshold: own.eagerRefreshThreshold ?? base.eagerRefreshThreshold,
    jitterMs: own.jitterMs ?? base.jitterMs,
    lock,
  };
}

/** A call's options laid on its cache's (`base`), as bentocache's `cloneWith`: only what the call gives is checked. */
export function resolveCallOptions(raw: Record<string, unknown>, base: ResolvedCallOptions = RESOLVED_CALL_DEFAULTS): ResolvedCallOptions {
  return layerCallOptions(base, checkCallOptions(raw));
}

import type { EntryOptions } from '../store/expiry.js';
import { InvalidOptionError } from '../store/errors.js';
import { isBoolean, isDuration, isObject, isPositiveDuration, optional } from '../store/option-checks.js';
import type { MemoryTierOptions } from './memory-tier.js';

export interface MemoryOptions {
  /** Most entries kept in this instance's memory. Default 10,000. */
  maxEntries?: number;
  /** Most bytes kept (serialized value + key). Default 64 MiB. */
  maxBytes?: number;
  /**
   * Longest a value is served from memory before DynamoDB is read again, in ms: the bound on how
   * long a change made by another instance can go unseen here. Default 5,000.
   */
  maxTtl?: number;
}

export interface DistributedLockOptions {
  /** How long a lease holds before another instance may take over (its holder died), in ms. Default 10,000. */
  leaseDuration?: number;
  /** How long a waiter polls for the holder's value before running the factory itself, in ms. Default: leaseDuration. */
  waitTimeout?: number;
}

/** Per-call options of `getOrSet`; each falls back to the cache's own. */
export interface GetOrSetOptions<T = unknown> {
  /** ms (0: never expires), entry options, or a function of the factory's value. Default: the cache's ttl. */
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /** Serve the last known value when the factory fails. Default false. */
  failSafe?: boolean;
  /** How long past its expiry a value is kept for fail-safe, in ms. Default 86,400,000 (a day). */
  failSafeMaxDuration?: number;
  /** After a failure, how long the stale value is served before the factory is tried again, in ms. Default 30,000. */
  failSafeThrottleDuration?: number;
  /** With a stale value at hand: serve it after this many ms and let the factory finish in the background. */
  softTimeout?: number;
  /** Give up on the factory after this many ms: the stale value if any, else a FactoryTimeoutError. */
  hardTimeout?: number;
  /** 0..1: a hit past this part of its duration is returned at once and refreshed in the background, once. */
  eagerRefreshThreshold?: number;
  /** Tags of the value the factory makes, for `deleteByTag` (a factory may add its own: `context.addTags`). */
  tags?: readonly string[];
  /** Up to this many ms added at random to the ttl, so that keys written together do not expire together. */
  jitter?: number;
  /** Across instances: one factory call among all of them for a missing key, through a lease item. Default false. */
  distributedLock?: boolean | DistributedLockOptions;
}

export interface DynamoCacheOptions extends Omit<GetOrSetOptions, 'ttl' | 'tags'> {
  /** The cache's name, in events and logs. Default `default`. */
  name?: string;
  /** Reject on DynamoDB failures too, instead of reading a miss (see the README). Default false. */
  throwOnErrors?: boolean;
  /** Names this cache in cache-manager's `cacheId()`. Default: the table name and key prefix. */
  cacheId?: string;
  /** The in-memory first tier; `false` turns it off. */
  memory?: false | MemoryOptions;
  /**
   * `false`: a memory-only cache, with no DynamoDB client, table, backplane or Java, for development
   * and an app's own unit tests. The same API and behaviour (stampede protection, fail-safe, eager
   * refresh, sliding expiry, `@Cacheable`), its entries held in this process only. Default true.
   */
  distributed?: boolean;
  /** Consecutive DynamoDB failures that open the circuit breaker; 0 turns it off. Default 5. */
  circuitBreakerThreshold?: number;
  /** How long an open circuit skips DynamoDB before probing it again, in ms. Default 10,000. */
  circuitBreakerDuration?: number;
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

export interface ResolvedCacheOptions {
  readonly name: string;
  readonly throwOnErrors: boolean;
  readonly cacheId?: string;
  readonly memory?: MemoryTierOptions;
  readonly distributed: boolean;
  readonly circuitBreaker: { readonly threshold: number; readonly durationMs: number };
  readonly defaults: ResolvedCallOptions;
}

const isFraction = (value: unknown) => typeof value === 'number' && value > 0 && value < 1;
const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

// A cache name becomes a key prefix: the ':' that ends it must be the only one, so no two names overlap.
export const CACHE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function resolveCallOptions(raw: Record<string, unknown>, base?: ResolvedCallOptions): ResolvedCallOptions {
  const lock = optional<boolean | DistributedLockOptions>(
    raw,
    'distributedLock',
    (value) => isBoolean(value) || isObject(value),
    'true, false or { leaseDuration, waitTimeout }',
  );
  let resolvedLock = base?.lock;
  if (lock === false) resolvedLock = undefined;
  else if (lock !== undefined) {
    const lockOptions = (lock === true ? {} : lock) as Record<string, unknown>;
    const leaseMs =
      optional<number>(lockOptions, 'leaseDuration', isPositiveDuration, 'a duration in ms > 0') ?? base?.lock?.leaseMs ?? 10_000;
    resolvedLock = { leaseMs, waitMs: optional<number>(lockOptions, 'waitTimeout', isDuration, 'a duration in ms >= 0') ?? leaseMs };
  }
  return {
    failSafe: optional<boolean>(raw, 'failSafe', isBoolean, 'true or false') ?? base?.failSafe ?? false,
    failSafeMaxDurationMs:
      optional<number>(raw, 'failSafeMaxDuration', isDuration, 'a duration in ms >= 0') ?? base?.failSafeMaxDurationMs ?? 86_400_000,
    failSafeThrottleMs:
      optional<number>(raw, 'failSafeThrottleDuration', isDuration, 'a duration in ms >= 0') ?? base?.failSafeThrottleMs ?? 30_000,
    softTimeoutMs: optional<number>(raw, 'softTimeout', isPositiveDuration, 'a duration in ms > 0') ?? base?.softTimeoutMs,
    hardTimeoutMs: optional<number>(raw, 'hardTimeout', isPositiveDuration, 'a duration in ms > 0') ?? base?.hardTimeoutMs,
    eagerRefreshThreshold:
      optional<number>(raw, 'eagerRefreshThreshold', isFraction, 'a number between 0 and 1') ?? base?.eagerRefreshThreshold,
    jitterMs: optional<number>(raw, 'jitter', isDuration, 'a duration in ms >= 0') ?? base?.jitterMs ?? 0,
    lock: resolvedLock,
  };
}

/** Checks every cache option once, when the cache is built, so that a mistake names its option. */
export function resolveCacheOptions(options: DynamoCacheOptions = {}): ResolvedCacheOptions {
  const raw = options as Record<string, unknown>;
  const name =
    optional<string>(
      raw,
      'name',
      (value) => typeof value === 'string' && CACHE_NAME.test(value),
      'a name of 1 to 64 letters, digits, "_", "-" or "."',
    ) ?? 'default';
  const memory = optional<false | MemoryOptions>(
    raw,
    'memory',
    (value) => value === false || isObject(value),
    'false or { maxEntries, maxBytes, maxTtl }',
  );
  let memoryTier: MemoryTierOptions | undefined;
  if (memory !== false) {
    const memoryRaw = (memory ?? {}) as Record<string, unknown>;
    const nested = (check: (value: unknown) => boolean, expected: string) => (field: string) =>
      withOptionPath('memory', () => optional<number>(memoryRaw, field, check, expected));
    memoryTier = {
      maxEntries: nested((value) => isCount(value) && (value as number) > 0, 'a whole number > 0')('maxEntries') ?? 10_000,
      maxBytes: nested((value) => isCount(value) && (value as number) > 0, 'a whole number of bytes > 0')('maxBytes') ?? 64 * 1024 * 1024,
      maxTtlMs: nested(isPositiveDuration, 'a duration in ms > 0')('maxTtl') ?? 5_000,
    };
  }
  return {
    name,
    throwOnErrors: optional<boolean>(raw, 'throwOnErrors', isBoolean, 'true or false') ?? false,
    cacheId: optional<string>(raw, 'cacheId', (value) => typeof value === 'string', 'a string'),
    memory: memoryTier,
    distributed: optional<boolean>(raw, 'distributed', isBoolean, 'true or false (false: memory-only)') ?? true,
    circuitBreaker: {
      threshold: optional<number>(raw, 'circuitBreakerThreshold', isCount, 'a whole number >= 0 (0: off)') ?? 5,
      durationMs: optional<number>(raw, 'circuitBreakerDuration', isPositiveDuration, 'a duration in ms > 0') ?? 10_000,
    },
    defaults: resolveCallOptions(raw),
  };
}

/** Names a nested option by its path (`memory.maxTtl`) in the error. */
function withOptionPath<T>(parent: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new InvalidOptionError(`${parent}.${error.option}`, error.message.replace(/^.*?" /, ''));
    throw error;
  }
}

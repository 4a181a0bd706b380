import { MEMORY_BOUNDS_DEFAULTS } from '../store/memory-store-options.js';
import { InvalidOptionError } from '../store/errors.js';
import { isBoolean, isObject, isPositiveDuration, optional } from '../store/option-checks.js';
import {
  CALL_DEFAULTS,
  type CallOverrides,
  type GetOrSetOptions,
  type ResolvedCallOptions,
  RESOLVED_CALL_DEFAULTS,
  checkCallOptions,
  layerCallOptions,
} from './call-options.js';
import { ASYNC_CONTEXT_IS_CHEAP } from './factory-cycles.js';
import type { MemoryTierOptions } from './memory-tier.js';

export {
  CALL_DEFAULTS,
  DISTRIBUTED_LOCK_DEFAULTS,
  type DistributedLockOptions,
  type GetOrSetOptions,
  type ResolvedCallOptions,
  resolveCallOptions,
} from './call-options.js';

/**
 * The memory tier (`memory`): what a cache keeps of what it reads and writes in this instance's
 * memory, served with no DynamoDB call. Past either bound the least recently used entries go.
 */
export interface MemoryOptions {
  /** Most entries kept in this instance's memory. */
  maxEntries?: number;
  /** Most bytes kept, counted as the serialized value plus the key. */
  maxBytes?: number;
  /**
   * Longest a value is served from memory before DynamoDB is read again, in ms: the bound on how
   * long a change made by another instance can go unseen here (a backplane shortens it).
   */
  maxTtl?: number;
}

/**
 * Auto-recovery (`autoRecovery`): the writes and invalidations a cache acknowledged while DynamoDB
 * could not take them, kept in this instance and sent once DynamoDB answers again.
 */
export interface AutoRecoveryOptions {
  /**
   * Most changes owed to DynamoDB (one per key or tag, the latest wins); past it the oldest is
   * dropped and counted (`stats().autoRecovery.dropped`).
   */
  maxItems?: number;
}

/**
 * The cache's options: its name, its memory tier, what it does when DynamoDB fails, and the
 * get-or-set options every call of it starts from. `new DynamoCache(store, options)` takes them, and
 * so do `DynamoCacheModule.forRoot()` and `forFeature()`. Defaults: see the options reference
 * (docs/reference/options.md).
 */
export interface DynamoCacheOptions extends Omit<GetOrSetOptions, 'ttl' | 'tags'> {
  /** The cache's name, in events, logs and metrics. The module's own cache is always `default`. */
  name?: string;
  /**
   * Reject when DynamoDB fails (a timeout, throttling, an open circuit) as well. Off, a failure
   * never rejects: `get` answers a miss (or what memory holds), `set` resolves with the value in
   * memory, `getOrSet` runs the factory, and the error goes to `cache:error` listeners or the log.
   * Bad input (a key, ttl or value that cannot be stored) always rejects.
   */
  throwOnErrors?: boolean;
  /**
   * Names this cache in cache-manager's `cacheId()`.
   * @defaultValue the table name and key prefix
   */
  cacheId?: string;
  /** The memory tier, in front of DynamoDB; `false` turns it off. */
  memory?: false | MemoryOptions;
  /**
   * `false`: a memory-only cache, with no DynamoDB client, table, backplane or Java, for development
   * and an app's own unit tests. The same API and behaviour (stampede protection, fail-safe, eager
   * refresh, sliding expiry, `@Cacheable`), its entries held in this process only. A named cache
   * (`forFeature`) may set it for itself.
   */
  distributed?: boolean;
  /**
   * Failures of DynamoDB in a row that open the circuit breaker, which then skips DynamoDB for
   * `circuitBreakerDuration`; 0 turns it off.
   */
  circuitBreakerThreshold?: number;
  /**
   * How long an open circuit skips DynamoDB, in ms: calls answer from memory and fail-safe values
   * (or reject with `CircuitOpenError` under `throwOnErrors`); then one call probes it.
   */
  circuitBreakerDuration?: number;
  /**
   * Writes and invalidations acknowledged while DynamoDB could not take them are sent again once it
   * answers, each only over an older item; `false` turns it off.
   */
  autoRecovery?: false | AutoRecoveryOptions;
  /**
   * Fail a getOrSet whose factory waits, through any chain of keys, for its own flight with a
   * `RecursiveFactoryError` instead of letting it wait forever. It tracks which flight each factory
   * runs in with an AsyncLocalStorage: free on Node 24 and later (AsyncContextFrame); on Node 20 and
   * 22 its first use turns on async hooks for the whole process, which slows every promise of the app
   * (docs/get-or-set.md, *Recursive factories*). Off, such a wait is bounded by `hardTimeout` instead.
   *
   * @defaultValue true on Node 24 and later, false on Node 20 and 22
   */
  detectRecursiveFactories?: boolean;
}

export interface ResolvedCacheOptions {
  readonly name: string;
  readonly throwOnErrors: boolean;
  readonly cacheId?: string;
  readonly memory?: MemoryTierOptions;
  readonly distributed: boolean;
  readonly circuitBreaker: { readonly threshold: number; readonly durationMs: number };
  /** Absent when auto-recovery is off. */
  readonly autoRecovery?: { readonly maxItems: number };
  readonly detectRecursiveFactories: boolean;
  readonly defaults: ResolvedCallOptions;
}

/** The name of a cache given none: the module's own cache, and a bare `DynamoCache`. */
export const DEFAULT_CACHE_NAME = 'default';

/** Every cache option that has a default (get-or-set's included), under the option's own name. */
export const CACHE_DEFAULTS = Object.freeze({
  ...CALL_DEFAULTS,
  throwOnErrors: false,
  distributed: true,
  /** The memory-only store's bounds are the memory tier's. */
  memory: Object.freeze({ ...MEMORY_BOUNDS_DEFAULTS, maxTtl: 5_000 }),
  circuitBreakerThreshold: 5,
  circuitBreakerDuration: 10_000,
  autoRecovery: Object.freeze({ maxItems: 1_000 }),
});

/**
 * `detectRecursiveFactories`' default: on where AsyncLocalStorage costs the app nothing (see
 * factory-cycles.ts). Apart from CACHE_DEFAULTS because it depends on the Node.js running it, and the
 * options reference must state it in words, not as this machine's value.
 */
export const DETECT_RECURSIVE_FACTORIES_DEFAULT = ASYNC_CONTEXT_IS_CHEAP;

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

// A cache name becomes a key prefix: the ':' that ends it must be the only one, so no two names overlap.
export const CACHE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A cache's options as given, checked once where they are written; laid on a base with `layerCacheOptions`. */
export interface CacheOverrides {
  readonly name?: string;
  readonly throwOnErrors?: boolean;
  readonly cacheId?: string;
  readonly distributed?: boolean;
  readonly memory?: false | { readonly maxEntries?: number; readonly maxBytes?: number; readonly maxTtlMs?: number };
  readonly circuitBreakerThreshold?: number;
  readonly circuitBreakerDurationMs?: number;
  readonly autoRecovery?: false | { readonly maxItems?: number };
  readonly detectRecursiveFactories?: boolean;
  readonly call: CallOverrides;
}

const RESOLVED_CACHE_DEFAULTS: ResolvedCacheOptions = Object.freeze({
  name: DEFAULT_CACHE_NAME,
  throwOnErrors: CACHE_DEFAULTS.throwOnErrors,
  memory: Object.freeze({
    maxEntries: CACHE_DEFAULTS.memory.maxEntries,
    maxBytes: CACHE_DEFAULTS.memory.maxBytes,
    maxTtlMs: CACHE_DEFAULTS.memory.maxTtl,
  }),
  distributed: CACHE_DEFAULTS.distributed,
  circuitBreaker: Object.freeze({ threshold: CACHE_DEFAULTS.circuitBreakerThreshold, durationMs: CACHE_DEFAULTS.circuitBreakerDuration }),
  autoRecovery: CACHE_DEFAULTS.autoRecovery,
  detectRecursiveFactories: DETECT_RECURSIVE_FACTORIES_DEFAULT,
  defaults: RESOLVED_CALL_DEFAULTS,
});

/** Checks each cache option given, once, so that a mistake names its option; nothing is defaulted yet. */
export function checkCacheOptions(options: DynamoCacheOptions = {}): CacheOverrides {
  const raw = options as Record<string, unknown>;
  const name = optional<string>(
    raw,
    'name',
    (value) => typeof value === 'string' && CACHE_NAME.test(value),
    'a name of 1 to 64 letters, digits, "_", "-" or "."',
  );
  const memory = optional<false | MemoryOptions>(
    raw,
    'memory',
    (value) => value === false || isObject(value),
    'false or { maxEntries, maxBytes, maxTtl }',
  );
  let memoryOverride: CacheOverrides['memory'] = memory === false ? false : undefined;
  if (memory !== undefined && memory !== false) {
    const memoryRaw = memory as Record<string, unknown>;
    const nested = (check: (value: unknown) => boolean, expected: string) => (field: string) =>
      withOptionPath('memory', () => optional<number>(memoryRaw, field, check, expected));
    memoryOverride = {
      maxEntries: nested((value) => isCount(value) && (value as number) > 0, 'a whole number > 0')('maxEntries'),
      maxBytes: nested((value) => isCount(value) && (value as number) > 0, 'a whole number of bytes > 0')('maxBytes'),
      maxTtlMs: nested(isPositiveDuration, 'a duration in ms > 0')('maxTtl'),
    };
  }
  const recovery = optional<false | AutoRecoveryOptions>(
    raw,
    'autoRecovery',
    (value) => value === false || isObject(value),
    'false or { maxItems }',
  );
  const autoRecovery: CacheOverrides['autoRecovery'] =
    recovery === undefined || recovery === false
      ? recovery
      : {
          maxItems: withOptionPath('autoRecovery', () =>
            optional<number>(
              recovery as Record<string, unknown>,
              'maxItems',
              (value) => isCount(value) && (value as number) > 0,
              'a whole number > 0',
            ),
          ),
        };
  return {
    name,
    memory: memoryOverride,
    autoRecovery,
    throwOnErrors: optional<boolean>(raw, 'throwOnErrors', isBoolean, 'true or false'),
    cacheId: optional<string>(raw, 'cacheId', (value) => typeof value === 'string', 'a string'),
    distributed: optional<boolean>(raw, 'distributed', isBoolean, 'true or false (false: memory-only)'),
    circuitBreakerThreshold: optional<number>(raw, 'circuitBreakerThreshold', isCount, 'a whole number >= 0 (0: off)'),
    circuitBreakerDurationMs: optional<number>(raw, 'circuitBreakerDuration', isPositiveDuration, 'a duration in ms > 0'),
    detectRecursiveFactories: optional<boolean>(raw, 'detectRecursiveFactories', isBoolean, 'true or false'),
    call: checkCallOptions(raw),
  };
}

// Only `layerCacheOptions` adds to it: an object in it needs no second resolution.
const resolvedOptions = new WeakSet<object>();

/** Whether `options` came out of `resolveCacheOptions` (or a layering), and so is checked and complete. */
export function isResolvedCacheOptions(options: unknown): options is ResolvedCacheOptions {
  return typeof options === 'object' && options !== null && resolvedOptions.has(options);
}

/** Checked overrides laid on a resolved base: each given option replaces the base's; memory's fields one by one. */
export function layerCacheOptions(base: ResolvedCacheOptions, own: CacheOverrides): ResolvedCacheOptions {
  let memory = base.memory;
  if (own.memory === false) memory = undefined;
  else if (own.memory !== undefined) {
    // A tier turned off in the base comes back with the defaults under the fields given.
    const under = base.memory ?? RESOLVED_CACHE_DEFAULTS.memory!;
    memory = Object.freeze({
      maxEntries: own.memory.maxEntries ?? under.maxEntries,
      maxBytes: own.memory.maxBytes ?? under.maxBytes,
      maxTtlMs: own.memory.maxTtlMs ?? under.maxTtlMs,
    });
  }
  const resolved: ResolvedCacheOptions = Object.freeze({
    name: own.name ?? base.name,
    throwOnErrors: own.throwOnErrors ?? base.throwOnErrors,
    cacheId: own.cacheId ?? base.cacheId,
    memory,
    distributed: own.distributed ?? base.distributed,
    circuitBreaker: Object.freeze({
      threshold: own.circuitBreakerThreshold ?? base.circuitBreaker.threshold,
      durationMs: own.circuitBreakerDurationMs ?? base.circuitBreaker.durationMs,
    }),
    autoRecovery:
      own.autoRecovery === false
        ? undefined
        : own.autoRecovery === undefined
          ? base.autoRecovery
          : Object.freeze({ maxItems: own.autoRecovery.maxItems ?? base.autoRecovery?.maxItems ?? CACHE_DEFAULTS.autoRecovery.maxItems }),
    detectRecursiveFactories: own.detectRecursiveFactories ?? base.detectRecursiveFactories,
    defaults: Object.freeze(layerCallOptions(base.defaults, own.call)),
  });
  resolvedOptions.add(resolved);
  return resolved;
}

/** Checks every cache option once, when the cache is built, so that a mistake names its option. */
export function resolveCacheOptions(options: DynamoCacheOptions = {}): ResolvedCacheOptions {
  return layerCacheOptions(RESOLVED_CACHE_DEFAULTS, checkCacheOptions(options));
}

/**
 * A named cache's options: its own laid on its module's. Its `cacheId` is never the module's (an id
 * names one cache), and a `distributedLock` it gives replaces the module's whole, lease included.
 */
export function namedCacheOptions(module: ResolvedCacheOptions, own: CacheOverrides): ResolvedCacheOptions {
  const lock = own.call.lock === undefined ? module.defaults.lock : undefined;
  return layerCacheOptions({ ...module, cacheId: undefined, defaults: { ...module.defaults, lock } }, own);
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

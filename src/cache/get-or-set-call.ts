import type { EntryOptions } from '../store/expiry.js';
import type { CacheCore, Resolved } from './cache-core.js';
import { checkedTags } from './cache-core.js';
import { type GetOrSetOptions, type ResolvedCallOptions, resolveCallOptions } from './cache-options.js';
import type { Factory } from './factory-run.js';
import { type Ttl, getOrSetMiss, refreshInBackground, ttlFor } from './get-or-set.js';
import { announceMemoryHit } from './memory-hits.js';
import { type MemoryEntry, memoryValue } from './memory-tier.js';
import { assertValidKey } from '../store/keys.js';

/** What cache-manager's `wrap(key, fn, options)` takes, as cache-manager 7 has it, with tags. */
export interface WrapOptions<T> {
  /**
   * The entry's time to live: ms (0: never expires), entry options, or a function of the value.
   * @defaultValue the cache's `ttl`
   */
  ttl?: number | EntryOptions | ((value: T) => number | EntryOptions);
  /** Refresh in the background when a hit has less than this many ms left (or a function of the value giving it). */
  refreshThreshold?: number | ((value: T) => number);
  /** Resolve to `{ value, expires }` instead of the value. */
  raw?: boolean;
  /** Tags of the value, for `deleteByTag`. */
  tags?: readonly string[];
}

/** When a hit is old enough to be refreshed in the background: ms left below which it is. */
export type RefreshPolicy<T> = (value: T) => number | undefined;

/** A get-or-set call (or a wrap), its arguments read. */
export interface GetOrSetRequest<T> {
  readonly key: string;
  readonly factory: Factory<T>;
  readonly ttl: Ttl<T>;
  readonly call: ResolvedCallOptions;
}

/** `DynamoCache.getOrSet`: not an async function, so that a memory hit costs one resolved promise, not an async frame. */
export function getOrSet<T>(
  core: CacheCore,
  key: string,
  factory: Factory<T>,
  options: GetOrSetOptions<T> | undefined,
  defaultEagerRefreshThreshold: number | undefined,
): Promise<T> {
  const now = Date.now();
  const remembered = core.memory?.get(key, now);
  try {
    if (remembered !== undefined && core.memory!.isFresh(remembered, now)) {
      const value = memoryValue<T>(remembered);
      announceMemoryHit(core, key, remembered, now);
      const threshold = options?.eagerRefreshThreshold ?? defaultEagerRefreshThreshold;
      if (threshold !== undefined) {
        const request = { key, factory, ttl: options?.ttl, call: callOptionsOf(core, options) };
        const policy = eagerPolicy(core, key, threshold, options?.ttl);
        refreshIfDue(core, request, policy, { value, expiresAt: remembered.expiresAt }, now);
      }
      return Promise.resolve(value);
    }
    assertValidKey(key);
    const request = { key, factory, ttl: options?.ttl, call: callOptionsOf(core, options) };
    return getOrSetPastMemory(core, request, remembered).then((resolved) => resolved.value);
  } catch (error) {
    // A bad key, option or ttl function rejects the call's promise, as every other failure does.
    return Promise.reject(error);
  }
}

/** `DynamoCache.wrap`, its arguments read (`wrapOptionsOf`). */
export async function wrap<T>(core: CacheCore, key: string, factory: Factory<T>, options: WrapOptions<T>): Promise<unknown> {
  const policy = refreshPolicyOf(options.refreshThreshold);
  const defaults = core.config.defaults;
  const call = options.tags === undefined ? defaults : { ...defaults, tags: checkedTags(options.tags, 'wrap') };
  const request: GetOrSetRequest<T> = { key, factory, ttl: options.ttl, call };
  const now = Date.now();
  const remembered = core.memory?.get(key, now);
  let resolved: Resolved<T>;
  if (remembered !== undefined && core.memory!.isFresh(remembered, now)) {
    resolved = { value: memoryValue<T>(remembered), expiresAt: remembered.expiresAt };
    announceMemoryHit(core, key, remembered, now);
    if (policy) refreshIfDue(core, request, policy, resolved, now);
  } else {
    assertValidKey(key);
    resolved = await getOrSetPastMemory(core, request, remembered, policy);
  }
  return options.raw ? { value: resolved.value, expires: resolved.expiresAt } : resolved.value;
}

/** A call's options over the cache's defaults; the defaults themselves, unchanged, when it gives none. */
export function callOptionsOf<T>(core: CacheCore, options: GetOrSetOptions<T> | undefined, method = 'getOrSet'): ResolvedCallOptions {
  const defaults = core.config.defaults;
  if (options === undefined) return defaults;
  const resolved = resolveCallOptions(options as Record<string, unknown>, defaults);
  return options.tags === undefined ? resolved : { ...resolved, tags: checkedTags(options.tags, method) };
}

/** A miss in memory: get-or-set through DynamoDB and the factory, then a background refresh if the answer is due one. */
async function getOrSetPastMemory<T>(
  core: CacheCore,
  request: GetOrSetRequest<T>,
  remembered: MemoryEntry | undefined,
  policy?: RefreshPolicy<T>,
): Promise<Resolved<T>> {
  if (core.memory !== undefined) core.lookups.memoryMisses++;
  const { key, factory, ttl, call } = request;
  const resolved = await getOrSetMiss(core, key, factory, ttl, call, remembered);
  const refreshPolicy =
    policy ?? (call.eagerRefreshThreshold === undefined ? undefined : eagerPolicy<T>(core, key, call.eagerRefreshThreshold, ttl));
  if (refreshPolicy) refreshIfDue(core, request, refreshPolicy, resolved, Date.now());
  return resolved;
}

/** Starts a background refresh when `answer` has less time left than `policy` asks for. */
function refreshIfDue<T>(core: CacheCore, request: GetOrSetRequest<T>, policy: RefreshPolicy<T>, answer: Resolved<T>, now: number): void {
  const { expiresAt, value } = answer;
  if (expiresAt === undefined || expiresAt <= now) return;
  const below = policy(value);
  if (below === undefined || expiresAt - now >= below) return;
  refreshInBackground(core, request.key, request.factory, request.ttl, request.call, value);
}

/** eagerRefreshThreshold 0.8 of a 60 s duration: refresh once less than 12 s are left. */
function eagerPolicy<T>(core: CacheCore, key: string, threshold: number, ttl: Ttl<T>): RefreshPolicy<T> {
  return (value) => {
    const duration = typeof ttl === 'function' ? ttlFor(core, key, ttl, value) : (ttl ?? core.config.defaultTtlMs);
    return typeof duration === 'number' && duration > 0 ? (1 - threshold) * duration : undefined;
  };
}

/** cache-manager's two forms of wrap's arguments: a ttl and a refresh threshold, or one options object. */
export function wrapOptionsOf<T>(
  ttlOrOptions: Ttl<T> | WrapOptions<T>,
  refreshThreshold: WrapOptions<T>['refreshThreshold'],
): WrapOptions<T> {
  return typeof ttlOrOptions === 'object' && ttlOrOptions !== null && !isEntryOptions(ttlOrOptions)
    ? (ttlOrOptions as WrapOptions<T>)
    : { ttl: ttlOrOptions as Ttl<T>, refreshThreshold };
}

function refreshPolicyOf<T>(threshold: WrapOptions<T>['refreshThreshold']): RefreshPolicy<T> | undefined {
  return threshold === undefined ? undefined : typeof threshold === 'function' ? threshold : () => threshold;
}

/** Entry options (absolute or sliding expiration) passed where wrap takes a ttl; `{ ttl }` alone means the same either way. */
function isEntryOptions(value: object): boolean {
  return 'absoluteExpiration' in value || 'slidingExpiration' in value;
}

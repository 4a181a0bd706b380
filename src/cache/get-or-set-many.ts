import { InvalidCacheKeyError, InvalidOptionError } from '../store/errors.js';
import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import { assertValidKey, describeType } from '../store/keys.js';
import { stamp } from '../store/tags.js';
import type { CacheCore, Fallback, Resolved } from './cache-core.js';
import type { GetOrSetOptions, ResolvedCallOptions } from './cache-options.js';
import { FactoryTimeoutError, InvalidLoaderResultError, MissingLoadedValueError } from './errors.js';
import { raceTimeouts } from './factory-run.js';
import type { Flight } from './flights.js';
import { rememberedFallback, serveStale, serveStaleChecked, staleFallback } from './fallbacks.js';
import { type Ttl, ttlFor } from './get-or-set.js';
import { callOptionsOf } from './get-or-set-call.js';
import { announceMemoryHit } from './memory-hits.js';
import { type MemoryEntry, memoryValue } from './memory-tier.js';
import { overOwed, owedWithoutRead } from './owed-reads.js';
import { staleAsOf } from './tag-times.js';

/**
 * `getOrSetMany`'s loader: given the keys missing everywhere, in one call, it answers their values as
 * a Map (a key it leaves out, or maps to undefined, has none) or as an array in the order given.
 */
export type ManyLoader<T> = (
  keys: readonly string[],
) => ReadonlyMap<string, T> | ReadonlyArray<T | undefined> | Promise<ReadonlyMap<string, T> | ReadonlyArray<T | undefined>>;

/** One key this call loads: its flight (which other callers join) settles when the batch does. */
interface Load<T> {
  readonly key: string;
  readonly flight: Flight<T>;
  readonly remembered: MemoryEntry | undefined;
  fallback?: Fallback<T>;
  resolve(resolved: Resolved<T>): void;
  reject(error: unknown): void;
}

/**
 * `DynamoCache.getOrSetMany`: memory first; every other key joins this process's flight for it (a
 * `getOrSet` or another `getOrSetMany` loading it) or starts one of its own; the keys started are read
 * in one batch (BatchGetItem, 100 keys a call, one read of the tag times they need), and those still
 * missing go to the loader in one call, its values written in batches (BatchWriteItem, 25 a call).
 */
export async function getOrSetMany<T>(
  core: CacheCore,
  keys: readonly string[],
  loader: ManyLoader<T>,
  options: GetOrSetOptions<T> | undefined,
): Promise<Array<T | undefined>> {
  if (!Array.isArray(keys)) throw new InvalidCacheKeyError(`getOrSetMany expects an array of keys, got ${describeType(keys)}.`);
  for (const key of keys) assertValidKey(key);
  if (typeof loader !== 'function')
    throw new InvalidOptionError('loader', `of getOrSetMany must be a function of the missing keys, got ${describeType(loader)}.`);
  const call = callOptionsOf(core, options, 'getOrSetMany');
  const now = Date.now();
  const answers = new Map<string, Promise<Resolved<T>>>();
  const started: Array<Load<T>> = [];
  for (const key of new Set(keys)) {
    const remembered = core.memory?.get(key, now);
    if (remembered !== undefined && core.memory!.isFresh(remembered, now)) {
      announceMemoryHit(core, key, remembered, now);
      answers.set(key, Promise.resolve({ value: memoryValue<T>(remembered) }));
      continue;
    }
    if (core.memory !== undefined) core.lookups.memoryMisses++;
    let load: Load<T> | undefined;
    // `start` runs synchronously: the flight's promise is the one this batch settles.
    const { flight, joined } = core.flights.joinOrStart<T>(
      key,
      (flight) =>
        new Promise<Resolved<T>>((resolve, reject) => {
          load = { key, flight, remembered, resolve, reject };
        }),
      call.tags,
    );
    if (!joined) started.push(load!);
    answers.set(key, flight.promise);
  }
  // Listened to before the batch runs: a key's flight may reject while it does.
  const all = Promise.all(
    [...answers].map(([key, answer]) =>
      answer.then(
        (resolved) => [key, resolved.value] as const,
        (error: unknown) => {
          // The loader had no value for it: undefined, as the loader said.
          if (error instanceof MissingLoadedValueError) return [key, undefined] as const;
          throw error;
        },
      ),
    ),
  );
  all.catch(() => undefined);
  if (started.length > 0) await loadBatch(core, started, loader, options?.ttl, call);
  const resolved = new Map<string, T | undefined>(await all);
  return keys.map((key) => resolved.get(key));
}

/** Reads the keys in one batch, loads what is missing in one call, and settles every key's flight; never rejects. */
async function loadBatch<T>(core: CacheCore, loads: Array<Load<T>>, loader: ManyLoader<T>, ttl: Ttl<T>, call: ResolvedCallOptions) {
  try {
    const missing = await readBatch(core, loads, call);
    if (missing.length > 0) await runLoader(core, missing, loader, ttl, call);
  } catch (error) {
    // A settled promise ignores a second settling: only the keys still waiting get the error.
    for (const load of loads) load.reject(error);
  }
}

/** Settles the keys DynamoDB holds (or memory, through an outage); returns those the loader must load. */
async function readBatch<T>(core: CacheCore, loads: Array<Load<T>>, call: ResolvedCallOptions): Promise<Array<Load<T>>> {
  const keys = loads.map((load) => load.key);
  const foundAt = stamp();
  const owedAtStart = keys.map((key) => core.recovery?.owedFor(key));
  const clearedAtKnown = core.invalidation.knowClearedAt(foundAt);
  const read = await core.distributed.attempt('mget', keys, () => core.store.getManyEntries<T>(keys, { allowStale: call.failSafe }));
  await clearedAtKnown;
  let entries: Array<CheckedRead<T>> | undefined;
  // What this instance owes DynamoDB for a key answers instead of an older item, as it does for get.
  const views = read.ok
    ? read.value.map((entry, index) => overOwed(core, keys[index]!, owedAtStart[index], entry, { allowStale: call.failSafe }))
    : undefined;
  if (views !== undefined) {
    const tags = new Set<string>();
    for (const { found } of views) for (const tag of found?.tags ?? []) tags.add(tag);
    // One read of the tag times the batch needs (and the cache's own, when not known).
    const times = await core.invalidation.knowTags([...tags], foundAt);
    if (times !== 'unreadable') entries = views.map(({ found }) => found && checked(core, found, times));
  }
  const missing: Array<Load<T>> = [];
  const now = Date.now();
  loads.forEach((load, index) => {
    const { key, remembered } = load;
    const answered =
      views === undefined ? owedWithoutRead<T>(core, key, owedAtStart[index], { allowStale: call.failSafe }) : views[index]!.answered;
    const entry = answered !== undefined ? undefined : entries === undefined ? 'failed' : entries[index];
    if (answered !== undefined) {
      // What this instance owes for the key answered: its value, or a miss the loader loads (a stale owed value its fallback).
      if (answered.kind === 'hit') return load.resolve({ value: answered.value, expiresAt: answered.expiresAt });
      if (answered.kind === 'stale' && call.failSafe) load.fallback = staleFallback(answered, foundAt);
    } else if (entry === 'failed') {
      // DynamoDB cannot answer: what this instance last knew still serves, within its own expiry (as getOrSet).
      const known = remembered && rememberedFallback<T>(remembered, foundAt);
      const live = known !== undefined && (remembered!.expiresAt === undefined || now < remembered!.expiresAt);
      const served = live ? serveStale(core, key, known) : undefined;
      if (served !== undefined) return load.resolve(served);
      if (call.failSafe) load.fallback = known;
    } else if (entry === undefined) {
      core.gated.dropContradicted(key);
      core.lookups.dynamodbMisses++;
      core.events.emitCache('cache:miss', key, 'dynamodb');
    } else if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      core.lookups.dynamodbMisses++;
      const { value, expiresAt, staleUntil, tags, storedAt: madeAt } = entry;
      if (call.failSafe) load.fallback = { value, expiresAt, staleUntil, tags, madeAt, foundAt, tier: 'dynamodb' };
    } else {
      core.lookups.dynamodbHits++;
      core.events.emitCache('cache:hit', key, 'dynamodb');
      return load.resolve({ value: core.gated.remember(key, entry, foundAt), expiresAt: entry.expiresAt });
    }
    // Never handed on (to joiners, to fail-safe) once something retired it, but news (see `serveStaleChecked`).
    const { fallback } = load;
    if (fallback !== undefined && !core.gated.servable(key, fallback) && !core.gated.questioned(key, fallback)) load.fallback = undefined;
    load.flight.fallback = load.fallback;
    missing.push(load);
  });
  return missing;
}

type CheckedRead<T> = CacheEntry<T> | undefined;

/** An entry checked against the invalidations known and read: undefined when one retired it, stale when an expiry did. */
function checked<T>(core: CacheCore, entry: CacheEntry<T>, times: ReadonlyMap<string, number>): CheckedRead<T> {
  if (core.tags.retires(entry.storedAt, entry.tags, times)) return undefined;
  const expiredAt = core.tags.expiredAt(entry.storedAt, entry.tags, times);
  return expiredAt === undefined ? entry : staleAsOf(entry, expiredAt);
}

/**
 * One loader call for every key missing. A loader that fails (or passes `hardTimeout`): each key with
 * a fail-safe fallback gets it, the others the loader's error (or FactoryTimeoutError), so the call
 * rejects unless every key had one. The soft timeout counts only when every key has a fallback.
 */
async function runLoader<T>(core: CacheCore, loads: Array<Load<T>>, loader: ManyLoader<T>, ttl: Ttl<T>, call: ResolvedCallOptions) {
  const startedAt = stamp();
  const keys = loads.map((load) => load.key);
  const running = Promise.resolve().then(() => loader(keys));
  let outcome;
  try {
    outcome = await raceTimeouts(running, {
      softTimeoutMs: call.softTimeoutMs,
      hardTimeoutMs: call.hardTimeoutMs,
      hasStaleValue: loads.every((load) => load.fallback !== undefined),
    });
  } catch (error) {
    core.report(error, `getOrSetMany loader of ${keys.length} keys`);
    await Promise.all(
      loads.map(async (load) => {
        const { key, fallback } = load;
        const served =
          call.failSafe && fallback !== undefined ? await serveStaleChecked(core, key, fallback, call.failSafeThrottleMs) : undefined;
        if (served !== undefined) load.resolve(served);
        else load.reject(error);
      }),
    );
    return;
  }
  if (outcome.kind === 'value') return storeLoaded(core, loads, outcome.value, startedAt, ttl, call);
  // Timed out: the loader goes on, and what it answers is stored when it comes.
  void running
    .then((answer) => storeLoaded(core, loads, answer, startedAt, ttl, call))
    .catch((error: unknown) => core.report(error, `getOrSetMany loader of ${keys.length} keys (finished after its timeout)`));
  await Promise.all(
    loads.map(async (load) => {
      const served = load.fallback === undefined ? undefined : await serveStaleChecked(core, load.key, load.fallback);
      if (served !== undefined) load.resolve(served);
      else load.reject(new FactoryTimeoutError(core.config.name, load.key, call.hardTimeoutMs!));
    }),
  );
}

/** Checks the loader's answer, writes its values in batches, and settles each key with its value. */
async function storeLoaded<T>(
  core: CacheCore,
  loads: Array<Load<T>>,
  answer: unknown,
  startedAt: number,
  ttl: Ttl<T>,
  call: ResolvedCallOptions,
): Promise<void> {
  const values = loadedValues<T>(core.config.name, loads, answer);
  const written: Array<{ load: Load<T>; value: T; prepared: PreparedEntry }> = [];
  for (const load of loads) {
    const value = values.get(load.key);
    // undefined has no stored form: nothing is stored for it (and nothing after disconnect()).
    if (value === undefined || core.flights.dropsLate(load.key, startedAt)) {
      load.reject(new MissingLoadedValueError(core.config.name, load.key));
      continue;
    }
    // A bad ttl or a value that cannot be stored throws here, before anything of the batch is written.
    const resolvedTtl = ttlFor(core, load.key, ttl, value);
    written.push({ load, value, prepared: core.prepare(load.key, value, resolvedTtl, call, { startedAt, tags: call.tags }) });
  }
  if (written.length === 0) return;
  const remembered = await writeBatch(
    core,
    written.map((write) => write.prepared),
  );
  written.forEach(({ load, value, prepared }, index) => {
    const kept = remembered[index];
    load.resolve({ value: kept ? memoryValue<T>(kept) : value, expiresAt: prepared.expiration.expiresAt });
  });
}

function loadedValues<T>(cacheName: string, loads: Array<Load<T>>, answer: unknown): ReadonlyMap<string, T | undefined> {
  if (answer instanceof Map) return answer as Map<string, T>;
  if (!Array.isArray(answer)) throw new InvalidLoaderResultError(cacheName, `answered ${describeType(answer)}`);
  if (answer.length !== loads.length)
    throw new InvalidLoaderResultError(cacheName, `answered an array of ${answer.length} values for ${loads.length} keys`);
  return new Map(loads.map((load, index) => [load.key, answer[index] as T | undefined]));
}

/**
 * As `CacheCore.write`, for a batch: memory first (unless throwOnErrors), each value through the gate
 * as of when the loader began, so that a del or deleteByTag of a key while it ran keeps its value out.
 */
async function writeBatch(core: CacheCore, prepared: readonly PreparedEntry[]): Promise<Array<MemoryEntry | undefined>> {
  const { gated } = core;
  const keys = prepared.map((entry) => entry.key);
  const admissible = prepared.map((entry) => gated.admissible(entry.storedAt, entry.key, { madeAt: entry.storedAt, tags: entry.tags }));
  const memoryFirst = !core.config.throwOnErrors;
  if (memoryFirst) gated.retireKeys(keys);
  const sentAt = stamp();
  const first = prepared.map((entry, index) => (memoryFirst && admissible[index] ? gated.keepWritten(entry) : undefined));
  let outcome;
  try {
    outcome = await core.distributed.attempt('mset', keys, () => core.store.putEntries(prepared));
  } catch (error) {
    gated.retireKeys(keys);
    throw error;
  }
  if (memoryFirst) {
    // A read begun while the writes were in flight may have fetched the values they replaced.
    prepared.forEach((entry, index) => first[index] !== undefined && gated.retireKeys([entry.key], first[index]));
  }
  if (outcome.ok) for (const key of keys) core.events.emitCache('cache:set', key);
  // Acknowledged to its callers either way: what DynamoDB could not take is owed to it (auto-recovery).
  for (const entry of prepared)
    if (!outcome.ok) core.recovery?.oweWrite(entry);
    else core.recovery?.settled([entry.key], entry.storedAt);
  if (memoryFirst) return first;
  return prepared.map((entry, index) => (outcome.ok ? gated.keepLanded(entry, sentAt, { admissible: admissible[index] }) : undefined));
}

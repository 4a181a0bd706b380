import { randomUUID } from 'node:crypto';
import type { CapacityRecord } from '../store/capacity.js';
import type { CacheEntry, PreparedEntry } from '../store/dynamo-store.js';
import type { StoreCoordination } from '../store/coordination.js';
import type { EntryStore } from '../store/entry-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { EntryOptions } from '../store/expiry.js';
import type { CacheConfig } from './cache-config.js';
import { CacheEvents } from './cache-events.js';
import type { ResolvedCallOptions } from './cache-options.js';
import { DistributedTier } from './distributed-tier.js';
import { MemoryTier, memoryValue } from './memory-tier.js';
import { RefreshBackoff } from './refresh-backoff.js';
import { LookupCounters } from './lookup-counters.js';
import type { FactoryTraceMessage, OperationObserver } from '../store/trace-points.js';
import { TagTimes } from './tag-times.js';
import { AdmissionGate } from './admission-gate.js';
import { GatedMemory } from './gated-memory.js';
import { InvalidCacheKeyError } from '../store/errors.js';
import { CLEARED_TAG, checkTags, stamp } from '../store/tags.js';

/** What a read of DynamoDB (through the memory tier) came to. */
export type ReadResult<T> =
  | { readonly kind: 'hit'; readonly value: T; readonly expiresAt?: number }
  | {
      readonly kind: 'stale';
      readonly value: T;
      readonly expiresAt?: number;
      readonly staleUntil?: number;
      readonly tags?: readonly string[];
      readonly madeAt?: number;
    }
  | { readonly kind: 'miss' }
  | { readonly kind: 'failed' };

/** A value with the instant it expires, as get-or-set resolves. */
export interface Resolved<T> {
  readonly value: T;
  readonly expiresAt?: number;
}

/** A value past its expiry that fail-safe may serve, and where it was found. */
export interface Fallback<T> {
  readonly value: T;
  readonly expiresAt?: number;
  readonly staleUntil?: number;
  readonly tier: 'memory' | 'dynamodb';
  /** Its tags and when it was made, by which an invalidation retires it: fail-safe never serves it then. */
  readonly tags?: readonly string[];
  readonly madeAt?: number;
  /** When the get-or-set that found it began (a `stamp()`): a change of its key or tags since retires it. */
  readonly foundAt: number;
}

/** One key's get-or-set in progress in this process, which later callers of the key join. */
export interface Flight<T> {
  readonly promise: Promise<Resolved<T>>;
  readonly cacheName: string;
  readonly key: string;
  /** Set by the caller that started it once it holds a stale value, for joiners' own timeouts. */
  fallback?: Fallback<T>;
  /** When it began (a `stamp()`), and the tags its caller named: a change to either since retires it. */
  readonly startedAt: number;
  readonly tags?: readonly string[];
  /** The flights its factory has joined and still waits on: the edges in which a cycle is found. */
  readonly waitingOn: Set<Flight<unknown>>;
}

const FAILED: ReadResult<never> = Object.freeze({ kind: 'failed' });
const MISS: ReadResult<never> = Object.freeze({ kind: 'miss' });

/**
 * One cache's engine, under the `DynamoCache` facade: it owns the memory tier, the DynamoDB tier
 * (circuit breaker and error policy), the events, the calls in flight and the logger. Every
 * operation handler (get-or-set, the facade's methods, the route interceptor, the session store)
 * works through it, never through the store's settings.
 */
export class CacheCore {
  readonly memory?: MemoryTier;
  readonly distributed: DistributedTier;
  readonly events: CacheEvents;
  /** This instance's name as a distributed-lock owner. */
  readonly ownerId = randomUUID();
  private readonly flights = new Map<string, Flight<unknown>>();
  /** Every flight still running, those no longer joined (a change retired them) included. */
  private readonly running = new Set<Flight<unknown>>();
  /** The `stamp()` at which the last `settle` (a `disconnect()`) ended; 0 before any. */
  private settledAt = 0;
  /** Background refreshes that failed wait `failSafeThrottleDuration` before they are tried again. */
  readonly refreshes = new RefreshBackoff();
  /** Hits, misses and stale serves per tier, for `stats()`. */
  readonly lookups: LookupCounters;
  /** Set by the OpenTelemetry bridge: a span and a duration around each factory run. */
  factoryObserver?: OperationObserver<FactoryTraceMessage>;
  /** When the cache's tags were invalidated and the cache cleared, as far as this instance knows. */
  readonly tags: TagTimes;
  /** The one door into memory: what may enter it, judged from when the operation that produced it began. */
  readonly gated: GatedMemory;
  private readonly tagReads = new Map<string, Promise<ReadonlyMap<string, number> | undefined>>();

  constructor(
    /** Its entries, and the leases, tag times and version counter kept beside them. */
    readonly store: EntryStore & StoreCoordination,
    readonly config: CacheConfig,
  ) {
    this.events = new CacheEvents(config.name);
    this.memory = config.memory && new MemoryTier(config.memory);
    this.lookups = new LookupCounters({
      store: store instanceof MemoryStore ? 'memory' : 'dynamodb',
      memoryTier: this.memory !== undefined,
    });
    this.distributed = new DistributedTier(config, (error, operation) => this.report(error, operation));
    // Without a memory tier nothing else bounds how stale knowledge may be: a second, so that every
    // read does not also read the cache's own cleared-at item (one item that every read would share).
    const memory = this.memory;
    this.tags = new TagTimes(memory?.options.maxTtlMs ?? TAG_KNOWLEDGE_WITHOUT_MEMORY_MS, (now) => memory?.vouched(now) ?? false);
    this.gated = new GatedMemory(this.memory, new AdmissionGate(config.changeHorizonMs), this.tags, config.slidingRenewThreshold);
    // Store-level errors the cache did not see itself (a failed sliding renewal) reach the same listeners.
    store.on('error', (error: unknown) => this.report(error));
    store.on('capacity', (record: CapacityRecord) => this.events.emitIfHeard('cache:capacity', () => ({ cache: config.name, ...record })));
  }

  /**
   * Checks and serializes a write, throwing a typed error for bad input before anything is sent or
   * kept. `made` is a factory's: when it began (its value may be older than an invalidation since), and its tags.
   */
  prepare(
    key: string,
    value: unknown,
    ttl: number | EntryOptions | undefined,
    call: ResolvedCallOptions,
    made?: { readonly startedAt: number; readonly tags?: readonly string[] },
  ): PreparedEntry {
    const keepStaleFor = call.failSafe ? call.failSafeMaxDurationMs : 0;
    const options = { keepStaleFor, storedAt: made?.startedAt, tags: made?.tags };
    return this.store.prepareEntry(key, value, withJitter(ttl ?? this.config.defaultTtlMs, call.jitterMs), options);
  }

  /**
   * Reads DynamoDB, keeping a hit in memory; `allowStale` also returns an entry kept for fail-safe.
   * An entry retired by a tag's invalidation or the cache's clear is a miss, stale or not.
   */
  async readThrough<T>(key: string, allowStale: boolean): Promise<ReadResult<T>> {
    const startedAt = stamp();
    // The cache's own cleared-at time, when not known, is read beside the entry: one round trip.
    const clearedAt = this.knowTags(undefined, startedAt, true);
    const outcome = await this.distributed.attempt('get', key, () => this.store.getEntry<T>(key, { allowStale }));
    // Its failure was not reported: the read that went with it reports DynamoDB's, else unlessRetired reads it again.
    await clearedAt;
    if (!outcome.ok) return FAILED;
    const found = outcome.value;
    const entry = found === undefined ? undefined : await this.unlessRetired(found, startedAt);
    if (entry === null) return FAILED;
    if (entry === undefined) {
      this.gated.dropContradicted(key);
      this.lookups.dynamodbMisses++;
      this.events.emitCache('cache:miss', key, 'dynamodb');
      return MISS;
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      // Only kept for fail-safe: no live value, a miss unless it is served (counted then as stale).
      this.lookups.dynamodbMisses++;
      const { value, expiresAt, staleUntil, tags } = entry;
      return { kind: 'stale', value, expiresAt, staleUntil, tags, madeAt: entry.storedAt };
    }
    this.lookups.dynamodbHits++;
    this.events.emitCache('cache:hit', key, 'dynamodb');
    return { kind: 'hit', value: this.gated.remember(key, entry, startedAt), expiresAt: entry.expiresAt };
  }

  /**
   * The entry, if no invalidation known (after reading its tags' times that are not) retires it;
   * undefined if one does; null when its tags' times could not be read.
   */
  async unlessRetired<E extends { readonly tags?: readonly string[]; readonly storedAt?: number }>(
    entry: E,
    readStartedAt: number,
  ): Promise<E | undefined | null> {
    const read = await this.knowTags(entry.tags, readStartedAt);
    if (read === undefined) return null;
    return this.tags.retires(entry.storedAt, entry.tags, read) ? undefined : entry;
  }

  /** As `unlessRetired` for a batch: every entry's missing tag times in one more batch; undefined when it failed. */
  async withoutRetired<T>(
    entries: ReadonlyArray<CacheEntry<T> | undefined>,
    readStartedAt: number,
  ): Promise<Array<CacheEntry<T> | undefined> | undefined> {
    const tags = new Set<string>();
    for (const entry of entries) if (entry?.tags !== undefined) for (const tag of entry.tags) tags.add(tag);
    const read = await this.knowTags([...tags], readStartedAt);
    if (read === undefined) return undefined;
    return entries.map((entry) => (entry === undefined || this.tags.retires(entry.storedAt, entry.tags, read) ? undefined : entry));
  }

  /**
   * Reads the invalidation times of `tags` (and the cache's own) that are not known, in one batch.
   * Resolves to what this call read, for the check it is made for (a batch's tags may be more than
   * the instance keeps known), or undefined when the read failed.
   */
  async knowTags(
    tags: readonly string[] | undefined,
    readStartedAt: number,
    beside = false,
  ): Promise<ReadonlyMap<string, number> | undefined> {
    const missing = this.tags.missing(tags, Date.now());
    if (missing.length === 0) return NOTHING_READ;
    // Concurrent reads that find the same tags unknown (every read, for the cache's own) share one read of them.
    const awaited = new Set<Promise<ReadonlyMap<string, number> | undefined>>();
    const unread: string[] = [];
    for (const tag of missing) {
      const reading = this.tagReads.get(tag);
      if (reading === undefined) unread.push(tag);
      else awaited.add(reading);
    }
    if (unread.length > 0) {
      const reading = this.readTags(unread, readStartedAt, beside).finally(() => {
        for (const tag of unread) if (this.tagReads.get(tag) === reading) this.tagReads.delete(tag);
      });
      for (const tag of unread) this.tagReads.set(tag, reading);
      awaited.add(reading);
    }
    const reads = await Promise.all(awaited);
    if (reads.some((read) => read === undefined)) return undefined;
    return reads.length === 1 ? reads[0] : new Map(reads.flatMap((read) => [...read!]));
  }

  private async readTags(tags: string[], readStartedAt: number, beside: boolean): Promise<ReadonlyMap<string, number> | undefined> {
    const read = () => this.store.readTagTimes(tags);
    const outcome = beside ? await this.distributed.attemptBeside(read) : await this.distributed.attempt('read tags', undefined, read);
    if (!outcome.ok) return undefined;
    const changedSince = (tag: string) => this.gated.gate.retiredSince(readStartedAt, undefined, [tag]);
    // Memory drops what the times learned retire. The gate needs no mark: it asks what is known at
    // every admission, and a mark would refuse the very read that learned them.
    const advanced = this.tags.learn(tags, outcome.value, readStartedAt, changedSince);
    if (advanced.size > 0) this.memory?.forgetTagged(advanced);
    return outcome.value;
  }

  /**
   * Invalidates the tags (`CLEARED_TAG`: the whole cache) as of now: one small write per tag, whatever
   * the number of entries; this instance's memory drops what they retire at once, other instances
   * through the backplane (or once their knowledge lapses, after `memory.maxTtl`).
   */
  async invalidateTags(tags: readonly string[]): Promise<boolean> {
    const at = stamp();
    const invalidatedAt = new Map(tags.map((tag) => [tag, at]));
    // Memory forgets at once, as a delete does: a synchronous caller (a sync method's @CacheEvict) sees it
    // before the write lands. It is marked again after, for reads that were in flight meanwhile.
    this.gated.retireTagged(invalidatedAt);
    const outcome = await this.distributed.attempt('invalidateTags', tags.map(shownTag), () => this.store.writeTagTimes(tags, at));
    // Known here only once DynamoDB holds it: an invalidation that failed is the fleet's to miss alike,
    // not this instance's alone to keep (it would diverge from every other one until it restarts).
    if (!outcome.ok) return false;
    this.tags.record(tags, at, Date.now());
    this.gated.retireTagged(invalidatedAt);
    return true;
  }

  /**
   * Writes memory first, so that this instance has the value even while DynamoDB cannot take it (an
   * outage the caller is not told of); under throwOnErrors, memory last. A write that rejects leaves
   * memory without it.
   */
  async write<T>(prepared: PreparedEntry, value: T): Promise<Resolved<T>> {
    const { key } = prepared;
    // Judged before the write's own mark: a factory's value may have been retired while it ran.
    const admissible = this.gated.admissible(prepared.storedAt, key, { madeAt: prepared.storedAt, tags: prepared.tags });
    // Under throwOnErrors the caller learns whether the write landed, so memory takes the value only
    // once it has: until then, readers get what DynamoDB holds, not a value that may be refused.
    const memoryFirst = !this.config.throwOnErrors;
    if (memoryFirst) this.gated.retireKeys([key]);
    const sentAt = stamp();
    const rememberedFirst = admissible && memoryFirst ? this.gated.keepWritten(prepared) : undefined;
    let outcome;
    try {
      outcome = await this.distributed.attempt('set', key, () => this.store.putEntry(prepared));
    } catch (error) {
      // A rejected write (input refused once encoded, or any failure under throwOnErrors) told the
      // caller nothing was stored: memory must not serve it either.
      this.gated.retireKeys([key]);
      throw error;
    }
    const remembered = memoryFirst ? rememberedFirst : this.gated.keepLanded(prepared, sentAt, admissible);
    // A read begun while the write was in flight may have fetched the value it replaced.
    if (rememberedFirst !== undefined) this.gated.retireKeys([key], rememberedFirst);
    if (outcome.ok) {
      this.events.emitCache('cache:set', key);
      this.events.emitIfHeard('set', () => ({ key, value }));
    }
    return { value: remembered ? memoryValue<T>(remembered) : value, expiresAt: prepared.expiration.expiresAt };
  }

  /**
   * The flight in progress for `key`, or a new one that `start` begins. A flight that began before a
   * change retired its key, one of `tags` or the whole cache (this instance's own, or news of
   * another's) is not joined: its value is retired already, and a caller who came after the change
   * must not get it. It runs on for its own callers; later ones start afresh.
   */
  flight<T>(
    key: string,
    start: (flight: Flight<T>) => Promise<Resolved<T>>,
    tags?: readonly string[],
  ): { flight: Flight<T>; joined: boolean } {
    const running = this.flights.get(key) as Flight<T> | undefined;
    if (running !== undefined && this.joinable(running, key)) return { flight: running, joined: true };
    const flight = { cacheName: this.config.name, key, tags, startedAt: stamp(), waitingOn: new Set() } as unknown as {
      -readonly [K in keyof Flight<T>]: Flight<T>[K];
    };
    flight.promise = start(flight).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
      this.running.delete(flight as Flight<unknown>);
    });
    this.flights.set(key, flight as Flight<unknown>);
    this.running.add(flight as Flight<unknown>);
    return { flight, joined: false };
  }

  /**
   * Whether a caller may still take `flight`'s answer: no known change retired it, and it is no older
   * than memory could serve a value (its start counts, as a read's does): without a backplane to
   * vouch, a factory that began more than `memory.maxTtl` ago (one slow, or frozen with its process)
   * may have read what another instance changed since, which this one cannot know of.
   */
  private joinable(flight: Flight<unknown>, key: string): boolean {
    if (this.gated.gate.retiredSince(flight.startedAt, key, flight.tags)) return false;
    const memory = this.memory;
    if (memory === undefined) return true;
    const now = Date.now();
    return now - flight.startedAt < memory.options.maxTtlMs || memory.vouched(now);
  }

  /**
   * For `disconnect()`: waits for get-or-set flights (a caller may wait on one), background
   * refreshes and DynamoDB calls in flight, for `disconnectWaitMs` at most, and not for a factory
   * past its timeout, whose callers have all gone. A kubelet's SIGKILL follows SIGTERM after 30 s by
   * default: a shutdown that waits for a factory that never settles loses every write with it.
   * Whatever began by the time this resolves and finishes later is late (`isLate`): not stored.
   */
  async settle(): Promise<void> {
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve();
      }, this.config.disconnectWaitMs);
    });
    try {
      while (!expired && (this.running.size > 0 || this.distributed.busy)) {
        const flights = [...this.running].map((flight) => flight.promise);
        await Promise.race([Promise.allSettled([...flights, this.distributed.settled()]), waited]);
      }
    } finally {
      clearTimeout(timer);
    }
    this.settledAt = stamp();
  }

  /**
   * Whether work that began at `startedAt` (a `stamp()`) began before the last `disconnect()`
   * resolved: its result is dropped, not written, so that nothing lands after a shutdown said it
   * was done (the process may be gone, and its memory with it). Said once per result, naming the key.
   */
  dropsLate(key: string, startedAt: number): boolean {
    if (startedAt > this.settledAt) return false;
    this.config.logger.warn(
      `Cache "${this.config.name}": the factory for key "${key}" finished after disconnect() resolved; its result is dropped, not stored.`,
    );
    return true;
  }

  /** As `dropsLate`, without a word: for what goes with a late result (its lease's release). */
  isLate(startedAt: number): boolean {
    return startedAt <= this.settledAt;
  }

  report(error: unknown, operation?: string): void {
    this.events.emitCache('cache:error', undefined, undefined, error);
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    else
      this.config.logger.warn(
        `Cache ${this.config.id}: ${operation ? `${operation} failed: ` : ''}${(error as Error)?.message ?? String(error)}`,
      );
  }
}

/** How long tag knowledge is taken as current by a cache without a memory tier. */
const TAG_KNOWLEDGE_WITHOUT_MEMORY_MS = 1_000;

const NOTHING_READ: ReadonlyMap<string, number> = new Map();

const shownTag = (tag: string) => (tag === CLEARED_TAG ? '(the whole cache)' : `tag ${tag}`);

/** The tags a caller named, checked as a write's are. */
export function checkedTags(tags: unknown, about: string): readonly string[] {
  if (tags === undefined) throw new InvalidCacheKeyError(`${about}: tags must be a tag or a list of tags, got undefined.`);
  return checkTags(typeof tags === 'string' ? [tags] : tags, about) ?? [];
}

function withJitter(ttl: number | EntryOptions | undefined, jitterMs: number): number | EntryOptions | undefined {
  if (jitterMs <= 0 || typeof ttl !== 'number' || ttl <= 0) return ttl;
  return ttl + Math.floor(Math.random() * jitterMs);
}

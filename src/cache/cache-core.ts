import { randomUUID } from 'node:crypto';
import type { CapacityRecord } from '../store/capacity.js';
import type { PreparedEntry } from '../store/dynamo-store.js';
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
import { checkTags, stamp } from '../store/tags.js';
import { overOwed, owedWithoutRead } from './owed-reads.js';
import { Flights } from './flights.js';
import { TagInvalidation } from './tag-invalidation.js';
import { AutoRecovery } from './auto-recovery.js';
import { type DynamoStore } from '../store/dynamo-store.js';

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

const FAILED: ReadResult<never> = Object.freeze({ kind: 'failed' });
const MISS: ReadResult<never> = Object.freeze({ kind: 'miss' });

/**
 * One cache's engine, under the `DynamoCache` facade: it owns the memory tier, the DynamoDB tier
 * (circuit breaker and error policy), the events, the calls in flight and the logger. Every
 * operation handler (get-or-set, the facade's methods, the route interceptor, the session store)
 * works through it, never through the store's settings; code outside cache/ reaches it only through
 * the ports of cache-ports.ts. The words of our own used here and in its parts (retired, flight,
 * landed, vouched, horizon...) are defined in docs/glossary.md.
 */
export class CacheCore {
  readonly memory?: MemoryTier;
  readonly distributed: DistributedTier;
  readonly events: CacheEvents;
  /** This instance's name as a distributed-lock owner. */
  readonly ownerId = randomUUID();
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
  /** Invalidations by tag and clears, and the check of what a read found against them. */
  readonly invalidation: TagInvalidation;
  /** This process's get-or-set runs, which later callers of a key join, and the shutdown that waits for them. */
  readonly flights: Flights;
  /** The changes owed to DynamoDB since an outage; absent when off, and for a memory-only cache (its store never fails). */
  readonly recovery?: AutoRecovery;

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
    if (config.autoRecovery !== undefined && !(store instanceof MemoryStore))
      this.recovery = new AutoRecovery(store as unknown as DynamoStore, this.distributed, config, config.autoRecovery.maxItems);
    this.invalidation = new TagInvalidation(store, this.distributed, this.tags, this.gated, this.recovery);
    this.flights = new Flights(config, this.gated, this.distributed);
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
  async readThrough<T>(key: string, { allowStale }: { readonly allowStale: boolean }): Promise<ReadResult<T>> {
    const startedAt = stamp();
    const owedAtStart = this.recovery?.owedFor(key);
    const clearedAtKnown = this.invalidation.knowClearedAt(startedAt);
    const outcome = await this.distributed.attempt('get', key, () => this.store.getEntry<T>(key, { allowStale }));
    // Its failure was not reported: the read that went with it reports DynamoDB's, else unlessRetired reads it again.
    await clearedAtKnown;
    // DynamoDB could not be read: a value this instance owes it still answers.
    if (!outcome.ok) return owedWithoutRead<T>(this, key, owedAtStart, { allowStale }) ?? FAILED;
    const { answered, found } = overOwed(this, key, owedAtStart, outcome.value, { allowStale });
    if (answered !== undefined) return answered;
    const entry = found === undefined ? undefined : await this.invalidation.unlessRetired(found, startedAt);
    if (entry === 'unreadable') return FAILED;
    if (entry === undefined || entry === 'retired') {
      this.gated.dropContradicted(key);
      return this.missed(key);
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      // Stale by `expireByTag` (the store returns none else): a miss for a read that asked for no fallback.
      if (!allowStale) return this.missed(key);
      // Only kept for fail-safe: no live value, a miss unless it is served (counted then as stale).
      this.lookups.dynamodbMisses++;
      const { value, expiresAt, staleUntil, tags } = entry;
      return { kind: 'stale', value, expiresAt, staleUntil, tags, madeAt: entry.storedAt };
    }
    this.lookups.dynamodbHits++;
    this.events.emitCache('cache:hit', key, 'dynamodb');
    return { kind: 'hit', value: this.gated.remember(key, entry, startedAt), expiresAt: entry.expiresAt };
  }

  /** A read of DynamoDB found nothing to return: counted and announced. */
  missed(key: string): ReadResult<never> {
    this.lookups.dynamodbMisses++;
    this.events.emitCache('cache:miss', key, 'dynamodb');
    return MISS;
  }

  /** A write of `value` as `set` makes it; `startedAt`: when the work that made it began, so that an invalidation since retires it. */
  async set<T>(key: string, value: T, ttl: number | EntryOptions | undefined, startedAt?: number): Promise<T> {
    const made = startedAt === undefined ? undefined : { startedAt };
    await this.write(this.prepare(key, value, ttl, this.config.defaults, made), value);
    return value;
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
    const recovery = this.recovery;
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
    const remembered = memoryFirst ? rememberedFirst : this.gated.keepLanded(prepared, sentAt, { admissible });
    // A read begun while the write was in flight may have fetched the value it replaced.
    if (rememberedFirst !== undefined) this.gated.retireKeys([key], rememberedFirst);
    if (!outcome.ok) recovery?.oweWrite(prepared);
    else if (recovery !== undefined) recovery.settled([key], prepared.storedAt);
    if (outcome.ok) {
      this.events.emitCache('cache:set', key);
      this.events.emitIfHeard('set', () => ({ key, value }));
    }
    return { value: remembered ? memoryValue<T>(remembered) : value, expiresAt: prepared.expiration.expiresAt };
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

/** The tags a caller named, checked as a write's are. */
export function checkedTags(tags: unknown, about: string): readonly string[] {
  if (tags === undefined) throw new InvalidCacheKeyError(`${about}: tags must be a tag or a list of tags, got undefined.`);
  return checkTags(typeof tags === 'string' ? [tags] : tags, about) ?? [];
}

function withJitter(ttl: number | EntryOptions | undefined, jitterMs: number): number | EntryOptions | undefined {
  if (jitterMs <= 0 || typeof ttl !== 'number' || ttl <= 0) return ttl;
  return ttl + Math.floor(Math.random() * jitterMs);
}

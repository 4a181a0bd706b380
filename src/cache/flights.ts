import { stamp } from '../store/tags.js';
import type { CacheConfig } from './cache-config.js';
import type { Fallback, Resolved } from './cache-core.js';
import type { DistributedTier } from './distributed-tier.js';
import type { GatedMemory } from './gated-memory.js';

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

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One cache's flights (see docs/glossary.md), and the shutdown that waits for them: whatever began
 * before the last `disconnect()` resolved and finishes after it is late, and is not stored.
 */
export class Flights {
  private readonly byKey = new Map<string, Flight<unknown>>();
  /** Every flight still running, those no longer joined (a change retired them) included. */
  private readonly running = new Set<Flight<unknown>>();
  /** The `stamp()` at which the last `settle` (a `disconnect()`) ended; 0 before any. */
  private settledAt = 0;

  constructor(
    private readonly config: CacheConfig,
    private readonly gated: GatedMemory,
    private readonly distributed: DistributedTier,
  ) {}

  /**
   * The flight in progress for `key`, or a new one that `start` begins. A flight that began before a
   * change retired its key, one of `tags` or the whole cache (this instance's own, or news of
   * another's) is not joined: its value is retired already, and a caller who came after the change
   * must not get it. It runs on for its own callers; later ones start afresh.
   */
  joinOrStart<T>(
    key: string,
    start: (flight: Flight<T>) => Promise<Resolved<T>>,
    tags?: readonly string[],
  ): { flight: Flight<T>; joined: boolean } {
    const running = this.byKey.get(key) as Flight<T> | undefined;
    if (running !== undefined && this.joinable(running, key)) return { flight: running, joined: true };
    const flight = { cacheName: this.config.name, key, tags, startedAt: stamp(), waitingOn: new Set() } as unknown as Writable<Flight<T>>;
    flight.promise = start(flight).finally(() => {
      if (this.byKey.get(key) === flight) this.byKey.delete(key);
      this.running.delete(flight as Flight<unknown>);
    });
    this.byKey.set(key, flight as Flight<unknown>);
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
    const memory = this.gated.memory;
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
    if (!this.isLate(startedAt)) return false;
    this.config.logger.warn(
      `Cache "${this.config.name}": the factory for key "${key}" finished after disconnect() resolved; its result is dropped, not stored.`,
    );
    return true;
  }

  /** As `dropsLate`, without a word: for what goes with a late result (its lease's release). */
  isLate(startedAt: number): boolean {
    return startedAt <= this.settledAt;
  }
}

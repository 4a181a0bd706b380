import type { EntryOptions } from '../store/expiry.js';
import { stamp } from '../store/tags.js';
import { type FactoryTraceMessage, type OperationObserver, factoryChannel, traced } from '../store/trace-points.js';

/** What a factory is handed: the key, the stale value if fail-safe has one, and a say in how it is cached. */
export interface FactoryContext<T> {
  /** The key whose value the factory makes. */
  readonly key: string;
  /** The last known value, past its expiry, when fail-safe keeps one. */
  readonly staleValue: T | undefined;
  /** Whether `staleValue` holds a value (which may itself be `undefined`). */
  readonly hasStaleValue: boolean;
  /** Cache the result for this long instead (ms or entry options), e.g. from an upstream's max-age. */
  setTtl(ttl: number | EntryOptions): void;
  /** Return the result without caching it (an error page, a partial answer). */
  skip(): void;
  /** Tag the result (besides the call's own `tags`), e.g. with the ids of what it was built from. */
  addTags(...tags: string[]): void;
}

/**
 * What `getOrSet` calls for a missing or expired key: makes the value, sync or async. `context` lets it
 * change the entry's ttl, tag it, or not cache it.
 */
export type Factory<T> = (context: FactoryContext<T>) => T | Promise<T>;

export class FactoryRun<T> implements FactoryContext<T> {
  ttlOverride?: number | EntryOptions;
  skipped = false;
  readonly tags: string[] = [];
  /** An invalidation at or after it retires the result: the factory may have read what it invalidated. */
  readonly startedAt = stamp();

  readonly staleValue: T | undefined;
  readonly hasStaleValue: boolean;

  /** `stale`: the last known value fail-safe keeps, when there is one (undefined itself may be it). */
  constructor(
    readonly key: string,
    stale?: { readonly value: T },
  ) {
    this.staleValue = stale?.value;
    this.hasStaleValue = stale !== undefined;
  }

  setTtl(ttl: number | EntryOptions): void {
    this.ttlOverride = ttl;
  }

  skip(): void {
    this.skipped = true;
  }

  addTags(...tags: string[]): void {
    this.tags.push(...tags);
  }
}

export type TimedResult<T> = { readonly kind: 'value'; readonly value: T } | { readonly kind: 'soft-timeout' | 'hard-timeout' };

/**
 * Races a running factory against its timeouts. The soft timeout only counts when there is a stale
 * value to serve instead. The factory is never abandoned: a caller that timed out still gets its
 * result cached when it arrives (the caller's `onLate`).
 */
export function raceTimeouts<T>(
  running: Promise<T>,
  {
    softTimeoutMs,
    hardTimeoutMs,
    hasStaleValue,
  }: { readonly softTimeoutMs: number | undefined; readonly hardTimeoutMs: number | undefined; readonly hasStaleValue: boolean },
): Promise<TimedResult<T>> {
  const soft = hasStaleValue ? softTimeoutMs : undefined;
  if (soft === undefined && hardTimeoutMs === undefined) return running.then((value) => ({ kind: 'value', value }));
  return new Promise<TimedResult<T>>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const settle = (result: TimedResult<T>) => {
      for (const timer of timers) clearTimeout(timer);
      resolve(result);
    };
    if (soft !== undefined) timers.push(setTimeout(() => settle({ kind: 'soft-timeout' }), soft));
    if (hardTimeoutMs !== undefined) timers.push(setTimeout(() => settle({ kind: 'hard-timeout' }), hardTimeoutMs));
    running.then(
      (value) => settle({ kind: 'value', value }),
      (error: unknown) => {
        for (const timer of timers) clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Runs a factory as get-or-set does, traced (a span, a duration, the diagnostics channel) when the
 * OpenTelemetry bridge or a channel subscriber is there; a factory that throws synchronously rejects.
 */
export function runFactory<T>(
  factory: Factory<T>,
  run: FactoryRun<T>,
  {
    observer,
    cache,
    background,
  }: { readonly observer: OperationObserver<FactoryTraceMessage> | undefined; readonly cache: string; readonly background: boolean },
): Promise<T> {
  return traced(
    observer,
    factoryChannel,
    () => ({ cache, key: run.key, background }),
    async () => factory(run),
  );
}

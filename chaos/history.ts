/**
 * What a chaos run records: every operation each instance made on its cache (with the values it
 * wrote and read), every factory run, every DynamoDB failure the cache reported, and every fault the
 * runner injected. The checker (`checker/`) reads nothing else. All times are `Date.now()` in ms;
 * the instances and the runner share one machine, so one clock.
 */

export type ChaosMode = 'none' | 'poll' | 'streams';

export const CHAOS_MODES: readonly ChaosMode[] = ['streams', 'poll', 'none'];

export type OpKind = 'get' | 'mget' | 'set' | 'getOrSet' | 'getOrSetMany' | 'del' | 'deleteByTag' | 'clear' | 'expire' | 'expireByTag';

/** The cache options every instance of a run is built with, and the bounds the checker derives from them. */
export interface RunOptions {
  readonly memoryMaxTtlMs: number;
  /** The backplane's maxLag (poll and streams). */
  readonly maxLagMs: number;
  /** The backplane's interval (poll) or pollInterval (streams). */
  readonly intervalMs: number;
  readonly operationTimeoutMs: number;
  readonly circuitBreakerDurationMs: number;
  /** Longest a workload factory takes. */
  readonly factoryMaxMs: number;
  /** failSafeThrottleDuration of the workload's fail-safe getOrSet calls. */
  readonly failSafeThrottleMs: number;
}

/** Short bounds, so that a 30 s run goes past each of them several times. */
export const RUN_OPTIONS: RunOptions = {
  memoryMaxTtlMs: 2_000,
  maxLagMs: 3_000,
  intervalMs: 500,
  operationTimeoutMs: 1_000,
  circuitBreakerDurationMs: 2_000,
  factoryMaxMs: 300,
  failSafeThrottleMs: 1_000,
};

export interface RunConfig {
  readonly mode: ChaosMode;
  readonly seed: number;
  readonly durationMs: number;
  readonly instances: number;
  readonly startedAt: number;
  readonly options: RunOptions;
}

export interface OpRecord {
  /** `<instance>:<n>`, unique in the run. */
  readonly id: string;
  readonly instance: string;
  readonly kind: OpKind;
  /** The keys read, written, deleted or expired (mget, getOrSetMany: several); none for deleteByTag, expireByTag and clear. */
  readonly keys: readonly string[];
  /** deleteByTag's and expireByTag's tag; the tag a set, getOrSet or getOrSetMany gave its values. */
  readonly tag?: string;
  /** set: the value written. */
  readonly written?: string;
  /** set, getOrSet and getOrSetMany: the ttl given, in ms. */
  readonly ttlMs?: number;
  readonly failSafe?: boolean;
  readonly start: number;
  /** Absent: the operation never ended (its instance was killed, or it hung past the run's end). */
  readonly end?: number;
  /** get, mget, getOrSet, getOrSetMany: what was read, one per key; null for undefined. */
  readonly values?: readonly (string | null)[];
  /** del, deleteByTag, clear, expire, expireByTag: what the call resolved to. */
  readonly result?: boolean;
  /** The name of the error the call rejected with. */
  readonly error?: string;
  /** The error was the workload factory's or loader's own (a getOrSet with nothing to fall back on may reject with it). */
  readonly expectedError?: boolean;
  /** The cache's circuit state when the call began and when it ended. */
  readonly circuit?: readonly [string, string];
}

/**
 * One run of a workload factory, or one key of a getOrSetMany loader's run (one record per key it was
 * asked for, sharing its start, end and failure): its value is made (and named) when it begins.
 */
export interface FactoryRecord {
  readonly instance: string;
  /** The getOrSet or getOrSetMany whose factory or loader this was (a caller that joined its flight returns its value too). */
  readonly op: string;
  readonly key: string;
  readonly value: string;
  readonly start: number;
  readonly end?: number;
  readonly threw?: boolean;
  /** The loader left the key out of its answer: the value was never handed to the cache (the key must resolve undefined). */
  readonly omitted?: boolean;
}

/** A `cache:error` the instance's cache emitted for a DynamoDB failure (a factory's own errors are left out). */
export interface CacheErrorRecord {
  readonly instance: string;
  readonly at: number;
  readonly name: string;
}

export type FaultKind =
  /** SIGSTOP of an instance (a follower, or the stream reader), then SIGCONT. */
  | 'freeze'
  /** SIGKILL of the stream reader; a new instance replaces it. */
  | 'kill'
  /** SIGSTOP of DynamoDB Local's JVM, then SIGCONT: every instance's calls hang. */
  | 'dynamodb-pause'
  /** The instance's proxy delays every answer. */
  | 'latency'
  /** The instance's proxy resets some connections. */
  | 'resets'
  /** The instance's proxy resets every connection: all its calls fail. */
  | 'fail';

export interface FaultRecord {
  readonly kind: FaultKind;
  /** The instance it struck; absent for DynamoDB Local's pause, which strikes every instance. */
  readonly instance?: string;
  /** What the instance was when struck, in the streams mode: `reader` or `follower`. */
  readonly role?: string;
  readonly start: number;
  /** For a kill, the instant it was killed. */
  readonly end: number;
  readonly detail?: string;
}

export interface InstanceRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly killedAt?: number;
  /** How long `app.close()` took after the workload stopped; absent if killed or it never closed. */
  readonly closeMs?: number;
  readonly closeTimedOut?: boolean;
  /** Operations still running when the instance was told to stop and its grace ran out. */
  readonly unfinished?: number;
}

export interface History {
  readonly config: RunConfig;
  readonly instances: readonly InstanceRecord[];
  readonly ops: readonly OpRecord[];
  readonly factories: readonly FactoryRecord[];
  readonly errors: readonly CacheErrorRecord[];
  readonly faults: readonly FaultRecord[];
}

/** The value a workload write makes: it names its key and its write, so every read names the write it saw. */
export const valueOf = (key: string, instance: string, write: string) => `${key}|${instance}|${write}`;

/** The key a workload value was written for; undefined for a string that is not one. */
export function keyOfValue(value: string): string | undefined {
  const parts = value.split('|');
  return parts.length === 3 ? parts[0] : undefined;
}

import type { ChaosMode, RunOptions } from '../history.js';

/** What the runner hands an instance (in the CHAOS_INSTANCE environment variable, as JSON). */
export interface InstanceConfig {
  readonly id: string;
  readonly mode: ChaosMode;
  readonly tableName: string;
  /** The instance's own proxy in front of DynamoDB Local, through which the runner injects faults. */
  readonly endpoint: string;
  readonly seed: number;
  readonly options: RunOptions;
  /** Where the instance appends its history, one JSON object a line. */
  readonly historyFile: string;
  readonly workload: WorkloadShape;
}

export interface WorkloadShape {
  /** Concurrent operation loops. */
  readonly loops: number;
  /** Keys k0..k(keys-1); key kN carries the tag g(N mod groups). */
  readonly keys: number;
  readonly groups: number;
}

/** Runner → instance. */
export type RunnerMessage =
  | { readonly type: 'start'; readonly deadline: number }
  | { readonly type: 'stats' }
  /** Stop starting operations, wait up to `graceMs` for those in flight, close the app, and exit. */
  | { readonly type: 'finish'; readonly graceMs: number; readonly closeWaitMs: number };

/** Instance → runner. */
export type InstanceMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'stats'; readonly role?: string; readonly state?: string; readonly lagMs?: number }
  | { readonly type: 'finished'; readonly unfinished: number; readonly closeMs?: number; readonly closeTimedOut: boolean };

/** The module options every instance of a run uses: memory tier on, short bounds, the mode's backplane. */
export function moduleOptions(config: InstanceConfig) {
  const { options } = config;
  const backplane =
    config.mode === 'poll'
      ? { backplane: { type: 'poll' as const, interval: options.intervalMs, maxLag: options.maxLagMs } }
      : config.mode === 'streams'
        ? { backplane: { type: 'streams' as const, pollInterval: options.intervalMs, maxLag: options.maxLagMs } }
        : {};
  return {
    tableName: config.tableName,
    endpoint: config.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'chaos', secretAccessKey: 'chaos' },
    partitionKeyName: 'pk',
    ttlAttributeName: 'ttl',
    memory: { maxTtl: options.memoryMaxTtlMs },
    operationTimeout: options.operationTimeoutMs,
    circuitBreakerDuration: options.circuitBreakerDurationMs,
    ...backplane,
  };
}

import type { OpKind, RunConfig, RunOptions } from '../history.js';

/**
 * Time the checker grants on top of every bound: timers fire late and processes wait for a core on a
 * loaded machine (two cores, DynamoDB Local and every instance on them). Recorded in each summary.
 */
export const SCHEDULING_SLACK_MS = 250;

/**
 * B, how long after another instance's acknowledged change a read may still return what it replaced
 * (docs/consistency.md): `memory.maxTtl` without a backplane; with one, the longer of `maxLag` plus
 * one interval (the read that proves the backplane caught up began up to an interval before it
 * answered) and `memory.maxTtl` (what memory falls back to while the backplane lags).
 */
export function stalenessBoundMs(config: Pick<RunConfig, 'mode' | 'options'>): number {
  const { memoryMaxTtlMs, maxLagMs, intervalMs } = config.options;
  return config.mode === 'none' ? memoryMaxTtlMs : Math.max(maxLagMs + intervalMs, memoryMaxTtlMs);
}

/**
 * How many DynamoDB calls, one after another, an operation may make at most, each bounded by
 * `operationTimeout` (a batch by five times it): get reads the entry and then tag times it did not
 * know; getOrSet reads, runs the factory, writes, and bumps the poll backplane's version; mget's
 * BatchGetItem and its tag times are batches. One call more for each, for a half-open circuit's probe.
 */
const SEQUENTIAL_CALLS: Record<OpKind, number> = {
  get: 3,
  mget: 11,
  set: 3,
  getOrSet: 5,
  del: 2,
  deleteByTag: 3,
  clear: 3,
};

/** The longest an operation may take while its instance runs (time it spent frozen by SIGSTOP is not counted). */
export function hangBoundMs(kind: OpKind, options: RunOptions): number {
  const factory = kind === 'getOrSet' ? options.factoryMaxMs : 0;
  return SEQUENTIAL_CALLS[kind] * options.operationTimeoutMs + factory + 2 * SCHEDULING_SLACK_MS;
}

/** How long `app.close()` may take once the workload has stopped. */
export const closeBoundMs = (options: RunOptions) => 5 * options.operationTimeoutMs + 2 * SCHEDULING_SLACK_MS;

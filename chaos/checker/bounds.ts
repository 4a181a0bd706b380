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
 * How long an operation's DynamoDB calls may take one after another, in `operationTimeout`s (a batch
 * call is bounded by five of them): get reads the entry (and the cache's cleared-at time beside it),
 * then in one BatchGetItem the tag times it did not know; mget the same with a BatchGetItem of the
 * entries; getOrSet reads as get does, runs the factory, writes, and bumps the poll backplane's
 * version; getOrSetMany reads as mget does, runs the loader, writes in one BatchWriteItem and bumps;
 * set, del, deleteByTag, clear, expire and expireByTag write and bump. One more for each but the batches'.
 */
const TIMEOUTS: Record<OpKind, number> = {
  get: 1 + 5,
  mget: 5 + 5,
  set: 3,
  getOrSet: 1 + 5 + 2,
  getOrSetMany: 5 + 5 + 5 + 1,
  del: 3,
  deleteByTag: 3,
  clear: 3,
  expire: 3,
  expireByTag: 3,
};

/** The longest an operation may take while its instance runs (time it spent frozen by SIGSTOP is not counted). */
export function hangBoundMs(kind: OpKind, options: RunOptions): number {
  const factory = kind === 'getOrSet' || kind === 'getOrSetMany' ? options.factoryMaxMs : 0;
  return TIMEOUTS[kind] * options.operationTimeoutMs + factory + 2 * SCHEDULING_SLACK_MS;
}

/** How long `app.close()` may take once the workload has stopped. */
export const closeBoundMs = (options: RunOptions) => 5 * options.operationTimeoutMs + 2 * SCHEDULING_SLACK_MS;

import type { FaultKind, History, OpKind, OpRecord, RunOptions } from '../history.js';
import { SCHEDULING_SLACK_MS, closeBoundMs, hangBoundMs } from './bounds.js';
import type { Change } from './changes.js';
import { type HintKind, hintFor } from './hints.js';
import { type RuleName, type Violation, checkHistory } from './rules.js';

const EXAMPLES_PER_RULE = 5;

/** An operation as a summary shows it: times in ms from the run's start. */
export interface OpView {
  readonly id: string;
  readonly instance: string;
  readonly kind: OpKind;
  readonly key?: string;
  readonly tag?: string;
  readonly value?: string | null;
  readonly start: number;
  readonly end?: number;
  readonly error?: string;
}

export interface ViolationExample {
  readonly read?: OpView;
  readonly change?: OpView;
  readonly gapMs?: number;
  readonly note?: string;
  /** How the read may have come to return it (see `hintFor`). */
  readonly hint?: string;
  readonly instance: string;
}

export interface ChaosSummary {
  readonly mode: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly instances: number;
  readonly options: RunOptions;
  readonly boundMs: number;
  readonly slackMs: number;
  readonly hangBoundsMs: Record<OpKind, number>;
  readonly closeBoundMs: number;
  readonly operations: Partial<Record<OpKind, number>>;
  readonly reads: number;
  readonly readsDuringFailures: number;
  readonly cacheErrors: number;
  readonly faults: ReadonlyArray<{ kind: FaultKind; instance?: string; role?: string; start: number; end: number; detail?: string }>;
  readonly violationCount: number;
  readonly violations: ReadonlyArray<{
    rule: RuleName;
    count: number;
    hints: Partial<Record<HintKind, number>>;
    examples: ViolationExample[];
  }>;
  /** For reads that returned a retired value within the bound: r.start − the retiring change's end. */
  readonly staleness: { reads: number; p50Ms: number; p99Ms: number; maxMs: number };
}

const KINDS: readonly OpKind[] = ['get', 'mget', 'set', 'getOrSet', 'getOrSetMany', 'del', 'deleteByTag', 'clear', 'expire', 'expireByTag'];

/** Checks the history and sums it up: operations, faults, violations by rule with examples, staleness. */
export function summarize(history: History): ChaosSummary {
  const result = checkHistory(history);
  const { config } = history;
  const at = (time: number | undefined) => (time === undefined || !Number.isFinite(time) ? undefined : time - config.startedAt);
  const view = (op: OpRecord, key?: string, value?: string | null): OpView => ({
    id: op.id,
    instance: op.instance,
    kind: op.kind,
    ...((key ?? op.keys.join(',')) === '' ? {} : { key: key ?? op.keys.join(',') }),
    ...(op.tag === undefined || (op.kind !== 'deleteByTag' && op.kind !== 'expireByTag') ? {} : { tag: op.tag }),
    ...(value === undefined ? {} : { value }),
    start: at(op.start)!,
    ...(op.end === undefined ? {} : { end: at(op.end) }),
    ...(op.error === undefined ? {} : { error: op.error }),
  });
  const changeView = (change: Change): OpView =>
    change.type === 'write'
      ? { ...view(change.op, change.key, change.value), start: at(change.start)!, end: at(change.end) }
      : view(change.op, change.op.kind === 'del' || change.op.kind === 'expire' ? change.op.keys[0] : undefined);
  const example = (violation: Violation): ViolationExample => {
    const hint = hintFor(violation, history);
    return {
      instance: violation.instance,
      ...(violation.op === undefined ? {} : { read: view(violation.op, violation.key, violation.value) }),
      ...(violation.change === undefined ? {} : { change: changeView(violation.change) }),
      ...(violation.gapMs === undefined ? {} : { gapMs: violation.gapMs }),
      ...(violation.note === undefined ? {} : { note: violation.note }),
      ...(hint === undefined ? {} : { hint: hint.text }),
    };
  };
  const byRule = new Map<RuleName, Violation[]>();
  for (const violation of result.violations)
    (byRule.get(violation.rule) ?? byRule.set(violation.rule, []).get(violation.rule)!).push(violation);
  const operations: Partial<Record<OpKind, number>> = {};
  for (const op of history.ops) operations[op.kind] = (operations[op.kind] ?? 0) + 1;
  const sorted = [...result.stalenessMs].sort((a, b) => a - b);
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  return {
    mode: config.mode,
    seed: config.seed,
    durationMs: config.durationMs,
    instances: config.instances,
    options: config.options,
    boundMs: result.boundMs,
    slackMs: SCHEDULING_SLACK_MS,
    hangBoundsMs: Object.fromEntries(KINDS.map((kind) => [kind, hangBoundMs(kind, config.options)])) as Record<OpKind, number>,
    closeBoundMs: closeBoundMs(config.options),
    operations,
    reads: result.reads,
    readsDuringFailures: result.readsDuringFailures,
    cacheErrors: history.errors.length,
    faults: history.faults.map((fault) => ({ ...fault, start: at(fault.start)!, end: at(fault.end)! })),
    violationCount: result.violations.length,
    violations: [...byRule].map(([rule, found]) => ({
      rule,
      count: found.length,
      hints: countHints(found, history),
      examples: spread(found, EXAMPLES_PER_RULE).map(example),
    })),
    staleness: { reads: sorted.length, p50Ms: percentile(0.5), p99Ms: percentile(0.99), maxMs: sorted.at(-1) ?? 0 },
  };
}

/** Up to `count` of the list, taken across it (the first, the last and between), so that examples show its range. */
function spread<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  return Array.from({ length: count }, (_, index) => list[Math.round((index * (list.length - 1)) / (count - 1))]!);
}

/** How many of the violations each hint explains. */
function countHints(violations: readonly Violation[], history: History): Partial<Record<HintKind, number>> {
  const counts: Partial<Record<HintKind, number>> = {};
  for (const violation of violations) {
    const kind = hintFor(violation, history)?.kind;
    if (kind !== undefined) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

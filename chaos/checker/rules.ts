import { type History, type OpRecord, keyOfValue } from '../history.js';
import { SCHEDULING_SLACK_MS, closeBoundMs, hangBoundMs, stalenessBoundMs } from './bounds.js';
import { type Change, Changes, type Invalidation, type Write, supersedes } from './changes.js';
import { FactoryRuns } from './factory-runs.js';
import { Timeline } from './timeline.js';

export type RuleName =
  | 'phantom-value'
  | 'read-your-writes'
  | 'outage-served-retired'
  | 'stale-beyond-bound'
  | 'expired-served'
  | 'loader-omitted'
  | 'lost-write'
  | 'error-surfaced'
  | 'hang';

/** One broken rule: the operation that broke it and, for a read, the change it missed. */
export interface Violation {
  readonly rule: RuleName;
  readonly instance: string;
  /** Absent for a shutdown that did not end. */
  readonly op?: OpRecord;
  readonly key?: string;
  readonly value?: string | null;
  /** The change the read should have seen: the superseding event, or the write it lost. */
  readonly change?: Change;
  /** How late the read was (r.start − the change's end), or how long past its bound the operation ran, in ms. */
  readonly gapMs?: number;
  readonly note?: string;
}

export interface CheckResult {
  readonly violations: Violation[];
  /** r.start − the end of the first change that retired the value, for each read that returned a retired value within the bound. */
  readonly stalenessMs: number[];
  readonly reads: number;
  /** Reads during which their instance saw a DynamoDB failure (judged by the outage rule only). */
  readonly readsDuringFailures: number;
  readonly boundMs: number;
}

/** Checks a history against the consistency model of docs/consistency.md. A pure function of the history. */
export function checkHistory(history: History): CheckResult {
  const timeline = new Timeline(history);
  const changes = new Changes(history, timeline);
  const runs = new FactoryRuns(history, history.config.options.failSafeThrottleMs);
  const boundMs = stalenessBoundMs(history.config);
  const violations: Violation[] = [];
  const stalenessMs: number[] = [];
  let reads = 0;
  let readsDuringFailures = 0;

  for (const op of history.ops) {
    violations.push(...checkOperation(op, history, timeline));
    if (op.end === undefined || op.values === undefined || op.error !== undefined) continue;
    const sawFailure = timeline.sawFailure(op);
    op.keys.forEach((key, index) => {
      reads++;
      if (sawFailure) readsDuringFailures++;
      const value = op.values![index] ?? null;
      const read = { op, key, value, sawFailure };
      const found =
        checkLoaderOmission(read, runs) ??
        (value === null
          ? checkMiss(read, changes, timeline, boundMs)
          : checkValue(read, changes.writesByValue.get(value), { changes, runs, boundMs, stalenessMs }));
      if (found !== undefined) violations.push(found);
    });
  }
  violations.push(...checkShutdowns(history));
  return { violations, stalenessMs, reads, readsDuringFailures, boundMs };
}

interface Read {
  readonly op: OpRecord;
  readonly key: string;
  readonly value: string | null;
  readonly sawFailure: boolean;
}

interface ValueContext {
  readonly changes: Changes;
  readonly runs: FactoryRuns;
  readonly boundMs: number;
  readonly stalenessMs: number[];
}

function checkValue(read: Read, write: Write | undefined, context: ValueContext): Violation | undefined {
  const { op, key, value } = read;
  const start = op.start;
  if (write === undefined || write.key !== key) {
    const note = keyOfValue(value!) === key ? 'no write made this value' : `a value of ${keyOfValue(value!) ?? 'no key'}`;
    return { rule: 'phantom-value', instance: op.instance, op, key, value, note };
  }
  if (write.start > op.end!) return { rule: 'phantom-value', instance: op.instance, op, key, value, note: 'read before it was written' };
  // The first change of each kind to retire the value: this instance's or another's, a removal or an expiry.
  let ownFirst: Change | undefined;
  let otherFirst: Change | undefined;
  let ownExpiry: Invalidation | undefined;
  let otherExpiry: Invalidation | undefined;
  const earlier = <C extends Change>(first: C | undefined, change: C) => (first === undefined || change.end < first.end ? change : first);
  for (const change of context.changes.between(key, Math.min(write.madeBy, write.end), start)) {
    if (change.end >= start || !supersedes(change, write)) continue;
    const own = change.instance === op.instance;
    if (change.type === 'invalidation' && change.soft) {
      if (own) ownExpiry = earlier(ownExpiry, change);
      else otherExpiry = earlier(otherExpiry, change);
    } else if (own) ownFirst = earlier(ownFirst, change);
    else otherFirst = earlier(otherFirst, change);
  }
  if (ownFirst !== undefined) {
    const rule = read.sawFailure ? 'outage-served-retired' : 'read-your-writes';
    return { rule, instance: op.instance, op, key, value, change: ownFirst, gapMs: start - ownFirst.end };
  }
  // An expired value is still the key's fallback: a failing fail-safe factory may serve it (rule 8).
  const fallback = (ownExpiry !== undefined || otherExpiry !== undefined) && context.runs.mayServeFallback(op, key);
  if (ownExpiry !== undefined && !fallback) {
    const note = 'expired by its own instance, and no failing fail-safe factory served it';
    return { rule: 'expired-served', instance: op.instance, op, key, value, change: ownExpiry, gapMs: start - ownExpiry.end, note };
  }
  const other =
    fallback || otherExpiry === undefined ? otherFirst : otherFirst === undefined ? otherExpiry : earlier(otherFirst, otherExpiry);
  if (other === undefined) return undefined;
  const gapMs = start - other.end;
  // Outage serving: memory and fail-safe answer for DynamoDB, with no bound on what another instance did meanwhile.
  if (gapMs <= context.boundMs + SCHEDULING_SLACK_MS) context.stalenessMs.push(gapMs);
  else if (!read.sawFailure) {
    const rule = other === otherExpiry ? 'expired-served' : 'stale-beyond-bound';
    return { rule, instance: op.instance, op, key, value, change: other, gapMs };
  }
  return undefined;
}

/**
 * getOrSetMany (docs/consistency.md, rule 8b): a key its own loader left out resolves undefined; a
 * key resolves undefined only when a loader left it out (its own, or that of a flight it joined); and
 * a value a loader left out was never stored, so no read of any kind returns it. Undefined: the read
 * is for the other rules.
 */
function checkLoaderOmission(read: Read, runs: FactoryRuns): Violation | undefined {
  const { op, key, value } = read;
  const found = (note: string): Violation => ({ rule: 'loader-omitted', instance: op.instance, op, key, value, note });
  const leftOut = value === null ? undefined : runs.omitted(value);
  if (leftOut !== undefined) return found(`read a value the loader of ${leftOut.op} left out, as if it had been stored`);
  if (op.kind !== 'getOrSetMany') return undefined;
  if (value !== null && runs.omittedBy(op, key) !== undefined) return found('its loader left the key out, yet it resolved a value');
  if (value === null && !runs.omittedDuring(op, key)) return found('resolved undefined for a key no loader left out');
  return undefined;
}

/**
 * A miss is allowed while the key may hold nothing: before any write, after an invalidation, after a
 * ttl ran out, or after a concurrent write landed a value that reads as a miss (retired by a tag, or
 * expired). It loses a write when a durable write, acknowledged long enough before (at once on its
 * own instance, B on others), was followed by none of these up to the read's end.
 */
function checkMiss(read: Read, changes: Changes, timeline: Timeline, boundMs: number): Violation | undefined {
  const { op, key } = read;
  // A loader left the key out (checkLoaderOmission): the key missed when the batch read it.
  if (op.kind === 'getOrSetMany') return undefined;
  if (op.kind === 'getOrSet') {
    return {
      rule: 'phantom-value',
      instance: op.instance,
      op,
      key,
      value: null,
      note: 'getOrSet resolved undefined, which no factory returns',
    };
  }
  if (read.sawFailure || timeline.faultsDuring(op.instance, op.start, op.end!).length > 0) return undefined;
  const invalidatedUntil = changes.lastInvalidationEnd(key, op.end!);
  for (const write of changes.writesAfter(key, invalidatedUntil)) {
    if (write.start > op.start) break;
    const bound = write.instance === op.instance ? 0 : boundMs + SCHEDULING_SLACK_MS;
    const lost = write.durable && write.end < op.start - bound && write.expiresFrom > op.end!;
    if (lost && !changes.mayLeaveMiss(key, write, op.end!)) {
      return { rule: 'lost-write', instance: op.instance, op, key, value: null, change: write, gapMs: op.start - write.end };
    }
  }
  return undefined;
}

/** No error but the workload factory's own, and no operation longer than its bound (time frozen by SIGSTOP aside). */
function checkOperation(op: OpRecord, history: History, timeline: Timeline): Violation[] {
  const found: Violation[] = [];
  const instance = op.instance;
  if (op.error !== undefined && !op.expectedError) found.push({ rule: 'error-surfaced', instance, op, note: op.error });
  const limit = hangBoundMs(op.kind, history.config.options);
  if (op.end === undefined) {
    const killed = history.instances.find((record) => record.id === instance)?.killedAt;
    if (killed === undefined) found.push({ rule: 'hang', instance, op, note: 'never ended' });
  } else {
    const running = op.end - op.start - timeline.frozenDuring(instance, op.start, op.end);
    if (running > limit) found.push({ rule: 'hang', instance, op, gapMs: running - limit, note: `ran ${running} ms, bound ${limit} ms` });
  }
  return found;
}

/** Instances whose `app.close()` did not resolve within its bound once their workload stopped. */
function checkShutdowns(history: History): Violation[] {
  const boundMs = closeBoundMs(history.config.options);
  return history.instances
    .filter((instance) => instance.killedAt === undefined && (instance.closeTimedOut === true || (instance.closeMs ?? 0) > boundMs))
    .map((instance) => ({
      rule: 'hang',
      instance: instance.id,
      note: instance.closeTimedOut ? 'app.close() never resolved' : `app.close() took ${instance.closeMs} ms, bound ${boundMs} ms`,
    }));
}

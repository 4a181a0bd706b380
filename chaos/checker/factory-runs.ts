import type { FactoryRecord, History, OpRecord } from '../history.js';
import { SCHEDULING_SLACK_MS } from './bounds.js';
import { listOf } from './timeline.js';

/**
 * What the workload's factories and loaders did, per instance and key, for the rules that depend on
 * it: when a fail-safe one failed (its call may then serve the key's fallback, an expired value
 * included, and memory keeps serving it for `failSafeThrottleDuration`), and which keys a
 * getOrSetMany loader left out of its answer (their calls resolve undefined; nothing is stored).
 */
export class FactoryRuns {
  /** Per `instance key`, the ends of the fail-safe runs that failed. */
  private readonly failedFailSafe = new Map<string, number[]>();
  /** Per `instance key`, the loader runs that left the key out. */
  private readonly omittedRuns = new Map<string, FactoryRecord[]>();
  private readonly omittedValues = new Map<string, FactoryRecord>();

  constructor(
    history: Pick<History, 'ops' | 'factories'>,
    private readonly throttleMs: number,
  ) {
    const ops = new Map(history.ops.map((op) => [op.id, op]));
    for (const run of history.factories) {
      const where = `${run.instance} ${run.key}`;
      if (run.threw && run.end !== undefined && ops.get(run.op)?.failSafe === true) listOf(this.failedFailSafe, where).push(run.end);
      if (run.omitted) {
        listOf(this.omittedRuns, where).push(run);
        this.omittedValues.set(run.value, run);
      }
    }
  }

  /**
   * Whether the read may have returned the key's fail-safe fallback: a fail-safe factory or loader of
   * the key on its instance failed before the read ended (the read ran it, or joined its flight) and
   * no longer than the throttle before the read began (memory kept serving what it served).
   */
  mayServeFallback(op: Pick<OpRecord, 'instance' | 'start' | 'end'>, key: string): boolean {
    const ends = this.failedFailSafe.get(`${op.instance} ${key}`) ?? [];
    return ends.some((end) => end <= op.end! && op.start <= end + this.throttleMs + SCHEDULING_SLACK_MS);
  }

  /** The op's own loader run that left the key out, if it did. */
  omittedBy(op: Pick<OpRecord, 'id' | 'instance'>, key: string): FactoryRecord | undefined {
    return this.omittedRuns.get(`${op.instance} ${key}`)?.find((run) => run.op === op.id);
  }

  /**
   * Whether a loader on the op's instance left the key out while the op ran: its own, or that of a
   * getOrSetMany whose flight it may have joined (the flight settles just after its loader answers).
   */
  omittedDuring(op: Pick<OpRecord, 'instance' | 'start' | 'end'>, key: string): boolean {
    return (this.omittedRuns.get(`${op.instance} ${key}`) ?? []).some(
      (run) => run.start <= op.end! && op.start <= (run.end ?? Number.POSITIVE_INFINITY) + SCHEDULING_SLACK_MS,
    );
  }

  /** The loader run that made `value` and left it out of its answer, if one did. */
  omitted(value: string): FactoryRecord | undefined {
    return this.omittedValues.get(value);
  }
}

import type { FaultRecord, History, OpRecord } from '../history.js';

/**
 * The history seen per instance: when its cache reported DynamoDB failures, when it was struck by a
 * fault, when it was frozen. An operation "saw a failure" when its instance's cache reported one, or
 * its circuit was not closed, at any moment of it: what it wrote may not have reached DynamoDB, and
 * what it read may have been answered from memory or fail-safe instead of DynamoDB.
 */
export class Timeline {
  private readonly errorTimes = new Map<string, number[]>();
  private readonly faultsByInstance = new Map<string, FaultRecord[]>();
  private readonly everyInstance: FaultRecord[];

  constructor(history: Pick<History, 'errors' | 'faults'>) {
    for (const error of history.errors) listOf(this.errorTimes, error.instance).push(error.at);
    for (const times of this.errorTimes.values()) times.sort((a, b) => a - b);
    for (const fault of history.faults) if (fault.instance !== undefined) listOf(this.faultsByInstance, fault.instance).push(fault);
    this.everyInstance = history.faults.filter((fault) => fault.instance === undefined);
  }

  /** Whether the instance's cache reported a DynamoDB failure, or had its circuit open or half-open, during [start, end]. */
  sawFailure(op: Pick<OpRecord, 'instance' | 'start' | 'end' | 'circuit'>): boolean {
    if (op.circuit !== undefined && op.circuit.some((state) => state !== 'closed')) return true;
    const times = this.errorTimes.get(op.instance);
    if (times === undefined) return false;
    const end = op.end ?? Number.POSITIVE_INFINITY;
    const first = firstAtOrAfter(times, op.start);
    return first < times.length && times[first]! <= end;
  }

  /** The faults that struck the instance (or every instance) at some moment of [start, end]. */
  faultsDuring(instance: string, start: number, end: number): FaultRecord[] {
    const own = this.faultsByInstance.get(instance) ?? [];
    return [...own, ...this.everyInstance].filter((fault) => fault.start <= end && fault.end >= start);
  }

  /** How long of [start, end] the instance spent frozen (SIGSTOP): time in which it could not run at all. */
  frozenDuring(instance: string, start: number, end: number): number {
    let frozen = 0;
    for (const fault of this.faultsByInstance.get(instance) ?? []) {
      if (fault.kind !== 'freeze') continue;
      frozen += Math.max(0, Math.min(end, fault.end) - Math.max(start, fault.start));
    }
    return frozen;
  }
}

export function listOf<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

/** The index of the first of the sorted `values` at or after `at` (values.length: none). */
export function firstAtOrAfter(values: readonly number[], at: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle]! < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

import type { History } from '../history.js';
import type { Violation } from './rules.js';

export type HintKind = 'joined-flight' | 'factory-began-before' | 'read-in-flight' | 'frozen';

export interface Hint {
  readonly kind: HintKind;
  readonly text: string;
}

/**
 * A guess at how a read came to return a retired value, for the summary: the stories the defects of
 * issue 23 tell, recognised in the history. Only a hint: the rule is what was broken.
 * - joined-flight: a getOrSet joined its instance's flight for the key, whose factory began before the change;
 * - factory-began-before: the value came from a factory of the reading instance that began before the change;
 * - read-in-flight: another read of the instance, in flight during the change, returned the value (and kept it);
 * - frozen: the instance was frozen between the change and the read.
 */
export function hintFor(violation: Violation, history: History): Hint | undefined {
  const { op, change, value } = violation;
  if (op === undefined || change === undefined || value === undefined || value === null) return undefined;
  const t0 = history.config.startedAt;
  const frozen = history.faults.find(
    (fault) => fault.kind === 'freeze' && fault.instance === op.instance && fault.end <= op.start && fault.end >= change.start,
  );
  if (frozen !== undefined) return { kind: 'frozen', text: `its instance was frozen [${frozen.start - t0}, ${frozen.end - t0}]` };
  const made = history.factories.find((factory) => factory.value === value);
  if (made !== undefined && made.instance === op.instance && made.start < change.start && made.op !== op.id) {
    const owner = history.ops.find((other) => other.id === made.op);
    if (owner !== undefined && owner.start <= op.start && (owner.end ?? Infinity) >= op.start) {
      return { kind: 'joined-flight', text: `joined the flight of ${made.op}, whose factory began before the change` };
    }
    return { kind: 'factory-began-before', text: `made by ${made.op}'s factory on this instance, which began before the change` };
  }
  const inFlight = history.ops.find(
    (other) =>
      other.instance === op.instance &&
      other !== op &&
      other.start < change.end &&
      (other.end ?? Infinity) > change.start &&
      other.values?.includes(value) === true,
  );
  if (inFlight !== undefined)
    return { kind: 'read-in-flight', text: `${inFlight.id} (${inFlight.kind}) read it while the change was in flight` };
  return undefined;
}

import type { ChaosMode, RunOptions } from '../history.js';
import type { Random } from '../prng.js';

export type PlannedFaultKind = 'freeze-follower' | 'freeze-reader' | 'kill-reader' | 'dynamodb-pause' | 'latency' | 'resets' | 'fail';

export interface PlannedFault {
  readonly kind: PlannedFaultKind;
  /** When it strikes, in ms from the run's start. */
  readonly at: number;
  readonly durationMs: number;
}

/** Before the first fault: every instance has warmed its memory and, with streams, elected a reader. */
export const WARM_UP_MS = 2_000;
const GAP_MS = [1_500, 2_500] as const;

/**
 * The faults of a run, from its seed, on two tracks that each strike one fault at a time: processes
 * (a follower frozen past maxLag; DynamoDB Local paused; with streams, the stream reader frozen past
 * maxLag, and killed) and one instance's network (answers delayed, connections reset, every call
 * failing). Each track takes its faults in a random order, again and again while the run lasts; the
 * last `quietTailMs` have none, so that reads after the last fault are checked too.
 */
export function planFaults(mode: ChaosMode, durationMs: number, options: RunOptions, quietTailMs: number, random: Random): PlannedFault[] {
  const frozenMs = options.maxLagMs + 1_000;
  const processes: Array<[PlannedFaultKind, number]> = [
    ['freeze-follower', frozenMs],
    ['dynamodb-pause', 3_000],
    ...(mode === 'streams'
      ? ([
          ['freeze-reader', frozenMs],
          ['kill-reader', 0],
        ] as Array<[PlannedFaultKind, number]>)
      : []),
  ];
  const network: Array<[PlannedFaultKind, number]> = [
    ['latency', 3_000],
    ['resets', 3_000],
    ['fail', 4_000],
  ];
  const end = durationMs - quietTailMs;
  const track = (faults: Array<[PlannedFaultKind, number]>, from: number) => {
    const planned: PlannedFault[] = [];
    let at = from;
    for (;;) {
      for (const [kind, fault] of random.shuffled(faults)) {
        if (at + fault > end) return planned;
        planned.push({ kind, at, durationMs: fault });
        // A replaced reader needs its lease to lapse and a follower to take over: count that as the fault's time.
        at += (kind === 'kill-reader' ? options.maxLagMs : fault) + random.int(...GAP_MS);
      }
    }
  };
  return [...track(processes, WARM_UP_MS), ...track(network, WARM_UP_MS + 1_000)].sort((a, b) => a.at - b.at);
}

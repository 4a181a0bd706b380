import { describe, expect, it } from 'vitest';
import { RUN_OPTIONS } from '../../chaos/history.js';
import { Random } from '../../chaos/prng.js';
import { WARM_UP_MS, planFaults } from '../../chaos/runner/fault-plan.js';

const PROCESS_FAULTS = new Set(['freeze-follower', 'freeze-reader', 'kill-reader', 'dynamodb-pause']);

describe('the fault plan', () => {
  it('is the same for the same seed, and another for another seed', () => {
    const plan = (seed: number) => planFaults('streams', 60_000, RUN_OPTIONS, 4_500, new Random(seed));
    expect(plan(7)).toEqual(plan(7));
    expect(plan(7)).not.toEqual(plan(8));
  });

  it('strikes every kind of fault in a 30 s run, one at a time per track, after the warm-up and before the quiet tail', () => {
    const plan = planFaults('streams', 30_000, RUN_OPTIONS, 4_500, new Random(23));
    expect(new Set(plan.map((fault) => fault.kind))).toEqual(
      new Set(['freeze-follower', 'freeze-reader', 'kill-reader', 'dynamodb-pause', 'latency', 'resets', 'fail']),
    );
    for (const track of [plan.filter((fault) => PROCESS_FAULTS.has(fault.kind)), plan.filter((fault) => !PROCESS_FAULTS.has(fault.kind))]) {
      track.forEach((fault, index) => {
        expect(fault.at).toBeGreaterThanOrEqual(WARM_UP_MS);
        expect(fault.at + fault.durationMs).toBeLessThanOrEqual(30_000 - 4_500);
        if (index > 0) expect(fault.at).toBeGreaterThan(track[index - 1]!.at + track[index - 1]!.durationMs);
      });
    }
    // Frozen past maxLag.
    expect(plan.find((fault) => fault.kind === 'freeze-follower')!.durationMs).toBeGreaterThan(RUN_OPTIONS.maxLagMs);
  });

  it('has no stream reader to freeze or kill without the streams backplane', () => {
    const kinds = planFaults('poll', 30_000, RUN_OPTIONS, 4_500, new Random(23)).map((fault) => fault.kind);
    expect(kinds).not.toContain('freeze-reader');
    expect(kinds).not.toContain('kill-reader');
    expect(kinds).toContain('dynamodb-pause');
  });
});

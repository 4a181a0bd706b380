import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosMode, FaultRecord } from '../history.js';
import type { Random } from '../prng.js';
import type { PlannedFault } from './fault-plan.js';
import type { Fleet, RunningInstance } from './fleet.js';

export interface InjectionTargets {
  readonly mode: ChaosMode;
  readonly fleet: Fleet;
  /** DynamoDB Local's JVM, paused with SIGSTOP. */
  readonly dynamoPid: number;
  /** Starts an instance in place of a killed one. */
  replace(killed: RunningInstance): Promise<RunningInstance>;
}

/**
 * Strikes each planned fault at its time, on the instance it picks then (a reader or follower is
 * found by asking the instances' backplane stats), and records its window. Every fault is undone when
 * its time is up, and `undoAll` undoes whatever is still in force if the run ends early.
 */
export class FaultInjector {
  readonly records: FaultRecord[] = [];
  private dynamoPaused = false;

  constructor(
    private readonly targets: InjectionTargets,
    private readonly random: Random,
  ) {}

  /** Runs the plan from `startedAt`; resolves when every fault has been undone. */
  async run(plan: readonly PlannedFault[], startedAt: number): Promise<void> {
    await Promise.all(
      plan.map(async (fault) => {
        await sleep(Math.max(0, startedAt + fault.at - Date.now()));
        await this.strike(fault);
      }),
    );
  }

  undoAll(): void {
    if (this.dynamoPaused) this.resumeDynamo();
    for (const instance of this.targets.fleet.instances) {
      instance.proxy.strike(undefined);
      if (instance.frozen) this.targets.fleet.thaw(instance);
    }
  }

  private async strike(fault: PlannedFault): Promise<void> {
    const { fleet } = this.targets;
    if (fault.kind === 'dynamodb-pause') {
      process.kill(this.targets.dynamoPid, 'SIGSTOP');
      this.dynamoPaused = true;
      const start = Date.now();
      await sleep(fault.durationMs);
      this.resumeDynamo();
      this.records.push({ kind: 'dynamodb-pause', start, end: Date.now() });
      return;
    }
    if (fault.kind === 'latency' || fault.kind === 'resets' || fault.kind === 'fail') {
      // A frozen instance makes no calls: strike one that runs.
      const running = fleet.live().filter((candidate) => !candidate.frozen);
      const instance = this.random.pick(running.length > 0 ? running : fleet.live());
      const start = Date.now();
      instance.proxy.strike(fault.kind);
      await sleep(fault.durationMs);
      instance.proxy.strike(undefined);
      this.records.push({ kind: fault.kind, instance: instance.id, start, end: Date.now() });
      return;
    }
    const role = fault.kind === 'freeze-follower' ? 'follower' : 'reader';
    const found = await this.find(role);
    if (found === undefined) {
      this.records.push({
        kind: fault.kind === 'kill-reader' ? 'kill' : 'freeze',
        start: Date.now(),
        end: Date.now(),
        detail: `no ${role} found`,
      });
      return;
    }
    const roleOf = this.targets.mode === 'streams' ? { role } : {};
    if (fault.kind === 'kill-reader') {
      fleet.kill(found);
      const start = found.killedAt!;
      const replacement = await this.targets.replace(found);
      this.records.push({ kind: 'kill', instance: found.id, ...roleOf, start, end: start, detail: `replaced by ${replacement.id}` });
      return;
    }
    fleet.freeze(found);
    const start = Date.now();
    await sleep(fault.durationMs);
    fleet.thaw(found);
    this.records.push({ kind: 'freeze', instance: found.id, ...roleOf, start, end: Date.now() });
  }

  /** An instance of that role (streams), or any running one (other modes, which have no roles). */
  private async find(role: 'reader' | 'follower'): Promise<RunningInstance | undefined> {
    const running = this.targets.fleet.live().filter((instance) => !instance.frozen);
    if (this.targets.mode !== 'streams') return running.length === 0 ? undefined : this.random.pick(running);
    const stats = await Promise.all(running.map((instance) => this.targets.fleet.stats(instance)));
    const ofRole = running.filter((_, index) => stats[index]?.role === role);
    return ofRole.length === 0 ? undefined : this.random.pick(ofRole);
  }

  private resumeDynamo(): void {
    process.kill(this.targets.dynamoPid, 'SIGCONT');
    this.dynamoPaused = false;
  }
}

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InstanceStats, ReadResult, WatchedKey, WorkerEvent, WorkerRequest } from './scale-worker.js';

type Body<T = WorkerRequest> = T extends WorkerRequest ? Omit<T, 'id'> : never;

interface Worker {
  readonly child: ChildProcess;
  readonly first: number;
  readonly count: number;
  readonly pending: Map<number, { resolve(result: unknown): void; reject(error: Error): void }>;
  readonly exit: Promise<unknown>;
  exited: boolean;
}

const REQUEST_TIMEOUT_MS = 180_000;
const now = () => performance.timeOrigin + performance.now();

/**
 * The coherence-at-scale bench's instances, as seen from its parent: the worker processes that
 * hold them (bench/scale-worker.ts), requests to them over IPC, and what they reported, as it
 * came: each instance's invalidations of watched keys and its changes of backplane role.
 */
export class ScaleFleet {
  private nextId = 0;
  /** key → instance → when each of its invalidations of the key came. */
  private readonly invalidations = new Map<string, Map<number, number[]>>();
  private readonly roleChanges: Array<{ instance: number; role: string; at: number }> = [];
  private readonly warnings = new Map<string, number>();
  private readonly killAll = () => this.workers.forEach((worker) => worker.child.kill('SIGKILL'));

  private constructor(private readonly workers: Worker[]) {
    // Workers exit when the parent does (IPC disconnect); this covers a parent that exits abruptly.
    process.once('exit', this.killAll);
  }

  /** Forks `workerCount` workers and starts `size` instances among them (a quarter each with 4). */
  static async start(endpoint: string, tableName: string, size: number, workerCount: number): Promise<ScaleFleet> {
    const script = fileURLToPath(new URL('./scale-worker.js', import.meta.url));
    const workers: Worker[] = [];
    let first = 0;
    for (let w = 0; w < workerCount; w++) {
      const count = Math.floor(size / workerCount) + (w < size % workerCount ? 1 : 0);
      const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push({ child, first, count, pending: new Map(), exit: new Promise((resolve) => child.once('exit', resolve)), exited: false });
      first += count;
    }
    const fleet = new ScaleFleet(workers);
    for (const worker of workers) fleet.listen(worker);
    try {
      await Promise.all(
        workers.map((worker) => fleet.request(worker, { op: 'start', endpoint, tableName, first: worker.first, count: worker.count })),
      );
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** The instances whose process is alive. */
  instances(): number[] {
    return this.alive().flatMap((worker) => Array.from({ length: worker.count }, (_, i) => worker.first + i));
  }

  async stats(): Promise<InstanceStats[]> {
    const all = await Promise.all(this.alive().map((worker) => this.request(worker, { op: 'stats' })));
    return (all as InstanceStats[][]).flat();
  }

  /** Every given instance gets each key (and, with confirmMemory, checks a second get is a memory hit). */
  async read(instances: number[], keys: WatchedKey[], expected: number[], confirmMemory: boolean): Promise<ReadResult> {
    const holding = this.alive().filter((worker) => instances.some((i) => i >= worker.first && i < worker.first + worker.count));
    const results = (await Promise.all(
      holding.map((worker) => this.request(worker, { op: 'read', keys, expected, confirmMemory })),
    )) as ReadResult[];
    return { wrong: results.flatMap((r) => r.wrong), notInMemory: results.reduce((total, r) => total + r.notInMemory, 0) };
  }

  /** Waits until each instance has reported an invalidation of `key` at or after `since`: instance → the first such. */
  async seenBy(key: WatchedKey, instances: number[], since: number, timeoutMs: number): Promise<Map<number, number>> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const seen = new Map<number, number>();
      for (const instance of instances) {
        const at = this.invalidations
          .get(key)
          ?.get(instance)
          ?.find((time) => time >= since);
        if (at !== undefined) seen.set(instance, at);
      }
      if (seen.size === instances.length || now() > deadline) return seen;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** When one of `instances` first reported `role` at or after `since`. */
  firstRole(role: string, instances: number[], since: number): number | undefined {
    return this.roleChanges.find((change) => change.role === role && change.at >= since && instances.includes(change.instance))?.at;
  }

  /** SIGKILLs the process that holds `instance` (and its other instances); returns when. */
  kill(instance: number): number {
    const worker = this.workers.find((w) => instance >= w.first && instance < w.first + w.count)!;
    worker.child.kill('SIGKILL');
    worker.exited = true;
    return now();
  }

  /** What the instances logged, grouped with the numbers taken out, most frequent first. */
  warningSummary(): string[] {
    return [...this.warnings].sort(([, a], [, b]) => b - a).map(([message, count]) => `${count}× ${message}`);
  }

  /** Asks every live worker to close its instances; kills any that has not exited within 30 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.alive().map(async (worker) => {
        const timeout = setTimeout(() => worker.child.kill('SIGKILL'), 30_000);
        await this.request(worker, { op: 'stop' }).catch(() => undefined);
        await worker.exit;
        clearTimeout(timeout);
      }),
    );
    this.killAll();
    process.off('exit', this.killAll);
  }

  private alive(): Worker[] {
    return this.workers.filter((worker) => !worker.exited);
  }

  private listen(worker: Worker): void {
    worker.child.on('message', (message: WorkerEvent | { id: number; result?: unknown; error?: string }) => {
      if ('id' in message) {
        const waiting = worker.pending.get(message.id);
        worker.pending.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(`scale worker: ${message.error}`));
        else waiting?.resolve(message.result);
      } else this.record(message);
    });
    worker.child.once('exit', (code, signal) => {
      worker.exited = true;
      for (const { reject } of worker.pending.values()) reject(new Error(`scale worker exited (${signal ?? code})`));
      worker.pending.clear();
    });
  }

  private record(event: WorkerEvent): void {
    if (event.event === 'invalidated') {
      const byInstance = this.invalidations.get(event.key) ?? new Map<number, number[]>();
      this.invalidations.set(event.key, byInstance);
      byInstance.set(event.instance, [...(byInstance.get(event.instance) ?? []), event.at]);
    } else if (event.event === 'role') this.roleChanges.push(event);
    else {
      const message = event.message.replace(/\d+/g, '#').slice(0, 200);
      this.warnings.set(message, (this.warnings.get(message) ?? 0) + 1);
    }
  }

  private request(worker: Worker, body: Body): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(
        () => reject(new Error(`scale worker: ${body.op} took over ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
      worker.pending.set(id, {
        resolve: (result) => (clearTimeout(timeout), resolve(result)),
        reject: (error) => (clearTimeout(timeout), reject(error)),
      });
      worker.child.send({ ...body, id });
    });
  }
}

import { type ChildProcess, fork } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceRecord } from '../history.js';
import type { InstanceConfig, InstanceMessage, RunnerMessage } from '../instance/instance-config.js';
import type { FaultProxy } from './fault-proxy.js';

export interface RunningInstance {
  readonly id: string;
  readonly child: ChildProcess;
  readonly proxy: FaultProxy;
  readonly historyFile: string;
  startedAt: number;
  killedAt?: number;
  frozen: boolean;
  /** Told to finish, it did not answer in time: killed, its shutdown counted as one that never ended. */
  stuck?: boolean;
  finished?: Extract<InstanceMessage, { type: 'finished' }>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * The instances of one run, each a process of its own in a process group of its own, so that the
 * runner can freeze, kill and, whatever happens, stop every one of them (`stopAll`).
 */
export class Fleet {
  readonly instances: RunningInstance[] = [];

  constructor(
    private readonly script: string,
    private readonly directory: string,
  ) {}

  async start(config: Omit<InstanceConfig, 'historyFile'>, proxy: FaultProxy): Promise<RunningInstance> {
    const historyFile = join(this.directory, `${config.id}.jsonl`);
    const log = openSync(join(this.directory, `${config.id}.log`), 'a');
    const child = fork(this.script, [], {
      env: { ...process.env, CHAOS_INSTANCE: JSON.stringify({ ...config, historyFile }) },
      stdio: ['ignore', log, log, 'ipc'],
      detached: true,
    });
    const instance: RunningInstance = { id: config.id, child, proxy, historyFile, startedAt: Date.now(), frozen: false };
    this.instances.push(instance);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`instance ${config.id} was not ready within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.once('exit', (code) => reject(new Error(`instance ${config.id} exited with code ${code} before it was ready (see its log)`)));
      child.on('message', (message: InstanceMessage) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      });
    });
    instance.startedAt = Date.now();
    return instance;
  }

  /** The instances running now (not killed, not finished). */
  live(): RunningInstance[] {
    return this.instances.filter((instance) => instance.killedAt === undefined && instance.child.exitCode === null);
  }

  send(instance: RunningInstance, message: RunnerMessage): void {
    if (instance.child.connected) instance.child.send(message);
  }

  /** Asks an instance (not frozen) for its backplane's stats; undefined when it does not answer within `timeoutMs`. */
  stats(instance: RunningInstance, timeoutMs = 1_000): Promise<Extract<InstanceMessage, { type: 'stats' }> | undefined> {
    return this.answer(instance, 'stats', { type: 'stats' }, timeoutMs);
  }

  freeze(instance: RunningInstance): void {
    instance.frozen = true;
    instance.child.kill('SIGSTOP');
  }

  thaw(instance: RunningInstance): void {
    instance.frozen = false;
    instance.child.kill('SIGCONT');
  }

  kill(instance: RunningInstance): void {
    instance.killedAt = Date.now();
    signalGroup(instance.child, 'SIGKILL');
  }

  /** Tells every live instance to finish, and waits for each answer (an instance that gives none is killed). */
  async finish(graceMs: number, closeWaitMs: number): Promise<void> {
    await Promise.all(
      this.live().map(async (instance) => {
        if (instance.frozen) this.thaw(instance);
        const message = { type: 'finish', graceMs, closeWaitMs } as const;
        instance.finished = await this.answer(instance, 'finished', message, graceMs + closeWaitMs + 5_000);
        if (instance.finished !== undefined) return;
        instance.stuck = true;
        signalGroup(instance.child, 'SIGKILL');
      }),
    );
  }

  /** Kills every process of the run, whatever state it is in. */
  stopAll(): void {
    for (const { child } of this.instances) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      signalGroup(child, 'SIGCONT');
      signalGroup(child, 'SIGKILL');
    }
  }

  records(): InstanceRecord[] {
    return this.instances.map((instance) => ({
      id: instance.id,
      startedAt: instance.startedAt,
      ...(instance.killedAt === undefined ? {} : { killedAt: instance.killedAt }),
      ...(instance.stuck ? { closeTimedOut: true } : {}),
      ...(instance.finished?.closeMs === undefined ? {} : { closeMs: instance.finished.closeMs }),
      ...(instance.finished === undefined
        ? {}
        : { closeTimedOut: instance.finished.closeTimedOut, unfinished: instance.finished.unfinished }),
    }));
  }

  private answer<T extends InstanceMessage['type']>(
    instance: RunningInstance,
    type: T,
    question: RunnerMessage,
    timeoutMs: number,
  ): Promise<Extract<InstanceMessage, { type: T }> | undefined> {
    const { child } = instance;
    if (!child.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (answer: Extract<InstanceMessage, { type: T }> | undefined) => {
        clearTimeout(timer);
        child.off('message', listener);
        child.off('exit', gone);
        resolve(answer);
      };
      const listener = (message: InstanceMessage) => message.type === type && done(message as Extract<InstanceMessage, { type: T }>);
      const gone = () => done(undefined);
      const timer = setTimeout(gone, timeoutMs);
      child.on('message', listener);
      child.once('exit', gone);
      child.send(question);
    });
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // The group is gone already.
  }
}

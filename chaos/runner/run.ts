import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createTable } from '../../bench/table.js';
import { hangBoundMs, stalenessBoundMs } from '../checker/bounds.js';
import { type ChaosSummary, summarize } from '../checker/summary.js';
import { readHistoryFiles } from '../history-file.js';
import { type ChaosMode, type History, RUN_OPTIONS, type RunConfig, type RunOptions } from '../history.js';
import type { InstanceConfig, WorkloadShape } from '../instance/instance-config.js';
import { Random } from '../prng.js';
import { FaultInjector } from './fault-injector.js';
import { planFaults } from './fault-plan.js';
import { FaultProxy } from './fault-proxy.js';
import { Fleet, type RunningInstance } from './fleet.js';

const WORKLOAD: WorkloadShape = { loops: 4, keys: 20, groups: 4 };
/** What the latency fault adds to each of an instance's answers: past operationTimeout. */
const LATENCY_MS = 1_500;

export interface ChaosRunOptions {
  readonly mode: ChaosMode;
  readonly seed: number;
  readonly durationMs: number;
  readonly instances: number;
  /** A DynamoDB Local of the run's own (it is paused): its port and its JVM's pid. */
  readonly dynamo: { readonly endpoint: string; readonly port: number; readonly pid: number };
  /** Where the instances' histories and logs go (a folder of this run's own). */
  readonly directory: string;
  readonly faults?: boolean;
  readonly options?: RunOptions;
}

export interface ChaosRunResult {
  readonly history: History;
  readonly summary: ChaosSummary;
}

/**
 * One chaos run: `instances` processes on one fresh table, each through a proxy of its own, running
 * the workload for `durationMs` while faults strike on the seed's schedule; then the history is read
 * back and checked. Every process it started is stopped before it returns, whatever happened.
 */
export async function runChaos(run: ChaosRunOptions): Promise<ChaosRunResult> {
  const options = run.options ?? RUN_OPTIONS;
  const random = new Random(run.seed);
  mkdirSync(run.directory, { recursive: true });
  const tableName = `chaos_${run.mode}_${run.seed}_${Date.now().toString(36)}`;
  const admin = new DynamoDBClient({
    endpoint: run.dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'chaos', secretAccessKey: 'chaos' },
  });
  await createTable(admin, tableName, 'pk', { ttl: 'ttl', stream: run.mode === 'streams' });
  admin.destroy();

  const fleet = new Fleet(fileURLToPath(new URL('../instance/main.js', import.meta.url)), run.directory);
  const proxies: FaultProxy[] = [];
  let count = 0;
  let deadline = Number.POSITIVE_INFINITY;
  const startInstance = async (): Promise<RunningInstance> => {
    const proxy = await FaultProxy.start(run.dynamo.port, random.derive(`proxy ${count}`), LATENCY_MS);
    proxies.push(proxy);
    const config: Omit<InstanceConfig, 'historyFile'> = {
      id: `i${count++}`,
      mode: run.mode,
      tableName,
      endpoint: proxy.endpoint,
      seed: run.seed,
      options,
      workload: WORKLOAD,
    };
    return fleet.start(config, proxy);
  };
  const injector = new FaultInjector(
    {
      mode: run.mode,
      fleet,
      dynamoPid: run.dynamo.pid,
      replace: async () => {
        const replacement = await startInstance();
        fleet.send(replacement, { type: 'start', deadline });
        return replacement;
      },
    },
    random.derive('faults'),
  );
  try {
    // One after another: the first of a streams table becomes its reader.
    for (let index = 0; index < run.instances; index++) await startInstance();
    const startedAt = Date.now();
    deadline = startedAt + run.durationMs;
    for (const instance of fleet.live()) fleet.send(instance, { type: 'start', deadline });
    const config: RunConfig = { mode: run.mode, seed: run.seed, durationMs: run.durationMs, instances: run.instances, startedAt, options };
    const quietTailMs = stalenessBoundMs(config) + 1_000;
    const plan = run.faults === false ? [] : planFaults(run.mode, run.durationMs, options, quietTailMs, random.derive('plan'));
    await Promise.all([injector.run(plan, startedAt), sleep(run.durationMs)]);
    injector.undoAll();
    // The longest any operation may take: getOrSetMany's.
    await fleet.finish(hangBoundMs('getOrSetMany', options), 10_000);
    const recorded = readHistoryFiles(fleet.instances.map((instance) => instance.historyFile));
    const history: History = { config, instances: fleet.records(), faults: injector.records, ...recorded };
    writeFileSync(join(run.directory, 'history.json'), JSON.stringify(history));
    return { history, summary: summarize(history) };
  } finally {
    injector.undoAll();
    fleet.stopAll();
    await Promise.all(proxies.map((proxy) => proxy.close()));
  }
}

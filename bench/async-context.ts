import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrialResult } from './async-context-worker.js';
import type { Section } from './report.js';
import { median } from './table.js';

const WORKLOADS = [
  { name: 'loop', label: 'plain async loop (5,000 × awaits and Promise.all)' },
  { name: 'nest', label: 'Nest Fastify route, 400 injected requests' },
] as const;
const ARMS = ['miss', 'miss-detecting', 'control'] as const;

/**
 * What the first getOrSet miss costs the rest of the app: get-or-set tracks which flight a factory
 * runs in (to detect factories that wait on each other) and, where AsyncLocalStorage is built on
 * async hooks (Node 20 and 22), its first `run()` turns on promise hooks for the whole process.
 * Each trial is a process of its own (hooks stay on once on): a workload timed in rounds before and
 * after one cache call, a getOrSet miss (`miss`) or a set (`control`, to show the drift of a
 * process's later rounds), arms and workloads interleaved. Run on this Node and on each binary
 * BENCH_NODES names (comma-separated paths), so that versions stand side by side; BENCH_TRIALS
 * sets the trials per Node, workload and arm (default 5). The `detectRecursiveFactories` arm is what
 * every miss did before that option (the flight tracked on every Node).
 */
export async function asyncContextTable(endpoint: string, tableName: string, quick: boolean): Promise<Section> {
  // BENCH_QUICK is a smoke test (CI runs it): one trial of each arm.
  const trials = Number(process.env.BENCH_TRIALS ?? (quick ? 1 : 5));
  const nodes = [process.execPath, ...(process.env.BENCH_NODES?.split(',').filter(Boolean) ?? [])];
  const results = new Map<string, TrialResult[]>();
  const versions = new Map<string, string>();
  for (let trial = 0; trial < trials; trial++) {
    for (const node of nodes) {
      for (const { name: workload } of WORKLOADS) {
        const arms = ARMS.map((_, index) => ARMS[(index + trial) % ARMS.length]!);
        for (const arm of arms) {
          const result = await runTrial(node, {
            DYNAMODB_ENDPOINT: endpoint,
            BENCH_TABLE: tableName,
            BENCH_ARM: arm,
            BENCH_WORKLOAD: workload,
          });
          versions.set(node, result.node);
          const id = `${node} ${workload} ${arm}`;
          results.set(id, [...(results.get(id) ?? []), result]);
        }
      }
    }
  }
  const rows = nodes.flatMap((node) =>
    WORKLOADS.map(({ name, label }) => {
      const [miss, detecting, control] = ARMS.map((arm) => results.get(`${node} ${name} ${arm}`)!);
      const ratio = (runs: TrialResult[]) => median(runs.map((run) => run.afterMs / run.beforeMs));
      const controlRatio = ratio(control!);
      return [
        versions.get(node)!,
        label,
        median(miss!.map((run) => run.beforeMs)).toFixed(1),
        median(miss!.map((run) => run.afterMs)).toFixed(1),
        ratio(miss!).toFixed(2),
        ratio(detecting!).toFixed(2),
        controlRatio.toFixed(2),
        (ratio(miss!) / controlRatio).toFixed(2),
        (ratio(detecting!) / controlRatio).toFixed(2),
      ];
    }),
  );
  return {
    title: 'Async context: a promise-heavy workload before and after the first getOrSet miss, one process per trial',
    header: [
      'Node',
      'workload',
      'round ms before the miss, p50',
      'round ms after, p50',
      'after ÷ before, miss (defaults)',
      'after ÷ before, miss with detectRecursiveFactories',
      'after ÷ before, control (a set)',
      'cost of the miss, defaults (÷ control)',
      'cost of the miss, detecting (÷ control)',
    ],
    rows,
    note:
      `${trials} trials a Node, workload and arm, interleaved; each trial times 40 warm-up rounds, then 15 rounds before ` +
      'and 15 after its one cache call, and gives the median of each; the table gives medians over trials. A cost ' +
      'of 1.00 means the miss left the app as fast as it was.',
  };
}

function runTrial(node: string, env: Record<string, string>): Promise<TrialResult> {
  const child = fork(fileURLToPath(new URL('./async-context-worker.js', import.meta.url)), [], {
    env: { ...process.env, ...env },
    execPath: node,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<TrialResult>((resolve, reject) => {
    child.once('message', (message) => resolve(message as TrialResult));
    child.once(
      'exit',
      (code) =>
        code !== 0 && reject(new Error(`an async-context trial (${env.BENCH_ARM}, ${env.BENCH_WORKLOAD}) exited with code ${code}`)),
    );
  });
}

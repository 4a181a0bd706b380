import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import type { ChaosSummary } from './checker/summary.js';
import { CHAOS_MODES, type ChaosMode } from './history.js';
import { markdownReport } from './report.js';
import { runChaos } from './runner/run.js';

/**
 * `npm run chaos -- --modes streams,poll,none --seeds 1,2 --duration 30 --instances 3`: a chaos run per
 * mode and seed on one DynamoDB Local of its own; prints each summary and writes it (JSON and
 * markdown) under chaos/results/, the histories under chaos/results/runs/. Exits non-zero on any
 * violation.
 */
const { values } = parseArgs({
  options: {
    modes: { type: 'string', default: CHAOS_MODES.join(',') },
    seeds: { type: 'string', default: '1' },
    seed: { type: 'string' },
    duration: { type: 'string', default: '30' },
    instances: { type: 'string', default: '3' },
    'no-faults': { type: 'boolean', default: false },
    out: { type: 'string', default: 'chaos/results' },
  },
});

const modes = values.modes.split(',').map((mode) => {
  if (!CHAOS_MODES.includes(mode as ChaosMode)) throw new Error(`--modes: "${mode}" is not one of ${CHAOS_MODES.join(', ')}`);
  return mode as ChaosMode;
});
const seeds = (values.seed ?? values.seeds).split(',').map(Number);
const durationMs = Number(values.duration) * 1000;
const instances = Number(values.instances);

// A run stopped by a signal exits through 'exit', whose handlers kill DynamoDB Local's JVM: without
// this, SIGTERM ends the process at once and the JVM outlives it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(130));

async function main() {
  const dynamo = await startDynamoDbLocal();
  const summaries: ChaosSummary[] = [];
  try {
    for (const seed of seeds) {
      for (const mode of modes) {
        const name = `${mode}-seed${seed}`;
        const directory = join(values.out, 'runs', name);
        console.log(`\n${name}: ${durationMs / 1000} s, ${instances} instances …`);
        const { summary } = await runChaos({ mode, seed, durationMs, instances, dynamo, directory, faults: !values['no-faults'] });
        const report = markdownReport(summary);
        console.log(report);
        mkdirSync(values.out, { recursive: true });
        writeFileSync(join(values.out, `${name}.json`), `${JSON.stringify(summary, null, 2)}\n`);
        writeFileSync(join(values.out, `${name}.md`), report);
        summaries.push(summary);
      }
    }
  } finally {
    await dynamo.stop();
  }
  const total = summaries.reduce((sum, summary) => sum + summary.violationCount, 0);
  console.log(
    summaries.map((summary) => `${summary.mode} seed ${summary.seed}: ${summary.violationCount} violations`).join('\n') +
      `\n${total === 0 ? 'No violation.' : `${total} violations in all.`}`,
  );
  // Exits rather than waits for the event loop to drain: a handle left by a fault (a proxy's socket,
  // an instance's pipe) would keep the run alive after its report.
  process.exit(total === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

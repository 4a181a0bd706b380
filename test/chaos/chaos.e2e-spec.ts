import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChaosMode } from '../../chaos/history.js';
import type { markdownReport as MarkdownReport } from '../../chaos/report.js';
import type { runChaos as RunChaos } from '../../chaos/runner/run.js';
import { type RunningDynamoDbLocal, startDynamoDbLocal } from '../../sample/dynamodb-local.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = '.build/chaos-test';
const SECONDS = 30;
const SEED = Number(process.env.CHAOS_SEED ?? 23);
let runChaos: typeof RunChaos;
let markdownReport: typeof MarkdownReport;
let dynamo: RunningDynamoDbLocal | undefined;
const directory = mkdtempSync(join(tmpdir(), 'chaos-'));

// The instances are processes of their own (frozen, killed, replaced), so they run compiled code: a
// build of its own, apart from `npm run chaos`'s. DynamoDB Local is this file's own, since a run pauses it.
beforeAll(async () => {
  const build = promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.chaos.json', '--outDir', BUILD], {
    cwd: repo,
  });
  [dynamo] = await Promise.all([startDynamoDbLocal(), build]);
  ({ runChaos } = (await import(pathToFileURL(`${repo}${BUILD}/chaos/runner/run.js`).href)) as { runChaos: typeof RunChaos });
  ({ markdownReport } = (await import(pathToFileURL(`${repo}${BUILD}/chaos/report.js`).href)) as {
    markdownReport: typeof MarkdownReport;
  });
}, 120_000);

afterAll(async () => {
  if (dynamo === undefined) return;
  process.kill(dynamo.pid, 'SIGCONT');
  await dynamo.stop();
});

describe(`chaos, short (npm run chaos for long runs): ${SECONDS} s, 3 instances, faults on, seed ${SEED}`, () => {
  it.each(['streams', 'poll', 'none'] as const)(
    'mode %s: every read within the consistency model, no error surfaced, no operation past its bound',
    async (mode: ChaosMode) => {
      const { summary } = await runChaos({
        mode,
        seed: SEED,
        durationMs: SECONDS * 1000,
        instances: 3,
        dynamo: dynamo!,
        directory: join(directory, mode),
      });
      if (summary.violationCount > 0) console.log(markdownReport(summary));
      expect(summary.reads).toBeGreaterThan(1_000);
      // Issue 25's methods are in the workload.
      for (const kind of ['expire', 'expireByTag', 'getOrSetMany'] as const) expect(summary.operations[kind]).toBeGreaterThan(10);
      expect(summary.faults.length).toBeGreaterThanOrEqual(mode === 'streams' ? 6 : 4);
      expect(summary.violations.map(({ rule, count }) => `${rule}: ${count}`)).toEqual([]);
    },
    // The run, the instances' start (Nest, one after another) and their shutdown.
    (SECONDS + 25) * 1000,
  );
});

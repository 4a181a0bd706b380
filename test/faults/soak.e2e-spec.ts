import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SoakResult, runSoak as RunSoak } from '../../soak/soak.js';
import { dynamoEndpoint, uniqueTableName } from '../support/dynamo.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const BUILD = '.build/soak-test';
let runSoak: typeof RunSoak;

// The instances are processes of their own, so they run compiled code: the soak build of its own,
// apart from `npm run soak`'s and from dist/.
beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.soak.json', '--outDir', BUILD], {
    cwd: repo,
  });
  ({ runSoak } = (await import(pathToFileURL(`${repo}${BUILD}/soak/soak.js`).href)) as { runSoak: typeof RunSoak });
}, 120_000);

describe('soak, short (npm run soak runs it for 60 s)', () => {
  it.each([
    ['without a backplane', undefined],
    ['with the streams backplane', 'streams'],
  ] as const)(
    'three instances of the sample on one table, %s: no 5xx, no unhandled rejection, no read staler than the bound',
    async (_name, backplane) => {
      const result: SoakResult = await runSoak({
        endpoint: dynamoEndpoint(),
        durationMs: 6_000,
        warmupMs: 2_000,
        instances: 3,
        workers: 8,
        staleBoundMs: 10_000,
        tableName: uniqueTableName('soak'),
        backplane,
      });
      expect(result.noteReads).toBeGreaterThan(100);
      expect(result.noteWrites).toBeGreaterThan(10);
      expect(result.serverErrors).toBe(0);
      expect(result.failedRequests).toBe(0);
      expect(result.faults).toBe(0);
      expect(result.violations).toEqual([]);
    },
    60_000,
  );
});

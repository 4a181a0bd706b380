import { readFileSync } from 'node:fs';
import { summarize } from './checker/summary.js';
import type { History } from './history.js';
import { markdownReport } from './report.js';

/** `node .build/chaos/chaos/recheck.js <history.json>…`: checks saved histories again (after a change to the checker) and prints their reports. */
for (const path of process.argv.slice(2)) console.log(markdownReport(summarize(JSON.parse(readFileSync(path, 'utf8')) as History)));

import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import { type SoakResult, runSoak } from './soak.js';

/**
 * `npm run soak`: three instances of the sample app on one table of one DynamoDB Local, 60 s of load
 * (SOAK_SECONDS to change it). Exits non-zero when a check fails: a 5xx, a failed request, an
 * unhandled rejection, a read staler than the bound, or RSS at the end more than 10 % above its
 * level after warm-up.
 */
const seconds = Number(process.env.SOAK_SECONDS ?? 60);
const backplane =
  process.env.SOAK_BACKPLANE === 'streams' || process.env.SOAK_BACKPLANE === 'poll' ? process.env.SOAK_BACKPLANE : undefined;
// The sample's notes are cached 5 s; memory.maxTtl is 5 s, and so is a backplane's maxLag (see the
// sample app in docs/getting-started.md): a read is the latest note or one that was the latest 10 s before.
const STALE_BOUND_MS = 10_000;

function report(result: SoakResult, bound: number): string[] {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const growth = result.rssAtEnd.map((end, index) => end / result.rssAfterWarmup[index]! - 1);
  console.log(
    `\n${seconds} s, 3 instances, backplane ${backplane ?? 'none'}, ${result.requests} requests: ${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
  );
  console.log(
    `statuses ${JSON.stringify(result.statuses)}, failed requests ${result.failedRequests}, unhandled rejections/exceptions ${result.faults}`,
  );
  console.log(
    `note reads ${result.noteReads}, writes ${result.noteWrites}; stale reads ${result.staleReads}, stalest ${result.maxStalenessMs} ms (bound ${bound} ms)`,
  );
  console.log(`heap after warm-up ${result.heapAfterWarmup.map(mb).join(', ')}; at the end ${result.heapAtEnd.map(mb).join(', ')}`);
  console.log(
    `RSS after warm-up ${result.rssAfterWarmup.map(mb).join(', ')}; at the end ${result.rssAtEnd.map(mb).join(', ')} (${growth.map((g) => `${(g * 100).toFixed(1)} %`).join(', ')})`,
  );
  const failures: string[] = [];
  if (result.serverErrors > 0) failures.push(`${result.serverErrors} 5xx answers`);
  if (result.failedRequests > 0) failures.push(`${result.failedRequests} failed requests`);
  if (result.faults > 0) failures.push(`${result.faults} unhandled rejections or exceptions`);
  if (result.violations.length > 0) failures.push(...result.violations.slice(0, 10));
  if (growth.some((g) => g > 0.1)) failures.push('RSS grew more than 10 % after warm-up');
  return failures;
}

async function main() {
  const dynamo = await startDynamoDbLocal();
  try {
    const result = await runSoak({
      endpoint: dynamo.endpoint,
      durationMs: seconds * 1000,
      warmupMs: Math.min(15_000, (seconds * 1000) / 4),
      instances: 3,
      workers: 16,
      staleBoundMs: STALE_BOUND_MS,
      tableName: 'soak_cache',
      backplane,
    });
    const failures = report(result, STALE_BOUND_MS);
    console.log(failures.length === 0 ? '\nEvery check passed.' : `\nFAILED:\n- ${failures.join('\n- ')}`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import 'reflect-metadata';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal } from '../sample/dynamodb-local.js';
import { summarizeProfile } from './cpu-profile.js';
import { CONTENDERS, type ContenderName, load, startApp } from './http-contenders.js';
import { createTable } from './table.js';

/**
 * Where a route's CPU goes under the HTTP benchmark's load: each contender named on the command
 * line (default: constant and cacheable) runs under `node --cpu-prof`, and its profile's self time
 * during the load is printed per package and per function, in µs per request, so that contenders
 * compare although they served different numbers of requests.
 *
 *   npm run build && npx tsc -p tsconfig.tools.json && node .build/bench/http-profile.js cacheable constant
 *
 * BENCH_PROFILE_SECONDS sets the load's length (default 15); BENCH_PROFILE_DIR keeps the .cpuprofile files.
 */
const SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 15);
const TOP = 40;

async function main() {
  const names = (process.argv.length > 2 ? process.argv.slice(2) : ['constant', 'cacheable']) as ContenderName[];
  for (const name of names) if (!CONTENDERS.some((contender) => contender.name === name)) throw new Error(`no contender ${name}`);
  const dynamo = await startDynamoDbLocal();
  const { endpoint } = dynamo;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  try {
    await createTable(client, 'bench_profile');
    for (const name of names) await profile(name, endpoint);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

async function profile(name: ContenderName, endpoint: string) {
  const directory = process.env.BENCH_PROFILE_DIR ?? (await mkdtemp(join(tmpdir(), 'bench-profile-')));
  const app = await startApp(name, { DYNAMODB_ENDPOINT: endpoint, BENCH_TABLE: 'bench_profile' }, [
    '--cpu-prof',
    '--cpu-prof-dir',
    directory,
    '--cpu-prof-name',
    `${name}.cpuprofile`,
  ]);
  let served: { rps: number; p99: number };
  try {
    await load(app.url, 3);
    served = await load(app.url, SECONDS);
  } finally {
    await app.stop();
  }
  // The app stops within a few ms of the load's end; the window then covers the load alone.
  const summary = await summarizeProfile(join(directory, `${name}.cpuprofile`), SECONDS);
  const requests = served.rps * SECONDS;
  const perRequest = (ms: number) => ((ms * 1000) / requests).toFixed(2).padStart(8);
  const share = (ms: number) => `${((100 * ms) / (summary.totalMs - summary.idleMs)).toFixed(1).padStart(5)} %`;
  console.log(
    `\n## ${name}: ${served.rps.toFixed(0)} requests/s, p99 ${served.p99.toFixed(2)} ms, ${(await readdir(directory)).join(', ')}`,
  );
  console.log(
    `busy ${perRequest(summary.totalMs - summary.idleMs)} µs per request, idle ${((100 * summary.idleMs) / summary.totalMs).toFixed(1)} %`,
  );
  console.log('\nself time per package: µs per request, share of busy time');
  for (const { name: pack, ms } of summary.packages.slice(0, 20)) console.log(`${perRequest(ms)} ${share(ms)}  ${pack}`);
  console.log(`\nself time per function, top ${TOP}`);
  for (const { name: fn, ms } of summary.functions.slice(0, TOP)) console.log(`${perRequest(ms)} ${share(ms)}  ${fn}`);
  if (process.env.BENCH_PROFILE_DIR === undefined) await rm(directory, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

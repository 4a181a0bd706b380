import type { Section } from './report.js';
import {
  CONNECTIONS,
  CONTENDERS,
  type ContenderName,
  load,
  type LoadResult,
  type RunningApp,
  startApp,
  startRedis,
} from './http-contenders.js';
import { median } from './table.js';

/**
 * What a route hit costs against a route that returns a constant (issue 25): every contender its
 * own Nest Express app in a child process, autocannon in this one, in interleaved rounds whose order
 * rotates, so that a busy moment of the shared machine falls on each contender in turn.
 */
export async function httpTable(endpoint: string, tableName: string, quick: boolean): Promise<Section> {
  const rounds = quick ? 3 : 11;
  const seconds = quick ? 1 : 4;
  const redis = await startRedis();
  const apps = new Map<ContenderName, RunningApp>();
  try {
    for (const { name } of CONTENDERS) {
      if (name === 'keyvRedis' && redis === undefined) continue;
      const env = { DYNAMODB_ENDPOINT: endpoint, BENCH_TABLE: tableName, REDIS_URL: redis?.url ?? '' };
      apps.set(name, await startApp(name, env));
    }
    const headers = new Map<ContenderName, Headers>();
    let expected: string | undefined;
    for (const [name, app] of apps) {
      // Fills the caches (every later request is a hit) and warms the JIT.
      await load(app.url, quick ? 1 : 3);
      const response = await fetch(app.url);
      const body = await response.text();
      expected ??= body;
      if (body !== expected) throw new Error(`${name} answered another body than the constant route (${body.length} bytes)`);
      headers.set(name, response.headers);
    }
    if (headers.get('cacheable')?.get('x-cache') !== 'HIT') throw new Error('the @Cacheable route did not answer from the cache');

    const present = [...apps.keys()];
    const samples = new Map<ContenderName, LoadResult[]>(present.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < present.length; turn++) {
        const name = present[(turn + round) % present.length]!;
        samples.get(name)!.push(await load(apps.get(name)!.url, seconds));
      }
    }
    return section(samples, rounds, seconds, headers.get('cacheable')!);
  } finally {
    await Promise.all([...apps.values()].map((app) => app.stop()));
    await redis?.stop();
  }
}

function section(samples: Map<ContenderName, LoadResult[]>, rounds: number, seconds: number, cacheableHeaders: Headers): Section {
  const constant = samples.get('constant')!;
  const constantRps = median(constant.map((sample) => sample.rps));
  const constantP99 = median(constant.map((sample) => sample.p99));
  const ratios = new Map<ContenderName, { rps: number; p99: number }>();
  const rows = CONTENDERS.map(({ name, label }) => {
    const runs = samples.get(name);
    if (runs === undefined) return [label, 'absent (no redis-server on PATH)', '', '', '', '', '', ''];
    const rps = median(runs.map((sample) => sample.rps));
    const p99 = median(runs.map((sample) => sample.p99));
    ratios.set(name, { rps: rps / constantRps, p99: p99 / constantP99 });
    // The same round's constant figure, measured within seconds of this one: how much the ratio wanders.
    const perRound = runs.map((sample, round) => sample.rps / constant[round]!.rps);
    return [
      label,
      rps.toFixed(0),
      `${Math.min(...runs.map((sample) => sample.rps)).toFixed(0)}–${Math.max(...runs.map((sample) => sample.rps)).toFixed(0)}`,
      median(runs.map((sample) => sample.p50)).toFixed(2),
      p99.toFixed(2),
      (rps / constantRps).toFixed(2),
      (p99 / constantP99).toFixed(2),
      `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`,
    ];
  });
  const hit = ratios.get('cacheable')!;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  return {
    title: 'HTTP: a route hit against a constant route, one app per contender in a child process, autocannon on loopback',
    header: [
      'GET route',
      'requests/s, p50 of rounds',
      'requests/s, min–max of rounds',
      'latency p50 ms',
      'latency p99 ms',
      '× constant, requests/s',
      '× constant, p99',
      '× constant requests/s, min–max of rounds',
    ],
    rows,
    note:
      `${rounds} interleaved rounds of ${seconds} s per contender, ${CONNECTIONS} connections, one 2 KB JSON answer; ` +
      'latencies are medians over rounds of each round’s percentile. Target (issue 25): @Cacheable memory hit ≥ 0.95× the constant ' +
      `route's requests/s (${hit.rps.toFixed(2)}×, ${verdict(hit.rps >= 0.95)}) and p99 ≤ 1.10× (${hit.p99.toFixed(2)}×, ` +
      `${verdict(hit.p99 <= 1.1)}). The hit also sends X-Cache (${cacheableHeaders.get('x-cache')}) and Age ` +
      `(${cacheableHeaders.get('age')}) and checks each request for credentials.`,
  };
}

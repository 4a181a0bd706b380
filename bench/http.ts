import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Section } from './report.js';
import { median } from './table.js';

const ROUTES = [
  { name: 'no cache (the handler every time)', path: '/plain' },
  { name: '@nestjs/cache-manager CacheInterceptor, memory store (hit)', path: '/nest-cache-manager' },
  { name: 'nest-dynamo-cache @Cacheable, memory tier (hit)', path: '/cacheable' },
] as const;

/**
 * Requests per second of one cached GET answered from memory, through @Cacheable and through
 * @nestjs/cache-manager's CacheInterceptor, against the bare handler: the app in a child process,
 * autocannon on loopback in this one, in interleaved rounds (the order rotates every round).
 */
export async function httpTable(endpoint: string, tableName: string, quick: boolean): Promise<Section> {
  const app = fork(fileURLToPath(new URL('./http-app.js', import.meta.url)), [], {
    env: { ...process.env, DYNAMODB_ENDPOINT: endpoint, BENCH_TABLE: tableName },
  });
  const port = await new Promise<number>((resolve, reject) => {
    app.once('message', (message) => resolve((message as { port: number }).port));
    app.once('exit', (code) => reject(new Error(`the benchmark app exited with code ${code}`)));
  });
  try {
    const rounds = quick ? 3 : 7;
    const duration = quick ? 2 : 4;
    const samples = ROUTES.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], checked: '' }));
    for (const route of ROUTES) {
      // Warm the JIT and the caches: every later request of the cached routes is a hit.
      await autocannon({ url: `http://127.0.0.1:${port}${route.path}`, connections: 10, duration: 1 });
    }
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < ROUTES.length; turn++) {
        const index = (turn + round) % ROUTES.length;
        const result = await autocannon({
          url: `http://127.0.0.1:${port}${ROUTES[index]!.path}`,
          connections: 10,
          pipelining: 1,
          duration,
        });
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${ROUTES[index]!.path}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
        samples[index]!.rps.push(result.requests.average);
        samples[index]!.p50.push(result.latency.p50);
        samples[index]!.p99.push(result.latency.p99);
      }
    }
    const headers = await fetch(`http://127.0.0.1:${port}/cacheable`).then((response) => response.headers);
    const nestCacheManager = median(samples[1]!.rps);
    const rows = ROUTES.map((route, index) => {
      const rps = median(samples[index]!.rps);
      return [
        route.name,
        rps.toFixed(0),
        median(samples[index]!.p50).toFixed(1),
        median(samples[index]!.p99).toFixed(1),
        (rps / nestCacheManager).toFixed(2),
      ];
    });
    return {
      title: 'HTTP: one cached GET answered from memory, the app in a child process, autocannon on loopback',
      header: ['GET route', 'requests/s, p50 of rounds', 'latency p50 ms', 'latency p99 ms', '× CacheInterceptor'],
      rows,
      note:
        `${rounds} rounds of ${duration} s each, 10 connections, loopback. Target: @Cacheable ≥ 0.95× CacheInterceptor on hits ` +
        `(${median(samples[2]!.rps) / nestCacheManager >= 0.95 ? 'met' : 'NOT met'}), while it also sends X-Cache (${headers.get('x-cache')}) and Age (${headers.get('age')}) and keeps credentialed requests apart.`,
    };
  } finally {
    app.send('stop');
    await new Promise((resolve) => app.once('exit', resolve));
  }
}

import autocannon from 'autocannon';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../sample/dynamodb-local.js';
import { percentile } from './table.js';

export type ContenderName = 'constant' | 'cacheable' | 'getOrSet' | 'cacheInterceptor' | 'keyvRedis';

export const CONTENDERS: ReadonlyArray<{ readonly name: ContenderName; readonly label: string }> = [
  { name: 'constant', label: 'constant route (a 2 KB object, no cache)' },
  { name: 'cacheable', label: 'nest-dynamo-cache @Cacheable, memory hit' },
  { name: 'getOrSet', label: 'nest-dynamo-cache cache.getOrSet in the handler, memory hit' },
  { name: 'cacheInterceptor', label: '@nestjs/cache-manager CacheInterceptor, memory store (hit)' },
  { name: 'keyvRedis', label: 'CacheInterceptor, cache-manager + @keyv/redis, local redis-server (hit)' },
];

export const CONNECTIONS = 50;

export interface RunningApp {
  readonly url: string;
  stop(): Promise<void>;
}

/** Forks one contender's app (bench/http-app.ts); `execArgv` lets the profiler in. */
export async function startApp(contender: ContenderName, env: Record<string, string>, execArgv: string[] = []): Promise<RunningApp> {
  const child = fork(fileURLToPath(new URL('./http-app.js', import.meta.url)), [], {
    env: { ...process.env, ...env, BENCH_CONTENDER: contender },
    execArgv,
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the ${contender} app exited with code ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/answer`, stop: () => stopChild(child, 'stop') };
}

/**
 * A redis-server of our own on a free port, persisting nothing, in a temporary directory; undefined
 * when none is on PATH (Debian's redis-server package installs one).
 */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const port = await freePort();
  const directory = await mkdtemp(join(tmpdir(), 'bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', directory, '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  // Even if the bench dies on an exception nobody catches, or is interrupted: a signal's death fires no 'exit'.
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  };
  const killOnSignal = (signal: NodeJS.Signals) => {
    killOnExit();
    process.kill(process.pid, signal);
  };
  process.once('exit', killOnExit).once('SIGINT', killOnSignal).once('SIGTERM', killOnSignal);
  const stop = async () => {
    process.off('exit', killOnExit).off('SIGINT', killOnSignal).off('SIGTERM', killOnSignal);
    await stopChild(child, 'SIGTERM');
    await rm(directory, { recursive: true, force: true });
  };
  const ready = await new Promise<boolean>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve(true));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (!ready) {
    await stop();
    return undefined;
  }
  child.stdout.resume();
  return { url: `redis://127.0.0.1:${port}`, stop };
}

async function stopChild(child: ChildProcess, how: 'stop' | NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (how === 'stop' && child.connected) child.send('stop');
  else child.kill(how === 'stop' ? 'SIGTERM' : how);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * Load from `CONNECTIONS` connections for `seconds`. Latencies come from each response's own
 * time (float ms), since autocannon's histogram keeps whole milliseconds: too coarse for a 1.1× p99 target.
 */
export async function load(url: string, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, pipelining: 1, duration: seconds }, (error, done) =>
      error ? reject(error as Error) : resolve(done),
    );
    // At run time the listener's first argument is the client (the types omit it).
    instance.on('response', ((_client: unknown, status: number, _bytes: number, time: number) => {
      if (status === 200) latencies.push(time);
    }) as never);
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  latencies.sort((a, b) => a - b);
  return { rps: result.requests.average, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

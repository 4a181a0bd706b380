import { type ChildProcess, execFile, fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable, dynamoEndpoint, localClient, uniqueTableName } from '../support/dynamo.js';
import { seenWithin } from '../support/seen-within.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const INSTANCE = `${repo}.build/processes-test/test/processes/frozen-instance.js`;
// The defaults the instances run with.
const MAX_LAG = 5_000;
const MEMORY_MAX_TTL = 5_000;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

// The instances are processes of their own (SIGSTOP freezes a whole process), so they run compiled code.
beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/processes/tsconfig.json'], { cwd: repo });
}, 120_000);

async function startInstance(tableName: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(INSTANCE, [], {
    env: { ...process.env, DYNAMODB_ENDPOINT: dynamoEndpoint(), CACHE_TABLE: tableName },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`an instance exited with code ${code} before listening`)));
    child.once('message', (message: { port: number }) => resolve(message.port));
  });
  child.removeAllListeners('exit');
  return { child, url: `http://127.0.0.1:${port}` };
}

const read = async (url: string, key: string) => (await fetch(`${url}/values/${key}`)).json() as Promise<{ value: unknown; tier: string }>;
const write = async (url: string, key: string, value: unknown) => {
  const answer = await fetch(`${url}/values/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  expect(answer.status).toBe(200);
};
/**
 * Sends a GET over a raw socket and resolves once the request is written to the kernel: it then
 * waits in the frozen process's socket. Resolves to `answer`, the promise of the JSON answer (in an
 * object: a promise resolved with a promise would wait for it).
 */
function requestHandedToKernel(url: string): Promise<{ answer: Promise<unknown> }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((handedOver, failed) => {
    const socket = connect(Number(port), hostname);
    const answer = new Promise((resolve, reject) => {
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (raw += chunk));
      socket.on('end', () => resolve(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))));
      socket.on('error', reject);
    });
    socket.once('error', failed);
    socket.once('connect', () =>
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`, () => handedOver({ answer })),
    );
  });
}

const lagOf = async (url: string) => ((await (await fetch(`${url}/backplane`)).json()) as { lagMs: number }).lagMs;

describe('an instance frozen with SIGSTOP for longer than maxLag, at the defaults', () => {
  it('answers the request that waited in its socket with the new value, never the old one from memory', async () => {
    const tableName = uniqueTableName('bp_sigstop');
    const admin = localClient({}, 'admin');
    await createTable(admin, tableName, { ttlAttributeName: 'ttl', stream: true });
    admin.destroy();
    const writer = await startInstance(tableName);
    const frozen = await startInstance(tableName);

    await write(writer.url, 'price', 'old');
    const writtenAt = Date.now();
    // The news of that write has reached the frozen-to-be instance, so what it reads now stays in memory.
    await seenWithin(async () => (await lagOf(frozen.url)) < Date.now() - writtenAt, true, 3 * MAX_LAG);
    expect(await read(frozen.url, 'price')).toEqual({ value: 'old', tier: 'dynamodb' });
    // The stream may bring that write's news a little after a cycle that began later, and drop the copy once more.
    await seenWithin(
      async () => JSON.stringify(await read(frozen.url, 'price')),
      JSON.stringify({ value: 'old', tier: 'memory' }),
      3 * MAX_LAG,
    );

    frozen.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    await write(writer.url, 'price', 'new');
    // Frozen past both bounds: its backplane's last cycle and its memory entry are older than they allow.
    // The wait is the frozen time itself, which is what the test is about.
    await seenWithin(async () => Date.now() - frozenAt > Math.max(MAX_LAG, MEMORY_MAX_TTL) + 1_000, true, 2 * MAX_LAG);
    const { answer } = await requestHandedToKernel(`${frozen.url}/values/price`);
    frozen.child.kill('SIGCONT');
    expect(await answer).toEqual({ value: 'new', tier: 'dynamodb' });
  }, 90_000);
});

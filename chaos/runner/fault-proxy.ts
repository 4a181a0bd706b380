import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import type { Random } from '../prng.js';

export type ProxyFault = 'latency' | 'resets' | 'fail';

/**
 * A TCP proxy between one instance and DynamoDB Local, so that the runner can strike that instance's
 * network alone: `latency` holds every answer back, `resets` resets some connections as data flows,
 * `fail` resets every connection (all of the instance's calls fail). Nothing else is changed.
 */
export class FaultProxy {
  private fault: ProxyFault | undefined;
  private readonly connections = new Set<{ client: Socket; upstream: Socket }>();

  private constructor(
    private readonly server: Server,
    private readonly random: Random,
    private readonly latencyMs: number,
    private readonly resetChance: number,
  ) {}

  static async start(targetPort: number, random: Random, latencyMs: number, resetChance = 0.3): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, random, latencyMs, resetChance);
    server.on('connection', (client) => proxy.relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Starts a fault (undefined ends it). `fail` resets the connections open now too. */
  strike(fault: ProxyFault | undefined): void {
    this.fault = fault;
    if (fault === 'fail') for (const connection of this.connections) reset(connection);
  }

  async close(): Promise<void> {
    for (const connection of this.connections) reset(connection);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    const connection = { client, upstream };
    this.connections.add(connection);
    const drop = () => {
      this.connections.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (this.fault === 'fail' || (this.fault === 'resets' && this.random.chance(this.resetChance))) return reset(connection);
      upstream.write(chunk);
    });
    // An answer held back stays in order with what follows it, after the latency ends too.
    let releaseAt = 0;
    const later = (send: () => void) => {
      const now = Date.now();
      releaseAt = Math.max(releaseAt, this.fault === 'latency' ? now + this.latencyMs : now);
      if (releaseAt <= now) send();
      else setTimeout(send, releaseAt - now);
    };
    upstream.on('data', (chunk: Buffer) => later(() => client.writable && client.write(chunk)));
    upstream.on('end', () => later(() => client.end()));
    client.on('end', () => upstream.end());
  }
}

function reset({ client, upstream }: { client: Socket; upstream: Socket }): void {
  for (const socket of [client, upstream]) {
    // A socket still connecting cannot be reset; destroying it is as abrupt.
    if (socket.destroyed) continue;
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  }
}

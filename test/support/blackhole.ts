import { type Socket, createServer } from 'node:net';

export interface Blackhole {
  readonly endpoint: string;
  /** Connections accepted so far: proof that the client got through and was left waiting. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/**
 * A loopback TCP server that accepts every connection, reads what is sent and never answers: a
 * DynamoDB that hangs. DynamoDB Local cannot be made to do that, hence this stand-in.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

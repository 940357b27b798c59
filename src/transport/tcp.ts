/**
 * TCP listener: accepts sockets, turns Nagle off (MQTT packets are small and latency matters; the broker batches
 * writes itself), and hands each socket to the broker as a Duplex.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface StreamHandler {
  handle(stream: Socket, remoteAddress?: string): void;
}

export interface TcpListenOptions {
  /** Port; 0 picks a free one. Default 1883. */
  port?: number;
  /** Address to bind. Default: all interfaces. */
  host?: string;
  /** Pending-connection queue length passed to listen(2). Default 511. */
  backlog?: number;
}

export interface TcpListener {
  readonly server: Server;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export function listenTcp(handler: StreamHandler, options: TcpListenOptions = {}): Promise<TcpListener> {
  const server = createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    const remote = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
    handler.handle(socket, remote);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 1883, host: options.host, backlog: options.backlog ?? 511 }, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({
        server,
        address,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

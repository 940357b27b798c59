/**
 * A TCP proxy between a client and a server that a test can cut (`dropAll`) or make deaf (`isServerMuted`: bytes
 * from the server are discarded, so acknowledgements never reach the client) to exercise resends and lost
 * connections against any real server.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Cleanup } from './targets.js';

export class Proxy {
  readonly port: number;
  /** While true, bytes from the server are dropped. */
  isServerMuted = false;
  /** While true, bytes from the server are held back; `release()` delivers them. */
  isServerHeld = false;
  readonly #held: Array<() => void> = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server) {
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  static async start(t: Cleanup, targetPort: number): Promise<Proxy> {
    let proxy: Proxy | undefined;
    const server = createServer((client) => {
      const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
      for (const s of [client, upstream]) {
        proxy!.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          proxy!.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => {
        if (proxy!.isServerMuted) return;
        if (proxy!.isServerHeld) proxy!.#held.push(() => client.write(d));
        else client.write(d);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new Proxy(server);
    t.after(() => proxy.close());
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops holding and delivers what was held, in order. */
  release(): void {
    this.isServerHeld = false;
    for (const write of this.#held.splice(0)) write();
  }

  /** Cuts every connection through the proxy. */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

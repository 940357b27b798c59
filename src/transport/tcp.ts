/**
 * Plain TCP listening, kept as its own entry point for embedders: `listen()` in `listener.ts` with only a port and a
 * host. Nagle is off (MQTT packets are small and latency matters; the broker batches writes itself).
 */
import type { AddressInfo } from 'node:net';
import { listen, type StreamHandler } from './listener.js';

export type { StreamHandler } from './listener.js';

export interface TcpListenOptions {
  /** Port; 0 picks a free one. Default 1883. */
  port?: number;
  /** Address to bind. Default: all interfaces. */
  host?: string;
  /** Pending-connection queue length passed to listen(2). Default 511. */
  backlog?: number;
}

export interface TcpListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function listenTcp(handler: StreamHandler, options: TcpListenOptions = {}): Promise<TcpListener> {
  const listener = await listen(handler, options);
  return { address: listener.address as AddressInfo, close: () => listener.close() };
}

/**
 * How the load generator reaches the broker: plain TCP (mqtt://), TLS (mqtts://), WebSocket (ws://) or WebSocket over
 * TLS (wss://). Each dial returns a Duplex carrying MQTT bytes and a way to drop the connection without a goodbye,
 * so the rest of the generator never knows which transport it is on.
 *
 * TLS: the broker's certificate is verified only when a CA file is given (benchmarks run against self-signed test
 * certificates); otherwise `rejectUnauthorized: false`. WebSocket: the `mqtt` subprotocol [MQTT-6.0.0-3], binary
 * frames [MQTT-6.0.0-1], no per-message deflate; each write of the generator becomes one frame (MQTT packets may
 * span frames [MQTT-6.0.0-2], so a batch of packets in one frame is fine).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** The `ws` package, loaded only by processes that dial WebSockets (see loadWebSocket). */
export type WsModule = typeof import('ws');

export type TransportKind = 'tcp' | 'tls' | 'ws' | 'wss';

export interface Transport {
  readonly kind: TransportKind;
  /** HTTP path of the WebSocket endpoint (ws/wss only). */
  readonly path: string;
  /** PEM file of the CA to verify the broker's certificate against (tls/wss); absent = do not verify. */
  readonly caFile?: string | undefined;
}

export const TCP: Transport = { kind: 'tcp', path: '/' };

export interface DialTarget {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string | undefined;
  readonly transport: Transport;
  /** The CA file's contents, read once per process by the caller. */
  readonly ca?: Buffer | undefined;
  /** Needed for ws/wss: the loaded `ws` package (loadWebSocket). */
  readonly ws?: WsModule | undefined;
}

export interface Dialed {
  readonly stream: Duplex;
  /** Drops the connection at once, discarding unsent data (a TCP reset where the transport allows it). */
  readonly abort: () => void;
}

const DEFAULT_PORTS: Record<TransportKind, number> = { tcp: 1883, tls: 8883, ws: 80, wss: 443 };
const SCHEMES: Record<string, TransportKind> = { 'mqtt:': 'tcp', 'tcp:': 'tcp', 'mqtts:': 'tls', 'ssl:': 'tls', 'tls:': 'tls', 'ws:': 'ws', 'wss:': 'wss' };

/** Parses mqtt://, mqtts://, ws:// or wss:// URLs into host, port and transport; throws on anything else. */
export function parseBrokerUrl(text: string, caFile?: string): { host: string; port: number; transport: Transport } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a URL: '${text}'`);
  }
  const kind = SCHEMES[url.protocol];
  if (kind === undefined) throw new Error(`unsupported scheme '${url.protocol}' (mqtt, mqtts, ws, wss)`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? DEFAULT_PORTS[kind] : Number(url.port);
  const path = kind === 'ws' || kind === 'wss' ? (url.pathname === '' ? '/' : url.pathname) + url.search : '/';
  return { host, port, transport: { kind, path, caFile } };
}

export function describeTransport(t: Transport, host: string, port: number): string {
  const scheme = { tcp: 'mqtt', tls: 'mqtts', ws: 'ws', wss: 'wss' }[t.kind];
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${t.kind === 'ws' || t.kind === 'wss' ? t.path : ''}`;
}

/** Loads `ws` if the transport needs it: TCP and TLS runs do not pay for its import in every worker. */
export async function loadWebSocket(t: Transport): Promise<WsModule | undefined> {
  return t.kind === 'ws' || t.kind === 'wss' ? import('ws') : undefined;
}

export function dialTransport(target: DialTarget): Dialed {
  const { host, port, transport } = target;
  const localAddress = target.localAddress;
  const local = localAddress === undefined ? {} : { localAddress };
  const tlsOptions = {
    rejectUnauthorized: target.ca !== undefined,
    ...(target.ca !== undefined ? { ca: target.ca } : {}),
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
  };
  switch (transport.kind) {
    case 'tcp': {
      const socket = net.connect({ host, port, localAddress, noDelay: true });
      return { stream: socket, abort: () => socket.resetAndDestroy() };
    }
    case 'tls': {
      const socket = tls.connect({ host, port, ...local, ...tlsOptions });
      socket.setNoDelay(true);
      return { stream: socket, abort: () => socket.destroy() };
    }
    case 'ws':
    case 'wss': {
      if (target.ws === undefined) throw new Error('dialing a WebSocket needs the ws package (loadWebSocket)');
      const { WebSocket, createWebSocketStream } = target.ws;
      const url = `${transport.kind}://${host.includes(':') ? `[${host}]` : host}:${port}${transport.path}`;
      // ws sets TCP_NODELAY on its socket itself.
      const ws = new WebSocket(url, ['mqtt'], {
        perMessageDeflate: false, ...local, ...(transport.kind === 'wss' ? tlsOptions : {}),
      });
      const stream = createWebSocketStream(ws);
      return { stream, abort: () => ws.terminate() };
    }
  }
}

/**
 * Diallers: each turns a DialTarget into a connected Duplex — TCP (`mqtt`), TLS (`mqtts`), WebSocket (`ws`, `wss`,
 * through the `ws` package with subprotocol `mqtt`, binary frames). The client above cannot tell them apart.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocket, createWebSocketStream } from 'ws';
import type { DialTarget, TlsOptions } from './options.js';

function tlsOptions(target: DialTarget): ConnectionOptions {
  const t: TlsOptions = target.tls;
  const out: ConnectionOptions = {
    rejectUnauthorized: t.rejectUnauthorized ?? true,
    // An IP address is not a valid SNI name (RFC 6066 section 3); Node warns if one is sent.
    servername: t.servername ?? (/^[\d.]+$|:/.test(target.host) ? '' : target.host),
  };
  if (t.ca !== undefined) out.ca = t.ca;
  if (t.cert !== undefined) out.cert = t.cert;
  if (t.key !== undefined) out.key = t.key;
  if (t.passphrase !== undefined) out.passphrase = t.passphrase;
  if (t.ALPNProtocols !== undefined) out.ALPNProtocols = t.ALPNProtocols;
  if (t.checkServerIdentity !== undefined) out.checkServerIdentity = t.checkServerIdentity;
  if (t.minVersion !== undefined) out.minVersion = t.minVersion;
  if (t.maxVersion !== undefined) out.maxVersion = t.maxVersion;
  return out;
}

function local(target: DialTarget): { localAddress?: string } {
  return target.localAddress === undefined ? {} : { localAddress: target.localAddress };
}

function dialTcp(target: DialTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = target.socketPath !== undefined
      ? netConnect({ path: target.socketPath })
      : netConnect({ host: target.host, port: target.port, ...local(target) });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function dialTls(target: DialTarget): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: target.host, port: target.port, ...local(target), ...tlsOptions(target) });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function dialWebSocket(target: DialTarget): Promise<Duplex> {
  const scheme = target.protocol === 'wss' ? 'wss' : 'ws';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const url = `${scheme}://${host}:${target.port}${target.path.startsWith('/') ? '' : '/'}${target.path}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['mqtt'], {
      perMessageDeflate: false,
      headers: target.wsHeaders,
      ...local(target),
      ...(scheme === 'wss' ? tlsOptions(target) : {}),
    });
    const fail = (err: Error): void => {
      ws.terminate();
      reject(err);
    };
    ws.once('error', fail);
    ws.once('unexpected-response', (_req, res) => {
      fail(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode ?? '?'}`));
    });
    ws.once('open', () => {
      ws.off('error', fail);
      resolve(createWebSocketStream(ws));
    });
  });
}

/** Connects to the target with the transport its protocol names. */
export function dial(target: DialTarget): Promise<Duplex> {
  switch (target.protocol) {
    case 'mqtt': return dialTcp(target);
    case 'mqtts': return dialTls(target);
    case 'ws':
    case 'wss': return dialWebSocket(target);
  }
}

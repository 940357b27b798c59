/**
 * The client over TLS (mqtts://: ca, cert/key for mutual TLS, rejectUnauthorized, servername, ALPN) and WebSocket
 * (ws://, wss://, subprotocol `mqtt`), against the Culex broker's listeners and a real Mosquitto. Certificates are
 * made with `openssl` in a temporary directory: a CA, a server certificate for localhost / 127.0.0.1, and a client
 * certificate.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { connect, createBroker, type ClientOptions } from '../../src/index.js';
import { mosquittoFor, mosquittoSkip } from '../helpers/mosquitto.js';
import { take } from './helpers.js';
import type { Cleanup } from './targets.js';

interface Certs {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  paths: { ca: string; serverCert: string; serverKey: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate (localhost, 127.0.0.1) and a client certificate, valid for a day. */
function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'culex-client-tls-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1',
    '-subj', '/CN=Culex Test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'test-client']] as const) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
      `${name}.pem`, '-days', '1', ...(name === 'server' ? ['-extfile', 'server.ext'] : [])]);
  }
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    dir, ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'),
    clientKey: read('client.key'),
    paths: { ca: join(dir, 'ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key') },
  };
}

async function roundTrip(t: Cleanup, url: string, options: ClientOptions, plainUrl?: string): Promise<void> {
  const sub = await connect(url, { ...options, reconnect: false });
  t.after(() => sub.end({ force: true }));
  await sub.subscribe('sec/#', { qos: 1 });
  const it = sub.messages();
  const pub = await connect(plainUrl ?? url, plainUrl === undefined ? { ...options, reconnect: false } : { reconnect: false });
  t.after(() => pub.end({ force: true }));
  await pub.publish('sec/a', 'secret', { qos: 1 });
  const [m] = await take(it, 1);
  assert.equal(m!.payload.toString(), 'secret');
}

let certs: Certs;
before(() => {
  certs = makeCerts();
});
process.on('exit', () => { if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true }); });

async function broker(t: Cleanup) {
  const b = createBroker({ sysIntervalSeconds: 0 });
  t.after(() => b.close());
  const port = (await b.listen({ port: 0, host: '127.0.0.1' })).port;
  return { b, port };
}

describe('client TLS and WebSocket against the Culex broker', () => {
  test('mqtts:// with the CA verifies the server; an unknown CA is refused unless rejectUnauthorized is false', async (t) => {
    const { b, port } = await broker(t);
    const listener = await b.openListener({ port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey } });
    const tlsPort = (listener.address as { port: number }).port;
    await roundTrip(t, `mqtts://127.0.0.1:${tlsPort}`, { tls: { ca: certs.ca } }, `mqtt://127.0.0.1:${port}`);
    await roundTrip(t, `mqtts://localhost:${tlsPort}`, { tls: { ca: certs.ca, servername: 'localhost' } });
    await assert.rejects(connect(`mqtts://127.0.0.1:${tlsPort}`, { reconnect: false }), /self[- ]signed|unable to verify|certificate/i);
    const insecure = await connect(`mqtts://127.0.0.1:${tlsPort}`, { reconnect: false, tls: { rejectUnauthorized: false } });
    await insecure.end();
  });

  test('checkServerIdentity replaces only the host name check (mosquitto_pub --insecure); the CA is still verified', async (t) => {
    const { b } = await broker(t);
    const listener = await b.openListener({ port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey } });
    const url = `mqtts://127.0.0.1:${(listener.address as { port: number }).port}`;
    const wrongName = { ca: certs.ca, servername: 'wrong.example' };
    await assert.rejects(connect(url, { reconnect: false, tls: wrongName }), /wrong\.example|altnames|Hostname/i);
    const insecure = await connect(url, { reconnect: false, tls: { ...wrongName, checkServerIdentity: () => undefined } });
    await insecure.end();
    await assert.rejects(connect(url, { reconnect: false, tls: { servername: 'localhost', checkServerIdentity: () => undefined } }));
  });

  test('a Unix socket (socketPath) and a bound local address (localAddress)', async (t) => {
    const { b, port } = await broker(t);
    const socketPath = join(certs.dir, 'culex.sock');
    await b.openListener({ path: socketPath });
    await roundTrip(t, 'mqtt://unused', { socketPath }, `mqtt://127.0.0.1:${port}`);
    const seen = new Promise<string | undefined>((resolve) => b.once('clientConnected', (c) => resolve(c.remoteAddress)));
    const client = await connect(`mqtt://127.0.0.1:${port}`, { reconnect: false, localAddress: '127.0.0.1' });
    assert.match((await seen) ?? '', /127\.0\.0\.1/);
    await client.end();
  });

  test('mutual TLS: a client certificate is presented when the listener requires one', async (t) => {
    const { b } = await broker(t);
    const listener = await b.openListener({
      port: 0, host: '127.0.0.1', tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, isCertificateRequired: true },
    });
    const url = `mqtts://127.0.0.1:${(listener.address as { port: number }).port}`;
    await roundTrip(t, url, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    await assert.rejects(connect(url, { reconnect: false, connectTimeoutMs: 2000, tls: { ca: certs.ca } }));
  });

  test('ALPN: the client offers the protocols given and the server sees the one chosen', async (t) => {
    const { b } = await broker(t);
    const chosen: Array<string | false | null> = [];
    const server = createTlsServer({ cert: certs.serverCert, key: certs.serverKey, ALPNProtocols: ['mqtt'] }, (socket: TLSSocket) => {
      chosen.push(socket.alpnProtocol);
      b.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const client = await connect(`mqtts://127.0.0.1:${port}`, { reconnect: false, tls: { ca: certs.ca, ALPNProtocols: ['mqtt'] } });
    await client.publish('alpn', 'x', { qos: 1 });
    await client.end();
    assert.deepEqual(chosen, ['mqtt']);
  });

  test('ws:// and wss:// (subprotocol mqtt) exchange messages with TCP clients', async (t) => {
    const { b, port } = await broker(t);
    const ws = await b.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
    const wss = await b.openListener({
      port: 0, host: '127.0.0.1', protocol: 'websockets', tls: { cert: certs.serverCert, key: certs.serverKey },
    });
    await roundTrip(t, `ws://127.0.0.1:${(ws.address as { port: number }).port}/mqtt`, { protocolVersion: 5 }, `mqtt://127.0.0.1:${port}`);
    await roundTrip(t, `wss://localhost:${(wss.address as { port: number }).port}`, { tls: { ca: certs.ca } });
  });
});

describe('client TLS and WebSocket against Mosquitto', { skip: mosquittoSkip }, () => {
  test('mqtts:// with the CA, and mutual TLS with require_certificate', async (t) => {
    const tlsFiles = { certfile: certs.paths.serverCert, keyfile: certs.paths.serverKey };
    const m = await mosquittoFor(t, {
      listeners: [{}, { tls: tlsFiles }, { tls: { ...tlsFiles, cafile: certs.paths.ca, requireCertificate: true } }],
    });
    const [plain, tlsPort, mutual] = m.ports;
    await roundTrip(t, `mqtts://127.0.0.1:${tlsPort}`, { tls: { ca: certs.ca } }, `mqtt://127.0.0.1:${plain}`);
    await assert.rejects(connect(`mqtts://127.0.0.1:${tlsPort}`, { reconnect: false }));
    await roundTrip(t, `mqtts://localhost:${mutual}`, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    await assert.rejects(connect(`mqtts://127.0.0.1:${mutual}`, { reconnect: false, connectTimeoutMs: 2000, tls: { ca: certs.ca } }));
  });

  test('ws:// to a Mosquitto websockets listener, MQTT 3.1.1 and 5', async (t) => {
    const m = await mosquittoFor(t, { listeners: [{}, { protocol: 'websockets' }] });
    const [plain, ws] = m.ports;
    await roundTrip(t, `ws://127.0.0.1:${ws}`, {}, `mqtt://127.0.0.1:${plain}`);
    await roundTrip(t, `ws://127.0.0.1:${ws}/mqtt`, { protocolVersion: 5 });
  });
});

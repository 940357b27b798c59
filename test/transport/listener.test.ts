/** Unix socket listeners, per-listener connection limits, socket_domain, and several listeners on one broker. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectPacket, Framer } from '../helpers/packets.ts';
import { brokerWithLog, connected, mqttClient, runCommand, type Cleanup } from './helpers.ts';

function tempDir(t: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function connack(socket: Socket): Promise<string> {
  const framer = new Framer(4);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no CONNACK')), 3000);
    socket.on('data', (d: Buffer) => {
      const [p] = framer.push(d);
      if (p !== undefined) {
        clearTimeout(timer);
        resolve(p.type);
      }
    });
  });
}

describe('Unix socket listener', () => {
  test('a raw MQTT client connects over the socket; its address is the socket path', async (t) => {
    const { broker } = brokerWithLog(t);
    const path = join(tempDir(t), 'culex.sock');
    const listener = await broker.openListener({ path });
    assert.equal(listener.address, path);
    const info = connected(broker, 'unix-1');
    const socket = netConnect(path);
    t.after(() => socket.destroy());
    const reply = connack(socket);
    socket.write(connectPacket({ clientId: 'unix-1' }));
    assert.equal(await reply, 'connack');
    assert.equal((await info).remoteAddress, path);
  });

  test('a stale socket file from an earlier run is replaced; a regular file is not', async (t) => {
    const dir = tempDir(t);
    const stale = join(dir, 'stale.sock');
    // A process that listens on the socket and is killed leaves the file behind, with nobody listening.
    spawnSync(process.execPath, ['-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(existsSync(stale));
    const { broker } = brokerWithLog(t);
    await broker.openListener({ path: stale });
    const regular = join(dir, 'regular');
    writeFileSync(regular, 'keep me');
    await assert.rejects(broker.openListener({ path: regular }), /EADDRINUSE/);
    assert.ok(existsSync(regular));
  });

  test('mosquitto_pub --unix publishes through the socket', {
    skip: !existsSync('/usr/bin/mosquitto_pub') && 'mosquitto-clients not installed',
  }, async (t) => {
    const { broker } = brokerWithLog(t);
    const path = join(tempDir(t), 'culex.sock');
    await broker.openListener({ path });
    const published = new Promise<string>((resolve) => {
      broker.on('published', (message) => {
        if (message.topic === 'unix/t') resolve(message.payload.toString());
      });
    });
    const result = await runCommand('mosquitto_pub', ['--unix', path, '-t', 'unix/t', '-m', 'via unix', '-q', '1']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await published, 'via unix');
  });
});

describe('listener limits and addresses', () => {
  test('maxConnections: a connection over the listener\'s limit is closed at once and logged', async (t) => {
    const { broker, log } = brokerWithLog(t);
    const listener = await broker.openListener({ port: 0, host: '127.0.0.1', maxConnections: 1, name: 'limited' });
    const port = (listener.address as AddressInfo).port;
    const first = await mqttClient(t, `mqtt://127.0.0.1:${port}`, { clientId: 'first' });
    const second = netConnect(port, '127.0.0.1');
    t.after(() => second.destroy());
    second.on('error', () => {});
    await new Promise((resolve) => second.once('close', resolve));
    await log.waitFor(/denied: max_connections \(1\) reached on limited/);
    assert.ok(first.connected);
    assert.equal(listener.connectionCount, 1);
    await first.endAsync();
    // The slot is free again once the first socket is gone.
    const ok = netConnect(port, '127.0.0.1');
    t.after(() => ok.destroy());
    const reply = connack(ok);
    ok.write(connectPacket({ clientId: 'third' }));
    assert.equal(await reply, 'connack');
  });

  test('a connection that never completes its WebSocket upgrade is closed after the handshake timeout', async (t) => {
    const { broker, log } = brokerWithLog(t);
    const listener = await broker.openListener({
      port: 0, host: '127.0.0.1', protocol: 'websockets', handshakeTimeoutMs: 200, name: 'ws-slow',
    });
    const idle = netConnect((listener.address as AddressInfo).port, '127.0.0.1');
    t.after(() => idle.destroy());
    idle.on('error', () => {});
    idle.write('GET /mqtt HTTP/1.1\r\nHost: x\r\n'); // the headers never end
    await new Promise((resolve) => idle.once('close', resolve));
    await log.waitFor(/on ws-slow closed: no handshake within 200 ms\./);
  });

  test('socketDomain ipv4 binds 0.0.0.0 only', async (t) => {
    const { broker } = brokerWithLog(t);
    const listener = await broker.openListener({ port: 0, socketDomain: 'ipv4' });
    assert.deepEqual([(listener.address as AddressInfo).address, (listener.address as AddressInfo).family], ['0.0.0.0', 'IPv4']);
  });

  test('several listeners on one broker share sessions and subscriptions', async (t) => {
    const { broker } = brokerWithLog(t);
    const tcp = await broker.openListener({ port: 0, host: '127.0.0.1' });
    const ws = await broker.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
    const sub = await mqttClient(t, `ws://127.0.0.1:${(ws.address as AddressInfo).port}`);
    await sub.subscribeAsync('shared/#', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
    const pub = await mqttClient(t, `mqtt://127.0.0.1:${(tcp.address as AddressInfo).port}`);
    await pub.publishAsync('shared/x', 'tcp to ws', { qos: 1 });
    assert.equal(await got, 'tcp to ws');
  });
});

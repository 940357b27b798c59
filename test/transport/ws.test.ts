/**
 * WebSocket and secure WebSocket listeners: MQTT.js over ws:// and wss://, and a raw `ws` client for the framing
 * rules (binary frames only, packets may span frames, one frame per write batch, subprotocol "mqtt").
 * Debian's mosquitto_pub/mosquitto_sub 2.0.11 have no WebSocket support (no --ws option), so they are not used here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { loadTlsFiles } from '../../src/transport/tls.ts';
import { createBroker } from '../../src/create-broker.ts';
import { connect as connectPacket, Framer, publish, raw, subscribe, type Parsed } from '../helpers/packets.ts';
import { openClient } from '../helpers/raw-client.ts';
import { generateCerts, type TestCerts } from './certs.ts';
import { brokerWithLog, connected, mqttClient, roundTrip, type Cleanup } from './helpers.ts';

let certs: TestCerts;
before(() => { certs = generateCerts(); });
after(() => certs.remove());

async function wsBroker(t: Cleanup, isSecure = false) {
  const { broker, log } = brokerWithLog(t);
  const tls = isSecure
    ? await loadTlsFiles({ certFile: certs.path('server.crt'), keyFile: certs.path('server.key') })
    : undefined;
  const listener = await broker.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets', tls });
  return { broker, log, port: (listener.address as AddressInfo).port };
}

/** A raw WebSocket client that records every frame and parses the MQTT packets in them. */
async function rawWs(t: Cleanup, port: number, protocols: string[] = ['mqtt']) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, protocols);
  t.after(() => ws.terminate());
  const frames: Buffer[] = [];
  const packets: Parsed[] = [];
  const framer = new Framer(4);
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    frames.push(data);
    packets.push(...framer.push(data));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waitForPackets = (count: number): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${packets.length} packets, wanted ${count}`)), 3000);
    const check = (): void => {
      if (packets.length >= count) {
        clearTimeout(timer);
        resolve();
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  return { ws, frames, packets, closed, waitForPackets };
}

describe('WebSocket listener', () => {
  test('MQTT.js connects over ws:// and round-trips a message', async (t) => {
    const { broker, port } = await wsBroker(t);
    const info = connected(broker, 'ws-1');
    const client = await mqttClient(t, `ws://127.0.0.1:${port}/mqtt`, { clientId: 'ws-1' });
    assert.deepEqual((await info).transport, { listener: `websockets 127.0.0.1:${port}`, isEncrypted: false, protocol: 'websockets' });
    await roundTrip(client, 'ws/a', 'over websocket');
  });

  test('MQTT.js (MQTT 5) connects over wss:// and round-trips a message', async (t) => {
    const { broker, port } = await wsBroker(t, true);
    const info = connected(broker, 'wss-1');
    const client = await mqttClient(t, `wss://127.0.0.1:${port}/mqtt`, {
      clientId: 'wss-1', ca: certs.read('ca.crt'), protocolVersion: 5,
    });
    assert.equal((await info).transport?.isEncrypted, true);
    await roundTrip(client, 'wss/a', 'over secure websocket');
  });

  test('the subprotocol "mqtt" is selected [MQTT-6.0.0-4]', async (t) => {
    const { port } = await wsBroker(t);
    const { ws } = await rawWs(t, port, ['foo', 'mqtt']);
    assert.equal(ws.protocol, 'mqtt');
  });

  test('a packet split over two frames is reassembled [MQTT-6.0.0-2]', async (t) => {
    const { port } = await wsBroker(t);
    const client = await rawWs(t, port);
    const bytes = connectPacket({ clientId: 'split' });
    client.ws.send(bytes.subarray(0, 5));
    client.ws.send(bytes.subarray(5));
    await client.waitForPackets(1);
    assert.equal(client.packets[0]!.type, 'connack');
  });

  test('everything written in one turn leaves as one binary frame (not a frame per packet)', async (t) => {
    const { broker, port } = await wsBroker(t);
    const client = await rawWs(t, port);
    client.ws.send(Buffer.concat([connectPacket({ clientId: 'batch' }), subscribe(1, [['burst/#', 0]])]));
    await client.waitForPackets(2); // CONNACK, SUBACK
    const framesBefore = client.frames.length;
    for (let i = 0; i < 50; i++) broker.publish(`burst/${i}`, `message ${i}`);
    await client.waitForPackets(52);
    assert.equal(client.frames.length - framesBefore, 1, 'one frame for 50 PUBLISH packets written in one turn');
    assert.ok(client.frames.every((f) => Buffer.isBuffer(f)));
  });

  test('a text frame closes the connection [MQTT-6.0.0-1]', async (t) => {
    const { port } = await wsBroker(t);
    const client = await rawWs(t, port);
    client.ws.send(connectPacket({ clientId: 'text' }).toString('latin1'), { binary: false });
    await client.closed;
    assert.equal(client.packets.length, 0);
  });

  test('packets before the close frame are all handled, though authentication still waits (3.1.4, [MQTT-3.1.2-10])', async (t) => {
    const broker = createBroker({
      sysIntervalSeconds: 0,
      authenticate: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return true;
      },
    });
    t.after(() => broker.close());
    const ws = await broker.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
    const tcp = await broker.listen({ port: 0, host: '127.0.0.1' });
    const watcher = await openClient(t, tcp.port, { clientId: 'ws-early-watch' });
    await watcher.subscribe([['early/#', 0], ['will/#', 0]]);
    const client = await rawWs(t, (ws.address as AddressInfo).port);
    client.ws.send(Buffer.concat([
      connectPacket({ clientId: 'ws-early', will: { topic: 'will/ws', payload: 'gone' } }),
      publish({ topic: 'early/ws', payload: 'sent before the close' }),
      raw(14, 0),
    ]));
    client.ws.close(1000);
    await client.closed;
    const [got] = await watcher.take(1);
    assert.equal(got?.type === 'publish' && got.topic, 'early/ws');
    await watcher.expectNothing(200);
  });

  test('a plain HTTP request gets 404 (no http_dir)', async (t) => {
    const { port } = await wsBroker(t);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 404);
  });
});

/**
 * The client against a scripted server that speaks raw bytes built by test/helpers/packets.ts (independent of our
 * codec): QoS 2 exactly-once on a resent PUBLISH, inbound Topic Aliases, and the DISCONNECT the client sends for a
 * server's protocol violation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { connect, type ClientOptions, type MqttClient, type ReceivedMessage } from '../../src/index.js';
import { Framer, publish, pubrel, raw, type Parsed } from '../helpers/packets.js';
import { nextEvent, until } from './helpers.js';
import type { Cleanup } from './targets.js';

interface Scripted {
  client: MqttClient;
  socket: Socket;
  received: Parsed[];
  delivered: ReceivedMessage[];
}

/** A server that answers CONNECT with `connack` and records what the client sends; then a connected client. */
async function scripted(t: Cleanup, version: 4 | 5, options: ClientOptions = {}): Promise<Scripted> {
  const received: Parsed[] = [];
  let socket: Socket | undefined;
  const server = createServer((s) => {
    socket = s;
    const framer = new Framer(version);
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      for (const p of framer.push(chunk)) {
        received.push(p);
        if (p.type === 'other' && p.packetType === 1) s.write(raw(2, 0, version === 5 ? [0, 0, 0] : [0, 0]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    socket?.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const client = await connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: version, reconnect: false, ...options });
  t.after(() => client.end({ force: true }));
  const delivered: ReceivedMessage[] = [];
  client.on('message', (m) => delivered.push(m));
  return { client, socket: socket!, received, delivered };
}

test('a QoS 2 PUBLISH resent with DUP before PUBREL is acknowledged again but delivered once', async (t) => {
  const s = await scripted(t, 4);
  s.socket.write(publish({ topic: 'q2', qos: 2, packetId: 7, payload: 'once' }));
  s.socket.write(publish({ topic: 'q2', qos: 2, packetId: 7, payload: 'once', dup: true }));
  await until(() => s.received.filter((p) => p.type === 'pubrec').length === 2, 3000, 'two PUBREC');
  s.socket.write(pubrel(7));
  await until(() => s.received.some((p) => p.type === 'pubcomp'), 3000, 'PUBCOMP');
  assert.deepEqual(s.received.filter((p) => p.type !== 'other').map((p) => [p.type, (p as { packetId: number }).packetId]),
    [['pubrec', 7], ['pubrec', 7], ['pubcomp', 7]]);
  assert.equal(s.delivered.length, 1);
  // After PUBREL the id is free: a new message with it is delivered.
  s.socket.write(publish({ topic: 'q2', qos: 2, packetId: 7, payload: 'again' }));
  await until(() => s.delivered.length === 2, 3000, 'second delivery');
});

/** MQTT 5 property bytes: Topic Alias (0x23) `n`. */
function alias(n: number): Buffer {
  return Buffer.from([0x23, 0, n]);
}

test('inbound Topic Aliases resolve up to our Topic Alias Maximum; a larger one is answered with DISCONNECT 0x94', async (t) => {
  const s = await scripted(t, 5, { properties: { topicAliasMaximum: 5 } });
  s.socket.write(publish({ topic: 'long/topic/name', payload: 'one', properties: alias(2) }));
  s.socket.write(publish({ topic: '', payload: 'two', properties: alias(2) }));
  await until(() => s.delivered.length === 2, 3000, 'two messages');
  assert.deepEqual(s.delivered.map((m) => [m.topic, m.payload.toString()]), [['long/topic/name', 'one'], ['long/topic/name', 'two']]);
  const closed = nextEvent(s.client, 'close');
  s.socket.write(publish({ topic: 'x', payload: 'bad', properties: alias(9) }));
  const [error] = await closed;
  assert.equal((error as { reasonCode?: number }).reasonCode, 0x94);
  await until(() => s.received.some((p) => p.type === 'disconnect'), 3000, 'DISCONNECT');
  assert.deepEqual(s.received.filter((p) => p.type === 'disconnect'), [{ type: 'disconnect', reasonCode: 0x94 }]);
});

test('a packet a server may not send (SUBSCRIBE) closes the connection as a Protocol Error', async (t) => {
  const s = await scripted(t, 4);
  const closed = nextEvent(s.client, 'close');
  s.socket.write(raw(8, 2, [0, 1, 0, 1, 0x61, 0]));
  const [error] = await closed;
  assert.equal((error as { code?: string }).code, 'MQTT_ERR_PROTOCOL');
  assert.equal((error as { reasonCode?: number }).reasonCode, 0x82);
});

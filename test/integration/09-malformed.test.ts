/**
 * Malformed packets and protocol violations (MQTT 3.1.1 sections 1.5.3, 2.2, 3.x, 4.7, 4.8): each closes the
 * offending connection [MQTT-4.8.0-1], and a client connected beforehand keeps being served.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient, openRaw, type Cleanup } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

interface Case {
  name: string;
  /** Bytes sent after a successful CONNECT, or instead of it when `isConnect`. */
  bytes: Buffer;
  isConnect?: boolean;
  /** Also accept a SUBACK whose only code is 0x80 instead of the close. */
  mayRefuseInSuback?: boolean;
}

/** A witness is subscribed before the bad client misbehaves; afterwards a new publisher reaches it. */
async function expectClosedAndBrokerServing(t: Cleanup, c: Case): Promise<void> {
  const { port } = await brokerFor(t);
  const witness = await openClient(t, port, { clientId: 'witness' });
  await witness.subscribe([['alive', 0]]);

  const bad = c.isConnect ? await openRaw(t, port) : await openClient(t, port, { clientId: 'offender' });
  bad.send(c.bytes);
  if (c.mayRefuseInSuback) {
    const answer = await bad.nextOf('suback').then(
      (s) => `suback ${s.codes.join(',')}`,
      () => (bad.isClosed ? 'closed' : 'neither'),
    );
    assert.ok(answer === 'closed' || answer === 'suback 128', `got ${answer}`);
  } else {
    await bad.expectClosed();
    if (c.isConnect) assert.deepEqual(bad.received, [], 'closed without CONNACK [MQTT-3.1.4-1]');
    else assert.ok(bad.received.every((p) => p.type === 'connack'), 'no answer to the bad packet');
  }

  const pub = await openClient(t, port, { clientId: 'bystander' });
  pub.send(P.publish({ topic: 'alive', payload: 'still serving' }));
  assert.equal((await witness.expect('publish')).payload.toString(), 'still serving');
}

const malformedUtf8 = Buffer.from([0x61, 0xc3, 0x28]); // 0xC3 must be followed by a continuation byte
const surrogate = Buffer.from([0x61, 0xed, 0xa0, 0x80]); // U+D800 encoded
const nul = Buffer.from([0x61, 0x00, 0x62]);

const cases: Case[] = [
  // Fixed header
  { name: 'reserved packet type 0 [MQTT-2.2.2-2]', bytes: P.raw(0, 0) },
  { name: 'AUTH (type 15) from a 3.1.1 client [MQTT-2.2.2-2]', bytes: P.raw(15, 0) },
  { name: 'PINGREQ with non-zero flags [MQTT-2.2.2-2]', bytes: P.raw(P.Type.Pingreq, 0x01) },
  { name: 'PUBACK with non-zero flags [MQTT-2.2.2-2]', bytes: P.raw(P.Type.Puback, 0x02, P.u16(1)) },
  { name: 'DISCONNECT with non-zero flags [MQTT-3.14.1-1]', bytes: P.raw(P.Type.Disconnect, 0x01) },
  { name: 'PUBREL with flags 0000 [MQTT-3.6.1-1]', bytes: P.raw(P.Type.Pubrel, 0x00, P.u16(1)) },
  { name: 'a Remaining Length of five bytes', bytes: Buffer.from([0xc0, 0xff, 0xff, 0xff, 0xff, 0x01]) },
  { name: 'a server-to-client packet (CONNACK) sent by the client', bytes: P.raw(P.Type.Connack, 0, [0, 0]) },
  { name: 'a server-to-client packet (SUBACK) sent by the client', bytes: P.raw(P.Type.Suback, 0, [0, 1, 0]) },
  // PUBLISH
  { name: 'PUBLISH with QoS 3 [MQTT-3.3.1-4]', bytes: P.publish({ topic: 'a', qos: 3, packetId: 1 }) },
  { name: 'PUBLISH with + in the topic [MQTT-3.3.2-2]', bytes: P.publish({ topic: 'a/+/b', payload: 'x' }) },
  { name: 'PUBLISH with # in the topic [MQTT-3.3.2-2]', bytes: P.publish({ topic: 'a/#', payload: 'x' }) },
  { name: 'PUBLISH with an empty topic [MQTT-4.7.3-1]', bytes: P.publish({ topic: '', payload: 'x' }) },
  { name: 'PUBLISH QoS 1 with packet id 0 [MQTT-2.3.1-1]', bytes: P.publish({ topic: 'a', qos: 1, packetId: 0 }) },
  { name: 'PUBLISH whose topic length runs past the packet', bytes: P.raw(P.Type.Publish, 0, [0, 50, 0x61]) },
  { name: 'PUBLISH topic with ill-formed UTF-8 [MQTT-1.5.3-1]', bytes: P.publish({ topic: malformedUtf8 }) },
  { name: 'PUBLISH topic with an encoded surrogate [MQTT-1.5.3-1]', bytes: P.publish({ topic: surrogate }) },
  { name: 'PUBLISH topic with U+0000 [MQTT-1.5.3-2]', bytes: P.publish({ topic: nul }) },
  // SUBSCRIBE / UNSUBSCRIBE
  { name: 'SUBSCRIBE with no topic filter [MQTT-3.8.3-3]', bytes: P.subscribe(1, []) },
  { name: 'SUBSCRIBE with flags 0000 [MQTT-3.8.1-1]', bytes: P.raw(P.Type.Subscribe, 0, [0, 1, 0, 1, 0x61, 0]) },
  { name: 'SUBSCRIBE requesting QoS 3 [MQTT-3.8.3-4]', bytes: P.subscribe(1, [['a', 3]]) },
  { name: 'SUBSCRIBE with reserved option bits set [MQTT-3.8.3-4]', bytes: P.subscribe(1, [['a', 0x04]]) },
  { name: 'SUBSCRIBE with packet id 0 [MQTT-2.3.1-1]', bytes: P.subscribe(0, [['a', 0]]) },
  { name: 'SUBSCRIBE filter with ill-formed UTF-8 [MQTT-1.5.3-1]', bytes: P.subscribe(1, [[malformedUtf8, 0]]) },
  { name: 'SUBSCRIBE with an empty filter [MQTT-4.7.3-1]', bytes: P.subscribe(1, [['', 0]]), mayRefuseInSuback: true },
  { name: 'SUBSCRIBE with # not last [MQTT-4.7.1-2]', bytes: P.subscribe(1, [['a/#/b', 0]]), mayRefuseInSuback: true },
  { name: 'SUBSCRIBE with + not a whole level [MQTT-4.7.1-3]', bytes: P.subscribe(1, [['a+/b', 0]]), mayRefuseInSuback: true },
  { name: 'UNSUBSCRIBE with no topic filter [MQTT-3.10.3-2]', bytes: P.unsubscribe(1, []) },
  { name: 'UNSUBSCRIBE with flags 0000 [MQTT-3.10.1-1]', bytes: P.raw(P.Type.Unsubscribe, 0, [0, 1, 0, 1, 0x61]) },
  // CONNECT
  { name: 'CONNECT with Will QoS 3 [MQTT-3.1.2-14]', isConnect: true, bytes: P.connect({ clientId: 'w3', flags: 0x02 | 0x04 | 0x18, will: { topic: 'w', payload: 'x' } }) },
  { name: 'CONNECT with Will Retain but no Will Flag [MQTT-3.1.2-15]', isConnect: true, bytes: P.connect({ clientId: 'wr', flags: 0x02 | 0x20 }) },
  { name: 'CONNECT with a password but no user name [MQTT-3.1.2-22]', isConnect: true, bytes: P.connect({ clientId: 'pw', flags: 0x02 | 0x40, password: 'secret' }) },
  { name: 'CONNECT with a client id of ill-formed UTF-8 [MQTT-1.5.3-1]', isConnect: true, bytes: P.connect({ clientId: malformedUtf8 }) },
  { name: 'CONNECT with a wildcard in the will topic [MQTT-3.3.2-2]', isConnect: true, bytes: P.connect({ clientId: 'ww', will: { topic: 'w/#', payload: 'x' } }) },
  { name: 'CONNECT whose payload runs past the packet', isConnect: true, bytes: P.raw(P.Type.Connect, 0, Buffer.concat([P.str('MQTT'), Buffer.from([4, 2, 0, 0]), P.u16(20), Buffer.from('ab')])) },
];

describe('09 malformed', () => {
  for (const c of cases) {
    test(`closes the connection on ${c.name}; others keep working`, (t) => expectClosedAndBrokerServing(t, c));
  }

  test('a packet split into single bytes is still understood (the broker reassembles)', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    const bytes = Buffer.concat([P.connect({ clientId: 'dribble' }), P.subscribe(1, [['d/#', 0]]), P.pingreq()]);
    for (const byte of bytes) c.send(Buffer.from([byte]));
    assert.equal((await c.expect('connack')).returnCode, 0);
    assert.deepEqual((await c.expect('suback')).codes, [0]);
    await c.expect('pingresp');
  });
});

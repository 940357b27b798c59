/**
 * A 3.1/3.1.1 PUBLISH is forwarded to 3.1/3.1.1 subscribers from the bytes as received (no re-encoding): the
 * recipient still gets its own QoS, packet identifier, DUP 0 and RETAIN 0 on live messages, and a message kept for
 * later (an offline session's queue) still arrives intact after the socket chunk it came in is gone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

describe('forwarding the bytes as received', () => {
  test('a QoS 2 PUBLISH sent with DUP and RETAIN reaches a QoS 1 subscriber as QoS 1, DUP 0, RETAIN 0, its own id [MQTT-3.3.1-3, MQTT-3.3.1-9]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'wire-sub' });
    await sub.subscribe([['wire/#', 1]]);
    const pub = await openClient(t, port, { clientId: 'wire-pub', protocolVersion: 3 });
    pub.send(P.publish({ topic: 'wire/a', payload: 'first', qos: 2, packetId: 77, dup: true, retain: true }));
    await pub.expect('pubrec');
    const got = await sub.expect('publish');
    assert.equal(got.topic, 'wire/a');
    assert.equal(got.qos, 1);
    assert.equal(got.dup, false);
    assert.equal(got.retain, false);
    assert.notEqual(got.packetId, undefined);
    assert.deepEqual(got.payload, Buffer.from('first'));
  });

  test('QoS 0 in one chunk with other packets: each subscriber gets exactly its PUBLISH, the next one intact', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'wire-sub0' });
    await sub.subscribe([['w0/#', 0]]);
    const pub = await openClient(t, port, { clientId: 'wire-pub0' });
    pub.send(Buffer.concat([
      P.publish({ topic: 'w0/a', payload: 'one' }), P.pingreq(), P.publish({ topic: 'w0/bb', payload: 'two!' }),
    ]));
    const [a, b] = await sub.take(2);
    assert.deepEqual(a, { type: 'publish', topic: 'w0/a', qos: 0, dup: false, retain: false, payload: Buffer.from('one') });
    assert.deepEqual(b, { type: 'publish', topic: 'w0/bb', qos: 0, dup: false, retain: false, payload: Buffer.from('two!') });
  });

  test('a QoS 1 message queued for an offline session arrives intact when it comes back', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'wire-offline', clean: false });
    await sub.subscribe([['wq/#', 1]]);
    sub.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const pub = await openClient(t, port, { clientId: 'wire-pubq' });
    const payload = Buffer.alloc(3000, 0x5a);
    pub.send(P.publish({ topic: 'wq/x', payload, qos: 1, packetId: 5 }));
    await pub.expect('puback');
    // Churn the publisher's socket with more data so the first chunk is long gone.
    for (let i = 0; i < 20; i++) pub.send(P.publish({ topic: 'other', payload: Buffer.alloc(5000, i) }));
    await pub.ping();
    const back = await openClient(t, port, { clientId: 'wire-offline', clean: false });
    const got = await back.expect('publish');
    assert.equal(got.topic, 'wq/x');
    assert.equal(got.qos, 1);
    assert.deepEqual(got.payload, payload);
  });
});

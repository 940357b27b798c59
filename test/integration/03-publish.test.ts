/**
 * PUBLISH and its QoS flows in both directions (MQTT 3.1.1 sections 3.3-3.7, 4.3, 4.6).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

describe('03 publish', () => {
  test('a QoS 0 message is delivered at QoS 0 with no packet id and DUP 0 [MQTT-3.3.1-2]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'q0-sub' });
    await sub.subscribe([['q0/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'q0-pub' });
    pub.send(P.publish({ topic: 'q0/t', payload: 'zero' }));
    assert.deepEqual(await sub.expect('publish'), {
      type: 'publish', topic: 'q0/t', qos: 0, dup: false, retain: false, payload: Buffer.from('zero'),
    });
    await pub.expectNothing(100);
  });

  test('a QoS 1 PUBLISH is acknowledged by a PUBACK with its packet id [MQTT-4.3.2-2]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'q1-pub' });
    pub.send(P.publish({ topic: 'q1/t', payload: 'one', qos: 1, packetId: 4711 }));
    assert.equal((await pub.expect('puback')).packetId, 4711);
  });

  test('a QoS 2 PUBLISH gets PUBREC, and its PUBREL gets PUBCOMP, with the same packet id [MQTT-4.3.3-2]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'q2-pub' });
    pub.send(P.publish({ topic: 'q2/t', payload: 'two', qos: 2, packetId: 3 }));
    assert.equal((await pub.expect('pubrec')).packetId, 3);
    pub.send(P.pubrel(3));
    assert.equal((await pub.expect('pubcomp')).packetId, 3);
  });

  test('the outbound QoS is the minimum of the published QoS and the granted QoS [MQTT-3.8.4-6]', async (t) => {
    const { port } = await brokerFor(t);
    const subs = [];
    for (const granted of [0, 1, 2] as const) {
      const c = await openClient(t, port, { clientId: `min-${granted}` });
      assert.deepEqual(await c.subscribe([['min/t', granted]]), [granted]);
      subs.push({ granted, c });
    }
    const pub = await openClient(t, port, { clientId: 'min-pub' });
    for (const published of [0, 1, 2] as const) {
      await pub.publish({ topic: 'min/t', payload: `q${published}`, qos: published });
      for (const { granted, c } of subs) {
        const p = await c.expect('publish');
        assert.equal(p.payload.toString(), `q${published}`);
        assert.equal(p.qos, Math.min(published, granted), `published at ${published}, granted ${granted}`);
        assert.equal(p.packetId === undefined, p.qos === 0, 'a packet id exactly when QoS > 0');
        await c.acknowledge(p);
      }
    }
  });

  test('the DUP flag of a forwarded message is set independently of the inbound one [MQTT-3.3.1-3]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'dup-sub' });
    await sub.subscribe([['dup/t', 1]]);
    const pub = await openClient(t, port, { clientId: 'dup-pub' });
    pub.send(P.publish({ topic: 'dup/t', payload: 'x', qos: 1, packetId: 1, dup: true }));
    await pub.expect('puback');
    const p = await sub.expect('publish');
    assert.equal(p.dup, false);
  });

  test('an inbound QoS 2 message resent with DUP before PUBREL is delivered only once [MQTT-4.3.3-2]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'eo-sub' });
    await sub.subscribe([['eo/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'eo-pub' });
    const first = P.publish({ topic: 'eo/t', payload: 'exactly once', qos: 2, packetId: 10 });
    const resend = P.publish({ topic: 'eo/t', payload: 'exactly once', qos: 2, packetId: 10, dup: true });
    pub.send(first);
    assert.equal((await pub.expect('pubrec')).packetId, 10);
    pub.send(resend);
    assert.equal((await pub.expect('pubrec')).packetId, 10, 'the resend is acknowledged again');
    pub.send(resend);
    assert.equal((await pub.expect('pubrec')).packetId, 10);
    pub.send(P.pubrel(10));
    assert.equal((await pub.expect('pubcomp')).packetId, 10);
    // A PUBREL resent (e.g. after a lost PUBCOMP) is answered again and delivers nothing.
    pub.send(P.pubrel(10));
    assert.equal((await pub.expect('pubcomp')).packetId, 10);

    const p = await sub.expect('publish');
    assert.equal(p.payload.toString(), 'exactly once');
    await sub.acknowledge(p);
    await sub.expectNothing(200);
  });

  test('after PUBCOMP, the same packet id starts a new QoS 2 message', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'reuse-sub' });
    await sub.subscribe([['reuse/t', 0]]);
    const pub = await openClient(t, port, { clientId: 'reuse-pub' });
    await pub.publish({ topic: 'reuse/t', payload: 'first', qos: 2, packetId: 5 });
    await pub.publish({ topic: 'reuse/t', payload: 'second', qos: 2, packetId: 5 });
    assert.equal((await sub.expect('publish')).payload.toString(), 'first');
    assert.equal((await sub.expect('publish')).payload.toString(), 'second');
  });

  test('outbound QoS 2: PUBLISH, PUBREC, PUBREL with flags 0010, PUBCOMP [MQTT-4.3.3-1, MQTT-3.6.1-1]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'out2-sub' });
    await sub.subscribe([['out2/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'out2-pub' });
    await pub.publish({ topic: 'out2/t', payload: 'flow', qos: 2 });
    const p = await sub.expect('publish');
    assert.equal(p.qos, 2);
    assert.ok(p.packetId !== undefined && p.packetId > 0, 'non-zero packet id [MQTT-2.3.1-1]');
    sub.send(P.pubrec(p.packetId));
    const rel = await sub.expect('pubrel');
    assert.equal(rel.packetId, p.packetId);
    assert.equal(rel.flags, 0x02);
    sub.send(P.pubcomp(p.packetId));
    await sub.expectNothing(150);
  });

  test('unacknowledged outbound messages have distinct non-zero packet ids [MQTT-2.3.1-1, MQTT-2.3.1-2]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'ids-sub' });
    await sub.subscribe([['ids/#', 2]]);
    const pub = await openClient(t, port, { clientId: 'ids-pub' });
    for (let i = 0; i < 10; i++) await pub.publish({ topic: `ids/${i}`, payload: String(i), qos: i % 2 === 0 ? 1 : 2 });
    const ids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const p = await sub.expect('publish');
      assert.ok(p.packetId !== undefined && p.packetId > 0);
      ids.add(p.packetId);
    }
    assert.equal(ids.size, 10, `packet ids ${[...ids].join(',')}`);
  });

  test('with maxInflight 2, only 2 QoS 1 messages are unacknowledged at a time; the rest follow in order [MQTT-4.6.0-6]', async (t) => {
    const { port } = await brokerFor(t, { maxInflight: 2 });
    const sub = await openClient(t, port, { clientId: 'window-sub' });
    await sub.subscribe([['win/t', 1]]);
    const pub = await openClient(t, port, { clientId: 'window-pub' });
    for (let i = 0; i < 5; i++) await pub.publish({ topic: 'win/t', payload: String(i), qos: 1 });
    const first = await sub.take(2);
    await sub.expectNothing(200);
    const inFlight = first.map((p) => p as P.Publish);
    const got = inFlight.map((p) => p.payload.toString());
    while (got.length < 5) {
      const oldest = inFlight.shift();
      assert.ok(oldest?.packetId !== undefined);
      sub.send(P.puback(oldest.packetId));
      const p = await sub.expect('publish');
      assert.ok(!inFlight.some((q) => q.packetId === p.packetId), 'packet id of a message still in flight reused');
      inFlight.push(p);
      got.push(p.payload.toString());
      if (got.length < 5) await sub.expectNothing(50);
    }
    assert.deepEqual(got, ['0', '1', '2', '3', '4']);
  });

  test('QoS 2 messages occupy the in-flight window until PUBCOMP', async (t) => {
    const { port } = await brokerFor(t, { maxInflight: 1 });
    const sub = await openClient(t, port, { clientId: 'window2-sub' });
    await sub.subscribe([['win2/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'window2-pub' });
    await pub.publish({ topic: 'win2/t', payload: 'a', qos: 2 });
    await pub.publish({ topic: 'win2/t', payload: 'b', qos: 2 });
    const a = await sub.expect('publish');
    assert.ok(a.packetId !== undefined);
    sub.send(P.pubrec(a.packetId));
    await sub.expect('pubrel');
    await sub.expectNothing(150);
    sub.send(P.pubcomp(a.packetId));
    assert.equal((await sub.expect('publish')).payload.toString(), 'b');
  });

  test('messages from one publisher on one topic arrive in order at QoS 0, 1 and 2 [MQTT-4.6.0-6]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'order-sub' });
    await sub.subscribe([['order/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'order-pub' });
    const count = 60;
    for (let i = 0; i < count; i++) {
      const qos = (i % 3) as P.Qos;
      pub.send(P.publish({ topic: 'order/t', payload: String(i), qos, ...(qos > 0 ? { packetId: i + 1 } : {}) }));
    }
    const got: string[] = [];
    while (got.length < count) {
      const p = await sub.expect('publish');
      got.push(p.payload.toString());
      await sub.acknowledge(p);
    }
    assert.deepEqual(got, Array.from({ length: count }, (_, i) => String(i)));
  });

  test('payloads of 0 bytes and of 200 KiB (3-byte Remaining Length) arrive intact', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'sizes-sub' });
    await sub.subscribe([['sizes/#', 1]]);
    const pub = await openClient(t, port, { clientId: 'sizes-pub' });
    const big = Buffer.alloc(200 * 1024, 0xab);
    big.write('start');
    await pub.publish({ topic: 'sizes/empty', payload: Buffer.alloc(0), qos: 1 });
    await pub.publish({ topic: 'sizes/big', payload: big, qos: 1 });
    const empty = await sub.expect('publish');
    assert.equal(empty.payload.length, 0);
    await sub.acknowledge(empty);
    const got = await sub.expect('publish');
    assert.ok(got.payload.equals(big));
  });

  test('a PUBLISH authorizePublish refuses is acknowledged (or the connection closed) but never forwarded [MQTT-3.3.5-2]', async (t) => {
    const { port } = await brokerFor(t, {
      authorizePublish: async (_client, { topic }) => !topic.startsWith('forbidden'),
    });
    const sub = await openClient(t, port, { clientId: 'authp-sub' });
    await sub.subscribe([['#', 1]]);
    const pub = await openClient(t, port, { clientId: 'authp-pub' });
    pub.send(P.publish({ topic: 'forbidden/x', payload: 'no', qos: 1, packetId: 2 }));
    const answer = await pub.nextOf('puback', (a) => a.packetId === 2).then(
      () => 'puback',
      (err: Error) => (pub.isClosed ? 'closed' : err.message),
    );
    assert.ok(answer === 'puback' || answer === 'closed', answer);
    const other = await openClient(t, port, { clientId: 'authp-other' });
    await other.publish({ topic: 'allowed/x', payload: 'yes', qos: 1 });
    const p = await sub.expect('publish');
    assert.equal(p.topic, 'allowed/x', 'the refused message was not forwarded');
  });

  test('the published event reports each message with its topic', async (t) => {
    const { broker, port } = await brokerFor(t);
    const seen: string[] = [];
    broker.on('published', (message: { topic: string }) => void seen.push(message.topic));
    const pub = await openClient(t, port, { clientId: 'evt-pub' });
    await pub.publish({ topic: 'evt/a', payload: '1', qos: 1 });
    await pub.publish({ topic: 'evt/b', payload: '2', qos: 2 });
    assert.deepEqual(seen.filter((topic) => topic.startsWith('evt/')), ['evt/a', 'evt/b']);
  });
});

/**
 * Session state across connections (MQTT 3.1.1 sections 3.1.2.4, 4.1, 4.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, waitForDisconnect, type Broker } from '../helpers/broker.js';
import { openClient, openRaw, type Cleanup, type RawClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

/** Ends a connection cleanly (DISCONNECT) and waits until the broker has closed it. */
async function disconnect(c: RawClient): Promise<void> {
  c.send(P.disconnect());
  await c.expectClosed();
}

/** Drops a connection abruptly and waits until the broker has noticed. */
async function drop(broker: Broker, c: RawClient, clientId: string): Promise<void> {
  const gone = waitForDisconnect(broker, clientId);
  c.destroy();
  await gone;
}

async function reconnect(t: Cleanup, port: number, clientId: string, clean = false): Promise<{ c: RawClient; sessionPresent: boolean }> {
  const c = await openRaw(t, port);
  const connack = await c.connect({ clientId, clean });
  assert.equal(connack.returnCode, 0);
  return { c, sessionPresent: connack.sessionPresent };
}

describe('05 session', () => {
  test('a persistent session keeps its subscriptions and queues QoS 1 and 2 messages while offline, delivered in order on reconnect [MQTT-3.1.2-4, MQTT-3.1.2-5]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'persist', clean: false });
    await first.subscribe([['ps/#', 2]]);
    await disconnect(first);

    const pub = await openClient(t, port, { clientId: 'persist-pub' });
    for (let i = 0; i < 6; i++) await pub.publish({ topic: `ps/${i}`, payload: String(i), qos: (1 + (i % 2)) as P.Qos });

    const { c, sessionPresent } = await reconnect(t, port, 'persist');
    assert.equal(sessionPresent, true);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await c.expect('publish');
      assert.equal(p.qos, 1 + (i % 2), `message ${i} keeps its QoS`);
      got.push(p.payload.toString());
      await c.acknowledge(p);
    }
    assert.deepEqual(got, ['0', '1', '2', '3', '4', '5']);
    // The subscription is still there for live messages, without subscribing again.
    await pub.publish({ topic: 'ps/live', payload: 'live', qos: 1 });
    assert.equal((await c.expect('publish')).payload.toString(), 'live');
  });

  test('an unacknowledged QoS 1 message is resent with DUP 1 and the same packet id on reconnect [MQTT-4.4.0-1, MQTT-3.3.1-1]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'redeliver1', clean: false });
    await first.subscribe([['rd1/t', 1]]);
    const pub = await openClient(t, port, { clientId: 'redeliver1-pub' });
    await pub.publish({ topic: 'rd1/t', payload: 'unacked', qos: 1 });
    const original = await first.expect('publish');
    assert.equal(original.dup, false);
    await drop(broker, first, 'redeliver1');

    const { c } = await reconnect(t, port, 'redeliver1');
    const again = await c.expect('publish');
    assert.equal(again.packetId, original.packetId);
    assert.equal(again.dup, true);
    assert.equal(again.payload.toString(), 'unacked');
    c.send(P.puback(again.packetId ?? 0));
    await c.expectNothing(200);
  });

  test('an unacknowledged QoS 2 PUBLISH is resent with DUP, then an unanswered PUBREL is resent as PUBREL [MQTT-4.4.0-1]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'redeliver2', clean: false });
    await first.subscribe([['rd2/t', 2]]);
    const pub = await openClient(t, port, { clientId: 'redeliver2-pub' });
    await pub.publish({ topic: 'rd2/t', payload: 'twice?', qos: 2 });
    const original = await first.expect('publish');
    const id = original.packetId ?? 0;
    await drop(broker, first, 'redeliver2');

    const second = await reconnect(t, port, 'redeliver2');
    const again = await second.c.expect('publish');
    assert.deepEqual([again.packetId, again.dup, again.qos], [id, true, 2]);
    second.c.send(P.pubrec(id));
    assert.equal((await second.c.expect('pubrel')).packetId, id);
    await drop(broker, second.c, 'redeliver2');

    const third = await reconnect(t, port, 'redeliver2');
    const rel = await third.c.expect('pubrel');
    assert.equal(rel.packetId, id, 'the PUBREL is resent, not the PUBLISH');
    third.c.send(P.pubcomp(id));
    await third.c.expectNothing(200);
  });

  test('inbound QoS 2 state survives a reconnect: the message is delivered once [MQTT-4.3.3-2, MQTT-4.4.0-1]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'in2-sub' });
    await sub.subscribe([['in2/t', 0]]);
    const pub = await openClient(t, port, { clientId: 'in2-pub', clean: false });
    pub.send(P.publish({ topic: 'in2/t', payload: 'once', qos: 2, packetId: 77 }));
    assert.equal((await pub.expect('pubrec')).packetId, 77);
    await drop(broker, pub, 'in2-pub');

    const { c } = await reconnect(t, port, 'in2-pub');
    c.send(P.publish({ topic: 'in2/t', payload: 'once', qos: 2, packetId: 77, dup: true }));
    assert.equal((await c.expect('pubrec')).packetId, 77);
    c.send(P.pubrel(77));
    assert.equal((await c.expect('pubcomp')).packetId, 77);
    assert.equal((await sub.expect('publish')).payload.toString(), 'once');
    await sub.expectNothing(200);
  });

  test('a clean session discards the stored session, and its own state does not outlive the connection [MQTT-3.1.2-6]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'cleaner', clean: false });
    await first.subscribe([['cl/t', 1]]);
    await disconnect(first);

    const pub = await openClient(t, port, { clientId: 'cleaner-pub' });
    await pub.publish({ topic: 'cl/t', payload: 'queued for the old session', qos: 1 });

    const clean = await reconnect(t, port, 'cleaner', true);
    assert.equal(clean.sessionPresent, false);
    await clean.c.expectNothing(150);
    await clean.c.subscribe([['cl/other', 1]]);
    await disconnect(clean.c);

    await pub.publish({ topic: 'cl/t', payload: 'nobody', qos: 1 });
    await pub.publish({ topic: 'cl/other', payload: 'nobody', qos: 1 });
    const persistent = await reconnect(t, port, 'cleaner', false);
    assert.equal(persistent.sessionPresent, false, 'the clean session was not stored');
    await persistent.c.expectNothing(150);
  });

  test('beyond maxQueuedMessages, messages for an offline session are dropped and the broker keeps serving', async (t) => {
    const { port } = await brokerFor(t, { maxQueuedMessages: 5 });
    const first = await openClient(t, port, { clientId: 'bounded', clean: false });
    await first.subscribe([['bq/t', 1]]);
    await disconnect(first);
    const pub = await openClient(t, port, { clientId: 'bounded-pub' });
    for (let i = 0; i < 20; i++) await pub.publish({ topic: 'bq/t', payload: String(i), qos: 1 });

    const { c } = await reconnect(t, port, 'bounded');
    const got: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await c.expect('publish');
      got.push(Number(p.payload.toString()));
      await c.acknowledge(p);
    }
    await c.expectNothing(200);
    assert.deepEqual(got.toSorted((a, b) => a - b), got, 'queued messages keep their order');
    await pub.publish({ topic: 'bq/t', payload: 'after', qos: 1 });
    assert.equal((await c.expect('publish')).payload.toString(), 'after');
  });

  test('maxQueuedBytes bounds the payload bytes queued for an offline session', async (t) => {
    const { port } = await brokerFor(t, { maxQueuedBytes: 100 });
    const first = await openClient(t, port, { clientId: 'bytes', clean: false });
    await first.subscribe([['bb/t', 1]]);
    await disconnect(first);
    const pub = await openClient(t, port, { clientId: 'bytes-pub' });
    for (let i = 0; i < 10; i++) await pub.publish({ topic: 'bb/t', payload: String(i).padEnd(30, '.'), qos: 1 });

    const { c } = await reconnect(t, port, 'bytes');
    let count = 0;
    for (;;) {
      const p = await c.expect('publish', 300).catch(() => undefined);
      if (!p) break;
      count++;
      await c.acknowledge(p);
    }
    assert.ok(count >= 1 && count <= 3, `${count} messages of 30 bytes were queued under a 100-byte limit`);
  });

  test('an MQTT 3.1 client resumes its persistent session; its CONNACK byte 1 stays 0 (reserved in 3.1)', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { protocolVersion: 3, clientId: 'persist31', clean: false });
    await first.subscribe([['p31/t', 1]]);
    await disconnect(first);
    const pub = await openClient(t, port, { clientId: 'persist31-pub' });
    await pub.publish({ topic: 'p31/t', payload: 'kept for 3.1', qos: 1 });
    const c = await openRaw(t, port);
    assert.deepEqual(await c.connect({ protocolVersion: 3, clientId: 'persist31', clean: false }), {
      type: 'connack',
      sessionPresent: false,
      returnCode: 0,
    });
    assert.equal((await c.expect('publish')).payload.toString(), 'kept for 3.1');
  });

  test('takeover with clean session 0 keeps queued in-flight messages for the new connection [MQTT-3.1.4-2, MQTT-4.4.0-1]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'handover', clean: false });
    await first.subscribe([['ho/t', 1]]);
    const pub = await openClient(t, port, { clientId: 'handover-pub' });
    await pub.publish({ topic: 'ho/t', payload: 'in flight', qos: 1 });
    const original = await first.expect('publish');

    const { c, sessionPresent } = await reconnect(t, port, 'handover');
    assert.equal(sessionPresent, true);
    await first.expectClosed();
    const again = await c.expect('publish');
    assert.deepEqual([again.packetId, again.dup, again.payload.toString()], [original.packetId, true, 'in flight']);
  });
});

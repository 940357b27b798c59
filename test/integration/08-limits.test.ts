/**
 * Configured limits: packet size, connections, topic size and depth, client id length, subscriptions, in-flight
 * window, queues, and the slow-consumer drain timeout. MQTT 3.1.1 has no way to refuse a single PUBLISH, so an
 * over-limit PUBLISH closes the connection, while an over-limit filter is refused in its SUBACK (0x80).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, waitForDisconnect } from '../helpers/broker.js';
import { openClient, openRaw } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

/**
 * A subscriber 'half' on flood/# that does not read (paused, keepalive 0) and a publisher 'flooder' to fill its
 * output with 256 KiB payloads.
 */
async function stalledSubscriber(t: TestContext, drainTimeoutMs: number) {
  const { broker, port } = await brokerFor(t, { drainTimeoutMs });
  const half = await openClient(t, port, { clientId: 'half', keepaliveSeconds: 0 });
  await half.subscribe([['flood/#', 0]]);
  half.pause();
  const pub = await openClient(t, port, { clientId: 'flooder' });
  return { broker, half, pub, chunk: Buffer.alloc(256 * 1024, 0x61) };
}

describe('08 limits', () => {
  test('maxPacketBytes: a larger PUBLISH closes the connection; a smaller one is accepted', async (t) => {
    const { port } = await brokerFor(t, { maxPacketBytes: 1000 });
    const ok = await openClient(t, port, { clientId: 'small' });
    await ok.publish({ topic: 'size', payload: Buffer.alloc(900), qos: 1 });
    const big = await openClient(t, port, { clientId: 'big' });
    big.send(P.publish({ topic: 'size', payload: Buffer.alloc(2000), qos: 1, packetId: 1 }));
    await big.expectClosed();
    assert.ok(!big.received.some((p) => p.type === 'puback'));
    await ok.ping();
  });

  test('maxPacketBytes: the connection is closed on the fixed header alone, without waiting for the body', async (t) => {
    const { port } = await brokerFor(t, { maxPacketBytes: 1000 });
    const c = await openClient(t, port, { clientId: 'liar' });
    c.send(P.rawWithLength(0x30, 5_000_000, P.str('size')));
    await c.expectClosed();
  });

  test('maxConnections: one more gets CONNACK 0x03 (server unavailable), then close; a freed slot can be reused', async (t) => {
    const { broker, port } = await brokerFor(t, { maxConnections: 2 });
    const a = await openClient(t, port, { clientId: 'conn-a' });
    await openClient(t, port, { clientId: 'conn-b' });
    const third = await openRaw(t, port);
    const connack = await third.connect({ clientId: 'conn-c' });
    assert.deepEqual(connack, { type: 'connack', sessionPresent: false, returnCode: 0x03 });
    await third.expectClosed();
    const gone = waitForDisconnect(broker, 'conn-a');
    a.destroy();
    await gone;
    await openClient(t, port, { clientId: 'conn-d' });
  });

  test('maxTopicBytes: a longer topic name closes the connection; a longer filter gets SUBACK 0x80', async (t) => {
    const { port } = await brokerFor(t, { maxTopicBytes: 10 });
    const sub = await openClient(t, port, { clientId: 'topic-sub' });
    assert.deepEqual(await sub.subscribe([['y'.repeat(11), 0], ['x'.repeat(10), 0]]), [0x80, 0]);
    const ok = await openClient(t, port, { clientId: 'topic-ok' });
    await ok.publish({ topic: 'x'.repeat(10), payload: 'fits', qos: 1 });
    assert.equal((await sub.expect('publish')).payload.toString(), 'fits');
    const bad = await openClient(t, port, { clientId: 'topic-bad' });
    bad.send(P.publish({ topic: 'x'.repeat(11), payload: 'too long', qos: 1, packetId: 1 }));
    await bad.expectClosed();
    await sub.expectNothing(100);
  });

  test('maxTopicLevels: a deeper topic name closes the connection; a deeper filter gets SUBACK 0x80', async (t) => {
    const { port } = await brokerFor(t, { maxTopicLevels: 3 });
    const sub = await openClient(t, port, { clientId: 'levels-sub' });
    assert.deepEqual(await sub.subscribe([['a/b/c/d', 0], ['a/b/#', 0], ['a/+/c', 0]]), [0x80, 0, 0]);
    const ok = await openClient(t, port, { clientId: 'levels-ok' });
    await ok.publish({ topic: 'a/b/c', payload: 'three', qos: 1 });
    assert.equal((await sub.expect('publish')).payload.toString(), 'three');
    const bad = await openClient(t, port, { clientId: 'levels-bad' });
    bad.send(P.publish({ topic: 'a/b/c/d', payload: 'four', qos: 1, packetId: 1 }));
    await bad.expectClosed();
  });

  test('maxClientIdBytes: a longer client id gets CONNACK 0x02 (identifier rejected), then close [MQTT-3.1.3-9]', async (t) => {
    const { port } = await brokerFor(t, { maxClientIdBytes: 8 });
    const long = await openRaw(t, port);
    assert.equal((await long.connect({ clientId: 'nine-char' })).returnCode, 0x02);
    await long.expectClosed();
    await openClient(t, port, { clientId: 'eight-ch' });
  });

  test('maxSubscriptionsPerClient: filters beyond the limit get 0x80; replacing or freeing one does not count', async (t) => {
    const { port } = await brokerFor(t, { maxSubscriptionsPerClient: 2 });
    const c = await openClient(t, port, { clientId: 'subs' });
    assert.deepEqual(await c.subscribe([['s/a', 0], ['s/b', 1], ['s/c', 0]]), [0, 1, 0x80]);
    assert.deepEqual(await c.subscribe([['s/a', 1]]), [1], 'replacing an existing filter is not a new subscription');
    await c.unsubscribe(['s/a']);
    assert.deepEqual(await c.subscribe([['s/c', 0]]), [0]);
  });

  test('maxInflight and maxQueuedMessages bound what waits for a subscriber that does not acknowledge', async (t) => {
    const { port } = await brokerFor(t, { maxInflight: 1, maxQueuedMessages: 3 });
    const sub = await openClient(t, port, { clientId: 'behind' });
    await sub.subscribe([['behind/t', 1]]);
    const pub = await openClient(t, port, { clientId: 'behind-pub' });
    for (let i = 0; i < 10; i++) await pub.publish({ topic: 'behind/t', payload: String(i), qos: 1 });
    const got: string[] = [];
    let p = await sub.expect('publish');
    await sub.expectNothing(150);
    for (;;) {
      got.push(p.payload.toString());
      await sub.acknowledge(p);
      const nextP = await sub.expect('publish', 300).catch(() => undefined);
      if (!nextP) break;
      p = nextP;
    }
    assert.equal(got.length, 4, `1 in flight + 3 queued, got ${got.join(',')}`);
    assert.equal(got[0], '0');
    await pub.publish({ topic: 'behind/t', payload: 'fresh', qos: 1 });
    assert.equal((await sub.expect('publish')).payload.toString(), 'fresh');
  });

  test('a slow consumer does not stall others and is disconnected after drainTimeoutMs', async (t) => {
    const { broker, port } = await brokerFor(t, { drainTimeoutMs: 300 });
    const slow = await openClient(t, port, { clientId: 'slow' });
    await slow.subscribe([['flood/#', 0]]);
    slow.pause();
    const fast = await openClient(t, port, { clientId: 'fast' });
    await fast.subscribe([['tick', 0]]);
    const pub = await openClient(t, port, { clientId: 'flooder' });

    const slowState = { isGone: false, reason: '' };
    const slowGone = waitForDisconnect(broker, 'slow', 15_000).then((args) => {
      slowState.isGone = true;
      slowState.reason = String(args[1]);
    });
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    let sentBytes = 0;
    for (let i = 0; !slowState.isGone; i++) {
      assert.ok(sentBytes < 256 * 1024 * 1024, `slow consumer still connected after ${sentBytes} bytes`);
      await pub.publish({ topic: 'flood/x', payload: chunk, qos: 1 });
      sentBytes += chunk.length;
      if (i % 8 === 0) {
        await pub.publish({ topic: 'tick', payload: String(i), qos: 1 });
        assert.equal((await fast.expect('publish')).payload.toString(), String(i));
      }
    }
    await slowGone;
    assert.match(slowState.reason, /slow|drain/i, 'disconnected as a slow consumer');
    await pub.publish({ topic: 'tick', payload: 'after', qos: 1 });
    assert.equal((await fast.expect('publish')).payload.toString(), 'after');
  });

  test('a peer that ends its side while its output is backed up, and never reads, is closed after drainTimeoutMs', async (t) => {
    const { broker, half, pub, chunk } = await stalledSubscriber(t, 2000);
    const events: string[] = [];
    const gone = waitForDisconnect(broker, 'half', 8000).then((args) => events.push(`closed ${String(args[1])}`));
    // 16 MiB to a client that reads nothing: the kernel's buffers fill and the rest waits in the broker.
    for (let i = 0; i < 64 && events.length === 0; i++) await pub.publish({ topic: 'flood/x', payload: chunk, qos: 1 });
    assert.equal(events.length, 0, 'still connected while it only does not read');
    // Its FIN: the broker ends its own side, but the backed-up output never leaves. Keepalive 0: no other timer
    // would close it.
    half.socket.end();
    events.push('ended');
    await gone;
    assert.deepEqual(events, ['ended', 'closed slowConsumer']);
    assert.equal(broker.stats.slowConsumersDisconnected, 1);
    await pub.ping();
  });

  test('a peer that ends its side while its output is backed up, and then reads slowly, gets all of it', async (t) => {
    const { broker, half, pub, chunk } = await stalledSubscriber(t, 800);
    const count = 48;
    for (let i = 0; i < count; i++) await pub.publish({ topic: 'flood/x', payload: chunk, qos: 1 });
    const gone = waitForDisconnect(broker, 'half', 20_000);
    half.socket.end();
    // Reads in short bursts, 300 ms apart: never 800 ms without taking something, but far slower than it could.
    let isDone = false;
    const reader = setInterval(() => {
      half.resume();
      setTimeout(() => {
        if (!isDone) half.pause();
      }, 5);
    }, 300);
    t.after(() => clearInterval(reader));
    const [, reason] = await gone;
    isDone = true;
    clearInterval(reader);
    half.resume();
    await half.expectClosed();
    assert.equal(reason, 'socketClosed', 'it ended when its output had left, not as a slow consumer');
    assert.equal(broker.stats.slowConsumersDisconnected, 0);
    assert.equal(half.received.filter((p) => p.type === 'publish').length, count, 'every message arrived');
  });
});

/**
 * Backpressure: a subscriber whose socket is backed up pauses the reading of the connections publishing to it, so
 * a flat-out QoS 0 publisher is slowed down by TCP instead of having its messages dropped; a subscriber that stays
 * stuck holds them for at most `publisherHoldMs`, so it cannot stall the others for long.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

const COUNT = 2000;
const PAYLOAD = Buffer.alloc(4096, 0x61);

/** COUNT QoS 0 PUBLISH packets of 4 KiB (8 MiB in all), as one buffer. */
function flood(topic: string): Buffer {
  const one = P.publish({ topic, payload: PAYLOAD });
  return Buffer.concat(Array.from({ length: COUNT }, () => one));
}

describe('backpressure', () => {
  test('a paused subscriber holds its publisher instead of losing QoS 0 messages; all arrive once it reads', async (t) => {
    const { broker, port } = await brokerFor(t, { publisherHoldMs: 10_000, maxWriteBufferBytes: 1024 * 1024 });
    const sub = await openClient(t, port, { clientId: 'bp-slow' });
    await sub.subscribe([['bp/#', 0]]);
    sub.pause();
    const pub = await openClient(t, port, { clientId: 'bp-pub' });
    pub.send(flood('bp/a'));
    const deadline = Date.now() + 5000;
    while (broker.stats.publishersHeld === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(broker.stats.publishersHeld > 0, 'the publisher was held');
    sub.resume();
    const got = await sub.take(COUNT, 10_000);
    assert.equal(got.length, COUNT);
    assert.equal(broker.stats.publishDropped, 0, 'nothing dropped past maxWriteBufferBytes');
    await pub.ping();
  });

  test('a held publisher that sends DISCONNECT and closes still has every message delivered and no will', async (t) => {
    const { broker, port } = await brokerFor(t, { publisherHoldMs: 10_000, maxWriteBufferBytes: 1024 * 1024 });
    const sub = await openClient(t, port, { clientId: 'bp-slow-fin' });
    await sub.subscribe([['bp/#', 0]]);
    const watcher = await openClient(t, port, { clientId: 'bp-will-watch' });
    await watcher.subscribe([['will/#', 0]]);
    sub.pause();
    const pub = await openClient(t, port, { clientId: 'bp-pub-fin', will: { topic: 'will/bp', payload: 'gone' } });
    // Like `mosquitto_pub`: the messages, DISCONNECT, and the socket ended at once.
    pub.send(flood('bp/fin'), P.raw(14, 0));
    pub.socket.end();
    const deadline = Date.now() + 5000;
    while (broker.stats.publishersHeld === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(broker.stats.publishersHeld > 0, 'the publisher was held');
    await new Promise((r) => setTimeout(r, 200));
    sub.resume();
    const got = await sub.take(COUNT, 10_000);
    assert.equal(got.length, COUNT);
    await pub.expectClosed(5000);
    await watcher.expectNothing(300);
  });

  test('a stuck subscriber holds publishers at most publisherHoldMs: another subscriber still gets everything', async (t) => {
    const { broker, port } = await brokerFor(t, { publisherHoldMs: 100, maxWriteBufferBytes: 1024 * 1024 });
    const stuck = await openClient(t, port, { clientId: 'bp-stuck' });
    await stuck.subscribe([['bp/#', 0]]);
    stuck.pause();
    const fast = await openClient(t, port, { clientId: 'bp-fast' });
    await fast.subscribe([['bp/#', 0]]);
    const pub = await openClient(t, port, { clientId: 'bp-pub2' });
    pub.send(flood('bp/b'));
    const got = await fast.take(COUNT, 10_000);
    assert.equal(got.length, COUNT);
    assert.ok(broker.stats.holdTimeouts > 0, 'the stuck subscriber let its publisher go');
    assert.ok(broker.stats.publishDropped > 0, 'QoS 0 past maxWriteBufferBytes is dropped for the stuck one only');
  });

  test('a client is never held by its own backed-up subscription', async (t) => {
    const { broker, port } = await brokerFor(t, { publisherHoldMs: 10_000 });
    const self = await openClient(t, port, { clientId: 'bp-self' });
    await self.subscribe([['bp/self', 0]]);
    self.pause();
    self.send(flood('bp/self'));
    await new Promise((r) => setTimeout(r, 300));
    self.resume();
    const got = await self.take(COUNT, 10_000);
    assert.equal(got.length, COUNT);
    assert.equal(broker.stats.publishersHeld, 0);
  });

  test('publisherHoldMs 0 turns backpressure off', async (t) => {
    const { broker, port } = await brokerFor(t, { publisherHoldMs: 0, maxWriteBufferBytes: 1024 * 1024 });
    const sub = await openClient(t, port, { clientId: 'bp-off' });
    await sub.subscribe([['bp/#', 0]]);
    sub.pause();
    const pub = await openClient(t, port, { clientId: 'bp-pub3' });
    pub.send(flood('bp/c'));
    const deadline = Date.now() + 5000;
    while (broker.stats.publishDropped === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(broker.stats.publishDropped > 0);
    assert.equal(broker.stats.publishersHeld, 0);
  });
});

/**
 * A broker restart over a store: a broker is closed and a second one starts over the same store — the same
 * MemoryPersistence instance, or a new LmdbPersistence over the same directory (durability sync, so every
 * acknowledgement also waits for the disk). Persistent sessions (with their queued, in-flight and inbound QoS 2
 * state) and retained messages must survive; clean sessions must not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryPersistence, type Persistence } from '../../src/index.js';
import { LmdbPersistence } from '../../src/persistence/lmdb/lmdb-persistence.js';
import { startBroker, type StartedBroker } from '../helpers/broker.js';
import { openClient, openRaw, type Cleanup, type RawClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';
import { prop } from '../helpers/v5-routing.js';

/** A store that survives restarts: `next()` is the instance for the next broker. */
interface RestartableStore {
  next(): Persistence;
}

const kinds: [string, (t: Cleanup) => RestartableStore][] = [
  ['memory', () => {
    const store = new MemoryPersistence();
    return { next: () => store };
  }],
  ['lmdb', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'culex-restart-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    return { next: () => new LmdbPersistence({ directory, isVerifiedBeforeOpen: false }) };
  }],
];

/** Starts a broker over the store, closed after the test (closing twice is harmless). */
async function brokerOver(t: Cleanup, store: RestartableStore): Promise<StartedBroker> {
  const started = await startBroker({ persistence: store.next() });
  t.after(() => started.close());
  return started;
}

/** Ends a connection cleanly (DISCONNECT) and waits until the broker has closed it. */
async function disconnect(c: RawClient): Promise<void> {
  c.send(P.disconnect());
  await c.expectClosed();
}

/** Closes the first broker (its clients must see their connections closed) and starts a second one on the store. */
async function restart(
  t: Cleanup, first: StartedBroker, persistence: RestartableStore, clients: readonly RawClient[] = [],
): Promise<StartedBroker> {
  await first.close();
  for (const c of clients) await c.expectClosed();
  return brokerOver(t, persistence);
}

async function reconnect(t: Cleanup, port: number, clientId: string, clean = false): Promise<{ c: RawClient; sessionPresent: boolean }> {
  const c = await openRaw(t, port);
  const connack = await c.connect({ clientId, clean });
  assert.equal(connack.returnCode, 0, `CONNACK return code for ${clientId}`);
  return { c, sessionPresent: connack.sessionPresent };
}

for (const [kind, createStore] of kinds) describe(`13 store restart (${kind})`, () => {
  test('a persistent session subscribed at QoS 1 gets the messages queued while offline after a broker restart, in order', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const sub = await openClient(t, first.port, { clientId: 'sr-sub', clean: false });
    assert.deepEqual(await sub.subscribe([['sr/#', 1]]), [1]);
    await disconnect(sub);

    const pub = await openClient(t, first.port, { clientId: 'sr-pub' });
    for (let i = 0; i < 5; i++) await pub.publish({ topic: `sr/${i}`, payload: `queued ${i}`, qos: 1 });
    // A QoS 2 publication to the QoS 1 subscription is queued at QoS 1.
    await pub.publish({ topic: 'sr/5', payload: 'queued 5', qos: 2 });

    const second = await restart(t, first, persistence, [pub]);
    assert.notEqual(second.broker, first.broker);
    const { c, sessionPresent } = await reconnect(t, second.port, 'sr-sub');
    assert.equal(sessionPresent, true, 'CONNACK session present = 1 after the restart');
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await c.expect('publish');
      assert.equal(p.qos, 1, `message ${i} at the subscription's QoS`);
      assert.equal(p.topic, `sr/${i}`);
      assert.equal(p.retain, false);
      got.push(p.payload.toString());
      await c.acknowledge(p);
    }
    assert.deepEqual(got, ['queued 0', 'queued 1', 'queued 2', 'queued 3', 'queued 4', 'queued 5']);

    // The restored subscription is live: no need to subscribe again.
    const pub2 = await openClient(t, second.port, { clientId: 'sr-pub' });
    await pub2.publish({ topic: 'sr/live', payload: 'live', qos: 1 });
    const live = await c.expect('publish');
    assert.equal(live.payload.toString(), 'live');
    await c.acknowledge(live);

    // Acknowledged messages are gone for good: a third broker delivers nothing old.
    await disconnect(c);
    const third = await restart(t, second, persistence, [pub2]);
    const again = await reconnect(t, third.port, 'sr-sub');
    assert.equal(again.sessionPresent, true);
    await again.c.expectNothing(200);
  });

  test('retained messages survive a restart; a cleared retained message stays cleared', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const pub = await openClient(t, first.port, { clientId: 'rt-pub' });
    const binary = Buffer.from([0x00, 0xFF, 0x10, 0x80, 0x00]);
    await pub.publish({ topic: 'rt/a', payload: 'a1', qos: 1, retain: true });
    await pub.publish({ topic: 'rt/a', payload: 'a2', qos: 1, retain: true });
    await pub.publish({ topic: 'rt/b', payload: binary, qos: 2, retain: true });
    await pub.publish({ topic: 'rt/c', payload: 'c', qos: 0, retain: true });
    await pub.publish({ topic: 'rt/gone', payload: 'g', qos: 1, retain: true });
    await pub.publish({ topic: 'rt/gone', payload: '', qos: 1, retain: true });
    // A QoS 0 publication has no acknowledgement; a round trip makes sure the broker has it before closing.
    await pub.ping();

    const second = await restart(t, first, persistence, [pub]);
    const sub = await openClient(t, second.port, { clientId: 'rt-sub' });
    assert.deepEqual(await sub.subscribe([['rt/#', 2]]), [2]);
    const got = new Map<string, P.Publish>();
    for (let i = 0; i < 3; i++) {
      const p = await sub.nextOf('publish');
      got.set(p.topic, p);
      await sub.acknowledge(p);
    }
    assert.deepEqual([...got.keys()].toSorted(), ['rt/a', 'rt/b', 'rt/c']);
    assert.equal(got.get('rt/a')?.payload.toString(), 'a2');
    assert.ok(got.get('rt/b')?.payload.equals(binary), 'binary retained payload byte-exact');
    for (const p of got.values()) assert.equal(p.retain, true, `${p.topic} has RETAIN 1`);
    assert.equal(got.get('rt/a')?.qos, 1);
    assert.equal(got.get('rt/b')?.qos, 2);
    assert.equal(got.get('rt/c')?.qos, 0);
    await sub.expectNothing(200);
  });

  test('a retained message whose Message Expiry Interval passed while the broker was down is dropped from the store [MQTT-3.3.2-5]', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const pub = await openClient(t, first.port, { clientId: 'rx-pub', protocolVersion: 5 });
    await pub.publish({ topic: 'rx/short', payload: 's', qos: 1, retain: true, properties: prop.messageExpiryInterval(2) });
    await pub.publish({ topic: 'rx/long', payload: 'l', qos: 1, retain: true, properties: prop.messageExpiryInterval(60) });
    const second = await restart(t, first, persistence, [pub]);
    assert.equal(second.broker.retained.get('rx/short')?.topic, 'rx/short', 'not yet expired at the restart');
    t.mock.timers.tick(3_000);
    const third = await restart(t, second, persistence);
    assert.equal(third.broker.retained.get('rx/short'), undefined);
    assert.equal(third.broker.retained.get('rx/long')?.topic, 'rx/long');
    await third.close();
    const state = await persistence.next().open();
    assert.deepEqual(state.retained.map((m) => m.topic), ['rx/long'], 'the store no longer holds it');
  });

  test('an unacknowledged QoS 1 message is resent with DUP 1 and the same packet id after a restart', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const sub = await openClient(t, first.port, { clientId: 'if-sub', clean: false });
    await sub.subscribe([['if/t', 1]]);
    const pub = await openClient(t, first.port, { clientId: 'if-pub' });
    await pub.publish({ topic: 'if/t', payload: 'in flight', qos: 1 });
    const original = await sub.expect('publish');
    assert.equal(original.dup, false);
    // No PUBACK: the broker restarts with the message in flight.

    const second = await restart(t, first, persistence, [sub, pub]);
    const { c, sessionPresent } = await reconnect(t, second.port, 'if-sub');
    assert.equal(sessionPresent, true);
    const resent = await c.expect('publish');
    assert.equal(resent.dup, true, 'resent with DUP 1 [MQTT-4.4.0-1]');
    assert.equal(resent.packetId, original.packetId, 'same packet identifier');
    assert.equal(resent.payload.toString(), 'in flight');
    await c.acknowledge(resent);
    await c.expectNothing(200);
  });

  test('an inbound QoS 2 PUBLISH awaiting PUBREL is completed after a restart and delivered once', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const sub = await openClient(t, first.port, { clientId: 'q2-sub', clean: false });
    await sub.subscribe([['q2/t', 2]]);
    const pub = await openClient(t, first.port, { clientId: 'q2-pub', clean: false });
    pub.send(P.publish({ topic: 'q2/t', payload: 'exactly once', qos: 2, packetId: 77 }));
    assert.equal((await pub.nextOf('pubrec')).packetId, 77);
    const delivered = await sub.expect('publish');
    assert.equal(delivered.payload.toString(), 'exactly once');
    await sub.acknowledge(delivered);
    // PINGRESP comes after the broker has handled the PUBCOMP before it.
    await sub.ping();

    const second = await restart(t, first, persistence, [sub, pub]);
    const publisher = await reconnect(t, second.port, 'q2-pub');
    assert.equal(publisher.sessionPresent, true);
    const subscriber = await reconnect(t, second.port, 'q2-sub');
    assert.equal(subscriber.sessionPresent, true);
    // The publisher did not see PUBCOMP; it may resend the PUBLISH with DUP 1, which must not be delivered again.
    publisher.c.send(P.publish({ topic: 'q2/t', payload: 'exactly once', qos: 2, packetId: 77, dup: true }));
    assert.equal((await publisher.c.nextOf('pubrec')).packetId, 77);
    publisher.c.send(P.pubrel(77));
    assert.equal((await publisher.c.nextOf('pubcomp')).packetId, 77);
    await subscriber.c.expectNothing(200);
  });

  test('a clean session is not restored after a restart', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    const c1 = await openClient(t, first.port, { clientId: 'cs-client', clean: true });
    await c1.subscribe([['cs/#', 1]]);
    const second = await restart(t, first, persistence, [c1]);
    const { c, sessionPresent } = await reconnect(t, second.port, 'cs-client');
    assert.equal(sessionPresent, false, 'no session present for a clean session');
    const pub = await openClient(t, second.port, { clientId: 'cs-pub' });
    await pub.publish({ topic: 'cs/x', payload: 'x', qos: 1 });
    await c.expectNothing(200);
  });

  test('a message a shared group queued for a member still moves to another member after a restart, when its member leaves', async (t) => {
    const persistence = createStore(t);
    const first = await brokerOver(t, persistence);
    for (const clientId of ['sh-a', 'sh-b']) {
      const c = await openClient(t, first.port, { clientId, clean: false });
      assert.deepEqual(await c.subscribe([['$share/g/sh', 1]]), [1]);
      await disconnect(c);
    }
    const pub = await openClient(t, first.port, { clientId: 'sh-pub' });
    // Nobody is connected: round robin queues m1 for sh-a, m2 for sh-b.
    await pub.publish({ topic: 'sh', payload: 'm1', qos: 1 });
    await pub.publish({ topic: 'sh', payload: 'm2', qos: 1 });
    const second = await restart(t, first, persistence, [pub]);
    const { c: b } = await reconnect(t, second.port, 'sh-b');
    assert.equal((await b.nextOf('publish')).payload.toString(), 'm2');
    // sh-a comes back with a clean session: its old session ends, and its queued m1 goes to sh-b.
    await reconnect(t, second.port, 'sh-a', true);
    assert.equal((await b.nextOf('publish')).payload.toString(), 'm1');
  });
});

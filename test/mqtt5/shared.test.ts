/**
 * Shared subscriptions (MQTT 5 section 4.8.2) over real sockets: raw packets and MQTT.js.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { brokerFor, waitForDisconnect } from '../helpers/broker.js';
import { subscribe } from '../helpers/packets.js';
import { openClient, type RawClient } from '../helpers/raw-client.js';
import { openMqttJs, prop, propertyValues, PropertyId } from '../helpers/v5-routing.js';

const V5 = { protocolVersion: 5 } as const;

async function publishQos1(c: RawClient, topic: string, payloads: string[]): Promise<void> {
  for (const payload of payloads) await c.publish({ topic, payload, qos: 1, properties: Buffer.alloc(0) });
}

/** The payloads of the next `n` PUBLISH packets, each acknowledged. */
async function got(c: RawClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = await c.nextOf('publish');
    out.push(p.payload.toString());
    await c.acknowledge(p);
  }
  return out;
}

describe('MQTT 5 shared subscriptions', () => {
  test('CONNACK says Shared Subscription Available = 1 and Subscription Identifiers Available = 1 [MQTT-3.2.2-15]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    const connack = c.received[0]!;
    assert.equal(connack.type, 'connack');
    const bytes = connack.type === 'connack' ? connack.properties : undefined;
    assert.deepEqual(propertyValues(bytes, PropertyId.SharedSubscriptionAvailable), [1]);
    assert.deepEqual(propertyValues(bytes, PropertyId.SubscriptionIdentifiersAvailable), [1]);
  });

  test('each message goes to one member of each group, round robin; a 3.1.1 client can be a member [MQTT-4.8.2-3]', async (t) => {
    const { port } = await brokerFor(t);
    const a = await openClient(t, port, { ...V5, clientId: 'a' });
    const b = await openClient(t, port, { protocolVersion: 4, clientId: 'b' });
    const other = await openClient(t, port, { ...V5, clientId: 'other' });
    const plain = await openClient(t, port, { ...V5, clientId: 'plain' });
    assert.deepEqual(await a.subscribe([['$share/g/s/+', 1]]), [1]);
    assert.deepEqual(await b.subscribe([['$share/g/s/+', 1]]), [1]);
    assert.deepEqual(await other.subscribe([['$share/h/s/#', 0]]), [0]);
    assert.deepEqual(await plain.subscribe([['s/+', 1]]), [1]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await publishQos1(pub, 's/x', ['1', '2', '3', '4']);
    assert.deepEqual(await got(a, 2), ['1', '3']);
    assert.deepEqual(await got(b, 2), ['2', '4']);
    assert.deepEqual(await got(other, 4), ['1', '2', '3', '4'], 'a second group gets its own copy of each');
    assert.deepEqual(await got(plain, 4), ['1', '2', '3', '4'], 'a non-shared subscription is not affected');
    await a.expectNothing(100);
    await b.expectNothing(0);
  });

  for (const filter of ['$share//a', '$share/g', '$share/g+/a', '$share/#/a', '$share/g/']) {
    test(`invalid share name ${filter}: a malformed filter, DISCONNECT 0x81 (3.1.1: closed) [MQTT-4.8.2-1] [MQTT-4.8.2-2]`, async (t) => {
      const { port } = await brokerFor(t);
      const c5 = await openClient(t, port, { ...V5, clientId: 'c5' });
      c5.send(subscribe(1, [[filter, 0]], Buffer.alloc(0)));
      assert.equal((await c5.expect('disconnect')).reasonCode, 0x81);
      await c5.expectClosed();
      const c4 = await openClient(t, port, { clientId: 'c4' });
      c4.send(subscribe(1, [[filter, 0]]));
      await c4.expectClosed();
      assert.equal(c4.received.length, 1, 'nothing but the CONNACK');
    });
  }

  test('No Local on a shared subscription is a Protocol Error: DISCONNECT 0x82 [MQTT-3.8.3-4]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['$share/g/a', 0x04 | 1]], Buffer.alloc(0)));
    const d = await c.expect('disconnect');
    assert.equal(d.reasonCode, 0x82);
    await c.expectClosed();
  });

  test('retained messages are not sent for a new shared subscription (MQTT 5 section 3.3.1.3)', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'r/1', payload: 'kept', qos: 1, retain: true, properties: Buffer.alloc(0) });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    assert.deepEqual(await c.subscribe([['$share/g/r/#', 1]]), [1]);
    await c.expectNothing(150);
    assert.deepEqual(await c.subscribe([['r/#', 1]]), [1]);
    const p = await c.nextOf('publish');
    assert.equal(p.payload.toString(), 'kept');
    assert.equal(p.retain, true);
  });

  test('a member that disconnects with an unacknowledged QoS 1 message: it goes to another member (MQTT 5 section 4.8.2)', async (t) => {
    const { port, broker } = await brokerFor(t);
    const a = await openClient(t, port, { ...V5, clientId: 'a' });
    const b = await openClient(t, port, { ...V5, clientId: 'b' });
    await a.subscribe([['$share/g/q', 1]]);
    await b.subscribe([['$share/g/q', 1]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await publishQos1(pub, 'q', ['m1']);
    const first = await a.nextOf('publish');
    assert.equal(first.payload.toString(), 'm1');
    const gone = waitForDisconnect(broker, 'a');
    a.destroy();
    await gone;
    const moved = await b.nextOf('publish');
    assert.equal(moved.payload.toString(), 'm1');
    assert.equal(moved.qos, 1);
  });

  test('a member that unsubscribes: its queued messages go to another member', async (t) => {
    const { port } = await brokerFor(t);
    // Receive Maximum 1: a's second message waits in its queue behind the unacknowledged first.
    const a = await openClient(t, port, { ...V5, clientId: 'a', properties: prop.receiveMaximum(1) });
    const b = await openClient(t, port, { ...V5, clientId: 'b' });
    await a.subscribe([['$share/g/q', 1]]);
    await b.subscribe([['$share/g/q', 1]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await publishQos1(pub, 'q', ['m1', 'm2', 'm3']);
    assert.equal((await a.nextOf('publish')).payload.toString(), 'm1');
    const m2 = await b.nextOf('publish');
    assert.equal(m2.payload.toString(), 'm2');
    await b.acknowledge(m2);
    await a.unsubscribe(['$share/g/q']);
    const moved = await b.nextOf('publish');
    assert.equal(moved.payload.toString(), 'm3');
    await a.expectNothing(100);
  });

  test('a QoS 2 message already sent stays with its member when it disconnects [MQTT-4.8.2-4] [MQTT-4.8.2-5]', async (t) => {
    const { port, broker } = await brokerFor(t);
    const a = await openClient(t, port, { ...V5, clientId: 'a', clean: false, properties: prop.sessionExpiryInterval(60) });
    const b = await openClient(t, port, { ...V5, clientId: 'b' });
    await a.subscribe([['$share/g/q', 2]]);
    await b.subscribe([['$share/g/q', 2]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'q', payload: 'x', qos: 2, properties: Buffer.alloc(0) });
    assert.equal((await a.nextOf('publish')).qos, 2);
    const gone = waitForDisconnect(broker, 'a');
    a.destroy();
    await gone;
    await b.expectNothing(150);
    const again = await openClient(t, port, { ...V5, clientId: 'a', clean: false, properties: prop.sessionExpiryInterval(60) });
    const resent = await again.nextOf('publish');
    assert.equal(resent.payload.toString(), 'x');
    assert.equal(resent.dup, true);
  });

  for (const strategy of ['roundRobin', 'random', 'leastBusy'] as const) {
    test(`a member the ACL denies reading a topic is passed over, not given the group's copy to drop (${strategy})`, async (t) => {
      const { port } = await brokerFor(t, {
        sharedSubscriptionStrategy: strategy,
        authLinks: [{ name: 'acl', authorizeRead: (client, topic) => (client.id === 'denied' && topic === 's/secret' ? 'deny' : 'next') }],
      });
      const denied = await openClient(t, port, { ...V5, clientId: 'denied' });
      const allowed = await openClient(t, port, { ...V5, clientId: 'allowed' });
      assert.deepEqual(await denied.subscribe([['$share/g/s/+', 1]]), [1]);
      assert.deepEqual(await allowed.subscribe([['$share/g/s/+', 1]]), [1]);
      const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
      await publishQos1(pub, 's/secret', ['1', '2', '3', '4']);
      assert.deepEqual(await got(allowed, 4), ['1', '2', '3', '4'], 'every message reaches the member allowed to read it');
      await denied.expectNothing(100);
      // When no member may read the topic, the message goes to none of them.
      allowed.destroy();
      await new Promise((resolve) => allowed.socket.once('close', resolve));
      await publishQos1(pub, 's/secret', ['5']);
      await denied.expectNothing(100);
    });
  }

  test('the strategy is pluggable: a picker function chooses the member', async (t) => {
    const { port } = await brokerFor(t, {
      sharedSubscriptionStrategy: (candidates) => candidates.findIndex((c) => c.clientId === 'b'),
    });
    const a = await openClient(t, port, { ...V5, clientId: 'a' });
    const b = await openClient(t, port, { ...V5, clientId: 'b' });
    await a.subscribe([['$share/g/q', 0]]);
    await b.subscribe([['$share/g/q', 0]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    for (const payload of ['1', '2', '3']) await pub.publish({ topic: 'q', payload, properties: Buffer.alloc(0) });
    assert.deepEqual(await got(b, 3), ['1', '2', '3']);
    await a.expectNothing(100);
  });

  test("strategy 'leastBusy': a member with messages unacknowledged is passed over", async (t) => {
    const { port } = await brokerFor(t, { sharedSubscriptionStrategy: 'leastBusy' });
    const busy = await openClient(t, port, { ...V5, clientId: 'busy' });
    const idle = await openClient(t, port, { ...V5, clientId: 'idle' });
    await busy.subscribe([['$share/g/q', 1]]);
    await idle.subscribe([['$share/g/q', 1]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    // Both idle: the first member in joining order gets m1, and never acknowledges it.
    await publishQos1(pub, 'q', ['m1']);
    assert.equal((await busy.nextOf('publish')).payload.toString(), 'm1');
    for (const m of ['m2', 'm3', 'm4']) {
      await publishQos1(pub, 'q', [m]);
      const p = await idle.nextOf('publish');
      assert.equal(p.payload.toString(), m);
      await idle.acknowledge(p);
      await idle.ping(); // the PUBACK is processed before the next message is routed
    }
    await busy.expectNothing(100);
  });

  test("strategy 'random': each message reaches exactly one member of the group", async (t) => {
    const { port } = await brokerFor(t, { sharedSubscriptionStrategy: 'random' });
    const members = [
      await openClient(t, port, { ...V5, clientId: 'r1' }),
      await openClient(t, port, { ...V5, clientId: 'r2' }),
      await openClient(t, port, { ...V5, clientId: 'r3' }),
    ];
    for (const m of members) await m.subscribe([['$share/g/q', 0]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    const payloads = Array.from({ length: 30 }, (_, i) => String(i));
    for (const payload of payloads) await pub.publish({ topic: 'q', payload, properties: Buffer.alloc(0) });
    await pub.ping();
    await Promise.all(members.map((m) => m.expectNothing(150).catch(() => {})));
    const all = members.flatMap((m) => m.pending.filter((p) => p.type === 'publish')
      .map((p) => (p.type === 'publish' ? p.payload.toString() : '')));
    assert.deepEqual(all.toSorted((a, b) => Number(a) - Number(b)), payloads);
  });

  test('an unknown strategy name is a ConfigError', async () => {
    const { createBroker } = await import('../../src/index.js');
    assert.throws(() => createBroker({ sharedSubscriptionStrategy: 'fastest' as 'random' }),
      { code: 'CULEX_ERR_CONFIG' });
    assert.throws(() => createBroker({ receiveMaximum: 0 }), { code: 'CULEX_ERR_CONFIG' });
    assert.throws(() => createBroker({ receiveMaximumExceeded: 'ignore' as 'log' }), { code: 'CULEX_ERR_CONFIG' });
    assert.throws(() => createBroker({ outboundTopicAliasPolicy: 'mru' as 'lru' }), { code: 'CULEX_ERR_CONFIG' });
    assert.throws(() => createBroker({ outboundTopicAliasMaximum: 70_000 }), { code: 'CULEX_ERR_CONFIG' });
  });

  test('a shared subscription carries its Subscription Identifier [MQTT-3.3.4-4]', async (t) => {
    const { port } = await brokerFor(t);
    const a = await openClient(t, port, { ...V5, clientId: 'a' });
    a.send(subscribe(1, [['$share/g/q', 0]], prop.subscriptionIdentifier(42)));
    await a.nextOf('suback');
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'q', payload: 'x', properties: Buffer.alloc(0) });
    const p = await a.nextOf('publish');
    assert.deepEqual(propertyValues(p.properties, PropertyId.SubscriptionIdentifier), [42]);
  });

  test('MQTT.js: two v5 members of a group share the messages', async (t) => {
    const { port } = await brokerFor(t);
    const open = (clientId: string): Promise<MqttClient> => openMqttJs(t, port, { clientId });
    const a = await open('ja');
    const b = await open('jb');
    const counts = { ja: 0, jb: 0 };
    a.on('message', () => counts.ja++);
    b.on('message', () => counts.jb++);
    await a.subscribeAsync('$share/workers/jobs', { qos: 1 });
    await b.subscribeAsync('$share/workers/jobs', { qos: 1 });
    const pub = await open('jp');
    for (let i = 0; i < 6; i++) await pub.publishAsync('jobs', `job ${i}`, { qos: 1 });
    while (counts.ja + counts.jb < 6) await new Promise((r) => setImmediate(r));
    assert.deepEqual(counts, { ja: 3, jb: 3 });
  });
});

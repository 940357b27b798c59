/**
 * Subscription Identifiers and subscription options (No Local, Retain As Published, Retain Handling) over real
 * sockets: raw packets and MQTT.js.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerFor } from '../helpers/broker.js';
import { publish, subscribe } from '../helpers/packets.js';
import { openClient } from '../helpers/raw-client.js';
import { openMqttJs, prop, propertyValues, PropertyId } from '../helpers/v5-routing.js';

const V5 = { protocolVersion: 5 } as const;
const NO_PROPS = Buffer.alloc(0);

describe('MQTT 5 Subscription Identifiers', () => {
  test('overlapping subscriptions: one PUBLISH carrying every matching identifier [MQTT-3.3.4-3]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['a/+', 1]], prop.subscriptionIdentifier(7)));
    await c.nextOf('suback');
    c.send(subscribe(2, [['a/#', 0]], prop.subscriptionIdentifier(300_000)));
    await c.nextOf('suback');
    c.send(subscribe(3, [['#', 0]], NO_PROPS));
    await c.nextOf('suback');
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'a/b', payload: 'x', qos: 1, properties: NO_PROPS });
    const p = await c.nextOf('publish');
    assert.equal(p.qos, 1, 'the highest granted QoS [MQTT-3.3.4-2]');
    const ids = propertyValues(p.properties, PropertyId.SubscriptionIdentifier) as number[];
    assert.deepEqual(ids.toSorted((x, y) => x - y), [7, 300_000]);
    await c.acknowledge(p);
    await c.expectNothing(100);
  });

  test('a retained message sent on SUBSCRIBE carries that subscription\'s identifier', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'r', payload: 'kept', qos: 1, retain: true, properties: NO_PROPS });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['r', 1]], prop.subscriptionIdentifier(12)));
    const p = await c.nextOf('publish');
    assert.deepEqual(propertyValues(p.properties, PropertyId.SubscriptionIdentifier), [12]);
  });

  test('re-subscribing without an identifier removes it [MQTT-3.8.4-3]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['a', 0]], prop.subscriptionIdentifier(5)));
    await c.nextOf('suback');
    assert.deepEqual(await c.subscribe([['a', 0]]), [0]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'a', payload: 'x', properties: NO_PROPS });
    const p = await c.nextOf('publish');
    assert.deepEqual(propertyValues(p.properties, PropertyId.SubscriptionIdentifier), []);
  });

  test('a persistent session keeps the identifier and sends it with queued messages', async (t) => {
    const { port } = await brokerFor(t);
    const session = { ...V5, clientId: 'c', clean: false, properties: prop.sessionExpiryInterval(60) };
    const c = await openClient(t, port, session);
    c.send(subscribe(1, [['q', 1]], prop.subscriptionIdentifier(99)));
    await c.nextOf('suback');
    c.destroy();
    await new Promise((r) => c.socket.once('close', r));
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'q', payload: 'while away', qos: 1, properties: NO_PROPS });
    const again = await openClient(t, port, session);
    const p = await again.nextOf('publish');
    assert.equal(p.payload.toString(), 'while away');
    assert.deepEqual(propertyValues(p.properties, PropertyId.SubscriptionIdentifier), [99]);
  });

  test('a Subscription Identifier of 0 is a Protocol Error: DISCONNECT 0x82', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['a', 0]], Buffer.from([0x0b, 0x00])));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x82);
    await c.expectClosed();
  });

  test('a PUBLISH from a client with a Subscription Identifier is a Protocol Error [MQTT-3.3.4-6]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'a', payload: 'x', properties: prop.subscriptionIdentifier(3) }));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x82);
    await c.expectClosed();
  });

  test('MQTT.js: the identifiers arrive in packet.properties.subscriptionIdentifier', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openMqttJs(t, port, { clientId: 'js-sub' });
    await sub.subscribeAsync('m/+', { qos: 1, properties: { subscriptionIdentifier: 4 } });
    await sub.subscribeAsync('m/#', { qos: 0, properties: { subscriptionIdentifier: 8 } });
    const received = new Promise<unknown>((resolve) => sub.once('message', (_topic, _payload, packet) => {
      resolve(packet.properties?.subscriptionIdentifier);
    }));
    const pub = await openMqttJs(t, port, { clientId: 'js-pub' });
    await pub.publishAsync('m/1', 'x', { qos: 1 });
    const ids = await received;
    assert.deepEqual((ids as number[]).toSorted((a, b) => a - b), [4, 8]);
  });
});

describe('MQTT 5 subscription options', () => {
  test('No Local: not back to the publisher\'s own connection [MQTT-3.8.3-3]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(subscribe(1, [['n', 0x04 | 0]], NO_PROPS));
    await c.nextOf('suback');
    await c.publish({ topic: 'n', payload: 'own', properties: NO_PROPS });
    await c.expectNothing(150);
    const other = await openClient(t, port, { ...V5, clientId: 'other' });
    await other.publish({ topic: 'n', payload: 'theirs', properties: NO_PROPS });
    assert.equal((await c.nextOf('publish')).payload.toString(), 'theirs');
  });

  test('Retain As Published keeps RETAIN=1 on live messages; without it RETAIN=0 [MQTT-3.3.1-12] [MQTT-3.3.1-13]', async (t) => {
    const { port } = await brokerFor(t);
    const rap = await openClient(t, port, { ...V5, clientId: 'rap' });
    rap.send(subscribe(1, [['k', 0x08 | 0]], NO_PROPS));
    await rap.nextOf('suback');
    const plain = await openClient(t, port, { ...V5, clientId: 'plain' });
    await plain.subscribe([['k', 0]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'k', payload: 'v', retain: true, properties: NO_PROPS });
    assert.equal((await rap.nextOf('publish')).retain, true);
    assert.equal((await plain.nextOf('publish')).retain, false);
  });

  test('Retain Handling 0 sends retained messages on every SUBSCRIBE, 1 only for a new subscription, 2 never [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'h', payload: 'kept', qos: 1, retain: true, properties: NO_PROPS });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    const count = async (options: number): Promise<number> => {
      c.send(subscribe(c.nextPacketId(), [['h', options]], NO_PROPS));
      await c.nextOf('suback');
      await c.expectNothing(100).catch(() => {});
      const n = c.pending.filter((p) => p.type === 'publish').length;
      while (c.pending.length > 0) await c.next();
      return n;
    };
    assert.equal(await count(0x00), 1, 'RH 0, new subscription');
    assert.equal(await count(0x00), 1, 'RH 0, existing subscription');
    assert.equal(await count(0x10), 0, 'RH 1, existing subscription');
    await c.unsubscribe(['h']);
    assert.equal(await count(0x10), 1, 'RH 1, new subscription');
    await c.unsubscribe(['h']);
    assert.equal(await count(0x20), 0, 'RH 2, new subscription');
  });

  test('MQTT.js: No Local and Retain Handling 2', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openMqttJs(t, port, { clientId: 'js' });
    await c.publishAsync('o', 'retained', { qos: 1, retain: true });
    const seen: string[] = [];
    c.on('message', (_topic, payload) => seen.push(payload.toString()));
    await c.subscribeAsync('o', { qos: 0, nl: true, rh: 2 });
    await c.publishAsync('o', 'own', { qos: 1 });
    const other = await openMqttJs(t, port, { clientId: 'js-other' });
    await other.publishAsync('o', 'theirs', { qos: 1 });
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['theirs']);
  });
});

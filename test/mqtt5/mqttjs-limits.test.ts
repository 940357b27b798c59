/**
 * MQTT.js (protocolVersion 5) against the routing limits that the raw-packet tests in publish.test.ts prove byte by
 * byte: Maximum Packet Size, Message Expiry, Response Topic, our Receive Maximum in CONNACK.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerFor } from '../helpers/broker.js';
import { openMqttJs } from '../helpers/v5-routing.js';

describe('MQTT.js v5 and the routing limits', () => {
  test('a message over the client\'s maximumPacketSize is dropped for it, a small one arrives [MQTT-3.1.2-25]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openMqttJs(t, port, { clientId: 'js-small', properties: { maximumPacketSize: 64 } });
    const seen: string[] = [];
    sub.on('message', (_topic, payload) => seen.push(payload.toString()));
    await sub.subscribeAsync('size', { qos: 1 });
    const pub = await openMqttJs(t, port, { clientId: 'js-pub' });
    await pub.publishAsync('size', 'x'.repeat(200), { qos: 1 });
    await pub.publishAsync('size', 'fits', { qos: 1 });
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['fits']);
  });

  test('a retained message\'s Message Expiry Interval arrives decremented [MQTT-3.3.2-6]', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { port } = await brokerFor(t);
    const pub = await openMqttJs(t, port, { clientId: 'js-pub' });
    await pub.publishAsync('exp', 'x', { qos: 1, retain: true, properties: { messageExpiryInterval: 10 } });
    t.mock.timers.tick(4_000);
    const sub = await openMqttJs(t, port, { clientId: 'js-sub' });
    const got = new Promise<unknown>((resolve) => sub.once('message', (_t, _p, packet) => {
      resolve(packet.properties?.messageExpiryInterval);
    }));
    await sub.subscribeAsync('exp', { qos: 1 });
    assert.equal(await got, 6);
  });

  test('a Response Topic with a wildcard gets DISCONNECT 0x82 [MQTT-3.3.2-14]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openMqttJs(t, port, { clientId: 'js-rt' });
    const disconnected = new Promise<number | undefined>((resolve) => c.once('disconnect', (p) => resolve(p.reasonCode)));
    c.publish('req', 'x', { qos: 0, properties: { responseTopic: 'reply/#' } });
    assert.equal(await disconnected, 0x82);
  });

  test('our Receive Maximum reaches MQTT.js in CONNACK', async (t) => {
    const { port } = await brokerFor(t, { receiveMaximum: 7 });
    const c = await openMqttJs(t, port, { clientId: 'js-rm' });
    // MQTT.js keeps the CONNACK it received.
    const connack = (c as unknown as { connackPacket?: { properties?: { receiveMaximum?: number } } }).connackPacket;
    assert.equal(connack?.properties?.receiveMaximum, 7);
  });
});

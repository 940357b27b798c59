/**
 * MQTT 5 CONNECT and CONNACK properties (sections 3.1.2.11, 3.2.2.3) over raw sockets: what the client asks for,
 * what the broker announces, and the broker holding clients to what it announced.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createBroker, scramSha256 } from '../../src/index.js';
import { brokerFor } from '../helpers/broker.js';
import { openClient, openRaw } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';
import { Prop, V5Client, disconnectV5, openV5, prop, props, publishV5, subscribeV5 } from '../helpers/v5.js';

const SUBACK = 9, PUBLISH = 3, PUBACK = 4, DISCONNECT = 14;
const responseInformation = (client: { id: string }): string => `replies/${client.id}`;
const authorizePublish = (): boolean => false;

describe('20 MQTT 5 CONNECT / CONNACK', () => {
  describe('Session Expiry Interval', () => {
    test('0 (or absent): the session ends with the connection', async (t) => {
      const { port } = await brokerFor(t);
      const { c } = await openV5(t, port, { clientId: 'se0', clean: false });
      c.send(subscribeV5(1, [['se0/t', 1]]));
      await c.expect(SUBACK);
      c.send(disconnectV5(0));
      await c.expectClosed();
      const again = await openV5(t, port, { clientId: 'se0', clean: false });
      assert.equal(again.connack.sessionPresent, false);
    });

    test('a value: the session outlives the connection until it expires [MQTT-3.1.2-23]', async (t) => {
      const { port } = await brokerFor(t);
      const expiry = props([Prop.SessionExpiryInterval, 1]);
      const { c } = await openV5(t, port, { clientId: 'se1', clean: false, properties: expiry });
      c.send(disconnectV5(0));
      await c.expectClosed();
      const back = await openV5(t, port, { clientId: 'se1', clean: false, properties: expiry });
      assert.equal(back.connack.sessionPresent, true, 'resumed within the interval');
      back.c.send(disconnectV5(0));
      await back.c.expectClosed();
      await new Promise((r) => setTimeout(r, 1100));
      const late = await openV5(t, port, { clientId: 'se1', clean: false, properties: expiry });
      assert.equal(late.connack.sessionPresent, false, 'expired after the interval');
    });

    test('0xFFFFFFFF: the session does not expire', async (t) => {
      const { broker, port } = await brokerFor(t);
      const { c } = await openV5(t, port, { clientId: 'seMax', clean: false,
        properties: props([Prop.SessionExpiryInterval, 0xffff_ffff]) });
      c.send(disconnectV5(0));
      await c.expectClosed();
      assert.equal(broker.sessions.get('seMax')?.expiryIntervalSeconds, 0xffff_ffff);
      const back = await openV5(t, port, { clientId: 'seMax', clean: false });
      assert.equal(back.connack.sessionPresent, true);
    });

    test('DISCONNECT may change it: 10 → 0 ends the session', async (t) => {
      const { port } = await brokerFor(t);
      const { c } = await openV5(t, port, { clientId: 'seChange', clean: false,
        properties: props([Prop.SessionExpiryInterval, 10]) });
      c.send(disconnectV5(0, props([Prop.SessionExpiryInterval, 0])));
      await c.expectClosed();
      const back = await openV5(t, port, { clientId: 'seChange', clean: false });
      assert.equal(back.connack.sessionPresent, false);
    });

    test('DISCONNECT may not change it from 0: DISCONNECT 0x82 Protocol Error [MQTT-3.14.2-2]', async (t) => {
      const { port } = await brokerFor(t);
      const { c } = await openV5(t, port, { clientId: 'seFrom0' });
      c.send(disconnectV5(0, props([Prop.SessionExpiryInterval, 60])));
      const d = await c.expect(DISCONNECT);
      assert.equal(d.reasonCode, 0x82);
      assert.match(String(prop(d, Prop.ReasonString)), /MQTT-3\.14\.2-2/);
      await c.expectClosed();
    });
  });

  test('Receive Maximum: at most that many unacknowledged QoS 1 messages to the client [MQTT-3.3.4-9]', async (t) => {
    const { port } = await brokerFor(t);
    const { c } = await openV5(t, port, { clientId: 'rm1', properties: props([Prop.ReceiveMaximum, 1]) });
    c.send(subscribeV5(1, [['rm/t', 1]]));
    await c.expect(SUBACK);
    const pub = await openClient(t, port, { clientId: 'rm-pub' });
    await pub.publish({ topic: 'rm/t', payload: 'a', qos: 1 });
    await pub.publish({ topic: 'rm/t', payload: 'b', qos: 1 });
    const first = await c.expect(PUBLISH);
    await c.expectNothing(200);
    c.send(P.puback(first.packetId!));
    assert.equal((await c.expect(PUBLISH)).payload?.toString(), 'b');
  });

  test('Maximum Packet Size: a larger message is not sent to the client [MQTT-3.1.2-24]; CONNACK states ours', async (t) => {
    const { port } = await brokerFor(t, { maxPacketBytes: 4096 });
    const { c, connack } = await openV5(t, port, { clientId: 'mps', properties: props([Prop.MaximumPacketSize, 64]) });
    assert.equal(prop(connack, Prop.MaximumPacketSize), 4096);
    c.send(subscribeV5(1, [['mps/t', 0]]));
    await c.expect(SUBACK);
    const pub = await openClient(t, port, { clientId: 'mps-pub' });
    await pub.publish({ topic: 'mps/t', payload: 'x'.repeat(100) });
    await pub.publish({ topic: 'mps/t', payload: 'small' });
    assert.equal((await c.expect(PUBLISH)).payload?.toString(), 'small');
  });

  test('Topic Alias Maximum: CONNACK states ours; an alias above it is DISCONNECT 0x94 [MQTT-3.3.2-9]', async (t) => {
    const { port } = await brokerFor(t, { topicAliasMaximum: 3 });
    const { c, connack } = await openV5(t, port, { clientId: 'tam' });
    assert.equal(prop(connack, Prop.TopicAliasMaximum), 3);
    c.send(publishV5({ topic: 'tam/t', properties: props([Prop.TopicAlias, 4]) }));
    assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x94);
  });

  describe('Request Response Information', () => {
    test('1: CONNACK carries the configured Response Information', async (t) => {
      const { port } = await brokerFor(t, { responseInformation });
      const { connack } = await openV5(t, port, { clientId: 'rri1', properties: props([Prop.RequestResponseInformation, 1]) });
      assert.equal(prop(connack, Prop.ResponseInformation), 'replies/rri1');
    });

    test('0 or absent: no Response Information [MQTT-3.1.2-28]', async (t) => {
      const { port } = await brokerFor(t, { responseInformation: 'fixed/' });
      const { connack } = await openV5(t, port, { clientId: 'rri0', properties: props([Prop.RequestResponseInformation, 0]) });
      assert.equal(prop(connack, Prop.ResponseInformation), undefined);
      const absent = await openV5(t, port, { clientId: 'rriA' });
      assert.equal(prop(absent.connack, Prop.ResponseInformation), undefined);
    });

    test('1 without configured Response Information: none is sent', async (t) => {
      const { port } = await brokerFor(t);
      const { connack } = await openV5(t, port, { clientId: 'rriN', properties: props([Prop.RequestResponseInformation, 1]) });
      assert.equal(prop(connack, Prop.ResponseInformation), undefined);
    });
  });

  describe('Request Problem Information', () => {
    test('1 (default): a refused PUBLISH gets PUBACK 0x87 with a Reason String', async (t) => {
      const { port } = await brokerFor(t, { authorizePublish });
      const { c } = await openV5(t, port, { clientId: 'rpi1' });
      c.send(publishV5({ topic: 'rpi/t', qos: 1, packetId: 1 }));
      const ack = await c.expect(PUBACK);
      assert.equal(ack.reasonCode, 0x87);
      assert.match(String(prop(ack, Prop.ReasonString)), /not authorized/);
    });

    test('0: no Reason String on PUBACK, but still on DISCONNECT [MQTT-3.1.2-29]', async (t) => {
      const { port } = await brokerFor(t, { authorizePublish });
      const { c } = await openV5(t, port, { clientId: 'rpi0', properties: props([Prop.RequestProblemInformation, 0]) });
      c.send(publishV5({ topic: 'rpi/t', qos: 1, packetId: 1 }));
      const ack = await c.expect(PUBACK);
      assert.equal(ack.reasonCode, 0x87);
      assert.equal(ack.props.size, 0);
      c.send(P.connect({ protocolVersion: 5, clientId: 'second' }));
      const d = await c.expect(DISCONNECT);
      assert.equal(d.reasonCode, 0x82);
      assert.match(String(prop(d, Prop.ReasonString)), /second CONNECT/);
    });
  });

  test('a Reason String that would exceed the client\'s Maximum Packet Size is left out [MQTT-3.4.2-2, MQTT-3.14.2-3]', async (t) => {
    const { port } = await brokerFor(t, { authorizePublish });
    const { c } = await openV5(t, port, { clientId: 'mpsReason', properties: props([Prop.MaximumPacketSize, 16]) });
    c.send(publishV5({ topic: 'rpi/t', qos: 1, packetId: 1 }));
    const ack = await c.expect(PUBACK);
    assert.equal(ack.reasonCode, 0x87);
    assert.equal(ack.props.size, 0);
    c.send(P.connect({ protocolVersion: 5, clientId: 'second' }));
    const d = await c.expect(DISCONNECT);
    assert.equal(d.reasonCode, 0x82);
    assert.equal(prop(d, Prop.ReasonString), undefined);
  });

  test('User Properties of CONNECT reach the authenticate hook in order', async (t) => {
    let seen: unknown;
    const { port } = await brokerFor(t, { authenticate: (r) => { seen = r.userProperties; return true; } });
    await openV5(t, port, { clientId: 'up',
      properties: props([Prop.UserProperty, ['site', 'north']], [Prop.UserProperty, ['site', 'south']]) });
    assert.deepEqual(seen, [['site', 'north'], ['site', 'south']]);
  });

  test('an empty client identifier gets an Assigned Client Identifier [MQTT-3.1.3-6, MQTT-3.1.3-7]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const { connack } = await openV5(t, port, { clientId: '' });
    const assigned = prop(connack, Prop.AssignedClientIdentifier);
    assert.equal(typeof assigned, 'string');
    assert.ok(broker.clients.has(assigned as string));
    const named = await openV5(t, port, { clientId: 'named' });
    assert.equal(prop(named.connack, Prop.AssignedClientIdentifier), undefined);
  });

  describe('Server Keep Alive (maxKeepaliveSeconds)', () => {
    test('a keepalive above the maximum, or 0, is replaced by Server Keep Alive [MQTT-3.2.2-21]', async (t) => {
      const { port } = await brokerFor(t, { maxKeepaliveSeconds: 5 });
      assert.equal(prop((await openV5(t, port, { clientId: 'ka60', keepaliveSeconds: 60 })).connack, Prop.ServerKeepAlive), 5);
      assert.equal(prop((await openV5(t, port, { clientId: 'ka0', keepaliveSeconds: 0 })).connack, Prop.ServerKeepAlive), 5);
      assert.equal(prop((await openV5(t, port, { clientId: 'ka3', keepaliveSeconds: 3 })).connack, Prop.ServerKeepAlive),
        undefined, 'within the maximum the client\'s own keepalive stands [MQTT-3.2.2-22]');
    });

    test('the broker holds the client to the Server Keep Alive: DISCONNECT 0x8D after 1.5 times it', async (t) => {
      const { port } = await brokerFor(t, { maxKeepaliveSeconds: 1 });
      const { c, connack } = await openV5(t, port, { clientId: 'kaIdle', keepaliveSeconds: 60 });
      assert.equal(prop(connack, Prop.ServerKeepAlive), 1);
      assert.equal((await c.expect(DISCONNECT, 3000)).reasonCode, 0x8d);
    });

    test('a 3.1.1 client above the maximum is refused with 0x02 Identifier rejected (as Mosquitto does)', async (t) => {
      const { port } = await brokerFor(t, { maxKeepaliveSeconds: 5 });
      const c = await openRaw(t, port);
      assert.equal((await c.connect({ clientId: 'ka311', keepaliveSeconds: 60 })).returnCode, 2);
    });
  });

  describe('Maximum QoS', () => {
    test('CONNACK says 1; SUBSCRIBE at 2 is granted 1 [MQTT-3.2.2-9, MQTT-3.2.2-10]', async (t) => {
      const { port } = await brokerFor(t, { maximumQoS: 1 });
      const { c, connack } = await openV5(t, port, { clientId: 'mq1' });
      assert.equal(prop(connack, Prop.MaximumQoS), 1);
      c.send(subscribeV5(1, [['mq/t', 2]]));
      assert.equal((await c.expect(SUBACK)).reasonCode, 1);
    });

    test('a PUBLISH above it is DISCONNECT 0x9B [MQTT-3.2.2-11]', async (t) => {
      const { port } = await brokerFor(t, { maximumQoS: 1 });
      const { c } = await openV5(t, port, { clientId: 'mq2' });
      c.send(publishV5({ topic: 'mq/t', qos: 2, packetId: 1 }));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x9b);
    });

    test('a will above it is refused with CONNACK 0x9B [MQTT-3.2.2-12]', async (t) => {
      const { port } = await brokerFor(t, { maximumQoS: 0 });
      const c = await V5Client.open(t, port);
      const connack = await c.connect({ clientId: 'mqw', will: { topic: 'w', payload: 'x', qos: 1 } });
      assert.equal(connack.reasonCode, 0x9b);
      await c.expectClosed();
    });

    test('CONNACK has no Maximum QoS when the broker supports QoS 2', async (t) => {
      const { port } = await brokerFor(t);
      assert.equal(prop((await openV5(t, port, { clientId: 'mqd' })).connack, Prop.MaximumQoS), undefined);
    });
  });

  describe('Retain Available', () => {
    test('CONNACK says 0; a PUBLISH with RETAIN is DISCONNECT 0x9A [MQTT-3.2.2-14]', async (t) => {
      const { port } = await brokerFor(t, { isRetainAvailable: false });
      const { c, connack } = await openV5(t, port, { clientId: 'ra' });
      assert.equal(prop(connack, Prop.RetainAvailable), 0);
      c.send(publishV5({ topic: 'ra/t', retain: true, payload: 'x' }));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x9a);
    });

    test('a will with RETAIN is refused with CONNACK 0x9A [MQTT-3.2.2-13]', async (t) => {
      const { port } = await brokerFor(t, { isRetainAvailable: false });
      const c = await V5Client.open(t, port);
      const connack = await c.connect({ clientId: 'raw', will: { topic: 'w', payload: 'x', retain: true } });
      assert.equal(connack.reasonCode, 0x9a);
    });
  });

  test('Wildcard Subscription Available 0: CONNACK says so and a wildcard filter gets SUBACK 0xA2', async (t) => {
    const { port } = await brokerFor(t, { isWildcardSubscriptionAvailable: false });
    const { c, connack } = await openV5(t, port, { clientId: 'wsa' });
    assert.equal(prop(connack, Prop.WildcardSubscriptionAvailable), 0);
    c.send(subscribeV5(1, [['wsa/+', 0]]));
    assert.equal((await c.expect(SUBACK)).reasonCode, 0xa2);
    c.send(subscribeV5(2, [['wsa/t', 0]]));
    assert.equal((await c.expect(SUBACK)).reasonCode, 0);
  });

  describe('Server Reference (server redirection, section 4.11)', () => {
    test('a fixed redirect refuses CONNECT with 0x9C Use another server and the Server Reference', async (t) => {
      const { port } = await brokerFor(t, { redirect: { serverReference: 'other.example:1883' } });
      const c = await V5Client.open(t, port);
      const connack = await c.connect({ clientId: 'redir' });
      assert.equal(connack.reasonCode, 0x9c);
      assert.equal(prop(connack, Prop.ServerReference), 'other.example:1883');
      await c.expectClosed();
    });

    test('a permanent redirect chosen per client is 0x9D Server moved; others connect', async (t) => {
      const { port } = await brokerFor(t, {
        redirect: (client) => (client.id.startsWith('old-') ? { serverReference: 'new.example', isPermanent: true } : undefined),
      });
      const c = await V5Client.open(t, port);
      const connack = await c.connect({ clientId: 'old-1' });
      assert.equal(connack.reasonCode, 0x9d);
      assert.equal(prop(connack, Prop.ServerReference), 'new.example');
      await openV5(t, port, { clientId: 'new-1' });
    });

    test('a 3.1.1 client cannot be redirected: CONNACK 0x03 Server unavailable', async (t) => {
      const { port } = await brokerFor(t, { redirect: { serverReference: 'x' } });
      const c = await openRaw(t, port);
      assert.equal((await c.connect({ clientId: 'redir311' })).returnCode, 3);
    });
  });

  test('a refused CONNECT carries a Reason String (0x8C Bad authentication method)', async (t) => {
    const { port } = await brokerFor(t);
    const c = await V5Client.open(t, port);
    const connack = await c.connect({ clientId: 'badm', properties: props([Prop.AuthenticationMethod, 'NOPE']) });
    assert.equal(connack.reasonCode, 0x8c);
    assert.match(String(prop(connack, Prop.ReasonString)), /NOPE/);
  });

  test('the MQTT 5 options are checked: a bad value is a ConfigError naming the option', () => {
    const bad: Record<string, unknown>[] = [
      { maximumQoS: 3 }, { maxKeepaliveSeconds: 65_536 }, { maxKeepaliveSeconds: 1.5 }, { redirect: {} },
      { enhancedAuthMethods: [scramSha256({ credentials: new Map() }), scramSha256({ credentials: new Map() })] },
    ];
    for (const options of bad) {
      assert.throws(() => createBroker(options as never), (err: unknown) => err instanceof ConfigError, JSON.stringify(options));
    }
  });
});

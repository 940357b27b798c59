/**
 * The MQTT 5 connection features of 20-23 again, with MQTT.js (`protocolVersion: 5`) as an independent client:
 * CONNACK properties, sessions, server DISCONNECT reasons, delayed wills, SCRAM-SHA-256 and re-authentication.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type IClientOptions, type IConnackPacket, type IDisconnectPacket, type IPublishPacket,
  type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { scramSha256 } from '../../src/index.js';
import { brokerFor, startBroker, waitForDisconnect } from '../helpers/broker.js';
import type { Cleanup } from '../helpers/raw-client.js';
import { ScramClient } from '../helpers/scram-client.js';

type Events = { once(e: string, fn: (...args: unknown[]) => void): void };

/** The first argument of the client's next `event`, or a rejection after 3 s. */
function next<T>(client: MqttClient, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`MQTT.js: no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    (client as unknown as Events).once(event, (arg) => {
      clearTimeout(timer);
      resolve(arg as T);
    });
  });
}

/** Writes a packet on the client's stream, past MQTT.js's own checks (mqtt-packet is MQTT.js's codec). */
function writeRaw(client: MqttClient, packet: Parameters<typeof mqttPacket.generate>[0]): void {
  client.stream.write(mqttPacket.generate(packet, { protocolVersion: 5 }));
}

/** An MQTT.js 5 client, not reconnecting, ended after the test; not yet connected. */
function v5(t: Cleanup, port: number, options: IClientOptions = {}): MqttClient {
  const client = connect({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000,
    ...options });
  client.on('error', () => {});
  t.after(() => client.end(true));
  return client;
}

async function connected(t: Cleanup, port: number, options: IClientOptions = {}): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = v5(t, port, options);
  return { client, connack: await next<IConnackPacket>(client, 'connect') };
}

/** MQTT.js answering SCRAM-SHA-256 challenges in handleAuth with the test-side SCRAM client. */
function scramClient(t: Cleanup, port: number, password: string): { client: MqttClient; scram: ScramClient } {
  const scram = new ScramClient('alice', password);
  const client = v5(t, port, { clientId: 'js5-alice',
    properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.first()) } });
  client.handleAuth = (packet, callback) => {
    const serverMessage = String(packet.properties?.authenticationData ?? '');
    if (packet.reasonCode !== 0x18) { callback(); return; }
    callback(undefined, { cmd: 'auth', reasonCode: 0x18, properties: {
      authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(scram.final(serverMessage)) } });
  };
  return { client, scram };
}

describe('24 MQTT 5 connection features with MQTT.js', () => {
  test('CONNACK properties: Assigned Client Identifier, Server Keep Alive, Maximum QoS, Retain / Wildcard Available, Response Information, Topic Alias Maximum, Maximum Packet Size', async (t) => {
    const { port } = await brokerFor(t, {
      maxKeepaliveSeconds: 30, maximumQoS: 1, isRetainAvailable: false, isWildcardSubscriptionAvailable: false,
      responseInformation: (c) => `reply/${c.id}`, topicAliasMaximum: 7, maxPacketBytes: 10_000,
    });
    const { connack } = await connected(t, port, { clientId: '', keepalive: 120,
      properties: { requestResponseInformation: true } });
    const p = connack.properties!;
    assert.match(String(p.assignedClientIdentifier), /^culex-/);
    assert.equal(p.serverKeepAlive, 30);
    assert.equal(p.maximumQoS, 1);
    assert.equal(p.retainAvailable, false);
    assert.equal(p.wildcardSubscriptionAvailable, false);
    assert.equal(p.responseInformation, `reply/${String(p.assignedClientIdentifier)}`);
    assert.equal(p.topicAliasMaximum, 7);
    assert.equal(p.maximumPacketSize, 10_000);
  });

  test('Session Expiry Interval: the session is resumed within it, and DISCONNECT can end it', async (t) => {
    const { port } = await brokerFor(t);
    const opts = { clientId: 'js5-persist', clean: false, properties: { sessionExpiryInterval: 60 } };
    const first = await connected(t, port, opts);
    await first.client.subscribeAsync('js5/t', { qos: 1 });
    await first.client.endAsync();
    const again = await connected(t, port, opts);
    assert.equal(again.connack.sessionPresent, true);
    await again.client.endAsync(false, { reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    const third = await connected(t, port, opts);
    assert.equal(third.connack.sessionPresent, false);
  });

  test('User Properties of CONNECT reach the authenticate hook', async (t) => {
    let seen: unknown;
    const { port } = await brokerFor(t, { authenticate: (r) => { seen = r.userProperties; return true; } });
    await connected(t, port, { clientId: 'js5-up', properties: { userProperties: { site: 'north' } } });
    assert.deepEqual(seen, [['site', 'north']]);
  });

  test('Request Problem Information false: a refused PUBLISH gets PUBACK 0x87 without a Reason String', async (t) => {
    const { port } = await brokerFor(t, { authorizePublish: () => false });
    for (const isRequested of [true, false]) {
      const { client } = await connected(t, port, { clientId: `js5-rpi-${String(isRequested)}`,
        properties: { requestProblemInformation: isRequested } });
      const puback = new Promise<{ reasonCode?: number; properties?: { reasonString?: string } }>((resolve) =>
        client.on('packetreceive', (p) => { if (p.cmd === 'puback') resolve(p); }));
      client.publish('denied', 'x', { qos: 1 }, () => {});
      const ack = await puback;
      assert.equal(ack.reasonCode, 0x87);
      assert.equal(ack.properties?.reasonString === undefined, !isRequested);
    }
  });

  test('an unknown Authentication Method is refused with 0x8C', async (t) => {
    const { port } = await brokerFor(t);
    const client = v5(t, port, { clientId: 'js5-krb', properties: { authenticationMethod: 'GS2-KRB5' } });
    assert.equal((await next<{ code: number }>(client, 'error')).code, 0x8c);
  });

  test('redirection: CONNACK 0x9D Server moved with the Server Reference', async (t) => {
    const { port } = await brokerFor(t, { redirect: { serverReference: 'new.example:1883', isPermanent: true } });
    const client = v5(t, port, { clientId: 'js5-moved' });
    const err = await next<{ code: number }>(client, 'error');
    assert.equal(err.code, 0x9d);
  });

  describe('server DISCONNECT reasons', () => {
    test('0x98 Administrative action (broker.disconnectClient) with a Reason String', async (t) => {
      const { broker, port } = await brokerFor(t);
      const { client } = await connected(t, port, { clientId: 'js5-admin' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      broker.disconnectClient('js5-admin', { reasonString: 'maintenance' });
      const packet = await got;
      assert.equal(packet.reasonCode, 0x98);
      assert.equal(packet.properties?.reasonString, 'maintenance');
    });

    test('0x9C Use another server with a Server Reference', async (t) => {
      const { broker, port } = await brokerFor(t);
      const { client } = await connected(t, port, { clientId: 'js5-redir' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      broker.disconnectClient('js5-redir', { reasonCode: 0x9c, serverReference: 'spare.example' });
      const packet = await got;
      assert.equal(packet.reasonCode, 0x9c);
      assert.equal(packet.properties?.serverReference, 'spare.example');
    });

    test('0x8E Session taken over', async (t) => {
      const { port } = await brokerFor(t);
      const { client } = await connected(t, port, { clientId: 'js5-twin' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      await connected(t, port, { clientId: 'js5-twin' });
      assert.equal((await got).reasonCode, 0x8e);
    });

    test('0x8B Server shutting down', async (t) => {
      const started = await startBroker();
      t.after(() => started.close());
      const { client } = await connected(t, started.port, { clientId: 'js5-shutdown' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      await started.close();
      assert.equal((await got).reasonCode, 0x8b);
    });

    test('0x8D Keep Alive timeout: the Server Keep Alive (1 s) is enforced on a silent client', async (t) => {
      const { port } = await brokerFor(t, { maxKeepaliveSeconds: 1 });
      // keepalive 0: MQTT.js sends no PINGREQ at all (it adopts a Server Keep Alive only for a non-zero keepalive).
      const { client, connack } = await connected(t, port, { clientId: 'js5-silent', keepalive: 0 });
      assert.equal(connack.properties?.serverKeepAlive, 1);
      assert.equal((await next<IDisconnectPacket>(client, 'disconnect', 4000)).reasonCode, 0x8d);
    });

    test('0x81 Malformed Packet, with a Reason String', async (t) => {
      const { port } = await brokerFor(t);
      const { client } = await connected(t, port, { clientId: 'js5-malformed' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      client.stream.write(Buffer.from([0x30, 0x05, 0x00, 0x01, 0x74, 0x02, 0x7f])); // PUBLISH with property id 0x7F
      const packet = await got;
      assert.equal(packet.reasonCode, 0x81);
      assert.equal(typeof packet.properties?.reasonString, 'string');
    });

    test('0x82 Protocol Error for a second CONNECT', async (t) => {
      const { port } = await brokerFor(t);
      const { client } = await connected(t, port, { clientId: 'js5-twice' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      writeRaw(client, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'js5-twice',
        keepalive: 0 });
      assert.equal((await got).reasonCode, 0x82);
    });

    test('0x9A Retain not supported for a retained PUBLISH when Retain Available is 0', async (t) => {
      const { port } = await brokerFor(t, { isRetainAvailable: false });
      const { client } = await connected(t, port, { clientId: 'js5-retain' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      writeRaw(client, { cmd: 'publish', topic: 'r/t', payload: 'x', qos: 0, retain: true, dup: false });
      assert.equal((await got).reasonCode, 0x9a);
    });

    test('0x9B QoS not supported for a PUBLISH above Maximum QoS', async (t) => {
      const { port } = await brokerFor(t, { maximumQoS: 0 });
      const { client } = await connected(t, port, { clientId: 'js5-qos' });
      const got = next<IDisconnectPacket>(client, 'disconnect');
      // MQTT.js itself refuses QoS above the announced maximum, so write the PUBLISH past its check.
      writeRaw(client, { cmd: 'publish', topic: 'q/t', payload: 'x', qos: 1, messageId: 1, retain: false, dup: false });
      assert.equal((await got).reasonCode, 0x9b);
    });
  });

  test('Will Delay Interval: the will goes out after the delay with its own properties and without the delay', async (t) => {
    const { broker, port } = await brokerFor(t);
    const { client: watcher } = await connected(t, port, { clientId: 'js5-watch' });
    await watcher.subscribeAsync('js5/will', { qos: 1 });
    const message = new Promise<IPublishPacket>((resolve) => watcher.on('message', (_t, _p, packet) => resolve(packet)));
    const { client } = await connected(t, port, { clientId: 'js5-mortal', properties: { sessionExpiryInterval: 60 },
      will: { topic: 'js5/will', payload: Buffer.from('offline'), qos: 1, retain: false,
        properties: { willDelayInterval: 1, contentType: 'text/plain', userProperties: { why: 'test' } } } });
    const gone = waitForDisconnect(broker, 'js5-mortal');
    const started = Date.now();
    client.stream.destroy();
    await gone;
    const packet = await message;
    assert.ok(Date.now() - started >= 900, 'after the delay');
    assert.equal(packet.payload.toString(), 'offline');
    assert.equal(packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...packet.properties?.userProperties }, { why: 'test' });
    assert.equal((packet.properties as Record<string, unknown> | undefined)?.['willDelayInterval'], undefined);
  });

  describe('SCRAM-SHA-256 through MQTT.js (CONNECT Authentication Method/Data, handleAuth)', () => {
    const enhancedAuthMethods = [scramSha256({ credentials: new Map([['alice', 'wonderland']]) })];


    test('the right password connects and the CONNACK proves the server', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods });
      const { client, scram } = scramClient(t, port, 'wonderland');
      const connack = await next<IConnackPacket>(client, 'connect');
      assert.equal(connack.properties?.authenticationMethod, 'SCRAM-SHA-256');
      assert.ok(scram.verify(String(connack.properties?.authenticationData)));
    });

    test('a wrong password is refused with 0x86', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods });
      const { client } = scramClient(t, port, 'nope');
      assert.equal((await next<{ code: number }>(client, 'error')).code, 0x86);
    });

    test('re-authentication (AUTH 0x19) on the live connection', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods });
      const { client, scram } = scramClient(t, port, 'wonderland');
      await next(client, 'connect');
      // MQTT.js has no public call to start a re-authentication; its handleAuth answers the 0x18 challenge.
      const again = new ScramClient('alice', 'wonderland');
      client.handleAuth = (packet, callback) => {
        if (packet.reasonCode === 0x18) {
          callback(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256',
            authenticationData: Buffer.from(again.final(String(packet.properties?.authenticationData))) } });
        } else {
          callback();
        }
      };
      const final = new Promise<Buffer>((resolve) => client.on('packetreceive', (p) => {
        if (p.cmd === 'auth' && p.reasonCode === 0) resolve(p.properties?.authenticationData as Buffer);
      }));
      writeRaw(client, { cmd: 'auth', reasonCode: 0x19,
        properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from(again.first()) } });
      assert.ok(again.verify(String(await final)));
      assert.ok(scram !== again);
      await client.publishAsync('after/reauth', 'still here', { qos: 1 });
    });
  });
});

/**
 * MQTT 5 features of the client, against the Culex broker and Mosquitto where the server has the feature: Receive
 * Maximum, Maximum Packet Size, automatic Topic Aliases, Server Keep Alive, Assigned Client Identifier, user
 * properties, request/response. Enhanced authentication, re-authentication, Server Reference and refused PUBACKs
 * are checked against Culex only (Mosquitto has no enhanced-auth method or redirection without plugins).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import {
  ConnackError, PublishError, connect, createBroker, type EnhancedAuthMethod, type PublishPacket,
} from '../../src/index.js';
import { freePort } from '../helpers/mosquitto.js';
import { clientFor, nextEvent, recordPackets, take, until } from './helpers.js';
import { Proxy } from './proxy.js';
import { serverFor, targets, type Cleanup } from './targets.js';

const v5 = { protocolVersion: 5 as const };

for (const target of targets) {
  describe(`MQTT 5 client features against ${target.name}`, { skip: target.skip }, () => {
    test('honours the server\'s Receive Maximum: no more QoS 1 publishes in flight [MQTT-3.3.4-7]', {
      skip: target.has.receiveMaximum ? false : `${target.name} sends no Receive Maximum`,
    }, async (t) => {
      const server = await serverFor(t, target, { receiveMaximum: 3 });
      const proxy = await Proxy.start(t, server.port);
      const client = await clientFor(t, proxy.url, v5);
      assert.equal(client.connection?.properties.receiveMaximum, 3);
      const log = recordPackets(client);
      proxy.isServerHeld = true;
      const all = Array.from({ length: 8 }, (_, i) => client.publish(`rm/${i}`, 'x', { qos: 1 }));
      await until(() => log.sent.filter((p) => p.type === 3).length === 3, 3000, '3 PUBLISH sent');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(log.sent.filter((p) => p.type === 3).length, 3, 'the 4th waits for an acknowledgement');
      assert.equal(client.pendingPublishes, 8);
      proxy.release();
      await Promise.all(all);
      assert.equal(log.sent.filter((p) => p.type === 3).length, 8);
    });

    test('checks the server\'s Maximum Packet Size before sending and keeps the connection [MQTT-3.1.2-24]', async (t) => {
      const server = await serverFor(t, target, { maxPacketBytes: 300 });
      const client = await clientFor(t, server.url(), v5);
      assert.equal(client.connection?.properties.maximumPacketSize, 300);
      const log = recordPackets(client);
      await assert.rejects(client.publish('big', Buffer.alloc(400), { qos: 1 }),
        { code: 'MQTT_ERR_PACKET_TOO_LARGE', reasonCode: 0x95 });
      assert.equal(log.sent.length, 0);
      await client.publish('small', Buffer.alloc(100), { qos: 1 });
      // A property PUBLISH may not carry is refused before sending, without a crash or a disconnection.
      await assert.rejects(client.publish('small', 'x', { qos: 1, properties: { sessionExpiryInterval: 5 } }),
        { code: 'MQTT_ERR_INVALID_ARGUMENT' });
      assert.equal(client.state, 'connected');
    });

    test('assigns Topic Aliases automatically up to the server\'s Topic Alias Maximum', async (t) => {
      const server = await serverFor(t, target);
      const sub = await clientFor(t, server.url(), v5);
      await sub.subscribe('alias/#');
      const it = sub.messages();
      const pub = await clientFor(t, server.url(), v5);
      const max = pub.connection?.properties.topicAliasMaximum ?? 0;
      assert.ok(max > 0, 'the server offers topic aliases');
      const log = recordPackets(pub);
      for (let i = 0; i < 3; i++) await pub.publish('alias/a/long/topic/name', `m${i}`, { qos: 1 });
      const sent = log.sent.filter((p): p is PublishPacket => p.type === 3);
      assert.deepEqual(sent.map((p) => [p.topic, p.properties?.topicAlias]),
        [['alias/a/long/topic/name', 1], ['', 1], ['', 1]]);
      const got = await take(it, 3);
      assert.deepEqual(got.map((m) => m.topic), Array(3).fill('alias/a/long/topic/name'));
      assert.equal(got[0]!.properties?.topicAlias, undefined);
    });

    test('uses the Server Keep Alive instead of its own [MQTT-3.1.2-21]', async (t) => {
      const server = await serverFor(t, target, { maxKeepaliveSeconds: 10 });
      const client = await clientFor(t, server.url(), { ...v5, keepaliveSeconds: 60 });
      assert.equal(client.connection?.properties.serverKeepAlive, 10);
      assert.equal(client.connection?.keepaliveSeconds, 10);
    });

    test('adopts the Assigned Client Identifier and reconnects with it', async (t) => {
      const server = await serverFor(t, target);
      const client = await clientFor(t, server.url(), v5);
      const assigned = client.connection?.properties.assignedClientIdentifier;
      assert.ok(assigned !== undefined && assigned !== '');
      assert.equal(client.clientId, assigned);
      const log = recordPackets(client);
      const back = nextEvent(client, 'connect');
      await server.stop();
      await server.start();
      await back;
      const connects = log.sent.filter((p) => p.type === 1);
      assert.equal(connects.length, 1);
      assert.equal((connects[0] as { clientId: string }).clientId, assigned);
    });

    test('carries user properties, content type and correlation data end to end [MQTT-3.3.2-18]', async (t) => {
      const server = await serverFor(t, target);
      const sub = await clientFor(t, server.url(), v5);
      await sub.subscribe('up/#', { qos: 1 });
      const it = sub.messages('up/#');
      const pub = await clientFor(t, server.url(), v5);
      const userProperties: Array<[string, string]> = [['b', '2'], ['a', '1'], ['b', '3']];
      await pub.publish('up/x', '{}', {
        qos: 1, properties: { userProperties, contentType: 'application/json', correlationData: Buffer.from([1, 2]) },
      });
      const [m] = await take(it, 1);
      assert.deepEqual(m!.properties?.userProperties, userProperties);
      assert.equal(m!.properties?.contentType, 'application/json');
      assert.deepEqual(m!.properties?.correlationData, Buffer.from([1, 2]));
    });

    test('request() publishes with Response Topic and Correlation Data and resolves with the response', async (t) => {
      const server = await serverFor(t, target);
      const responder = await clientFor(t, server.url(), v5);
      await responder.subscribe('svc/echo', { qos: 1 });
      void (async () => {
        for await (const m of responder.messages('svc/echo')) {
          const { responseTopic, correlationData } = m.properties ?? {};
          if (responseTopic === undefined) continue;
          await responder.publish(responseTopic, `pong:${m.payload.toString()}`, { qos: 1, properties: { correlationData } });
        }
      })();
      const requester = await clientFor(t, server.url(), v5);
      const [a, b] = await Promise.all([requester.request('svc/echo', 'one'), requester.request('svc/echo', 'two')]);
      assert.equal(a.payload.toString(), 'pong:one');
      assert.equal(b.payload.toString(), 'pong:two');
      await assert.rejects(requester.request('svc/nobody', 'x', { timeoutMs: 100 }), { code: 'MQTT_ERR_REQUEST_TIMEOUT' });
    });
  });
}

/** A two-step challenge-response method for the Culex broker: the server sends a nonce, the client its HMAC. */
function hmacMethod(secret: string, counter: { exchanges: number }): EnhancedAuthMethod {
  return {
    name: 'TEST-HMAC',
    begin: () => {
      const nonce = randomBytes(8);
      let isChallenged = false;
      counter.exchanges++;
      return {
        step: (data) => {
          if (!isChallenged) {
            isChallenged = true;
            return { outcome: 'continue', data: nonce };
          }
          const expected = createHmac('sha256', secret).update(nonce).digest();
          return data !== undefined && data.equals(expected) ? { outcome: 'success' } : { outcome: 'failure' };
        },
      };
    },
  };
}

async function culex(t: Cleanup, options: Parameters<typeof createBroker>[0] = {}): Promise<number> {
  const broker = createBroker({ sysIntervalSeconds: 0, ...options });
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  return port;
}

describe('MQTT 5 client features against the Culex broker only', () => {
  test('enhanced authentication answers AUTH challenges through onAuth, and re-authenticates', async (t) => {
    const counter = { exchanges: 0 };
    const port = await culex(t, { enhancedAuthMethods: [hmacMethod('s3cret', counter)] });
    const challenges: string[] = [];
    const onAuth = ({ method, data }: { method: string; data: Buffer | undefined }) => {
      challenges.push(method);
      return { data: createHmac('sha256', 's3cret').update(data!).digest() };
    };
    const client = await clientFor(t, `mqtt://127.0.0.1:${port}`, { ...v5, authenticationMethod: 'TEST-HMAC', onAuth });
    assert.deepEqual(challenges, ['TEST-HMAC']);
    const log = recordPackets(client);
    await client.reauthenticate();
    assert.equal(counter.exchanges, 2);
    assert.deepEqual(log.sent.filter((p) => p.type === 15).map((p) => (p as { reasonCode: number }).reasonCode), [0x19, 0x18]);
    assert.deepEqual(log.received.filter((p) => p.type === 15).map((p) => (p as { reasonCode: number }).reasonCode), [0x18, 0x00]);
    assert.equal(client.state, 'connected');

    const wrong = connect(`mqtt://127.0.0.1:${port}`, {
      ...v5, authenticationMethod: 'TEST-HMAC', reconnect: false, onAuth: () => ({ data: Buffer.from('nope') }),
    });
    await assert.rejects(wrong, (err: unknown) => err instanceof ConnackError && err.reasonCode === 0x87);
  });

  test('follows a Server Reference when followServerReference is set; otherwise reports the refusal', async (t) => {
    const target = await culex(t);
    const redirecting = await culex(t, { redirect: { serverReference: `127.0.0.1:${target}` } });
    const client = await clientFor(t, `mqtt://127.0.0.1:${redirecting}`, { ...v5, followServerReference: true });
    assert.equal(client.state, 'connected');
    await assert.rejects(connect(`mqtt://127.0.0.1:${redirecting}`, { ...v5, reconnect: false }),
      (err: unknown) => err instanceof ConnackError && err.reasonCode === 0x9c);
  });

  test('a server DISCONNECT 0x9D with a Server Reference moves the client there; the error carries the reason code', async (t) => {
    const b1 = createBroker({ sysIntervalSeconds: 0 });
    const b2 = createBroker({ sysIntervalSeconds: 0 });
    t.after(() => Promise.all([b1.close(), b2.close()]));
    const p1 = (await b1.listen({ port: 0, host: '127.0.0.1' })).port;
    const p2 = (await b2.listen({ port: 0, host: '127.0.0.1' })).port;
    const client = await clientFor(t, `mqtt://127.0.0.1:${p1}`, { ...v5, clientId: 'mover', followServerReference: true });
    const lost = nextEvent(client, 'disconnect');
    const back = nextEvent(client, 'connect');
    assert.equal(b1.disconnectClient('mover', { reasonCode: 0x9d, serverReference: `127.0.0.1:${p2}` }), true);
    const [{ error }] = await lost;
    assert.equal((error as { code?: string }).code, 'MQTT_ERR_SERVER_DISCONNECT');
    assert.equal((error as { reasonCode?: number }).reasonCode, 0x9d);
    await back;
    assert.equal(b2.disconnectClient('mover', { reasonCode: 0x98 }), true, 'now connected to the second broker');
  });

  test('a refused QoS 1 publish rejects with PublishError carrying the PUBACK reason code', async (t) => {
    const port = await culex(t, { authorizePublish: (_client, { topic }) => topic !== 'forbidden' });
    const client = await clientFor(t, `mqtt://127.0.0.1:${port}`, v5);
    await assert.rejects(client.publish('forbidden', 'x', { qos: 1 }),
      (err: unknown) => err instanceof PublishError && err.code === 'MQTT_ERR_PUBLISH_REFUSED' && err.reasonCode === 0x87);
    await client.publish('allowed', 'x', { qos: 1 });
  });

  test('a connect timeout ends an attempt to a server that never answers', async (t) => {
    const { createServer } = await import('node:net');
    const accepted: Array<{ destroy(): void }> = [];
    const silent = createServer((socket) => { accepted.push(socket); });
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of accepted) s.destroy();
      silent.close();
    });
    const started = Date.now();
    await assert.rejects(connect(`mqtt://127.0.0.1:${port}`, { connectTimeoutMs: 150, reconnect: false }),
      { code: 'MQTT_ERR_CONNECT_TIMEOUT' });
    assert.ok(Date.now() - started < 2000);
  });
});

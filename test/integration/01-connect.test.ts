/**
 * CONNECT and CONNACK (MQTT 3.1.1 sections 3.1 and 3.2; MQTT 3.1 for "MQIsdp"), over real sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, waitForDisconnect, waitForEvent } from '../helpers/broker.js';
import { openClient, openRaw } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

describe('01 connect', () => {
  test('accepts MQTT 3.1 ("MQIsdp", level 3) with CONNACK 0', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    const connack = await c.connect({ protocolVersion: 3, clientId: 'v31-client' });
    assert.equal(connack.returnCode, 0);
    await c.ping();
  });

  test('accepts MQTT 3.1.1 ("MQTT", level 4) with CONNACK 0 [MQTT-3.1.4-4]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    const connack = await c.connect({ protocolVersion: 4, clientId: 'v311-client' });
    assert.deepEqual(connack, { type: 'connack', sessionPresent: false, returnCode: 0 });
    await c.ping();
  });

  test('answers an unsupported protocol level with CONNACK 0x01, then closes [MQTT-3.1.2-2]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    const connack = await c.connect({ protocolVersion: 4, protocolLevel: 6, clientId: 'level-6' });
    assert.equal(connack.returnCode, 0x01);
    assert.equal(connack.sessionPresent, false, 'a refusal has Session Present 0 [MQTT-3.2.2-4]');
    await c.expectClosed();
  });

  test('closes without CONNACK when the reserved Connect Flags bit is set [MQTT-3.1.2-3, MQTT-3.1.4-1]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    c.send(P.connect({ clientId: 'reserved-bit', flags: 0x03 }));
    await c.expectClosed();
    assert.deepEqual(c.received, []);
  });

  test('a zero-length client id with clean session is accepted under a generated unique id [MQTT-3.1.3-6]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const ids: string[] = [];
    broker.on('clientConnected', (client: { id: string }) => void ids.push(client.id));
    const a = await openRaw(t, port);
    assert.equal((await a.connect({ clientId: '', clean: true })).returnCode, 0);
    const b = await openRaw(t, port);
    assert.equal((await b.connect({ clientId: '', clean: true })).returnCode, 0);
    // Both stay connected: the second did not take over the first.
    await a.ping();
    await b.ping();
    assert.equal(ids.length, 2);
    assert.ok(ids.every((id) => id.length > 0), `generated ids: ${JSON.stringify(ids)}`);
    assert.notEqual(ids[0], ids[1]);
  });

  test('a zero-length client id with clean session 0 gets CONNACK 0x02, then close [MQTT-3.1.3-8]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    const connack = await c.connect({ clientId: '', clean: false });
    assert.equal(connack.returnCode, 0x02);
    assert.equal(connack.sessionPresent, false);
    await c.expectClosed();
  });

  test('an MQTT 3.1 client id over 23 characters gets CONNACK 0x02, then close; 23 is accepted', async (t) => {
    const { port } = await brokerFor(t);
    const long = await openRaw(t, port);
    const refused = await long.connect({ protocolVersion: 3, clientId: 'x'.repeat(24) });
    assert.equal(refused.returnCode, 0x02);
    await long.expectClosed();
    const ok = await openRaw(t, port);
    assert.equal((await ok.connect({ protocolVersion: 3, clientId: 'y'.repeat(23) })).returnCode, 0);
    // 3.1.1 has no 23-character limit by default.
    const v4 = await openRaw(t, port);
    assert.equal((await v4.connect({ protocolVersion: 4, clientId: 'z'.repeat(100) })).returnCode, 0);
  });

  test('a connection that sends no CONNECT within connectTimeoutMs is closed', async (t) => {
    const { port } = await brokerFor(t, { connectTimeoutMs: 200 });
    const silent = await openRaw(t, port);
    const partial = await openRaw(t, port);
    partial.send(P.connect({ clientId: 'partial' }).subarray(0, 5));
    await silent.expectClosed(1500);
    await partial.expectClosed(1500);
    assert.deepEqual(silent.received, []);
    assert.deepEqual(partial.received, []);
  });

  test('closes the connection when the first packet is not CONNECT [MQTT-3.1.0-1]', async (t) => {
    const { port } = await brokerFor(t);
    const ping = await openRaw(t, port);
    ping.send(P.pingreq());
    await ping.expectClosed();
    assert.deepEqual(ping.received, [], 'no PINGRESP before CONNECT');
    const pub = await openRaw(t, port);
    pub.send(P.publish({ topic: 'a', payload: 'x' }));
    await pub.expectClosed();
  });

  test('a second CONNECT closes the connection [MQTT-3.1.0-2]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'twice' });
    c.send(P.connect({ clientId: 'twice' }));
    await c.expectClosed();
    assert.equal(c.received.filter((p) => p.type === 'connack').length, 1);
  });

  test('DISCONNECT makes the broker close the connection', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'bye' });
    c.send(P.disconnect());
    await c.expectClosed();
  });

  test('a CONNECT with the id of a connected client closes the old connection and hands over the session [MQTT-3.1.4-2]', async (t) => {
    const { port } = await brokerFor(t);
    const old = await openClient(t, port, { clientId: 'taken', clean: false });
    assert.deepEqual(await old.subscribe([['takeover/t', 1]]), [1]);
    const fresh = await openRaw(t, port);
    const connack = await fresh.connect({ clientId: 'taken', clean: false });
    assert.equal(connack.returnCode, 0);
    assert.equal(connack.sessionPresent, true, 'the session (with its subscription) was handed over');
    await old.expectClosed();
    const pub = await openClient(t, port, { clientId: 'takeover-pub' });
    await pub.publish({ topic: 'takeover/t', payload: 'after', qos: 1 });
    const msg = await fresh.expect('publish');
    assert.equal(msg.topic, 'takeover/t');
    assert.equal(msg.payload.toString(), 'after');
    assert.equal(msg.qos, 1);
  });

  test('a takeover with clean session 1 closes the old connection and discards its session [MQTT-3.1.4-2, MQTT-3.1.2-6]', async (t) => {
    const { port } = await brokerFor(t);
    const old = await openClient(t, port, { clientId: 'taken-clean', clean: false });
    await old.subscribe([['takeover/clean', 1]]);
    const fresh = await openRaw(t, port);
    assert.deepEqual(await fresh.connect({ clientId: 'taken-clean', clean: true }), {
      type: 'connack',
      sessionPresent: false,
      returnCode: 0,
    });
    await old.expectClosed();
    const pub = await openClient(t, port, { clientId: 'takeover-clean-pub' });
    await pub.publish({ topic: 'takeover/clean', payload: 'nobody', qos: 1 });
    await fresh.expectNothing(150);
  });

  test('Session Present is 0 with clean session 1, even if a session was stored [MQTT-3.2.2-1]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'sp-clean', clean: false });
    first.send(P.disconnect());
    await first.expectClosed();
    const again = await openRaw(t, port);
    assert.deepEqual(await again.connect({ clientId: 'sp-clean', clean: true }), {
      type: 'connack',
      sessionPresent: false,
      returnCode: 0,
    });
  });

  test('Session Present is 1 when resuming a stored session [MQTT-3.2.2-2]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await openClient(t, port, { clientId: 'sp-resume', clean: false });
    first.send(P.disconnect());
    await first.expectClosed();
    const again = await openRaw(t, port);
    assert.deepEqual(await again.connect({ clientId: 'sp-resume', clean: false }), {
      type: 'connack',
      sessionPresent: true,
      returnCode: 0,
    });
  });

  test('Session Present is 0 for a new persistent session [MQTT-3.2.2-3]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openRaw(t, port);
    assert.deepEqual(await c.connect({ clientId: 'sp-new', clean: false }), {
      type: 'connack',
      sessionPresent: false,
      returnCode: 0,
    });
  });

  test('authenticate receives client id, username, password and address; false gets CONNACK 0x05, then close', async (t) => {
    const seen: unknown[] = [];
    const { port } = await brokerFor(t, {
      authenticate: async ({ clientId, username, password, remoteAddress }) => {
        seen.push({ clientId, username, password: password?.toString('hex'), remoteAddress });
        return password?.toString() === 'right';
      },
    });
    const bad = await openRaw(t, port);
    const refused = await bad.connect({ clientId: 'auth-a', username: 'alice', password: 'wrong' });
    assert.deepEqual(refused, { type: 'connack', sessionPresent: false, returnCode: 0x05 });
    await bad.expectClosed();
    const good = await openRaw(t, port);
    assert.equal((await good.connect({ clientId: 'auth-b', username: 'alice', password: 'right' })).returnCode, 0);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0], {
      clientId: 'auth-a',
      username: 'alice',
      password: Buffer.from('wrong').toString('hex'),
      remoteAddress: (seen[0] as { remoteAddress: unknown }).remoteAddress,
    });
    assert.match(String((seen[0] as { remoteAddress: unknown }).remoteAddress), /127\.0\.0\.1/);
  });

  test('an authenticate hook that throws counts as a refusal (CONNACK 0x05)', async (t) => {
    const { port } = await brokerFor(t, {
      authenticate: async () => {
        throw new Error('auth backend down');
      },
    });
    const c = await openRaw(t, port);
    assert.equal((await c.connect({ clientId: 'auth-throws' })).returnCode, 0x05);
    await c.expectClosed();
  });

  test('packets after a refused CONNECT are not processed [MQTT-3.1.4-5]', async (t) => {
    const { port } = await brokerFor(t, { authenticate: async ({ clientId }) => clientId !== 'intruder' });
    const c = await openRaw(t, port);
    c.send(
      Buffer.concat([
        P.connect({ clientId: 'intruder' }),
        P.publish({ topic: 'refused/retained', payload: 'should not exist', retain: true }),
      ]),
    );
    assert.equal((await c.expect('connack')).returnCode, 0x05);
    await c.expectClosed();
    const watcher = await openClient(t, port, { clientId: 'watcher' });
    await watcher.subscribe([['refused/#', 0]]);
    await watcher.expectNothing(200);
  });

  test('packets sent right after CONNECT, then DISCONNECT and the end of the stream, are all handled while authentication waits (3.1.4, [MQTT-3.1.2-10])', async (t) => {
    // 3.1.4: a client need not wait for CONNACK. One that sends everything and ends its side at once (a
    // fire-and-forget device) still gets its CONNACK and PUBACK, its messages are published, and its will is not.
    const { port } = await brokerFor(t, {
      authenticate: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return true;
      },
    });
    const watcher = await openClient(t, port, { clientId: 'early-watch' });
    await watcher.subscribe([['early/#', 1], ['will/#', 0]]);
    const c = await openRaw(t, port);
    c.send(
      P.connect({ clientId: 'early', will: { topic: 'will/early', payload: 'gone' } }),
      P.publish({ topic: 'early/0', payload: 'zero' }),
      P.publish({ topic: 'early/1', payload: 'one', qos: 1, packetId: 7 }),
      P.raw(14, 0),
    );
    c.socket.end();
    assert.equal((await c.expect('connack')).returnCode, 0);
    assert.equal((await c.expect('puback')).packetId, 7);
    await c.expectClosed();
    const got = await watcher.take(2);
    assert.deepEqual(got.map((p) => p.type === 'publish' && p.topic), ['early/0', 'early/1']);
    await watcher.expectNothing(200);
  });

  test('a connection whose client has ended it is closed after connectTimeoutMs when its authentication never answers', async (t) => {
    const { port } = await brokerFor(t, { connectTimeoutMs: 300, authenticate: () => new Promise<boolean>(() => {}) });
    const c = await openRaw(t, port);
    c.send(P.connect({ clientId: 'never-answered' }));
    c.socket.end();
    await c.expectClosed(3000);
  });

  test('a CONNECT its client gave up on is not accepted late over the client\'s newer connection', async (t) => {
    let calls = 0;
    const { port } = await brokerFor(t, {
      authenticate: async ({ clientId }) => {
        // The first attempt of 'late' waits longer than the client does; the second is answered at once.
        if (clientId === 'late' && ++calls === 1) await new Promise((r) => setTimeout(r, 300));
        return true;
      },
    });
    const watcher = await openClient(t, port, { clientId: 'late-watch' });
    await watcher.subscribe([['will/#', 0]]);
    const first = await openRaw(t, port);
    first.send(P.connect({ clientId: 'late', will: { topic: 'will/late', payload: 'first' } }));
    first.socket.end();
    await new Promise((r) => setTimeout(r, 50));
    const second = await openClient(t, port, { clientId: 'late', will: { topic: 'will/late', payload: 'second' } });
    await first.expectClosed(2000);
    await new Promise((r) => setTimeout(r, 100));
    await second.ping();
    assert.equal(second.isClosed, false, 'the newer connection was not taken over');
    await watcher.expectNothing(200);
  });

  test('the clientConnected and clientDisconnected events carry the client id', async (t) => {
    const { broker, port } = await brokerFor(t);
    const connected = waitForEvent<[{ id: string }]>(broker, 'clientConnected', (c) => c.id === 'evented');
    const c = await openClient(t, port, { clientId: 'evented' });
    await connected;
    const disconnected = waitForDisconnect(broker, 'evented');
    c.destroy();
    await disconnected;
  });
});

/**
 * Will messages (MQTT 3.1.1 sections 3.1.2.5-3.1.2.7, 3.14.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, type BrokerOptions } from '../helpers/broker.js';
import { openClient, openRaw, type Cleanup, type RawClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

const will = { topic: 'will/client', payload: 'gone', qos: 1, retain: false } as const;

/** A broker, a watcher subscribed to will/# at QoS 2, and a client that set `will`. */
async function setup(t: Cleanup, connect: P.ConnectOptions = {}, options: BrokerOptions = {}) {
  const { broker, port } = await brokerFor(t, options);
  const watcher = await openClient(t, port, { clientId: 'watcher' });
  assert.deepEqual(await watcher.subscribe([['will/#', 2]]), [2]);
  const client = await openClient(t, port, { clientId: 'mortal', will, ...connect });
  return { broker, port, watcher, client };
}

async function expectWill(watcher: RawClient, timeoutMs?: number): Promise<P.Publish> {
  const p = await watcher.expect('publish', timeoutMs);
  assert.equal(p.topic, 'will/client');
  assert.equal(p.payload.toString(), 'gone');
  await watcher.acknowledge(p);
  return p;
}

describe('06 will', () => {
  test('the will is published, with its QoS, when the socket is destroyed [MQTT-3.1.2-8]', async (t) => {
    const { watcher, client } = await setup(t);
    client.destroy();
    const p = await expectWill(watcher);
    assert.equal(p.qos, 1);
    assert.equal(p.retain, false);
    await watcher.expectNothing(150);
  });

  test('the will is published when the broker closes the connection for a protocol error', async (t) => {
    const { watcher, client } = await setup(t);
    client.send(P.publish({ topic: 'bad', qos: 3, packetId: 1 }));
    await client.expectClosed();
    await expectWill(watcher);
  });

  test('the will is published when the keepalive expires [MQTT-3.1.2-8, MQTT-3.1.2-24]', async (t) => {
    const { watcher } = await setup(t, { clientId: 'sleeper', keepaliveSeconds: 1 });
    await expectWill(watcher, 3000);
  });

  test('the will of a connection taken over is published [MQTT-3.1.4-2]', async (t) => {
    const { port, watcher, client } = await setup(t);
    const successor = await openRaw(t, port);
    assert.equal((await successor.connect({ clientId: 'mortal' })).returnCode, 0);
    await client.expectClosed();
    await expectWill(watcher);
  });

  test('a will with Will Retain 1 is published retained [MQTT-3.1.2-17]', async (t) => {
    const { port, watcher, client } = await setup(t, { will: { ...will, qos: 2, retain: true } });
    client.destroy();
    const live = await expectWill(watcher);
    assert.equal(live.qos, 2);
    assert.equal(live.retain, false, 'forwarded to an established subscription with RETAIN 0 [MQTT-3.3.1-9]');
    const late = await openClient(t, port, { clientId: 'late' });
    await late.subscribe([['will/client', 2]]);
    const stored = await expectWill(late);
    assert.equal(stored.retain, true);
    assert.equal(stored.qos, 2);
  });

  test('a will with Will Retain 0 is not retained [MQTT-3.1.2-16]', async (t) => {
    const { port, watcher, client } = await setup(t);
    client.destroy();
    await expectWill(watcher);
    const late = await openClient(t, port, { clientId: 'late' });
    await late.subscribe([['will/client', 2]]);
    await late.expectNothing(150);
  });

  test('no will is published after DISCONNECT [MQTT-3.1.2-10, MQTT-3.14.4-3]', async (t) => {
    const { watcher, client } = await setup(t);
    client.send(P.disconnect());
    await client.expectClosed();
    await watcher.expectNothing(300);
  });

  test('a connection refused by authenticate never publishes its will [MQTT-3.1.2-8]', async (t) => {
    const { port } = await brokerFor(t, { authenticate: async ({ clientId }) => clientId !== 'rejected' });
    const watcher = await openClient(t, port, { clientId: 'watcher' });
    await watcher.subscribe([['will/#', 2]]);
    const c = await openRaw(t, port);
    assert.equal((await c.connect({ clientId: 'rejected', will })).returnCode, 0x05);
    await c.expectClosed();
    await watcher.expectNothing(200);
  });
});

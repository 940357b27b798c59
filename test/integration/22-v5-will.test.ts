/**
 * MQTT 5 will properties (section 3.1.3.2): the Will Delay Interval, and the will's own properties forwarded in the
 * PUBLISH it becomes, over raw sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPersistence } from '../../src/index.js';
import { brokerFor, startBroker, waitForDisconnect, type Broker } from '../helpers/broker.js';
import type { Cleanup } from '../helpers/raw-client.js';
import { Prop, V5Client, openV5, prop, props, subscribeV5, type V5Packet } from '../helpers/v5.js';

const PUBLISH = 3, SUBACK = 9;

async function watcher(t: Cleanup, port: number): Promise<V5Client> {
  const { c } = await openV5(t, port, { clientId: 'watcher' });
  c.send(subscribeV5(1, [['will/#', 0]]));
  await c.expect(SUBACK);
  return c;
}

/** Connects `clientId` with a will delayed by `delaySeconds` and a session of `expirySeconds`, then drops it. */
async function dropWithWill(t: Cleanup, broker: Broker, port: number, clientId: string, delaySeconds: number,
  expirySeconds: number): Promise<void> {
  const { c } = await openV5(t, port, {
    clientId, clean: false,
    properties: props([Prop.SessionExpiryInterval, expirySeconds]),
    will: { topic: `will/${clientId}`, payload: 'gone', properties: props([Prop.WillDelayInterval, delaySeconds]) },
  });
  const gone = waitForDisconnect(broker, clientId);
  c.destroy();
  await gone;
}

describe('22 MQTT 5 will properties', () => {
  test('the will\'s properties are forwarded and the Will Delay Interval is not [MQTT-3.1.2-8]', async (t) => {
    const { port } = await brokerFor(t);
    const w = await watcher(t, port);
    const { c } = await openV5(t, port, {
      clientId: 'props',
      will: {
        topic: 'will/props', payload: '{"state":"offline"}',
        properties: props(
          [Prop.WillDelayInterval, 0], [Prop.PayloadFormatIndicator, 1], [Prop.MessageExpiryInterval, 60],
          [Prop.ContentType, 'application/json'], [Prop.ResponseTopic, 'will/reply'],
          [Prop.CorrelationData, Buffer.from([1, 2, 3])], [Prop.UserProperty, ['k', 'v1']], [Prop.UserProperty, ['k', 'v2']],
        ),
      },
    });
    c.destroy();
    const p: V5Packet = await w.expect(PUBLISH);
    assert.equal(p.payload?.toString(), '{"state":"offline"}');
    assert.equal(prop(p, Prop.WillDelayInterval), undefined);
    assert.equal(prop(p, Prop.PayloadFormatIndicator), 1);
    assert.ok(Number(prop(p, Prop.MessageExpiryInterval)) <= 60);
    assert.equal(prop(p, Prop.ContentType), 'application/json');
    assert.equal(prop(p, Prop.ResponseTopic), 'will/reply');
    assert.deepEqual(prop(p, Prop.CorrelationData), Buffer.from([1, 2, 3]));
    assert.deepEqual(p.props.get(Prop.UserProperty), [['k', 'v1'], ['k', 'v2']]);
  });

  test('a delayed will goes out when the delay has passed, not before', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    const started = Date.now();
    await dropWithWill(t, broker, port, 'late', 1, 60);
    await w.expectNothing(600);
    const p = await w.expect(PUBLISH, 2000);
    assert.equal(p.topic, 'will/late');
    assert.ok(Date.now() - started >= 950, 'not before the Will Delay Interval');
    assert.equal(prop(p, Prop.WillDelayInterval), undefined, 'the delay is not carried into the PUBLISH');
  });

  test('no will if the client resumes its session within the delay [MQTT-3.1.3-9]', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    await dropWithWill(t, broker, port, 'back', 1, 60);
    const { connack } = await openV5(t, port, { clientId: 'back', clean: false,
      properties: props([Prop.SessionExpiryInterval, 60]) });
    assert.equal(connack.sessionPresent, true);
    assert.equal(broker.delayedWills.size, 0);
    await w.expectNothing(1300);
  });

  test('a reconnect with Clean Start 1 ends the session: the delayed will goes out at once', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    await dropWithWill(t, broker, port, 'fresh', 30, 60);
    await w.expectNothing(200);
    await openV5(t, port, { clientId: 'fresh', clean: true });
    assert.equal((await w.expect(PUBLISH)).topic, 'will/fresh');
  });

  test('the session ending before the delay sends the will then (Session Expiry 1 s, Will Delay 30 s)', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    await dropWithWill(t, broker, port, 'expiring', 30, 1);
    await w.expectNothing(600);
    assert.equal((await w.expect(PUBLISH, 2000)).topic, 'will/expiring');
  });

  test('Session Expiry 0: the session ends with the connection, so the will is not delayed', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    await dropWithWill(t, broker, port, 'now', 30, 0);
    assert.equal((await w.expect(PUBLISH, 500)).topic, 'will/now');
  });

  test('a takeover that resumes the session cancels the delayed will of the old connection', async (t) => {
    const { broker, port } = await brokerFor(t);
    const w = await watcher(t, port);
    const expiry = props([Prop.SessionExpiryInterval, 60]);
    await openV5(t, port, { clientId: 'twin', clean: false, properties: expiry,
      will: { topic: 'will/twin', payload: 'x', properties: props([Prop.WillDelayInterval, 1]) } });
    await openV5(t, port, { clientId: 'twin', clean: false, properties: expiry });
    assert.equal(broker.delayedWills.size, 0);
    await w.expectNothing(1300);
  });

  test('a delayed will is kept in the store and still published after a broker restart', async (t) => {
    const persistence = new MemoryPersistence();
    const first = await startBroker({ persistence });
    t.after(() => first.close());
    await dropWithWill(t, first.broker, first.port, 'restart', 1, 60);
    assert.equal(first.broker.delayedWills.size, 1);
    await first.close();
    const second = await brokerFor(t, { persistence });
    assert.equal(second.broker.delayedWills.size, 1, 're-armed from the store');
    const w = await watcher(t, second.port);
    assert.equal((await w.expect(PUBLISH, 2000)).topic, 'will/restart');
    assert.equal(second.broker.delayedWills.size, 0);
  });
});

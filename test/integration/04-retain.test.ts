/**
 * Retained messages (MQTT 3.1.1 section 3.3.1.3).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient, type RawClient } from '../helpers/raw-client.js';

interface Seen {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

async function receive(c: RawClient, timeoutMs?: number): Promise<Seen> {
  const p = await c.expect('publish', timeoutMs);
  await c.acknowledge(p);
  return { topic: p.topic, payload: p.payload.toString(), qos: p.qos, retain: p.retain };
}

describe('04 retain', () => {
  test('a retained message is stored and sent with RETAIN 1 to a new subscriber [MQTT-3.3.1-5, MQTT-3.3.1-6, MQTT-3.3.1-8]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'ret-pub' });
    await pub.publish({ topic: 'ret/a', payload: 'stored', qos: 1, retain: true });
    pub.destroy();
    const sub = await openClient(t, port, { clientId: 'ret-sub' });
    assert.deepEqual(await sub.subscribe([['ret/a', 1]]), [1]);
    assert.deepEqual(await receive(sub), { topic: 'ret/a', payload: 'stored', qos: 1, retain: true });
  });

  test('a message forwarded to an established subscription has RETAIN 0 even if published retained [MQTT-3.3.1-9]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'live-sub' });
    await sub.subscribe([['live/a', 1]]);
    const pub = await openClient(t, port, { clientId: 'live-pub' });
    await pub.publish({ topic: 'live/a', payload: 'now', qos: 1, retain: true });
    assert.deepEqual(await receive(sub), { topic: 'live/a', payload: 'now', qos: 1, retain: false });
  });

  test('a new retained message replaces the previous one [MQTT-3.3.1-7]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'repl-pub' });
    await pub.publish({ topic: 'repl/a', payload: 'old', qos: 1, retain: true });
    await pub.publish({ topic: 'repl/a', payload: 'new', qos: 0, retain: true });
    await pub.ping(); // the QoS 0 PUBLISH has been handled
    const sub = await openClient(t, port, { clientId: 'repl-sub' });
    await sub.subscribe([['repl/a', 1]]);
    assert.deepEqual(await receive(sub), { topic: 'repl/a', payload: 'new', qos: 0, retain: true });
    await sub.expectNothing(150);
  });

  test('a retained PUBLISH with an empty payload is forwarded and deletes the retained message [MQTT-3.3.1-10, MQTT-3.3.1-11]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'del-pub' });
    await pub.publish({ topic: 'del/a', payload: 'doomed', qos: 1, retain: true });
    const live = await openClient(t, port, { clientId: 'del-live' });
    await live.subscribe([['del/a', 1]]);
    assert.equal((await receive(live)).payload, 'doomed');
    await pub.publish({ topic: 'del/a', payload: '', qos: 1, retain: true });
    assert.deepEqual(await receive(live), { topic: 'del/a', payload: '', qos: 1, retain: false });
    const late = await openClient(t, port, { clientId: 'del-late' });
    await late.subscribe([['del/#', 1]]);
    await late.expectNothing(200);
  });

  test('a non-retained PUBLISH neither stores nor replaces the retained message [MQTT-3.3.1-12]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'nr-pub' });
    await pub.publish({ topic: 'nr/a', payload: 'retained', qos: 1, retain: true });
    await pub.publish({ topic: 'nr/a', payload: 'transient', qos: 1 });
    await pub.publish({ topic: 'nr/b', payload: 'transient', qos: 1 });
    const sub = await openClient(t, port, { clientId: 'nr-sub' });
    await sub.subscribe([['nr/+', 1]]);
    assert.deepEqual(await receive(sub), { topic: 'nr/a', payload: 'retained', qos: 1, retain: true });
    await sub.expectNothing(150);
  });

  test('retained messages are sent for every matching filter, wildcards included', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'wr-pub' });
    for (const topic of ['wr/a', 'wr/b', 'wr/a/deep', 'other/x', 'wrx'])
      await pub.publish({ topic, payload: topic, qos: 1, retain: true });
    const plus = await openClient(t, port, { clientId: 'wr-plus' });
    await plus.subscribe([['wr/+', 0]]);
    const fromPlus = [await receive(plus), await receive(plus)];
    assert.deepEqual(fromPlus.map((s) => s.topic).toSorted(), ['wr/a', 'wr/b']);
    assert.ok(fromPlus.every((s) => s.retain && s.payload === s.topic));
    await plus.expectNothing(100);

    const multi = await openClient(t, port, { clientId: 'wr-multi' });
    assert.deepEqual(await multi.subscribe([['wr/#', 1], ['other/+', 1]]), [1, 1]);
    const fromMulti: Seen[] = [];
    for (let i = 0; i < 4; i++) fromMulti.push(await receive(multi));
    assert.deepEqual(fromMulti.map((s) => s.topic).toSorted(), ['other/x', 'wr/a', 'wr/a/deep', 'wr/b']);
    assert.ok(fromMulti.every((s) => s.retain && s.qos === 1));
  });

  test('a retained message is delivered at the minimum of its stored QoS and the granted QoS', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'rq-pub' });
    await pub.publish({ topic: 'rq/two', payload: '2', qos: 2, retain: true });
    await pub.publish({ topic: 'rq/zero', payload: '0', qos: 0, retain: true });
    await pub.ping();
    const low = await openClient(t, port, { clientId: 'rq-low' });
    await low.subscribe([['rq/two', 1]]);
    assert.equal((await receive(low)).qos, 1);
    const high = await openClient(t, port, { clientId: 'rq-high' });
    await high.subscribe([['rq/zero', 2]]);
    assert.equal((await receive(high)).qos, 0);
  });

  test('500 retained QoS 1 messages all reach a new subscriber through an in-flight window of 5', async (t) => {
    const { port } = await brokerFor(t, { maxInflight: 5 });
    const pub = await openClient(t, port, { clientId: 'many-pub' });
    const count = 500;
    for (let i = 0; i < count; i++) await pub.publish({ topic: `many/${i}`, payload: String(i), qos: 1, retain: true });
    const sub = await openClient(t, port, { clientId: 'many-sub' });
    assert.deepEqual(await sub.subscribe([['many/#', 1]]), [1]);
    const topics = new Set<string>();
    for (let i = 0; i < count; i++) {
      const s = await receive(sub);
      assert.ok(s.retain);
      assert.equal(s.qos, 1);
      topics.add(s.topic);
    }
    assert.equal(topics.size, count);
    await sub.expectNothing(100);
  });
});

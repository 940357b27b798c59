/**
 * SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK and topic matching (MQTT 3.1.1 sections 3.8-3.11 and 4.7).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient, type Cleanup, type RawClient } from '../helpers/raw-client.js';

/**
 * Subscribes a fresh client to `filter`, publishes to each of `topics` (payload = topic) and then to `endTopic`
 * (which must match), and returns the topics that arrived before the end marker. Messages from one publisher are
 * forwarded in the order received, so anything that was going to arrive arrives before the marker.
 */
async function deliveredTopics(
  t: Cleanup,
  port: number,
  filter: string,
  topics: string[],
  endTopic: string,
): Promise<string[]> {
  const sub = await openClient(t, port, { clientId: `sub-${filter}` });
  assert.deepEqual(await sub.subscribe([[filter, 0]]), [0]);
  const pub = await openClient(t, port, { clientId: `pub-${filter}` });
  for (const topic of topics) await pub.publish({ topic, payload: topic });
  await pub.publish({ topic: endTopic, payload: 'END' });
  const got: string[] = [];
  for (;;) {
    const p = await sub.expect('publish');
    if (p.payload.toString() === 'END') return got;
    got.push(p.topic);
  }
}

async function receiveOne(c: RawClient): Promise<{ topic: string; payload: string; qos: number; retain: boolean }> {
  const p = await c.expect('publish');
  await c.acknowledge(p);
  return { topic: p.topic, payload: p.payload.toString(), qos: p.qos, retain: p.retain };
}

describe('02 subscribe', () => {
  test('SUBACK carries the SUBSCRIBE packet id and one granted QoS per filter, in order [MQTT-3.8.4-1, MQTT-3.8.4-2, MQTT-3.8.4-4, MQTT-3.9.3-1]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'suback' });
    assert.deepEqual(await c.subscribe([['s/0', 0], ['s/1', 1], ['s/2', 2]], 4242), [0, 1, 2]);
  });

  test('+ matches exactly one whole level, including an empty one [MQTT-4.7.1-3]', async (t) => {
    const { port } = await brokerFor(t);
    const got = await deliveredTopics(t, port, 'a/+/c', ['a/b/c', 'a/b/x/c', 'a/c', 'a//c', 'A/b/c', 'a/b/c/'], 'a/end/c');
    assert.deepEqual(got, ['a/b/c', 'a//c']);
  });

  test('# matches the parent level and every level below it [MQTT-4.7.1-2]', async (t) => {
    const { port } = await brokerFor(t);
    const got = await deliveredTopics(
      t,
      port,
      'sport/tennis/#',
      ['sport/tennis', 'sport/tennis/player1', 'sport/tennis/player1/ranking', 'sport/tennisx', 'sport/golf'],
      'sport/tennis/end',
    );
    assert.deepEqual(got, ['sport/tennis', 'sport/tennis/player1', 'sport/tennis/player1/ranking']);
  });

  test('# alone matches every topic, including one starting with /', async (t) => {
    const { port } = await brokerFor(t);
    const got = await deliveredTopics(t, port, '#', ['x', '/x', 'x/y/z'], 'end');
    assert.deepEqual(got, ['x', '/x', 'x/y/z']);
  });

  test('filters starting with a wildcard do not match $SYS topics [MQTT-4.7.2-1]', async (t) => {
    const { port } = await brokerFor(t, { sysIntervalSeconds: 1 });
    const wild = await openClient(t, port, { clientId: 'wild' });
    assert.deepEqual(await wild.subscribe([['#', 0], ['+/broker/#', 0], ['+/+/uptime', 0]]), [0, 0, 0]);
    const sys = await openClient(t, port, { clientId: 'sys' });
    assert.deepEqual(await sys.subscribe([['$SYS/broker/uptime', 0]]), [0]);
    // Wait for a periodic update (RETAIN 0), not the retained copy sent on subscribing.
    await sys.nextOf('publish', (p) => p.topic === '$SYS/broker/uptime' && !p.retain, 2500);
    await wild.expectNothing(200);
  });

  test('a message is delivered to every matching subscriber', async (t) => {
    const { port } = await brokerFor(t);
    const subs: RawClient[] = [];
    for (const [i, filter] of ['fan/out', 'fan/+', 'fan/#'].entries()) {
      const c = await openClient(t, port, { clientId: `fan-${i}` });
      await c.subscribe([[filter, 1]]);
      subs.push(c);
    }
    const pub = await openClient(t, port, { clientId: 'fan-pub' });
    await pub.publish({ topic: 'fan/out', payload: 'hello', qos: 1 });
    for (const c of subs) assert.deepEqual(await receiveOne(c), { topic: 'fan/out', payload: 'hello', qos: 1, retain: false });
  });

  test('overlapping subscriptions deliver the message once, at the highest granted QoS [MQTT-3.3.5-1]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'overlap' });
    assert.deepEqual(await sub.subscribe([['ov/+', 0], ['ov/#', 2], ['ov/x', 1]]), [0, 2, 1]);
    const pub = await openClient(t, port, { clientId: 'overlap-pub' });
    await pub.publish({ topic: 'ov/x', payload: 'once', qos: 2 });
    assert.deepEqual(await receiveOne(sub), { topic: 'ov/x', payload: 'once', qos: 2, retain: false });
    await sub.expectNothing(200);
  });

  test('SUBACK has 0x80 for a filter authorizeSubscribe refuses; the other filters are granted [MQTT-3.8.4-5]', async (t) => {
    const asked: string[] = [];
    const { port } = await brokerFor(t, {
      authorizeSubscribe: async (_client, { topicFilter }) => {
        asked.push(topicFilter);
        return !topicFilter.startsWith('secret');
      },
    });
    const sub = await openClient(t, port, { clientId: 'authz-sub' });
    assert.deepEqual(await sub.subscribe([['open/#', 1], ['secret/#', 1]]), [1, 0x80]);
    assert.deepEqual(asked, ['open/#', 'secret/#']);
    const pub = await openClient(t, port, { clientId: 'authz-pub' });
    await pub.publish({ topic: 'secret/plans', payload: 'no', qos: 1 });
    await pub.publish({ topic: 'open/news', payload: 'yes', qos: 1 });
    assert.deepEqual(await receiveOne(sub), { topic: 'open/news', payload: 'yes', qos: 1, retain: false });
  });

  test('authorizeSubscribe returning a number caps the granted QoS [MQTT-3.8.4-6]', async (t) => {
    const { port } = await brokerFor(t, { authorizeSubscribe: async () => 1 as const });
    const sub = await openClient(t, port, { clientId: 'capped' });
    assert.deepEqual(await sub.subscribe([['cap/a', 2], ['cap/b', 0]]), [1, 0]);
    const pub = await openClient(t, port, { clientId: 'capped-pub' });
    await pub.publish({ topic: 'cap/a', payload: 'x', qos: 2 });
    assert.equal((await receiveOne(sub)).qos, 1);
  });

  test('an authorizeSubscribe hook that throws refuses the filter (0x80)', async (t) => {
    const { port } = await brokerFor(t, {
      authorizeSubscribe: async () => {
        throw new Error('acl store down');
      },
    });
    const sub = await openClient(t, port, { clientId: 'authz-throws' });
    assert.deepEqual(await sub.subscribe([['any', 0]]), [0x80]);
    await sub.ping();
  });

  test('UNSUBSCRIBE gets an UNSUBACK with its packet id and stops delivery [MQTT-3.10.4-2, MQTT-3.10.4-4]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'unsub' });
    await sub.subscribe([['u/a', 0], ['u/b', 0]]);
    await sub.unsubscribe(['u/a'], 777);
    const pub = await openClient(t, port, { clientId: 'unsub-pub' });
    await pub.publish({ topic: 'u/a', payload: 'gone' });
    await pub.publish({ topic: 'u/b', payload: 'kept' });
    assert.equal((await receiveOne(sub)).payload, 'kept');
    await sub.expectNothing(100);
  });

  test('UNSUBSCRIBE of a filter that is not subscribed still gets an UNSUBACK [MQTT-3.10.4-5]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'unsub-none' });
    await c.unsubscribe(['never/subscribed', 'nor/this'], 9);
    await c.ping();
  });

  test('UNSUBSCRIBE compares filters character by character: a/+ does not remove a/b [MQTT-3.10.4-1]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'unsub-exact' });
    await sub.subscribe([['ux/b', 0]]);
    await sub.unsubscribe(['ux/+', 'ux/#']);
    const pub = await openClient(t, port, { clientId: 'unsub-exact-pub' });
    await pub.publish({ topic: 'ux/b', payload: 'still here' });
    assert.equal((await receiveOne(sub)).payload, 'still here');
  });

  test('a SUBSCRIBE for an existing filter replaces it and re-sends retained messages [MQTT-3.8.4-3]', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await openClient(t, port, { clientId: 'replace-pub' });
    await pub.publish({ topic: 'rep/x', payload: 'kept', qos: 1, retain: true });
    const sub = await openClient(t, port, { clientId: 'replace' });
    assert.deepEqual(await sub.subscribe([['rep/x', 0]]), [0]);
    assert.deepEqual(await receiveOne(sub), { topic: 'rep/x', payload: 'kept', qos: 0, retain: true });
    assert.deepEqual(await sub.subscribe([['rep/x', 1]]), [1]);
    assert.deepEqual(await receiveOne(sub), { topic: 'rep/x', payload: 'kept', qos: 1, retain: true });
    await pub.publish({ topic: 'rep/x', payload: 'live', qos: 1 });
    assert.deepEqual(await receiveOne(sub), { topic: 'rep/x', payload: 'live', qos: 1, retain: false });
    await sub.expectNothing(150);
  });

  test('a client receives its own messages (3.1.1 has no No Local option)', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'echo' });
    await c.subscribe([['echo/#', 1]]);
    await c.publish({ topic: 'echo/me', payload: 'mirror', qos: 1 });
    assert.deepEqual(await receiveOne(c), { topic: 'echo/me', payload: 'mirror', qos: 1, retain: false });
  });
});

/**
 * $SYS topics, named as Mosquitto names them, published every sysIntervalSeconds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor } from '../helpers/broker.js';
import { openClient, type RawClient } from '../helpers/raw-client.js';

/**
 * Collects $SYS messages until every topic in `wanted` has been seen, and every topic in `live` has been seen in a
 * periodic (non-retained) update, so retained values from before the test clients connected do not count.
 * Returns the latest payload per topic.
 */
async function collect(
  c: RawClient,
  wanted: readonly string[],
  live: readonly string[],
  timeoutMs = 3500,
): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const fresh = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  const missing = (): string[] => [
    ...wanted.filter((topic) => !seen.has(topic)),
    ...live.filter((topic) => !fresh.has(topic)).map((topic) => `${topic} (live)`),
  ];
  while (missing().length > 0) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) assert.fail(`missing $SYS topics: ${missing().join(', ')}; seen: ${[...seen.keys()].join(', ')}`);
    const p = await c.expect('publish', remaining).catch((err: Error) => {
      assert.fail(`missing $SYS topics: ${missing().join(', ')}; ${err.message}`);
    });
    seen.set(p.topic, p.payload.toString());
    if (!p.retain) fresh.add(p.topic);
  }
  return seen;
}

const counters = [
  '$SYS/broker/clients/connected',
  '$SYS/broker/messages/received',
  '$SYS/broker/subscriptions/count',
  '$SYS/broker/retained messages/count',
  '$SYS/broker/load/messages/received/1min',
] as const;

describe('10 $SYS', () => {
  test('a $SYS/# subscriber receives the broker version, uptime and Mosquitto-named counters', async (t) => {
    const { port } = await brokerFor(t, { sysIntervalSeconds: 1 });
    const pub = await openClient(t, port, { clientId: 'sys-pub' });
    await pub.publish({ topic: 'sys/retained', payload: 'r', qos: 1, retain: true });
    const c = await openClient(t, port, { clientId: 'sys-sub' });
    assert.deepEqual(await c.subscribe([['$SYS/#', 0]]), [0]);
    const seen = await collect(c, ['$SYS/broker/version', '$SYS/broker/uptime', ...counters], counters);

    assert.ok((seen.get('$SYS/broker/version') ?? '').length > 0, 'version is not empty');
    assert.match(seen.get('$SYS/broker/uptime') ?? '', /^\d+ seconds$/);
    for (const topic of counters) assert.match(seen.get(topic) ?? '', /^\d+(\.\d+)?$/, `${topic} is a number`);
    assert.ok(Number(seen.get('$SYS/broker/clients/connected')) >= 2);
    assert.ok(Number(seen.get('$SYS/broker/messages/received')) >= 1);
    assert.ok(Number(seen.get('$SYS/broker/subscriptions/count')) >= 1);
    assert.ok(Number(seen.get('$SYS/broker/retained messages/count')) >= 1);
  });

  test('$SYS/broker/clients/connected follows connections', async (t) => {
    const { port } = await brokerFor(t, { sysIntervalSeconds: 1 });
    const c = await openClient(t, port, { clientId: 'sys-count' });
    await c.subscribe([['$SYS/broker/clients/connected', 0]]);
    for (let i = 0; i < 3; i++) await openClient(t, port, { clientId: `extra-${i}` });
    const deadline = Date.now() + 3500;
    let last = '';
    while (last !== '4') {
      assert.ok(Date.now() < deadline, `clients/connected stayed at ${last}, expected 4`);
      last = (await c.expect('publish', Math.max(1, deadline - Date.now()))).payload.toString();
    }
  });

  test('sysIntervalSeconds 0 disables $SYS', async (t) => {
    const { port } = await brokerFor(t, { sysIntervalSeconds: 0 });
    const c = await openClient(t, port, { clientId: 'no-sys' });
    await c.subscribe([['$SYS/#', 0]]);
    await c.expectNothing(500);
  });
});

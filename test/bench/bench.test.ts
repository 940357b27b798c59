import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createBroker } from '../../src/index.js';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/bench.js';
import { bench } from './run-bench.js';
import { slow } from '../../src/bench/scenarios.js';


test('culex bench sub and pub against an in-process broker report sane JSON', async (t) => {
  const broker = createBroker();
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const common = ['-p', String(port), '-q', '1', '--json', '--workers', '1'];

  const subscribed = once(broker, 'subscribed');
  // The subscriber's window must outlast the publisher's start-up (a forked worker under tsx, slow on a busy machine).
  const sub = bench(['sub', '-t', 'smoke/#', '-d', '4', ...common]);
  await subscribed;
  const pub = await bench(['pub', '-t', 'smoke/%i', '-c', '2', '-r', '200', '-d', '1', '-s', '32', ...common]);
  const subResult = await sub;

  assert.equal(pub.code, 0, pub.stderr);
  assert.equal(pub.json['scenario'], 'pub');
  assert.equal(pub.json['publishers'], 2);
  assert.equal(pub.json['payloadBytes'], 32);
  const sent = pub.json['sent'] as number;
  assert.ok(sent >= 200 && sent <= 500, `2 publishers at 200/s for ~1 s sent ${sent}`);
  assert.equal(pub.json['acked'], sent);
  assert.equal(pub.json['unacked'], 0);

  assert.equal(subResult.code, 0, subResult.stderr);
  assert.equal(subResult.json['scenario'], 'sub');
  assert.equal(subResult.json['received'], sent);
  assert.equal(subResult.json['duplicates'], 0);
  assert.ok((subResult.json['receiveRate'] as number) > 0);
  const latency = subResult.json['latency'] as Record<string, number>;
  assert.equal(latency['count'], sent);
  assert.ok(latency['p50Us']! > 0 && latency['p50Us']! <= latency['p99Us']! && latency['p99Us']! <= latency['maxUs']!);
});

test('culex bench refuses an unbounded run and an unknown scenario', async () => {
  const io = { stdout: new PassThrough(), stderr: new PassThrough() };
  assert.equal(await run(['pub', '-d', '0'], io), 1);
  assert.equal(await run(['frobnicate'], io), 1);
});

test('slow scenario: fast subscribers in group main, one paused subscriber in group slow; everyone gets every message', async (t) => {
  const plan = slow(3, 2, 400, { qos: 1, payloadBytes: 16, ratePerSecond: 0, maxCount: 0, inflight: 1000 });
  assert.deepEqual(plan.subscribers.map((s) => [s.id, s.filter, s.group, s.pauseMs]),
    [[0, 'bench/#', 'main', 0], [1, 'bench/#', 'main', 0], [2, 'bench/#', 'slow', 400]]);
  assert.deepEqual(plan.publishers.map((p) => [p.topic, p.inflight]), [['bench/0', 1000], ['bench/1', 1000], ['bench/2', 1000]]);
  // Without fast subscribers the paused one is the result.
  assert.deepEqual(slow(1, 0, 400, plan.publishers[0]!).subscribers.map((s) => s.group), ['main']);

  const broker = createBroker({ maxInflight: 65_535, maxQueuedMessages: 0 });
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const { code, json } = await bench(['slow', '-p', String(port), '-q', '1', '--publishers', '4', '--subscribers', '1',
    '--pause', '0.4', '-d', '0.8', '-w', '0.2', '--drain', '5000', '--workers', '1', '--json']);
  assert.equal(code, 0, JSON.stringify(json));
  assert.equal(json['subscribers'], 2);
  const acked = json['acked'] as number;
  assert.ok(acked > 0);
  assert.deepEqual(json['receivedByGroup'], { main: acked, slow: acked });
  assert.equal(json['lost'], 0);
  assert.equal(json['duplicates'], 0);
});

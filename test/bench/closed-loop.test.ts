/**
 * The load generator's closed loop for QoS 0 flat out: publishers are held while more deliveries are outstanding
 * than --backlog allows, so a run measures delivery rather than kernel buffering. With --backlog 0 it is off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBroker } from '../../src/index.js';
import { bench } from './run-bench.js';

async function benchJson(args: string[]): Promise<Record<string, unknown>> {
  const { code, json } = await bench(args);
  assert.equal(code, 0, JSON.stringify(json));
  return json;
}


test('QoS 0 flat-out fanin: a small --backlog throttles the publishers; --backlog 0 never does; nothing is lost', async (t) => {
  const broker = createBroker();
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const common = ['fanin', '-p', String(port), '-q', '0', '--publishers', '2', '-d', '0.5', '-w', '0.2', '--workers', '1',
    '--json'];
  const closed = await benchJson([...common, '--backlog', '100']);
  assert.ok((closed['throttleEpisodes'] as number) >= 1, `throttled ${String(closed['throttleEpisodes'])} times`);
  assert.ok((closed['received'] as number) > 0);
  const open = await benchJson([...common, '--backlog', '0']);
  assert.equal(open['throttleEpisodes'], undefined);
  assert.ok((open['received'] as number) > 0);
});

test('the closed loop stays off at QoS 1 and for paced publishers', async (t) => {
  const broker = createBroker({ maxInflight: 65_535, maxQueuedMessages: 0 });
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const base = ['fanin', '-p', String(port), '--publishers', '2', '-d', '0.3', '-w', '0.1', '--workers', '1', '--json',
    '--backlog', '100'];
  assert.equal((await benchJson([...base, '-q', '1']))['throttleEpisodes'], undefined);
  assert.equal((await benchJson([...base, '-q', '0', '-r', '100']))['throttleEpisodes'], undefined);
});

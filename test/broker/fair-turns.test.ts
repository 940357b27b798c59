/**
 * Fair turns: while a connected subscriber's delivery waits on a small in-flight window, a connection takes at most
 * 64 PUBLISH packets per event-loop turn, so a publisher's deep backlog cannot make every turn long (the subscriber
 * gets one window per turn). Clients are in-memory Duplex streams: a chunk is handled inside `push()`, so the test
 * can count what the broker took before the turn ends.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createBroker } from '../../src/index.js';
import { connect, publish, raw, subscribe, u16, Framer, type Parsed } from '../helpers/packets.js';

class MemoryClient extends Duplex {
  readonly packets: Parsed[] = [];
  readonly #framer = new Framer();

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.packets.push(...this.#framer.push(chunk));
    callback();
  }

  send(bytes: Buffer): void {
    this.push(bytes);
  }
}

type Broker = ReturnType<typeof createBroker>;

async function connected(broker: Broker, clientId: string): Promise<MemoryClient> {
  const client = new MemoryClient();
  broker.handle(client);
  client.send(connect({ clientId }));
  await nextTurn();
  assert.deepEqual(client.packets.map((p) => p.type), ['connack']);
  client.packets.length = 0;
  return client;
}

const burst = (count: number, first = 1): Buffer => Buffer.concat(Array.from({ length: count },
  (_, i) => publish({ topic: 'burst/x', payload: 'b', qos: 1, packetId: first + i })));

/** A subscriber on w/# whose window (`window`, the broker's maxInflight) is full with 10 messages queued behind it; it then acknowledges one. */
async function waitingSubscriber(broker: Broker, publisher: MemoryClient, window = 20): Promise<void> {
  const sub = await connected(broker, 'sub');
  sub.send(subscribe(1, [['w/#', 1]]));
  await nextTurn();
  publisher.send(Buffer.concat(Array.from({ length: window + 10 },
    (_, i) => publish({ topic: 'w/1', payload: 'w', qos: 1, packetId: 1000 + i }))));
  for (let turn = 0; turn < 50 && broker.stats.publishReceived < window + 10; turn++) await nextTurn();
  await nextTurn();
  const first = sub.packets.find((p) => p.type === 'publish');
  assert.ok(first?.type === 'publish' && first.packetId !== undefined);
  sub.send(raw(4, 0, u16(first.packetId)));
  publisher.packets.length = 0;
}

/** A default broker (window 20) with a publisher and a subscriber waiting behind its window. */
async function withWaitingSubscriber(t: TestContext): Promise<{ broker: Broker; publisher: MemoryClient }> {
  const broker = createBroker();
  t.after(() => broker.close());
  const publisher = await connected(broker, 'pub');
  await waitingSubscriber(broker, publisher);
  return { broker, publisher };
}

async function allAcked(client: MemoryClient, count: number): Promise<void> {
  for (let turn = 0; turn < 50 && client.packets.filter((p) => p.type === 'puback').length < count; turn++) await nextTurn();
}

test('while a subscriber waits on a window of 20, a chunk of 200 PUBLISH is taken at most 64 per turn, and every one is acknowledged', async (t) => {
  const { broker, publisher } = await withWaitingSubscriber(t);

  const before = broker.stats.publishReceived;
  publisher.send(burst(200));
  // The count runs across chunks (the 30 PUBLISH packets before this chunk count too), so the first turn takes 64
  // less those; every later turn takes 64.
  const first = broker.stats.publishReceived - before;
  assert.ok(first > 0 && first <= 64, `the first turn took ${first}`);
  await nextTurn();
  assert.equal(broker.stats.publishReceived - before, first + 64, 'the next turn 64 more');
  // Sent while the connection waits for its next turn (its stream paused): kept, and taken after the rest.
  publisher.send(burst(50, 201));
  await allAcked(publisher, 250);
  assert.equal(broker.stats.publishReceived - before, 250);
  const acked = publisher.packets.flatMap((p) => (p.type === 'puback' ? [p.packetId] : []));
  assert.deepEqual(acked, Array.from({ length: 250 }, (_, i) => i + 1), 'all acknowledged, in order');
});

test('the limit counts across chunks: 200 PUBLISH packets in 200 chunks of one turn are taken 64 per turn too', async (t) => {
  const { broker, publisher } = await withWaitingSubscriber(t);

  const before = broker.stats.publishReceived;
  for (let i = 1; i <= 200; i++) publisher.send(burst(1, i));
  assert.ok(broker.stats.publishReceived - before <= 64, `took ${broker.stats.publishReceived - before} in the first turn`);
  await allAcked(publisher, 200);
  assert.equal(broker.stats.publishReceived - before, 200);
});

test('with no subscriber waiting, or only behind a large window, a chunk is taken whole', async (t) => {
  for (const maxInflight of [undefined, 2000]) {
    const broker = createBroker(maxInflight === undefined ? {} : { maxInflight });
    t.after(() => broker.close());
    const publisher = await connected(broker, 'pub');
    if (maxInflight !== undefined) await waitingSubscriber(broker, publisher, maxInflight);
    const before = broker.stats.publishReceived;
    publisher.send(burst(200));
    assert.equal(broker.stats.publishReceived - before, 200, `maxInflight ${maxInflight ?? 'default, nobody waiting'}`);
    await allAcked(publisher, 200);
  }
});

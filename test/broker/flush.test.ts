/**
 * When the broker writes: what one input chunk caused leaves as soon as that chunk has been handled (one write per
 * receiving connection), not at the end of the event-loop turn. Clients here are in-memory Duplex streams, so a
 * chunk is handled synchronously inside `push()` and the test can look at the writes before the turn ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createBroker } from '../../src/index.js';
import { connect, publish, subscribe, Framer } from '../helpers/packets.js';

/** A client end: what the broker writes is kept per write; `send` hands the broker one chunk. */
class MemoryClient extends Duplex {
  readonly writes: Buffer[] = [];

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writes.push(chunk);
    callback();
  }

  send(bytes: Buffer): void {
    this.push(bytes);
  }
}

/** The packet types in one write (a write holds whole packets), in order. */
function typesIn(write: Buffer): string[] {
  return new Framer().push(write).map((p) => p.type);
}

async function connected(broker: ReturnType<typeof createBroker>, clientId: string): Promise<MemoryClient> {
  const client = new MemoryClient();
  broker.handle(client);
  client.send(connect({ clientId }));
  await nextTurn();
  assert.deepEqual(client.writes.flatMap((w) => typesIn(w)), ['connack']);
  client.writes.length = 0;
  return client;
}

test('a chunk\'s deliveries are written before its push() returns, one write per receiving connection', async (t) => {
  const broker = createBroker();
  t.after(() => broker.close());
  const subscriber = await connected(broker, 'sub');
  subscriber.send(subscribe(1, [['t/#', 1]]));
  await nextTurn();
  subscriber.writes.length = 0;
  const publisher = await connected(broker, 'pub');

  publisher.send(Buffer.concat([
    publish({ topic: 't/1', payload: 'a', qos: 1, packetId: 1 }),
    publish({ topic: 't/2', payload: 'b', qos: 1, packetId: 2 }),
    publish({ topic: 't/3', payload: 'c', qos: 0 }),
  ]));
  // Still inside this turn: without the per-chunk flush nothing would have been written yet.
  assert.equal(subscriber.writes.length, 1, 'the three deliveries in one write');
  assert.deepEqual(typesIn(subscriber.writes[0]!), ['publish', 'publish', 'publish']);
  assert.equal(publisher.writes.length, 1, 'both PUBACKs in one write');
  assert.deepEqual(typesIn(publisher.writes[0]!), ['puback', 'puback']);

  // A second chunk in the same turn is a second write.
  publisher.send(publish({ topic: 't/4', payload: 'd', qos: 0 }));
  assert.equal(subscriber.writes.length, 2);
  await nextTurn();
  assert.equal(subscriber.writes.length, 2, 'nothing left over for the end of the turn');
});

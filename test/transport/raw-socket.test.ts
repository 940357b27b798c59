/**
 * RawSocket: a plain TCP listener serves connections on the bare libuv handle. Each test takes the stream a listener
 * hands over and checks one part of what the Connection relies on (the ByteStream contract) against a real
 * `net.Socket` peer; then the broker's own behaviour over both kinds of socket.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, Socket, type AddressInfo } from 'node:net';
import type { ByteStream } from '../../src/broker/byte-stream.ts';
import { listen, type Listener } from '../../src/transport/listener.ts';
import { loadStreamBinding, RawSocket } from '../../src/transport/raw-socket.ts';
import { createBroker } from '../../src/create-broker.ts';
import { openClient, openRaw } from '../helpers/raw-client.ts';
import * as P from '../helpers/packets.ts';
import { brokerWithLog, mqttClient, type Cleanup } from './helpers.ts';

interface Pair {
  readonly server: ByteStream & { readonly remoteAddress?: string; readonly remotePort?: number };
  readonly client: Socket;
  readonly listener: Listener;
}

/** A listener whose handler keeps the stream it is handed (started, like the broker's, by the listener). */
async function pair(t: Cleanup, options: { isRawSocketAllowed?: boolean } = {}): Promise<Pair> {
  let handedOver: ((stream: ByteStream) => void) | undefined;
  const stream = new Promise<ByteStream>((resolve) => { handedOver = resolve; });
  const listener = await listen({ handle: (s) => handedOver!(s) }, { port: 0, host: '127.0.0.1', isRawSocketAllowed: true, ...options });
  // Half-open like the server side, so a test can write after the server's end.
  const client = netConnect({ port: (listener.address as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  client.on('error', () => {});
  const server = await stream;
  t.after(async () => {
    client.destroy();
    server.destroy();
    await listener.close();
  });
  return { server: server as Pair['server'], client, listener };
}

/** Collects what `stream` emits as 'data' until `count` bytes have come. */
function readBytes(stream: ByteStream | Socket, count: number, timeoutMs = 5000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${total} of ${count} bytes in ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total < count) return;
      clearTimeout(timer);
      (stream as Socket).off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    (stream as Socket).on('data', onData);
  });
}

function pattern(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  return bytes;
}

const tick = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RawSocket', { timeout: 20_000, skip: loadStreamBinding() === undefined && 'this Node lacks the stream binding' }, () => {
  test('a plain TCP listener hands over a RawSocket with isRawSocketAllowed, else a net.Socket', async (t) => {
    const raw = (await pair(t)).server;
    assert.ok(raw instanceof RawSocket);
    assert.equal(raw.allowHalfOpen, false, 'like a net.Socket until its user says otherwise');
    assert.ok(!((await pair(t, { isRawSocketAllowed: false })).server instanceof RawSocket));
  });

  test('allowHalfOpen false (the default): the peer\'s end ends the output too, and the socket closes', async (t) => {
    const { server, client } = await pair(t);
    const closed = once(server as Socket, 'close');
    client.end();
    await once(client, 'end');
    await closed;
  });

  test('paused again after a partial hand-over, it reads on below the high-water mark and sees the peer\'s end', async (t) => {
    const { server, client } = await pair(t);
    const events: string[] = [];
    let total = 0;
    server.pause();
    client.write(pattern(40_000));
    await tick(100);
    server.on('data', (chunk) => {
      total += chunk.length;
      if (total === 40_000) {
        events.push('all in, paused');
        server.pause();
      }
    });
    server.on('end', () => { events.push('end'); });
    server.resume();
    await tick(100);
    client.end();
    await tick(200);
    assert.deepEqual(events, ['all in, paused', 'end']);
  });

  test('bytes both ways, in order; the peer address is the client socket\'s', async (t) => {
    const { server, client } = await pair(t);
    await once(client, 'connect');
    assert.equal(server.remoteAddress, '127.0.0.1');
    assert.equal(server.remotePort, client.localPort);
    const up = pattern(200_000);
    const got = readBytes(server, up.length);
    client.write(up);
    assert.ok((await got).equals(up));
    const down = Buffer.from(pattern(300_000).toReversed());
    const back = readBytes(client, down.length);
    server.write(down);
    assert.ok((await back).equals(down));
  });

  test('paused, it hands nothing over; resumed, what came meanwhile arrives in order on a later tick', async (t) => {
    const { server, client } = await pair(t);
    const seen: Buffer[] = [];
    server.on('data', (chunk) => { seen.push(chunk); });
    server.pause();
    client.write('abc');
    client.write('def');
    await tick();
    assert.equal(seen.length, 0);
    server.resume();
    assert.equal(seen.length, 0, 'not re-entrantly from resume()');
    await tick();
    assert.equal(Buffer.concat(seen).toString(), 'abcdef');
  });

  test('paused, it stops reading at the high-water mark: the peer backs up, and every byte comes after resume', async (t) => {
    const { server, client } = await pair(t);
    const seen: Buffer[] = [];
    let total = 0;
    server.on('data', (chunk) => { seen.push(chunk); total += chunk.length; });
    server.pause();
    const big = pattern(64 * 1024 * 1024);
    const isAllTaken = client.write(big);
    assert.equal(isAllTaken, false);
    await tick(300);
    assert.equal(total, 0);
    assert.ok(client.writableLength > 0, 'the kernel buffers filled up and the client waits');
    server.resume();
    const deadline = Date.now() + 10_000;
    while (total < big.length && Date.now() < deadline) await tick(20);
    assert.ok(Buffer.concat(seen).equals(big));
  });

  test('the peer\'s end while paused: emitted at once with nothing held, else after what is held [half-open]', async (t) => {
    const empty = await pair(t);
    const ended = once(empty.server as Socket, 'end');
    empty.server.pause();
    empty.client.end();
    await ended;

    const { server, client } = await pair(t);
    server.allowHalfOpen = true; // as a Connection sets it
    const events: string[] = [];
    server.on('data', (chunk) => { events.push(chunk.toString()); });
    server.on('end', () => { events.push('end'); });
    server.pause();
    client.end('last words');
    await tick(100);
    assert.deepEqual(events, []);
    server.resume();
    await tick(50);
    assert.deepEqual(events, ['last words', 'end']);
    // Half-open: the output is still open after the peer's end, until end().
    assert.equal(server.destroyed, false);
    const reply = readBytes(client, 5);
    server.write(Buffer.from('reply'));
    assert.equal((await reply).toString(), 'reply');
    const closed = once(server as Socket, 'close');
    server.end();
    await closed;
    assert.equal(server.destroyed, true);
  });

  test('end(): queued bytes leave first, then the peer sees the end; the socket closes when the peer ends too', async (t) => {
    const { server, client } = await pair(t);
    const payload = pattern(2 * 1024 * 1024);
    const got = readBytes(client, payload.length);
    client.pause();
    server.write(payload);
    server.end();
    assert.equal(server.write(Buffer.from('late')), false, 'no write after end()');
    await tick(100);
    client.resume();
    assert.ok((await got).equals(payload));
    await once(client, 'end');
    // The client may still send (half-open) until it ends too.
    const up = readBytes(server, 2);
    client.write('hi');
    assert.equal((await up).toString(), 'hi');
    const closed = once(server as Socket, 'close');
    client.end();
    await closed;
  });

  test('a peer that does not read: write returns false, writableNeedDrain and writableLength say so, then drain', async (t) => {
    const { server, client } = await pair(t);
    client.pause();
    const chunk = pattern(256 * 1024);
    let written = 0;
    while (server.write(chunk)) {
      written += chunk.length;
      assert.ok(written < 256 * 1024 * 1024, 'write never returned false');
    }
    written += chunk.length;
    assert.equal(server.writableNeedDrain, true);
    assert.ok(server.writableLength >= 16 * 1024);
    const drained = once(server as Socket, 'drain');
    const got = readBytes(client, written, 20_000);
    client.resume();
    await drained;
    assert.equal(server.writableNeedDrain, false);
    assert.equal(server.writableLength, 0);
    assert.equal((await got).length, written);
  });

  test('no drain after end(), as on a net.Socket: nothing more may be written', async (t) => {
    const { server, client } = await pair(t);
    client.pause();
    const chunk = pattern(256 * 1024);
    let written = chunk.length;
    while (server.write(chunk)) written += chunk.length;
    let isDrained = false;
    server.on('drain', () => { isDrained = true; });
    server.end();
    assert.equal(server.writableNeedDrain, false);
    const got = readBytes(client, written, 20_000);
    client.resume();
    assert.equal((await got).length, written);
    await tick(50);
    assert.equal(isDrained, false);
  });

  test('listener.close() resolves once its RawSockets have closed, as net.Server does for its sockets', async (t) => {
    const { server, listener } = await pair(t);
    let isClosed = false;
    const closing = listener.close().then(() => { isClosed = true; });
    await tick(100);
    assert.equal(isClosed, false);
    server.destroy();
    await closing;
  });

  test('destroy(error): error, then close, once; writes after it are refused', async (t) => {
    const { server, client } = await pair(t);
    const events: string[] = [];
    server.on('error', (err) => { events.push(`error ${err.message}`); });
    server.on('close', () => { events.push('close'); });
    server.destroy(new Error('boom'));
    server.destroy();
    assert.equal(server.write(Buffer.from('x')), false);
    await once(client, 'end');
    await tick();
    assert.deepEqual(events, ['error boom', 'close']);
  });

  test('a peer that resets the connection: error ECONNRESET, then close', async (t) => {
    const { server, client } = await pair(t);
    const events: string[] = [];
    server.on('error', (err: NodeJS.ErrnoException) => { events.push(`error ${err.code}`); });
    const closed = new Promise<void>((resolve) => server.on('close', () => resolve())); // once() rejects on 'error'
    await once(client, 'connect');
    client.resetAndDestroy();
    await closed;
    assert.deepEqual(events, ['error ECONNRESET']);
  });
});

describe('the broker over RawSocket and over net.Socket', { timeout: 20_000 }, () => {
  for (const isRawSocketAllowed of [true, false]) {
    test(`MQTT.js connects, subscribes and gets its QoS 1 message back (isRawSocketAllowed ${isRawSocketAllowed})`, async (t) => {
      const { broker } = brokerWithLog(t);
      const { port } = await broker.listen({ port: 0, host: '127.0.0.1', isRawSocketAllowed });
      const client = await mqttClient(t, `mqtt://127.0.0.1:${port}`);
      await client.subscribeAsync('raw/#', { qos: 1 });
      const got = new Promise<[string, Buffer]>((resolve) => client.once('message', (topic, payload) => resolve([topic, payload])));
      await client.publishAsync('raw/x', Buffer.alloc(100_000, 1), { qos: 1 });
      const [topic, payload] = await got;
      assert.equal(topic, 'raw/x');
      assert.equal(payload.length, 100_000);
    });

    test(`packets sent with CONNECT, then DISCONNECT and the end, are all handled while authentication waits (3.1.4, [MQTT-3.1.2-10]) (isRawSocketAllowed ${isRawSocketAllowed})`, async (t) => {
      const broker = createBroker({ sysIntervalSeconds: 0, authenticate: () => new Promise((r) => setTimeout(() => r(true), 50)) });
      t.after(() => broker.close());
      const { port } = await broker.listen({ port: 0, host: '127.0.0.1', isRawSocketAllowed });
      const watcher = await openClient(t, port, { clientId: 'half-watch' });
      await watcher.subscribe([['half/#', 1], ['will/#', 0]]);
      const c = await openRaw(t, port);
      c.send(
        P.connect({ clientId: 'half', will: { topic: 'will/half', payload: 'gone' } }),
        P.publish({ topic: 'half/0', payload: 'zero', qos: 1, packetId: 3 }),
        P.raw(14, 0),
      );
      c.socket.end();
      assert.equal((await c.expect('connack')).returnCode, 0);
      assert.equal((await c.expect('puback')).packetId, 3);
      await c.expectClosed();
      assert.deepEqual((await watcher.take(1)).map((p) => p.type === 'publish' && p.topic), ['half/0']);
      await watcher.expectNothing(200);
    });
  }
});

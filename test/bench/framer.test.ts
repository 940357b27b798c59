/**
 * The load generator's receive path: the Framer splits a broker's bytes into packets without decoding them, and
 * MqttSocket reads only the PUBLISH fields and acknowledgements it acts on. Checked against our encoder's packets,
 * fed whole, byte by byte and cut at random, and against a raw broker that sends what it should not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Framer, FramingError } from '../../src/bench/framer.js';
import { MqttSocket, type InboundHandler } from '../../src/bench/mqtt-socket.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet, QoS } from '../../src/protocol/types.js';
import { prng } from '../helpers/topic-reference.js';

/** Packets a broker sends a generator, with bodies of 0 bytes up to a 3-byte Remaining Length. */
function samplePackets(): Buffer[] {
  const packets: Packet[] = [
    { type: 2, sessionPresent: false, reasonCode: 0 },
    { type: 9, packetId: 7, reasonCodes: [0, 1, 0x80] },
    { type: 13 },
    { type: 4, packetId: 1, reasonCode: 0 }, { type: 5, packetId: 65_535, reasonCode: 0 },
    { type: 6, packetId: 300, reasonCode: 0 }, { type: 7, packetId: 2, reasonCode: 0 },
  ];
  for (const size of [0, 16, 100, 127, 128, 1024, 16_383, 16_384, 20_000]) {
    for (const qos of [0, 1, 2] as const) {
      packets.push({ type: 3, topic: `t/${size}`, payload: Buffer.alloc(size, size & 0xff), qos, retain: false, dup: false,
        ...(qos > 0 ? { packetId: size + qos } : {}) });
    }
  }
  return packets.map((p) => encode(p, 4));
}

interface Framed {
  readonly firstByte: number;
  readonly body: Buffer;
}

function collect(): { framer: Framer; framed: Framed[] } {
  const framed: Framed[] = [];
  const framer = new Framer((firstByte, buf, bodyStart, end) => {
    framed.push({ firstByte, body: Buffer.from(buf.subarray(bodyStart, end)) });
  });
  return { framer, framed };
}

/** What the framer should hand over for `packets`: each one's first byte and the bytes after its fixed header. */
function expected(packets: readonly Buffer[]): Framed[] {
  return packets.map((p) => {
    let at = 1;
    while ((p[at]! & 0x80) !== 0) at++;
    return { firstByte: p[0]!, body: p.subarray(at + 1) };
  });
}

test('Framer hands over every packet of a stream fed whole, byte by byte, and cut at random', () => {
  const packets = samplePackets();
  const stream = Buffer.concat(packets);
  const want = expected(packets);

  const whole = collect();
  whole.framer.push(stream);
  assert.deepEqual(whole.framed, want);
  assert.equal(whole.framer.pendingBytes, 0);

  const bytes = collect();
  for (let i = 0; i < stream.length; i++) bytes.framer.push(stream.subarray(i, i + 1));
  assert.deepEqual(bytes.framed, want);

  for (let seed = 1; seed <= 200; seed++) {
    const next = prng(seed);
    const cut = collect();
    for (let at = 0; at < stream.length;) {
      // Mostly small cuts, so fixed headers straddle chunks too, and now and then a long one.
      const size = next() < 0.1 ? 1 + Math.floor(next() * 40_000) : 1 + Math.floor(next() * 6);
      cut.framer.push(stream.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(cut.framed, want, `seed ${seed}`);
    assert.equal(cut.framer.pendingBytes, 0, `seed ${seed}`);
  }
});

test('Framer hands over packets inside one chunk without copying them, and holds a partial one until it is whole', () => {
  const packets = samplePackets();
  const chunk = Buffer.concat(packets.slice(0, 5));
  const buffers: Buffer[] = [];
  const framer = new Framer((_firstByte, buf) => buffers.push(buf));
  framer.push(chunk);
  assert.equal(buffers.length, 5);
  for (const buf of buffers) assert.equal(buf, chunk);

  const big = encode({ type: 3, topic: 'big', payload: Buffer.alloc(300_000, 1), qos: 0, retain: false, dup: false }, 4);
  for (let at = 0; at < big.length - 65_536; at += 65_536) {
    framer.push(big.subarray(at, at + 65_536));
    assert.equal(buffers.length, 5);
    assert.equal(framer.pendingBytes, at + 65_536);
  }
  framer.push(big.subarray(Math.floor((big.length - 1) / 65_536) * 65_536));
  assert.equal(buffers.length, 6);
  assert.equal(framer.pendingBytes, 0);
});

test('Framer throws a FramingError for a Remaining Length of more than 4 bytes (3.1.1 section 2.2.3)', () => {
  const { framer, framed } = collect();
  framer.push(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]));
  assert.equal(framer.pendingBytes, 5, 'a 4-byte length is valid: the packet is merely incomplete');
  const other = collect();
  assert.throws(() => other.framer.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), FramingError);
  assert.equal(framed.length, 0);
});

interface Received {
  readonly payload: string;
  readonly qos: QoS;
  readonly packetId: number;
}

/** A raw broker on port 0 that answers the client's n-th chunk (the first is CONNECT) with replies[n]. */
async function rawBroker(t: { after: (fn: () => unknown) => void }, ...replies: Buffer[]): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let n = 0;
    socket.on('data', () => {
      const reply = replies[n++];
      if (reply !== undefined) socket.write(reply);
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function dial(port: number): Promise<MqttSocket> {
  return MqttSocket.dial({ host: '127.0.0.1', port, clientId: 'framer-test', connectTimeoutMs: 2000 });
}

const CONNACK_OK = Buffer.from([0x20, 2, 0, 0]);

test('MqttSocket hands a PUBLISH to its handler as payload range, QoS and packet id, and acknowledges as told', async (t) => {
  const publishes = [
    encode({ type: 3, topic: 'a/b', payload: Buffer.from('zero'), qos: 0, retain: false, dup: false }, 4),
    encode({ type: 3, topic: 'a', payload: Buffer.from('one'), qos: 1, packetId: 513, retain: false, dup: false }, 4),
    encode({ type: 3, topic: 'x', payload: Buffer.alloc(0), qos: 2, packetId: 9, retain: true, dup: true }, 4),
    Buffer.from([0x62, 2, 0, 9]),
  ];
  const port = await rawBroker(t, CONNACK_OK, Buffer.concat(publishes));
  const conn = await dial(port);
  t.after(() => conn.abort());
  const received: Received[] = [];
  const acks: number[][] = [];
  const handler: InboundHandler = {
    onPublish: (buf, start, end, qos, packetId) => {
      received.push({ payload: buf.toString('latin1', start, end), qos, packetId });
    },
    onAck: (type, packetId) => {
      acks.push([type, packetId]);
    },
  };
  conn.handler = handler;
  conn.socket.write(Buffer.from([0xc0, 0]));
  const deadline = Date.now() + 2000;
  while (acks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(received, [{ payload: 'zero', qos: 0, packetId: 0 }, { payload: 'one', qos: 1, packetId: 513 },
    { payload: '', qos: 2, packetId: 9 }]);
  assert.deepEqual(acks, [[6, 9]]);
});

test('MqttSocket closes with the reason when the broker sends a PUBLISH with QoS 3 or shorter than its topic', async (t) => {
  const cases: [Buffer, string][] = [
    [Buffer.from([0x36, 5, 0, 1, 0x61, 0, 1]), 'malformed PUBLISH'],
    [Buffer.from([0x30, 3, 0, 5, 0x61]), 'PUBLISH shorter than its topic'],
    [Buffer.from([0x32, 3, 0, 1, 0x61]), 'PUBLISH shorter than its topic'],
    [Buffer.from([0xa0, 0]), 'unexpected packet type 10'],
  ];
  for (const [bytes, reason] of cases) {
    const port = await rawBroker(t, CONNACK_OK, bytes);
    const conn = await dial(port);
    conn.socket.write(Buffer.from([0xc0, 0]));
    if (!conn.socket.destroyed) await once(conn.socket, 'close');
    assert.equal(conn.closedReason, `protocol error from broker: ${reason}`);
  }
});

test('MqttSocket.dial fails on a refused CONNACK and on another packet first', async (t) => {
  await assert.rejects(dial(await rawBroker(t, Buffer.from([0x20, 2, 0, 5]))), /CONNACK refused with code 5/);
  await assert.rejects(dial(await rawBroker(t, Buffer.from([0x30, 3, 0, 1, 0x61]))), /expected CONNACK/);
});

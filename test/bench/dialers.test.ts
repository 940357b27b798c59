/**
 * The two TCP dialers of `culex bench conn`, the Node one (src/bench/bare-conn.ts) and the native one
 * (native/conn-dialer.c through src/bench/native-dialer.ts), against the same hand-written servers: a CONNACK in
 * pieces, a refusing one, none at all, and a connection the server closes later. Every CONNECT they send is decoded
 * with our codec.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { isIP } from 'node:net';
import { once } from 'node:events';
import { BareConnections, type BareConnEvents, type BareConnTarget } from '../../src/bench/bare-conn.js';
import { buildDialer, NativeConnections, numericHost } from '../../src/bench/native-dialer.js';
import { decodePacket } from '../../src/protocol/decoder.js';
import type { ConnectPacket } from '../../src/protocol/types.js';

interface Dialer {
  open(first: number, count: number, concurrency: number, intervalMs: number): Promise<void>;
  closeAll(): void;
}

async function server(onSocket: (socket: net.Socket) => void): Promise<{ port: number; remotes: Set<string>; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const remotes = new Set<string>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    remotes.add(socket.remoteAddress ?? '');
    socket.on('error', () => undefined);
    // Answer once the whole CONNECT is in: an MQTT 3.1.1 CONNECT, clean session, keep alive 0, client id t-conn<i>.
    socket.once('data', (chunk: Buffer) => {
      const connect = decodePacket(chunk, 4) as ConnectPacket;
      assert.equal(connect.type, 1);
      assert.equal(connect.protocolVersion, 4);
      assert.equal(connect.clean, true);
      assert.equal(connect.keepaliveSeconds, 0);
      assert.match(connect.clientId, /^t-conn\d+$/);
      onSocket(socket);
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    remotes,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

function recorder(): BareConnEvents & { connected: number; failed: string[]; dropped: string[] } {
  const r = {
    connected: 0, failed: [] as string[], dropped: [] as string[],
    onConnected: () => { r.connected++; },
    onFailed: (index: number, reason: string) => { r.failed.push(`${index}: ${reason}`); },
    onDropped: (index: number, reason: string) => { r.dropped.push(`${index}: ${reason}`); },
  };
  return r;
}

const target = (port: number, connectTimeoutMs = 5000): BareConnTarget =>
  ({ host: '127.0.0.1', port, localAddresses: ['127.0.0.1', '127.0.0.2'], clientPrefix: 't', connectTimeoutMs });

for (const kind of ['node', 'native'] as const) describe(`the ${kind} dialer`, () => {
  let make: (to: BareConnTarget, events: BareConnEvents) => Dialer;
  before(async () => {
    if (kind === 'node') {
      make = (to, events) => new BareConnections(to, events);
    } else {
      const binary = await buildDialer();
      make = (to, events) => new NativeConnections(binary, to, events);
    }
  });

  test('a CONNACK that arrives in two pieces connects; a later close by the server counts as dropped', async (t) => {
    const s = await server((socket) => {
      socket.write(Buffer.from([0x20, 0x02]));
      setTimeout(() => socket.write(Buffer.from([0x00, 0x00])), 20);
      setTimeout(() => socket.destroy(), 200);
    });
    t.after(s.close);
    const events = recorder();
    const conns = make(target(s.port), events);
    await conns.open(0, 6, 2, 0);
    assert.equal(events.connected, 6);
    assert.deepEqual(events.failed, []);
    assert.deepEqual([...s.remotes].toSorted(), ['127.0.0.1', '127.0.0.2'], 'spread over the source addresses');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(events.dropped.length, 6);
    conns.closeAll();
  });

  test('a refused CONNACK, something else than a CONNACK, and no answer at all each fail the connection [MQTT-3.2.2-1]', async (t) => {
    const refusing = await server((socket) => socket.write(Buffer.from([0x20, 0x02, 0x00, 0x05])));
    const wrong = await server((socket) => socket.write(Buffer.from([0x30, 0x02, 0x00, 0x00])));
    const silent = await server(() => undefined);
    t.after(() => [refusing, wrong, silent].forEach((s) => s.close()));

    const a = recorder();
    await make(target(refusing.port), a).open(0, 3, 10, 0);
    assert.deepEqual(a.failed.toSorted(), ['0: CONNACK refused with code 5', '1: CONNACK refused with code 5', '2: CONNACK refused with code 5']);
    const b = recorder();
    await make(target(wrong.port), b).open(0, 1, 10, 0);
    assert.deepEqual(b.failed, ['0: expected CONNACK, got 30020000']);
    const c = recorder();
    const started = performance.now();
    await make(target(silent.port, 300), c).open(0, 2, 10, 0);
    assert.deepEqual(c.failed.toSorted(), ['0: no CONNACK within 300 ms', '1: no CONNACK within 300 ms']);
    assert.ok(performance.now() - started < 2000);
    assert.equal(a.connected + b.connected + c.connected, 0);
  });

  test('a rate spaces the connections out, and closeAll is not counted as drops', async (t) => {
    const s = await server((socket) => socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])));
    t.after(s.close);
    const events = recorder();
    const conns = make(target(s.port), events);
    const started = performance.now();
    await conns.open(10, 5, 100, 50);
    const took = performance.now() - started;
    assert.equal(events.connected, 5);
    assert.ok(took >= 190, `5 connections at one per 50 ms took ${took} ms`);
    conns.closeAll();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(events.dropped, []);
  });

  test('a port nobody listens on fails with the socket error', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const events = recorder();
    await make(target(port), events).open(0, 1, 1, 0);
    assert.deepEqual(events.failed, [`0: ${kind === 'node' ? 'ECONNREFUSED' : 'Connection refused'}`]);
  });
});

describe('the native dialer only', () => {
  let binary: string;
  before(async () => {
    binary = await buildDialer();
  });

  // Node resolves the name and the dialer gets the address Node connected to. (Where localhost also resolves to ::1
  // first and the broker listens on 127.0.0.1 only, the dialer's own first-address lookup would fail every
  // connection; on a machine whose localhost is 127.0.0.1 only, this checks the name path, not that case.)
  test('a broker given by name (localhost) is dialled at the address Node connects to', async (t) => {
    const s = await server((socket) => socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])));
    t.after(s.close);
    const events = recorder();
    const host = await numericHost('localhost', s.port);
    assert.ok(isIP(host) !== 0, host);
    const conns = new NativeConnections(binary, { ...target(s.port), host }, events);
    await conns.open(0, 3, 3, 0);
    assert.deepEqual(events.failed, []);
    assert.equal(events.connected, 3);
    conns.closeAll();
  });

  test('a dialer that dies while holding its connections counts every one of them as dropped', async (t) => {
    const s = await server((socket) => socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])));
    t.after(s.close);
    const events = recorder();
    const conns = new NativeConnections(binary, target(s.port), events);
    await conns.open(0, 4, 4, 0);
    assert.equal(events.connected, 4);
    process.kill(conns.pid!, 'SIGKILL');
    const deadline = performance.now() + 2000;
    while (events.dropped.length < 4 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(events.dropped.length, 4);
    assert.match(events.dropped[0]!, /native dialer exited \(code null, signal SIGKILL\)/);
  });
});

/**
 * The PROXY protocol: the parser on exact bytes (v1 text, v2 binary), and listeners that take the client address
 * from the header — over TCP, TLS and WebSocket — so it shows in the log and in ClientInfo.remoteAddress.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { parseProxyHeader, ProxyProtocolError } from '../../src/transport/proxy-protocol.ts';
import { loadTlsFiles } from '../../src/transport/tls.ts';
import { connect as connectPacket, Framer } from '../helpers/packets.ts';
import { generateCerts, type TestCerts } from './certs.ts';
import { brokerWithLog, connected, type Cleanup } from './helpers.ts';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A PROXY v2 header built by hand: version 2, command, family/transport byte, address block. */
function v2(command: number, familyTransport: number, block: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.concat([SIGNATURE, Buffer.from([0x20 | command, familyTransport]), length, block]);
}

function ipv4Block(src: number[], dst: number[], srcPort: number, dstPort: number, tlv = Buffer.alloc(0)): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(srcPort, 0);
  ports.writeUInt16BE(dstPort, 2);
  return Buffer.concat([Buffer.from(src), Buffer.from(dst), ports, tlv]);
}

function bad(bytes: Buffer, pattern: RegExp): void {
  assert.throws(() => parseProxyHeader(bytes, 2), pattern);
}

describe('parseProxyHeader', () => {
  const v1Cases: [string, string | undefined, number][] = [
    ['PROXY TCP4 203.0.113.7 10.0.0.1 5555 1883\r\n', '203.0.113.7:5555', 43],
    ['PROXY TCP6 2001:db8::1 2001:db8::2 40000 8883\r\n', '[2001:db8::1]:40000', 47],
    ['PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 40000 8883\r\n', '[2001:db8::1]:40000', 48],
    ['PROXY UNKNOWN\r\n', undefined, 15],
    ['PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n', undefined, 35],
  ];
  for (const [text, source, headerBytes] of v1Cases) {
    test(`v1 ${JSON.stringify(text)} gives ${source ?? 'no address'}`, () => {
      const bytes = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from([0x10, 0x00])]);
      assert.deepEqual(parseProxyHeader(bytes, 1), { isComplete: true, headerBytes, source });
      // Any prefix is incomplete, never an error.
      for (let i = 0; i < headerBytes; i++) {
        assert.deepEqual(parseProxyHeader(bytes.subarray(0, i), 1), { isComplete: false }, `prefix of ${i} bytes`);
      }
    });
  }

  const v1Errors: [string, RegExp][] = [
    ['GET / HTTP/1.1\r\n', /does not start with a PROXY protocol v1 header/],
    ['\x10\x0c\x00\x04MQTT', /does not start with a PROXY protocol v1 header/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 99999 1883\r\n', /bad source port/],
    ['PROXY TCP4 1.2.3.999 5.6.7.8 1 1883\r\n', /bad source address/],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /malformed PROXY protocol v1 header/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /malformed PROXY protocol v1 header/],
    ['PROXY TCP6 2001:zz::1 ::1 1 2\r\n', /bad source address "2001:zz::1"/],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', /bad source address "1.2.3.4"/],
    [`PROXY TCP6 ${'a'.repeat(120)}`, /longer than 107 bytes/],
  ];
  for (const [text, error] of v1Errors) {
    test(`v1 refuses ${JSON.stringify(text.slice(0, 40))}`, () => {
      assert.throws(() => parseProxyHeader(Buffer.from(text, 'latin1'), 1),
        (err: unknown) => err instanceof ProxyProtocolError && err.code === 'CULEX_ERR_PROXY_PROTOCOL' && error.test(err.message));
    });
  }

  test('v2 PROXY over TCP/IPv4, with a TLV after the addresses', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x01, 0x00]); // PP2_TYPE_NOOP
    const header = v2(1, 0x11, ipv4Block([198, 51, 100, 20], [10, 0, 0, 1], 61000, 1883, tlv));
    const bytes = Buffer.concat([header, Buffer.from([0x10])]);
    assert.deepEqual(parseProxyHeader(bytes, 2), { isComplete: true, headerBytes: 16 + 16, source: '198.51.100.20:61000' });
    for (let i = 0; i < header.length; i++) assert.deepEqual(parseProxyHeader(bytes.subarray(0, i), 2), { isComplete: false });
  });

  test('v2 PROXY over TCP/IPv6', () => {
    const block = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000007', 'hex').copy(block, 0);
    block.writeUInt16BE(40001, 32);
    block.writeUInt16BE(8883, 34);
    assert.deepEqual(parseProxyHeader(v2(1, 0x21, block), 2),
      { isComplete: true, headerBytes: 52, source: '[2001:db8::7]:40001' });
  });

  test('v2 Unix addresses give the path; LOCAL and UNSPEC keep the socket address', () => {
    const block = Buffer.alloc(216);
    block.write('/run/client.sock');
    assert.deepEqual(parseProxyHeader(v2(1, 0x31, block), 2), { isComplete: true, headerBytes: 232, source: '/run/client.sock' });
    assert.deepEqual(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)), 2), { isComplete: true, headerBytes: 16, source: undefined });
    assert.deepEqual(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)), 2), { isComplete: true, headerBytes: 16, source: undefined });
  });

  test('v2 refuses a bad signature, version, command or short address block', () => {
    bad(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), /does not start with a PROXY protocol v2 header/);
    const good = v2(1, 0x11, ipv4Block([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    bad(Buffer.concat([good.subarray(0, 12), Buffer.from([0x11]), good.subarray(13)]), /unsupported PROXY protocol version 1/);
    bad(Buffer.concat([good.subarray(0, 12), Buffer.from([0x22]), good.subarray(13)]), /unknown PROXY protocol v2 command 2/);
    bad(v2(1, 0x11, Buffer.alloc(8)), /IPv4 address block too short/);
    bad(v2(1, 0x21, Buffer.alloc(20)), /IPv6 address block too short/);
  });
});

let certs: TestCerts;
before(() => { certs = generateCerts(); });
after(() => certs.remove());

/** Writes `bytes` on a fresh TCP connection and resolves with the MQTT packets received until `count` arrived. */
function readPackets(socket: Socket | import('node:tls').TLSSocket, count: number): Promise<string[]> {
  const framer = new Framer(4);
  const types: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${types.join(',')}`)), 3000);
    socket.on('data', (d: Buffer) => {
      for (const p of framer.push(d)) types.push(p.type);
      if (types.length >= count) {
        clearTimeout(timer);
        resolve(types);
      }
    });
  });
}

function openTcp(t: Cleanup, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    t.after(() => s.destroy());
  });
}

describe('listeners with enable_proxy_protocol', () => {
  test('v1: the address from the header is logged and is the client\'s remoteAddress', async (t) => {
    const { broker, log } = brokerWithLog(t);
    const { address } = await broker.openListener({ port: 0, host: '127.0.0.1', proxyProtocol: 1 });
    const socket = await openTcp(t, (address as AddressInfo).port);
    const info = connected(broker, 'p1');
    const packets = readPackets(socket, 1);
    // The header and the CONNECT in one write: the bytes after the header must reach the broker.
    socket.write(Buffer.concat([Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 5555 1883\r\n'), connectPacket({ clientId: 'p1' })]));
    assert.deepEqual(await packets, ['connack']);
    assert.equal((await info).remoteAddress, '203.0.113.7:5555');
    await log.waitFor(/^New client connected from 203\.0\.113\.7:5555 as p1 /);
  });

  test('v2: header and CONNECT in separate writes, byte by byte', async (t) => {
    const { broker } = brokerWithLog(t);
    const { address } = await broker.openListener({ port: 0, host: '127.0.0.1', proxyProtocol: 2 });
    const socket = await openTcp(t, (address as AddressInfo).port);
    socket.setNoDelay(true);
    const info = connected(broker, 'p2');
    const packets = readPackets(socket, 1);
    const bytes = Buffer.concat([v2(1, 0x11, ipv4Block([198, 51, 100, 20], [10, 0, 0, 1], 61000, 1883)), connectPacket({ clientId: 'p2' })]);
    for (const byte of bytes) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await packets, ['connack']);
    assert.equal((await info).remoteAddress, '198.51.100.20:61000');
  });

  test('a connection without the header is closed and logged', async (t) => {
    const { broker, log } = brokerWithLog(t);
    let connects = 0;
    broker.on('clientConnected', () => { connects++; });
    const { address } = await broker.openListener({ port: 0, host: '127.0.0.1', proxyProtocol: 2 });
    const socket = await openTcp(t, (address as AddressInfo).port);
    socket.write(connectPacket({ clientId: 'direct' }));
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(connects, 0);
    await log.waitFor(/closed: connection does not start with a PROXY protocol v2 header/);
  });

  test('v2 in front of TLS: the header precedes the handshake', async (t) => {
    const { broker } = brokerWithLog(t);
    const tls = await loadTlsFiles({ certFile: certs.path('server.crt'), keyFile: certs.path('server.key') });
    const { address } = await broker.openListener({ port: 0, host: '127.0.0.1', proxyProtocol: 2, tls });
    const raw = await openTcp(t, (address as AddressInfo).port);
    raw.write(v2(1, 0x11, ipv4Block([192, 0, 2, 44], [10, 0, 0, 1], 50000, 8883)));
    const secure = tlsConnect({ socket: raw, ca: certs.read('ca.crt'), servername: 'localhost' });
    t.after(() => secure.destroy());
    await new Promise((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const info = connected(broker, 'p-tls');
    const packets = readPackets(secure, 1);
    secure.write(connectPacket({ clientId: 'p-tls' }));
    assert.deepEqual(await packets, ['connack']);
    const client = await info;
    assert.equal(client.remoteAddress, '192.0.2.44:50000');
    assert.equal(client.transport?.isEncrypted, true);
  });

  test('v1 in front of WebSocket: the header precedes the HTTP upgrade', async (t) => {
    const { broker } = brokerWithLog(t);
    const { address } = await broker.openListener({ port: 0, host: '127.0.0.1', proxyProtocol: 1, protocol: 'websockets' });
    const port = (address as AddressInfo).port;
    const info = connected(broker, 'p-ws');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt'], {
      createConnection: () => {
        const s = netConnect(port, '127.0.0.1');
        s.write('PROXY TCP6 2001:db8::9 2001:db8::1 4444 80\r\n');
        return s;
      },
    });
    t.after(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(connectPacket({ clientId: 'p-ws' }));
    assert.equal((await info).remoteAddress, '[2001:db8::9]:4444');
  });
});

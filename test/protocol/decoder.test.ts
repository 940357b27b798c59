/**
 * Decoder tests. Input bytes are built by hand with the tiny helpers below, never with our encoder, so that a
 * codec bug cannot hide itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { Decoder, decodePacket } from '../../src/protocol/decoder.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { Packet, ProtocolVersion, PublishPacket } from '../../src/protocol/types.js';

// ---- byte helpers ----

type Part = number | readonly number[] | Buffer;

function flat(parts: readonly Part[]): number[] {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else out.push(...p);
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A whole packet: first byte, remaining length, body. */
function pkt(first: number, ...body: Part[]): Buffer {
  const b = flat(body);
  return Buffer.from([first, ...varint(b.length), ...b]);
}

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u32 = (n: number): number[] => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
/** An MQTT UTF-8 string from a JS string. */
const str = (s: string): number[] => { const b = Buffer.from(s, 'utf8'); return [...u16(b.length), ...b]; };
/** An MQTT string with raw bytes (for invalid UTF-8). */
const rawStr = (...b: number[]): number[] => [...u16(b.length), ...b];
/** A properties field. */
const props = (...entries: Part[]): number[] => { const b = flat(entries); return [...varint(b.length), ...b]; };

const connectV4 = (flags = 0x02, ...payload: Part[]): Buffer =>
  pkt(0x10, str('MQTT'), 4, flags, u16(60), ...(payload.length > 0 ? payload : [str('c')]));
const connectV5 = (flags = 0x02, ...rest: Part[]): Buffer =>
  pkt(0x10, str('MQTT'), 5, flags, u16(60), ...(rest.length > 0 ? rest : [props(), str('c')]));

function decode(bytes: Buffer, version: ProtocolVersion = 4): Packet {
  return decodePacket(bytes, version);
}

function rejects(bytes: Buffer, version: ProtocolVersion, reasonCode: number, statement?: string): ProtocolError {
  let caught: unknown;
  try {
    decodePacket(bytes, version);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError, got ${String(caught)}`);
  assert.equal(caught.reasonCode, reasonCode, caught.message);
  if (statement !== undefined) assert.equal(caught.statement, statement, caught.message);
  return caught;
}

const MALFORMED = 0x81;
const PROTOCOL = 0x82;

// ---- well-formed packets ----

test('decodes a 3.1.1 CONNECT with will, user name and password', () => {
  const bytes = connectV4(0xee, str('client'), str('will/t'), u16(2), 0x01, 0x02, str('user'), u16(3), 1, 2, 3);
  assert.deepEqual(decode(bytes), {
    type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'client',
    will: { topic: 'will/t', payload: Buffer.from([1, 2]), qos: 1, retain: true },
    username: 'user', password: Buffer.from([1, 2, 3]),
  });
});

test('decodes a minimal 3.1.1 CONNECT with an empty client id', () => {
  assert.deepEqual(decode(connectV4(0x00, str(''))), {
    type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: false, keepaliveSeconds: 60, clientId: '',
  });
});

test('decodes an MQTT 3.1 (MQIsdp) CONNECT, accepting a password without a user name', () => {
  const bytes = pkt(0x10, str('MQIsdp'), 3, 0x42, u16(10), str('c'), u16(1), 9);
  assert.deepEqual(decode(bytes), {
    type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: true, keepaliveSeconds: 10, clientId: 'c',
    password: Buffer.from([9]),
  });
});

test('decodes an MQTT 5 CONNECT with properties, will properties and a password without user name', () => {
  const bytes = connectV5(0x46,
    props(0x11, u32(3600), 0x21, u16(10), 0x26, str('k'), str('v'), 0x26, str('k'), str('w')),
    str('c'),
    props(0x18, u32(5), 0x01, 1, 0x09, u16(2), 0xaa, 0xbb),
    str('w'), u16(0),
    u16(1), 7);
  assert.deepEqual(decode(bytes, 4), {
    type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 60, clientId: 'c',
    properties: { sessionExpiryInterval: 3600, receiveMaximum: 10, userProperties: [['k', 'v'], ['k', 'w']] },
    will: {
      topic: 'w', payload: Buffer.alloc(0), qos: 0, retain: false,
      properties: { willDelayInterval: 5, payloadFormatIndicator: 1, correlationData: Buffer.from([0xaa, 0xbb]) },
    },
    password: Buffer.from([7]),
  });
});

test('decodes CONNACK in each version', () => {
  assert.deepEqual(decode(pkt(0x20, 0, 0), 3), { type: 2, sessionPresent: false, reasonCode: 0 });
  assert.deepEqual(decode(pkt(0x20, 1, 5), 4), { type: 2, sessionPresent: true, reasonCode: 5 });
  assert.deepEqual(decode(pkt(0x20, 1, 0, props(0x13, u16(30), 0x24, 1, 0x12, str('id'))), 5), {
    type: 2, sessionPresent: true, reasonCode: 0,
    properties: { serverKeepAlive: 30, maximumQoS: 1, assignedClientIdentifier: 'id' },
  });
  assert.deepEqual(decode(pkt(0x20, 0, 0x84, props()), 5),
    { type: 2, sessionPresent: false, reasonCode: 0x84, properties: {} });
});

test('decodes PUBLISH at QoS 0, 1 and 2 with flags', () => {
  assert.deepEqual(decode(pkt(0x30, str('a/b'), 0x68, 0x69)), {
    type: 3, topic: 'a/b', payload: Buffer.from('hi'), qos: 0, retain: false, dup: false,
  });
  assert.deepEqual(decode(pkt(0x3b, str('a'), u16(7))), {
    type: 3, topic: 'a', payload: Buffer.alloc(0), qos: 1, retain: true, dup: true, packetId: 7,
  });
  assert.deepEqual(decode(pkt(0x34, str('日本/ü'), u16(65535), 1)), {
    type: 3, topic: '日本/ü', payload: Buffer.from([1]), qos: 2, retain: false, dup: false, packetId: 65535,
  });
});

test('decodes an MQTT 5 PUBLISH with repeated Subscription Identifiers and user properties in order', () => {
  const bytes = pkt(0x32, str('t'), u16(1),
    props(0x0b, varint(1), 0x0b, varint(268_435_455), 0x26, str('b'), str('1'), 0x26, str('a'), str('2'),
      0x08, str('reply'), 0x02, u32(60)),
    0xff);
  assert.deepEqual(decode(bytes, 5), {
    type: 3, topic: 't', payload: Buffer.from([0xff]), qos: 1, retain: false, dup: false, packetId: 1,
    properties: {
      subscriptionIdentifiers: [1, 268_435_455], userProperties: [['b', '1'], ['a', '2']],
      responseTopic: 'reply', messageExpiryInterval: 60,
    },
  });
});

test('accepts an MQTT 5 PUBLISH with an empty topic name when a Topic Alias is present', () => {
  const p = decode(pkt(0x30, str(''), props(0x23, u16(3))), 5) as PublishPacket;
  assert.equal(p.topic, '');
  assert.deepEqual(p.properties, { topicAlias: 3 });
});

test('leaves the payload unchecked even with Payload Format Indicator 1 (the broker answers 0x99)', () => {
  const p = decode(pkt(0x30, str('t'), props(0x01, 1), 0xff, 0xfe), 5) as PublishPacket;
  assert.deepEqual(p.payload, Buffer.from([0xff, 0xfe]));
});

test('decodes acknowledgements in 3.1.1 with reason code 0 and no properties', () => {
  assert.deepEqual(decode(pkt(0x40, u16(1))), { type: 4, packetId: 1, reasonCode: 0 });
  assert.deepEqual(decode(pkt(0x50, u16(2))), { type: 5, packetId: 2, reasonCode: 0 });
  assert.deepEqual(decode(pkt(0x62, u16(3))), { type: 6, packetId: 3, reasonCode: 0 });
  assert.deepEqual(decode(pkt(0x70, u16(4))), { type: 7, packetId: 4, reasonCode: 0 });
});

test('decodes MQTT 5 acknowledgements with remaining length 2, 3 and 4+', () => {
  assert.deepEqual(decode(pkt(0x40, u16(1)), 5), { type: 4, packetId: 1, reasonCode: 0, properties: {} });
  assert.deepEqual(decode(pkt(0x50, u16(1), 0x10), 5), { type: 5, packetId: 1, reasonCode: 0x10, properties: {} });
  assert.deepEqual(decode(pkt(0x62, u16(1), 0x92, props()), 5),
    { type: 6, packetId: 1, reasonCode: 0x92, properties: {} });
  assert.deepEqual(decode(pkt(0x70, u16(1), 0, props(0x1f, str('ok'))), 5),
    { type: 7, packetId: 1, reasonCode: 0, properties: { reasonString: 'ok' } });
});

test('decodes 3.1.1 SUBSCRIBE with default MQTT 5 options', () => {
  assert.deepEqual(decode(pkt(0x82, u16(10), str('a/+'), 1, str('#'), 2)), {
    type: 8, packetId: 10, subscriptions: [
      { topicFilter: 'a/+', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      { topicFilter: '#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    ],
  });
});

test('decodes MQTT 5 SUBSCRIBE options and a Subscription Identifier', () => {
  assert.deepEqual(decode(pkt(0x82, u16(10), props(0x0b, varint(300)), str('a'), 0x2e, str('$share/g/b'), 0x19), 5), {
    type: 8, packetId: 10, properties: { subscriptionIdentifiers: [300] }, subscriptions: [
      { topicFilter: 'a', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: '$share/g/b', qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 1 },
    ],
  });
});

test('decodes SUBACK, UNSUBSCRIBE and UNSUBACK in 3.1.1 and 5', () => {
  assert.deepEqual(decode(pkt(0x90, u16(1), 0, 1, 2, 0x80)), { type: 9, packetId: 1, reasonCodes: [0, 1, 2, 0x80] });
  assert.deepEqual(decode(pkt(0x90, u16(1), props(), 0x87, 0xa2), 5),
    { type: 9, packetId: 1, reasonCodes: [0x87, 0xa2], properties: {} });
  assert.deepEqual(decode(pkt(0xa2, u16(2), str('a'), str('b/#'))), { type: 10, packetId: 2, topicFilters: ['a', 'b/#'] });
  assert.deepEqual(decode(pkt(0xa2, u16(2), props(), str('a')), 5),
    { type: 10, packetId: 2, topicFilters: ['a'], properties: {} });
  assert.deepEqual(decode(pkt(0xb0, u16(3))), { type: 11, packetId: 3, reasonCodes: [] });
  assert.deepEqual(decode(pkt(0xb0, u16(3), props(), 0, 0x11), 5),
    { type: 11, packetId: 3, reasonCodes: [0, 0x11], properties: {} });
});

test('decodes PINGREQ, PINGRESP, DISCONNECT and AUTH', () => {
  assert.deepEqual(decode(pkt(0xc0)), { type: 12 });
  assert.deepEqual(decode(pkt(0xd0), 5), { type: 13 });
  assert.deepEqual(decode(pkt(0xe0)), { type: 14, reasonCode: 0 });
  assert.deepEqual(decode(pkt(0xe0), 5), { type: 14, reasonCode: 0, properties: {} });
  assert.deepEqual(decode(pkt(0xe0, 0x04), 5), { type: 14, reasonCode: 4, properties: {} });
  assert.deepEqual(decode(pkt(0xe0, 0x8e, props(0x11, u32(0))), 5),
    { type: 14, reasonCode: 0x8e, properties: { sessionExpiryInterval: 0 } });
  assert.deepEqual(decode(pkt(0xf0), 5), { type: 15, reasonCode: 0, properties: {} });
  assert.deepEqual(decode(pkt(0xf0, 0x18, props(0x15, str('SCRAM'), 0x16, u16(1), 5)), 5), {
    type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: Buffer.from([5]) },
  });
});

// ---- fixed header ----

test('rejects the reserved packet type 0 as MalformedPacket', () => {
  rejects(pkt(0x00), 4, MALFORMED);
});

test('rejects AUTH before MQTT 5 as MalformedPacket', () => {
  rejects(pkt(0xf0), 4, MALFORMED);
});

test('rejects PUBREL, SUBSCRIBE and UNSUBSCRIBE whose flags are not 0010 [MQTT-2.2.2-2]', () => {
  rejects(pkt(0x60, u16(1)), 4, MALFORMED, 'MQTT-2.2.2-2');
  rejects(pkt(0x80, u16(1), str('a'), 0), 4, MALFORMED, 'MQTT-2.2.2-2');
  rejects(pkt(0xa0, u16(1), str('a')), 4, MALFORMED, 'MQTT-2.2.2-2');
});

test('rejects other packets whose flags are not 0000 [MQTT-2.2.2-2] (MQTT 5: [MQTT-2.1.3-1])', () => {
  rejects(pkt(0x41, u16(1)), 4, MALFORMED, 'MQTT-2.2.2-2');
  rejects(pkt(0xc8), 4, MALFORMED, 'MQTT-2.2.2-2');
  rejects(pkt(0xe2), 5, MALFORMED, 'MQTT-2.1.3-1');
  rejects(pkt(0x68, u16(1)), 5, MALFORMED, 'MQTT-2.1.3-1');
});

test('rejects a remaining length longer than 4 bytes as MalformedPacket', () => {
  const d = new Decoder();
  d.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]));
  assert.throws(() => d.next(), (e: unknown) => e instanceof ProtocolError && e.reasonCode === MALFORMED);
});

test('rejects a packet larger than maxPacketBytes with PacketTooLarge once only its fixed header has arrived', () => {
  const d = new Decoder({ maxPacketBytes: 1024 });
  d.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])); // declares 268,435,455 bytes of body
  assert.throws(() => d.next(), (e: unknown) => e instanceof ProtocolError && e.reasonCode === 0x95);
  const exact = new Decoder({ maxPacketBytes: 6 });
  exact.push(pkt(0x30, str('a'), 1)); // 2 + 4 bytes
  assert.equal(exact.next()?.type, 3);
  const over = new Decoder({ maxPacketBytes: 6 });
  over.push(Buffer.from([0x30, 0x05]));
  assert.throws(() => over.next(), (e: unknown) => e instanceof ProtocolError && e.reasonCode === 0x95);
});

// ---- PUBLISH ----

test('rejects PUBLISH with QoS 3 as MalformedPacket [MQTT-3.3.1-4]', () => {
  rejects(pkt(0x36, str('a'), u16(1)), 4, MALFORMED, 'MQTT-3.3.1-4');
});

test('rejects PUBLISH with DUP at QoS 0 as MalformedPacket [MQTT-3.3.1-2]', () => {
  rejects(pkt(0x38, str('a')), 4, MALFORMED, 'MQTT-3.3.1-2');
});

test('rejects a PUBLISH topic name with wildcards as MalformedPacket [MQTT-3.3.2-2]', () => {
  rejects(pkt(0x30, str('a/+')), 4, MALFORMED, 'MQTT-3.3.2-2');
  rejects(pkt(0x30, str('#')), 5, MALFORMED, 'MQTT-3.3.2-2');
});

test('rejects an empty PUBLISH topic name in 3.1.1 as MalformedPacket [MQTT-4.7.3-1]', () => {
  rejects(pkt(0x30, str('')), 4, MALFORMED, 'MQTT-4.7.3-1');
});

test('rejects an empty MQTT 5 PUBLISH topic name without Topic Alias as ProtocolError', () => {
  rejects(pkt(0x30, str(''), props()), 5, PROTOCOL);
});

test('rejects packet identifier 0 on a QoS 1 PUBLISH as ProtocolError [MQTT-2.3.1-1] (MQTT 5: [MQTT-2.2.1-3])', () => {
  rejects(pkt(0x32, str('a'), u16(0)), 4, PROTOCOL, 'MQTT-2.3.1-1');
  rejects(pkt(0x34, str('a'), u16(0), props()), 5, PROTOCOL, 'MQTT-2.2.1-3');
});

test('rejects a PUBLISH shorter than its packet identifier as MalformedPacket', () => {
  rejects(pkt(0x32, str('a'), 0), 4, MALFORMED);
});

// ---- strings ----

test('rejects ill-formed UTF-8 as MalformedPacket [MQTT-1.5.3-1] (MQTT 5: [MQTT-1.5.4-1])', () => {
  rejects(pkt(0x30, rawStr(0x61, 0xff)), 4, MALFORMED, 'MQTT-1.5.3-1');
  rejects(pkt(0x30, rawStr(0xc0, 0xaf)), 5, MALFORMED, 'MQTT-1.5.4-1'); // overlong '/'
  rejects(connectV4(0x02, rawStr(0xe2, 0x82)), 4, MALFORMED, 'MQTT-1.5.3-1'); // truncated sequence
});

test('rejects UTF-8 encoded surrogates as MalformedPacket [MQTT-1.5.4-1]', () => {
  rejects(pkt(0x30, rawStr(0xed, 0xa0, 0x80), props()), 5, MALFORMED, 'MQTT-1.5.4-1');
  rejects(connectV4(0x02, rawStr(0x61, 0xed, 0xbf, 0xbf)), 4, MALFORMED, 'MQTT-1.5.3-1');
});

test('rejects U+0000 in a string as MalformedPacket [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-2])', () => {
  rejects(pkt(0x30, rawStr(0x61, 0x00), props()), 5, MALFORMED, 'MQTT-1.5.4-2');
  rejects(pkt(0x30, rawStr(0x00, 0xc3, 0xbc)), 4, MALFORMED, 'MQTT-1.5.3-2');
  rejects(connectV4(0x02, rawStr(0x63, 0x00)), 4, MALFORMED, 'MQTT-1.5.3-2');
});

test('rejects a string longer than the bytes left in the packet as MalformedPacket', () => {
  rejects(pkt(0x30, u16(5), 0x61), 4, MALFORMED);
  rejects(connectV4(0x02, u16(2), 0x61), 4, MALFORMED);
});

// ---- CONNECT ----

test('rejects an unknown protocol level with UnsupportedProtocolVersion [MQTT-3.1.2-2]', () => {
  rejects(pkt(0x10, str('MQTT'), 6, 0x02, u16(60), str('c')), 4, 0x84, 'MQTT-3.1.2-2');
  rejects(pkt(0x10, str('MQTT'), 3, 0x02, u16(60), str('c')), 4, 0x84, 'MQTT-3.1.2-2');
  rejects(pkt(0x10, str('MQIsdp'), 4, 0x02, u16(60), str('c')), 4, 0x84, 'MQTT-3.1.2-2');
});

test('keeps the previous protocol version when the CONNECT level is unknown', () => {
  const d = new Decoder({ protocolVersion: 4 });
  d.push(pkt(0x10, str('MQTT'), 7, 0x02, u16(60), str('c')));
  assert.throws(() => d.next(), ProtocolError);
  assert.equal(d.protocolVersion, 4);
});

test('rejects a wrong protocol name as ProtocolError [MQTT-3.1.2-1]', () => {
  rejects(pkt(0x10, str('MQTX'), 4, 0x02, u16(60), str('c')), 4, PROTOCOL, 'MQTT-3.1.2-1');
  rejects(pkt(0x10, str('mqtt'), 5, 0x02, u16(60), props(), str('c')), 4, PROTOCOL, 'MQTT-3.1.2-1');
});

test('rejects the CONNECT reserved flag as MalformedPacket [MQTT-3.1.2-3]', () => {
  rejects(connectV4(0x03), 4, MALFORMED, 'MQTT-3.1.2-3');
  rejects(connectV5(0x01), 4, MALFORMED, 'MQTT-3.1.2-3');
});

test('ignores the CONNECT reserved flag in MQTT 3.1, which did not define it', () => {
  assert.equal(decode(pkt(0x10, str('MQIsdp'), 3, 0x03, u16(10), str('c'))).type, 1);
});

test('rejects Will QoS without Will Flag as MalformedPacket [MQTT-3.1.2-13] (MQTT 5: [MQTT-3.1.2-11])', () => {
  rejects(connectV4(0x0a), 4, MALFORMED, 'MQTT-3.1.2-13');
  rejects(connectV5(0x12), 4, MALFORMED, 'MQTT-3.1.2-11');
});

test('rejects Will Retain without Will Flag as MalformedPacket [MQTT-3.1.2-15] (MQTT 5: [MQTT-3.1.2-13])', () => {
  rejects(connectV4(0x22), 4, MALFORMED, 'MQTT-3.1.2-15');
  rejects(connectV5(0x22), 4, MALFORMED, 'MQTT-3.1.2-13');
});

test('rejects Will QoS 3 as MalformedPacket [MQTT-3.1.2-14] (MQTT 5: [MQTT-3.1.2-12])', () => {
  rejects(connectV4(0x1e, str('c'), str('w'), u16(0)), 4, MALFORMED, 'MQTT-3.1.2-14');
  rejects(connectV5(0x1e, props(), str('c'), props(), str('w'), u16(0)), 4, MALFORMED, 'MQTT-3.1.2-12');
});

test('rejects a 3.1.1 Password Flag without User Name Flag as MalformedPacket [MQTT-3.1.2-22]', () => {
  rejects(connectV4(0x42, str('c'), u16(1), 1), 4, MALFORMED, 'MQTT-3.1.2-22');
});

test('rejects a Will Topic with wildcards as MalformedPacket', () => {
  rejects(connectV4(0x06, str('c'), str('w/#'), u16(0)), 4, MALFORMED, 'MQTT-3.3.2-2');
});

test('rejects CONNECT with missing payload fields or trailing bytes as MalformedPacket', () => {
  rejects(connectV4(0x82, str('c')), 4, MALFORMED); // user name flag without user name
  rejects(connectV4(0x02, str('c'), 0), 4, MALFORMED);
  rejects(pkt(0x10, str('MQTT'), 4, 0x02), 4, MALFORMED);
});

test('rejects MQTT 5 Authentication Data without Authentication Method as ProtocolError', () => {
  rejects(connectV5(0x02, props(0x16, u16(1), 1), str('c')), 4, PROTOCOL);
});

// ---- CONNACK ----

test('rejects CONNACK reserved acknowledge flags as MalformedPacket [MQTT-3.2.2-1]', () => {
  rejects(pkt(0x20, 0x02, 0, props()), 5, MALFORMED, 'MQTT-3.2.2-1');
  rejects(pkt(0x20, 0x80, 0), 4, MALFORMED);
  rejects(pkt(0x20, 0x01, 0), 3, MALFORMED); // 3.1 has no Session Present
});

test('rejects a 3.1.1 CONNACK return code above 5 as MalformedPacket', () => {
  rejects(pkt(0x20, 0, 6), 4, MALFORMED);
});

test('rejects a CONNACK with wrong length as MalformedPacket', () => {
  rejects(pkt(0x20, 0), 4, MALFORMED);
  rejects(pkt(0x20, 0, 0, 0), 4, MALFORMED);
  rejects(pkt(0x20, 0, 0), 5, MALFORMED); // MQTT 5 CONNACK always has a properties field
});

// ---- SUBSCRIBE / UNSUBSCRIBE ----

test('rejects SUBSCRIBE without topic filters as ProtocolError [MQTT-3.8.3-3] (MQTT 5: [MQTT-3.8.3-2])', () => {
  rejects(pkt(0x82, u16(1)), 4, PROTOCOL, 'MQTT-3.8.3-3');
  rejects(pkt(0x82, u16(1), props()), 5, PROTOCOL, 'MQTT-3.8.3-2');
});

test('rejects reserved bits in the 3.1.1 requested QoS byte as MalformedPacket [MQTT-3-8.3-4]', () => {
  rejects(pkt(0x82, u16(1), str('a'), 0x04), 4, MALFORMED, 'MQTT-3-8.3-4');
  rejects(pkt(0x82, u16(1), str('a'), 0x80), 3, MALFORMED, 'MQTT-3-8.3-4');
});

test('rejects 3.1.1 requested QoS 3 as MalformedPacket [MQTT-3-8.3-4]', () => {
  rejects(pkt(0x82, u16(1), str('a'), 0x03), 4, MALFORMED, 'MQTT-3-8.3-4');
});

test('rejects reserved bits 6-7 of MQTT 5 subscription options as MalformedPacket [MQTT-3.8.3-5]', () => {
  rejects(pkt(0x82, u16(1), props(), str('a'), 0x40), 5, MALFORMED, 'MQTT-3.8.3-5');
});

test('rejects MQTT 5 subscription Maximum QoS 3 and Retain Handling 3 as ProtocolError', () => {
  rejects(pkt(0x82, u16(1), props(), str('a'), 0x03), 5, PROTOCOL);
  rejects(pkt(0x82, u16(1), props(), str('a'), 0x30), 5, PROTOCOL);
});

test('rejects No Local on an MQTT 5 shared subscription as ProtocolError [MQTT-3.8.3-4]', () => {
  rejects(pkt(0x82, u16(1), props(), str('$share/g/a'), 0x04), 5, PROTOCOL, 'MQTT-3.8.3-4');
});

test('rejects invalid topic filters in SUBSCRIBE as MalformedPacket [MQTT-4.7.1-2/3]', () => {
  rejects(pkt(0x82, u16(1), str('a/#/b'), 0), 4, MALFORMED, 'MQTT-4.7.1-2');
  rejects(pkt(0x82, u16(1), props(), str('a+'), 0), 5, MALFORMED, 'MQTT-4.7.1-3');
  rejects(pkt(0x82, u16(1), props(), str('$share//a'), 0), 5, MALFORMED, 'MQTT-4.8.2-1');
  rejects(pkt(0x82, u16(1), str(''), 0), 4, MALFORMED, 'MQTT-4.7.3-1');
});

test('rejects SUBSCRIBE with packet identifier 0 as ProtocolError [MQTT-2.3.1-1]', () => {
  rejects(pkt(0x82, u16(0), str('a'), 0), 4, PROTOCOL, 'MQTT-2.3.1-1');
});

test('rejects SUBSCRIBE with a topic filter but no options byte as MalformedPacket', () => {
  rejects(pkt(0x82, u16(1), str('a')), 4, MALFORMED);
});

test('rejects an MQTT 5 Subscription Identifier of 0 as ProtocolError', () => {
  rejects(pkt(0x82, u16(1), props(0x0b, 0), str('a'), 0), 5, PROTOCOL);
});

test('rejects more than one Subscription Identifier in SUBSCRIBE as ProtocolError', () => {
  rejects(pkt(0x82, u16(1), props(0x0b, 1, 0x0b, 2), str('a'), 0), 5, PROTOCOL);
});

test('rejects UNSUBSCRIBE without topic filters as ProtocolError [MQTT-3.10.3-2]', () => {
  rejects(pkt(0xa2, u16(1)), 4, PROTOCOL, 'MQTT-3.10.3-2');
  rejects(pkt(0xa2, u16(1), props()), 5, PROTOCOL, 'MQTT-3.10.3-2');
});

test('rejects invalid topic filters in UNSUBSCRIBE as MalformedPacket', () => {
  rejects(pkt(0xa2, u16(1), str('a/b+')), 4, MALFORMED, 'MQTT-4.7.1-3');
});

test('rejects UNSUBSCRIBE with packet identifier 0 as ProtocolError [MQTT-2.2.1-3]', () => {
  rejects(pkt(0xa2, u16(0), props(), str('a')), 5, PROTOCOL, 'MQTT-2.2.1-3');
});

// ---- SUBACK / UNSUBACK / acks ----

test('rejects SUBACK return codes outside the allowed set as MalformedPacket', () => {
  rejects(pkt(0x90, u16(1), 0x03), 4, MALFORMED);
  rejects(pkt(0x90, u16(1), 0x81), 4, MALFORMED);
  rejects(pkt(0x90, u16(1), props(), 0x03), 5, MALFORMED);
});

test('rejects UNSUBACK reason codes outside the allowed set as MalformedPacket', () => {
  rejects(pkt(0xb0, u16(1), props(), 0x10), 5, MALFORMED);
});

test('rejects SUBACK and MQTT 5 UNSUBACK without reason codes as MalformedPacket', () => {
  rejects(pkt(0x90, u16(1)), 3, MALFORMED);
  rejects(pkt(0x90, u16(1), props()), 5, MALFORMED);
  rejects(pkt(0xb0, u16(1), props()), 5, MALFORMED);
});

test('rejects a 3.1.1 UNSUBACK with a payload as MalformedPacket', () => {
  rejects(pkt(0xb0, u16(1), 0), 4, MALFORMED);
});

test('rejects acknowledgement reason codes outside the allowed set as MalformedPacket', () => {
  rejects(pkt(0x40, u16(1), 0x05), 5, MALFORMED);
  rejects(pkt(0x62, u16(1), 0x10), 5, MALFORMED);
  rejects(pkt(0xe0, 0x05), 5, MALFORMED);
  rejects(pkt(0xf0, 0x01), 5, MALFORMED);
  rejects(pkt(0x20, 0, 0x01, props()), 5, MALFORMED);
});

test('rejects trailing bytes in fixed-size packets as MalformedPacket', () => {
  rejects(pkt(0x40, u16(1), 0), 4, MALFORMED);
  rejects(pkt(0x40, u16(1), 0, props(), 0), 5, MALFORMED);
  rejects(pkt(0x40, u16(1)).subarray(0, 3), 4, MALFORMED); // remaining length 2 but 1 byte: incomplete
  rejects(pkt(0x40, 0), 4, MALFORMED);
});

test('rejects PINGREQ and PINGRESP with a non-zero remaining length as MalformedPacket', () => {
  rejects(pkt(0xc0, 0), 4, MALFORMED);
  rejects(pkt(0xd0, 0), 5, MALFORMED);
});

test('rejects a 3.1.1 DISCONNECT with a non-zero remaining length as MalformedPacket', () => {
  rejects(pkt(0xe0, 0), 4, MALFORMED);
});

// ---- MQTT 5 properties ----

test('rejects an unknown property identifier as MalformedPacket', () => {
  rejects(pkt(0x40, u16(1), 0, props(0x04, 0)), 5, MALFORMED);
  rejects(pkt(0x40, u16(1), 0, props(0x80, 0x01)), 5, MALFORMED); // multi-byte identifier
});

test('rejects a property not allowed in the packet as MalformedPacket', () => {
  rejects(connectV5(0x02, props(0x23, u16(1)), str('c')), 4, MALFORMED); // Topic Alias in CONNECT
  rejects(pkt(0x30, str('t'), props(0x11, u32(1))), 5, MALFORMED); // Session Expiry in PUBLISH
});

test('rejects a property not allowed in Will Properties as MalformedPacket', () => {
  rejects(connectV5(0x06, props(), str('c'), props(0x11, u32(1)), str('w'), u16(0)), 4, MALFORMED);
});

test('rejects a non-repeatable property included twice as ProtocolError', () => {
  rejects(pkt(0x30, str('t'), props(0x02, u32(1), 0x02, u32(2))), 5, PROTOCOL);
  rejects(pkt(0xe0, 0, props(0x1f, str('a'), 0x1f, str('b'))), 5, PROTOCOL);
});

test('rejects a property value outside its allowed values as ProtocolError', () => {
  rejects(pkt(0x30, str('t'), props(0x01, 2)), 5, PROTOCOL);
  rejects(connectV5(0x02, props(0x17, 2), str('c')), 4, PROTOCOL);
});

test('rejects zero where a property forbids it as ProtocolError', () => {
  rejects(connectV5(0x02, props(0x21, u16(0)), str('c')), 4, PROTOCOL); // Receive Maximum
  rejects(connectV5(0x02, props(0x27, u32(0)), str('c')), 4, PROTOCOL); // Maximum Packet Size
  rejects(pkt(0x30, str('t'), props(0x23, u16(0))), 5, PROTOCOL); // Topic Alias
});

test('rejects a property running past the properties field as MalformedPacket', () => {
  rejects(pkt(0x30, str('t'), [2, 0x02, 0, 0, 0, 1]), 5, MALFORMED); // uint32 cut by property length 2
  rejects(pkt(0x30, str('t'), [3, 0x03, 0, 5, 0x61, 0x62]), 5, MALFORMED); // string cut
  rejects(pkt(0x30, str('t'), [9]), 5, MALFORMED); // property length beyond the packet
  rejects(pkt(0x30, str('t'), [2, 0x0b, 0x80]), 5, MALFORMED); // unfinished varint
});

test('rejects invalid strings in user properties as MalformedPacket [MQTT-1.5.4-1/2]', () => {
  rejects(pkt(0xe0, 0, props(0x26, str('k'), rawStr(0xff))), 5, MALFORMED, 'MQTT-1.5.4-1');
  rejects(pkt(0xe0, 0, props(0x26, rawStr(0), str('v'))), 5, MALFORMED, 'MQTT-1.5.4-2');
});

// ---- streaming ----

const stream: { version: ProtocolVersion; bytes: Buffer }[] = [
  { version: 4, bytes: connectV4(0x02, str('c')) },
  { version: 4, bytes: pkt(0x32, str('a/b'), u16(1), Buffer.from('hello')) },
  { version: 4, bytes: pkt(0x82, u16(2), str('x/#'), 1) },
  { version: 4, bytes: pkt(0xc0) },
  { version: 4, bytes: pkt(0x30, str('big'), Buffer.alloc(300, 7)) }, // two-byte remaining length
  { version: 4, bytes: pkt(0xe0) },
];
const streamBytes = Buffer.concat(stream.map((s) => s.bytes));
const streamPackets = stream.map((s) => decodePacket(s.bytes, s.version));

function drain(d: Decoder, out: Packet[]): void {
  for (let p = d.next(); p !== null; p = d.next()) out.push(p);
}

test('decodes a stream split at every byte boundary', () => {
  for (let cut = 0; cut <= streamBytes.length; cut++) {
    const d = new Decoder();
    const out: Packet[] = [];
    d.push(streamBytes.subarray(0, cut));
    drain(d, out);
    d.push(streamBytes.subarray(cut));
    drain(d, out);
    assert.deepEqual(out, streamPackets, `cut at ${cut}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test('decodes a stream pushed one byte at a time', () => {
  const d = new Decoder();
  const out: Packet[] = [];
  for (let i = 0; i < streamBytes.length; i++) {
    d.push(streamBytes.subarray(i, i + 1));
    drain(d, out);
  }
  assert.deepEqual(out, streamPackets);
});

test('decodes a stream in random splits', () => {
  fc.assert(fc.property(fc.array(fc.nat(streamBytes.length), { maxLength: 20 }), (cuts) => {
    const points = [...new Set([0, ...cuts, streamBytes.length])].toSorted((a, b) => a - b);
    const d = new Decoder();
    const out: Packet[] = [];
    for (let i = 1; i < points.length; i++) {
      d.push(streamBytes.subarray(points[i - 1], points[i]));
      drain(d, out);
    }
    assert.deepEqual(out, streamPackets);
  }));
});

test('decodes many packets from one chunk, with payloads as views of that chunk', () => {
  const one = pkt(0x30, str('t/1'), 1, 2, 3);
  const count = 50_000;
  const chunk = Buffer.concat(Array.from({ length: count }, () => one));
  const d = new Decoder();
  d.push(chunk);
  let n = 0;
  for (let p = d.next(); p !== null; p = d.next()) {
    const publish = p as PublishPacket;
    assert.equal(publish.payload.buffer, chunk.buffer);
    n++;
  }
  assert.equal(n, count);
  assert.equal(d.bufferedBytes, 0);
});

test('returns the payload and binary properties as views of the input chunk', () => {
  const chunk = pkt(0x30, str('t'), props(0x09, u16(2), 0xca, 0xfe), 0xde, 0xad);
  const p = decodePacket(chunk, 5) as PublishPacket;
  assert.equal(p.payload.buffer, chunk.buffer);
  assert.equal(p.payload.byteOffset, chunk.byteOffset + chunk.length - 2);
  assert.equal(p.properties?.correlationData?.buffer, chunk.buffer);
  assert.deepEqual(p.properties?.correlationData, Buffer.from([0xca, 0xfe]));
});

test('copies a packet that spans chunks once, leaving the chunks untouched', () => {
  const bytes = pkt(0x30, str('t'), 1, 2, 3, 4);
  // Buffer.alloc, unlike Buffer.from, never hands out a slice of the shared pool.
  const a = Buffer.alloc(4);
  bytes.copy(a, 0, 0, 4);
  const b = Buffer.alloc(bytes.length - 4);
  bytes.copy(b, 0, 4);
  const d = new Decoder();
  d.push(a);
  assert.equal(d.next(), null);
  d.push(b);
  const p = d.next() as PublishPacket;
  assert.deepEqual(p.payload, Buffer.from([1, 2, 3, 4]));
  assert.notEqual(p.payload.buffer, a.buffer);
  assert.notEqual(p.payload.buffer, b.buffer);
});

test('reports buffered bytes and returns null until a packet is whole', () => {
  const d = new Decoder();
  assert.equal(d.next(), null);
  d.push(Buffer.alloc(0));
  assert.equal(d.bufferedBytes, 0);
  d.push(Buffer.from([0x30]));
  assert.equal(d.next(), null);
  d.push(Buffer.from([0x04, 0x00]));
  assert.equal(d.bufferedBytes, 3);
  assert.equal(d.next(), null);
  d.push(Buffer.from([0x01, 0x61, 0x62, 0xc0]));
  assert.deepEqual(d.next(), { type: 3, topic: 'a', payload: Buffer.from('b'), qos: 0, retain: false, dup: false });
  assert.equal(d.bufferedBytes, 1);
  assert.equal(d.next(), null);
  d.push(Buffer.from([0x00]));
  assert.deepEqual(d.next(), { type: 12 });
  assert.equal(d.bufferedBytes, 0);
});

test('keeps throwing the same error after a protocol error, and push never throws', () => {
  const d = new Decoder();
  d.push(pkt(0x36, str('a'), u16(1)));
  d.push(pkt(0xc0));
  let first: unknown;
  try {
    d.next();
  } catch (err) {
    first = err;
  }
  assert.ok(first instanceof ProtocolError);
  assert.throws(() => d.next(), (e: unknown) => e === first);
  d.push(pkt(0xc0));
  assert.throws(() => d.next(), (e: unknown) => e === first);
});

test('switches protocolVersion after an MQTT 5 CONNECT', () => {
  const d = new Decoder();
  assert.equal(d.protocolVersion, 4);
  d.push(Buffer.concat([connectV5(), pkt(0x40, u16(1))]));
  assert.equal(d.next()?.type, 1);
  assert.equal(d.protocolVersion, 5);
  assert.deepEqual(d.next(), { type: 4, packetId: 1, reasonCode: 0, properties: {} });
});

test('switches protocolVersion after an MQTT 3.1 CONNECT', () => {
  const d = new Decoder({ protocolVersion: 5 });
  d.push(Buffer.concat([pkt(0x10, str('MQIsdp'), 3, 0x02, u16(10), str('c')), pkt(0xe0)]));
  assert.equal(d.next()?.type, 1);
  assert.equal(d.protocolVersion, 3);
  assert.deepEqual(d.next(), { type: 14, reasonCode: 0 });
});

test('sets protocolVersion from the level byte even when the rest of the CONNECT is invalid', () => {
  const d = new Decoder();
  d.push(connectV5(0x01));
  assert.throws(() => d.next(), ProtocolError);
  assert.equal(d.protocolVersion, 5);
});

test('decodePacket rejects incomplete input and bytes after the packet as MalformedPacket', () => {
  rejects(Buffer.alloc(0), 4, MALFORMED);
  rejects(pkt(0x30, str('a'), 1).subarray(0, 4), 4, MALFORMED);
  rejects(Buffer.concat([pkt(0xc0), Buffer.from([0])]), 4, MALFORMED);
});

test('yields only packets or ProtocolErrors for random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<ProtocolVersion>(3, 4, 5), (raw, version) => {
    const d = new Decoder({ protocolVersion: version, maxPacketBytes: 1 << 16 });
    d.push(Buffer.from(raw));
    try {
      drain(d, []);
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.cause, undefined, `decoder bug: ${String(err.cause)}`);
    }
  }), { numRuns: 5000 });
});

test('yields only packets or ProtocolErrors for mutated valid packets', () => {
  const seeds = [...stream.map((s) => s.bytes), connectV5(0xee, props(0x11, u32(1)), str('c'), props(0x01, 1),
    str('w'), u16(1), 1, str('u'), u16(1), 2), pkt(0x32, str('t'), u16(1), props(0x26, str('k'), str('v')), 1)];
  fc.assert(fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat(255), (seed, at, value) => {
    const bytes = Buffer.from(seed);
    bytes[at % bytes.length] = value;
    for (const version of [3, 4, 5] as const) {
      try {
        decodePacket(bytes, version);
      } catch (err) {
        assert.ok(err instanceof ProtocolError);
        assert.equal(err.cause, undefined, `decoder bug: ${String(err.cause)}`);
      }
    }
  }), { numRuns: 5000 });
});

test('lastPacketBytes: the whole packet just decoded, as a view when it lies in one chunk, a copy when split', () => {
  const a = Buffer.from([0x30, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69]); // PUBLISH t "hi"
  const b = Buffer.from([0xc0, 0x00]); // PINGREQ
  const d = new Decoder();
  assert.equal(d.lastPacketBytes().length, 0);
  const joined = Buffer.concat([a, b]);
  d.push(joined);
  assert.equal(d.next()?.type, 3);
  const view = d.lastPacketBytes();
  assert.deepEqual(view, a);
  assert.equal(view.buffer, joined.buffer, 'a view, not a copy');
  assert.equal(d.next()?.type, 12);
  assert.deepEqual(d.lastPacketBytes(), b);
  assert.equal(d.next(), null);
  assert.equal(d.lastPacketBytes().length, 0, 'empty once next() returned null');
  // Split over three chunks.
  d.push(a.subarray(0, 1));
  d.push(a.subarray(1, 4));
  assert.equal(d.next(), null);
  d.push(a.subarray(4));
  assert.equal(d.next()?.type, 3);
  assert.deepEqual(d.lastPacketBytes(), a);
});

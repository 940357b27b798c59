/**
 * Encoder tests: hand-written expected bytes (from the specifications, never from our decoder) for every packet
 * type in 3.1, 3.1.1 and 5.0, size boundaries, every MQTT 5 property type, short forms, the PUBLISH fan-out helpers
 * and programmer errors. `mqtt-packet` serves as an independent oracle for a few packets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mqttPacket from 'mqtt-packet';
import {
  encode, encodedLength, encodePublish, publishForRecipient, setRetainFlag, writePublishForRecipient, writeShortAck,
} from '../../src/protocol/encoder.js';
import { decodePacket } from '../../src/protocol/decoder.js';
import type { Packet, ProtocolVersion, PublishPacket } from '../../src/protocol/types.js';

/** Hex with whitespace allowed between bytes. */
const h = (s: string): string => s.replace(/\s+/g, '');
const b = (s: string): Buffer => Buffer.from(h(s), 'hex');
const u = (s: string): Buffer => Buffer.from(s, 'utf8');

interface Case {
  readonly name: string;
  readonly version: ProtocolVersion;
  readonly packet: Packet;
  readonly hex: string;
}

const pub = (topic: string, payload: Buffer, extra: Partial<PublishPacket> = {}): PublishPacket =>
  ({ type: 3, topic, payload, qos: 0, retain: false, dup: false, ...extra });

const v4Cases: Case[] = [
  { name: 'PINGREQ', version: 4, packet: { type: 12 }, hex: 'c0 00' },
  { name: 'PINGRESP', version: 4, packet: { type: 13 }, hex: 'd0 00' },
  { name: 'DISCONNECT ignores a reason code', version: 4, packet: { type: 14, reasonCode: 4 }, hex: 'e0 00' },
  { name: 'PUBACK', version: 4, packet: { type: 4, packetId: 1, reasonCode: 0 }, hex: '40 02 0001' },
  { name: 'PUBREC drops reason and properties', version: 4,
    packet: { type: 5, packetId: 0xabcd, reasonCode: 0x10, properties: { reasonString: 'x' } }, hex: '50 02 abcd' },
  { name: 'PUBREL has flags 0010', version: 4, packet: { type: 6, packetId: 2, reasonCode: 0 }, hex: '62 02 0002' },
  { name: 'PUBCOMP', version: 4, packet: { type: 7, packetId: 0xffff, reasonCode: 0 }, hex: '70 02 ffff' },
  { name: 'CONNACK session present', version: 4, packet: { type: 2, sessionPresent: true, reasonCode: 0 },
    hex: '20 02 01 00' },
  { name: 'CONNACK refused', version: 4, packet: { type: 2, sessionPresent: false, reasonCode: 5 }, hex: '20 02 00 05' },
  { name: 'CONNECT minimal', version: 4,
    packet: { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'a' },
    hex: '10 0d 0004 4d515454 04 02 003c 0001 61' },
  { name: 'CONNECT with will, user name and password', version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: false, keepaliveSeconds: 0, clientId: '',
      will: { topic: 't', payload: u('p'), qos: 2, retain: false }, username: 'u', password: u('pw'),
    },
    hex: '10 19 0004 4d515454 04 d4 0000 0000 0001 74 0001 70 0001 75 0002 7077' },
  { name: 'CONNECT will retain QoS 1', version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 0xffff, clientId: 'c',
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 1, retain: true },
    },
    hex: '10 12 0004 4d515454 04 2e ffff 0001 63 0001 77 0000' },
  { name: 'PUBLISH QoS 0', version: 4, packet: pub('a/b', u('hi')), hex: '30 07 0003 612f62 6869' },
  { name: 'PUBLISH QoS 0 empty payload, retain', version: 4, packet: pub('a', Buffer.alloc(0), { retain: true }),
    hex: '31 03 0001 61' },
  { name: 'PUBLISH QoS 1 dup retain, empty payload', version: 4,
    packet: pub('a/b', Buffer.alloc(0), { qos: 1, dup: true, retain: true, packetId: 10 }),
    hex: '3b 07 0003 612f62 000a' },
  { name: 'PUBLISH QoS 2', version: 4, packet: pub('x', u('z'), { qos: 2, packetId: 0x0102 }),
    hex: '34 06 0001 78 0102 7a' },
  { name: 'PUBLISH QoS 0 ignores a packet id', version: 4, packet: pub('x', u('z'), { packetId: 5 }),
    hex: '30 04 0001 78 7a' },
  { name: 'PUBLISH multi-byte topic', version: 4, packet: pub('a/€', Buffer.alloc(0)), hex: '30 07 0005 612f e282ac' },
  { name: 'PUBLISH long non-ASCII topic', version: 4, packet: pub('ü'.repeat(30), Buffer.alloc(0)),
    hex: `30 3e 003c ${'c3bc'.repeat(30)}` },
  { name: 'PUBLISH ignores properties', version: 4,
    packet: pub('t', Buffer.alloc(0), { properties: { contentType: 'x' } }), hex: '30 03 0001 74' },
  { name: 'SUBSCRIBE keeps only QoS in the options', version: 4,
    packet: {
      type: 8, packetId: 1, subscriptions: [
        { topicFilter: 'a/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'b', qos: 0, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      ],
    },
    hex: '82 0c 0001 0003 612f23 01 0001 62 00' },
  { name: 'SUBACK', version: 4, packet: { type: 9, packetId: 1, reasonCodes: [0, 1, 2, 0x80] },
    hex: '90 06 0001 00 01 02 80' },
  { name: 'SUBACK maps MQTT 5 failures to 0x80', version: 4, packet: { type: 9, packetId: 3, reasonCodes: [0x87, 0xa2] },
    hex: '90 04 0003 80 80' },
  { name: 'UNSUBSCRIBE', version: 4, packet: { type: 10, packetId: 2, topicFilters: ['a', 'b/c'] },
    hex: 'a2 0a 0002 0001 61 0003 622f63' },
  { name: 'UNSUBACK has no payload', version: 4, packet: { type: 11, packetId: 2, reasonCodes: [0x11] },
    hex: 'b0 02 0002' },
];

const v3Cases: Case[] = [
  { name: 'CONNECT uses MQIsdp', version: 3,
    packet: { type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: true, keepaliveSeconds: 60, clientId: 'a' },
    hex: '10 0f 0006 4d5149736470 03 02 003c 0001 61' },
  { name: 'CONNECT: the version parameter wins over protocolName', version: 3,
    packet: { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: false, keepaliveSeconds: 5, clientId: 'b',
      username: 'u', password: u('p') },
    hex: '10 15 0006 4d5149736470 03 c0 0005 0001 62 0001 75 0001 70' },
  { name: 'CONNACK has no session present flag', version: 3,
    packet: { type: 2, sessionPresent: true, reasonCode: 0 }, hex: '20 02 00 00' },
  { name: 'PUBLISH QoS 1', version: 3, packet: pub('a', u('b'), { qos: 1, packetId: 1 }), hex: '32 06 0001 61 0001 62' },
  { name: 'PUBACK', version: 3, packet: { type: 4, packetId: 9, reasonCode: 0 }, hex: '40 02 0009' },
  { name: 'SUBSCRIBE', version: 3,
    packet: { type: 8, packetId: 7, subscriptions: [
      { topicFilter: '+', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }] },
    hex: '82 06 0007 0001 2b 02' },
  { name: 'UNSUBACK', version: 3, packet: { type: 11, packetId: 7, reasonCodes: [] }, hex: 'b0 02 0007' },
  { name: 'DISCONNECT', version: 3, packet: { type: 14, reasonCode: 0 }, hex: 'e0 00' },
];

const v5Cases: Case[] = [
  { name: 'PUBACK short form', version: 5, packet: { type: 4, packetId: 1, reasonCode: 0 }, hex: '40 02 0001' },
  { name: 'PUBACK short form with empty properties', version: 5,
    packet: { type: 4, packetId: 1, reasonCode: 0, properties: {} }, hex: '40 02 0001' },
  { name: 'PUBREC reason without properties', version: 5,
    packet: { type: 5, packetId: 1, reasonCode: 0x10, properties: {} }, hex: '50 03 0001 10' },
  { name: 'PUBREL reason without properties', version: 5,
    packet: { type: 6, packetId: 1, reasonCode: 0x92 }, hex: '62 03 0001 92' },
  { name: 'PUBCOMP reason 0 with a reason string', version: 5,
    packet: { type: 7, packetId: 1, reasonCode: 0, properties: { reasonString: 'x' } },
    hex: '70 08 0001 00 04 1f 0001 78' },
  { name: 'PUBACK with user properties in array order', version: 5,
    packet: { type: 4, packetId: 2, reasonCode: 0x80, properties: { userProperties: [['b', '1'], ['a', '2'], ['b', '']] } },
    hex: '40 18 0002 80 14 26 0001 62 0001 31 26 0001 61 0001 32 26 0001 62 0000' },
  { name: 'DISCONNECT reason 0, no properties', version: 5, packet: { type: 14, reasonCode: 0, properties: {} },
    hex: 'e0 00' },
  { name: 'DISCONNECT reason only', version: 5, packet: { type: 14, reasonCode: 4 }, hex: 'e0 01 04' },
  { name: 'DISCONNECT with properties', version: 5,
    packet: { type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 0, serverReference: 'b' } },
    hex: 'e0 0b 00 09 11 00000000 1c 0001 62' },
  { name: 'AUTH reason 0, no properties', version: 5, packet: { type: 15, reasonCode: 0 }, hex: 'f0 00' },
  { name: 'AUTH reason keeps its property length (no short form in 3.15.2.1)', version: 5,
    packet: { type: 15, reasonCode: 0x19, properties: {} }, hex: 'f0 02 19 00' },
  { name: 'AUTH with method and data', version: 5,
    packet: { type: 15, reasonCode: 0x18, properties: { authenticationMethod: 'm', authenticationData: b('0102') } },
    hex: 'f0 0b 18 09 15 0001 6d 16 0002 0102' },
  { name: 'CONNACK empty properties', version: 5, packet: { type: 2, sessionPresent: false, reasonCode: 0 },
    hex: '20 03 00 00 00' },
  { name: 'CONNACK with every CONNACK property', version: 5,
    packet: { type: 2, sessionPresent: true, reasonCode: 0, properties: {
      sessionExpiryInterval: 3600, assignedClientIdentifier: 'id', serverKeepAlive: 30, authenticationMethod: 'm',
      authenticationData: b('0102'), responseInformation: 'r', serverReference: 's', reasonString: 'ok',
      receiveMaximum: 20, topicAliasMaximum: 10, maximumQoS: 1, retainAvailable: 0,
      userProperties: [['k', 'v'], ['k', 'v2']], maximumPacketSize: 65536, wildcardSubscriptionAvailable: 1,
      subscriptionIdentifiersAvailable: 0, sharedSubscriptionAvailable: 1,
    } },
    hex: `20 4a 01 00 47
      11 00000e10  12 0002 6964  13 001e  15 0001 6d  16 0002 0102  1a 0001 72  1c 0001 73  1f 0002 6f6b
      21 0014  22 000a  24 01  25 00  26 0001 6b 0001 76  26 0001 6b 0002 7632  27 00010000  28 01  29 00  2a 01` },
  { name: 'CONNECT with every CONNECT and Will property, password without user name', version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 10, clientId: 'c',
      password: Buffer.alloc(0),
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 0, retain: false, properties: {
        payloadFormatIndicator: 0, messageExpiryInterval: 0, contentType: 'a', responseTopic: 'b',
        correlationData: b('ff'), willDelayInterval: 60, userProperties: [['x', 'y']],
      } },
      properties: {
        sessionExpiryInterval: 0xffffffff, authenticationMethod: 'SCRAM', authenticationData: b('00'),
        requestProblemInformation: 0, requestResponseInformation: 1, receiveMaximum: 1, topicAliasMaximum: 0,
        userProperties: [['a', 'b']], maximumPacketSize: 1000,
      },
    },
    hex: `10 5c 0004 4d515454 05 46 000a
      27 11 ffffffff  15 0005 5343 52 41 4d  16 0001 00  17 00  19 01  21 0001  22 0000  26 0001 61 0001 62
      27 000003e8
      0001 63
      1f 01 00  02 00000000  03 0001 61  08 0001 62  09 0001 ff  18 0000003c  26 0001 78 0001 79
      0001 77  0000  0000` },
  { name: 'PUBLISH QoS 0 without properties', version: 5, packet: pub('a/b', u('hi')),
    hex: '30 08 0003 612f62 00 6869' },
  { name: 'PUBLISH QoS 0 with empty properties', version: 5, packet: pub('a/b', u('hi'), { properties: {} }),
    hex: '30 08 0003 612f62 00 6869' },
  { name: 'PUBLISH with every PUBLISH property', version: 5,
    packet: pub('t', u('x'), { qos: 1, packetId: 1, properties: {
      payloadFormatIndicator: 1, messageExpiryInterval: 0x01020304, contentType: 'c', responseTopic: 'r/t',
      correlationData: b('abcd'), subscriptionIdentifiers: [127, 128, 16384], topicAlias: 0xffff,
      userProperties: [['ü', '']],
    } }),
    hex: `32 30 0001 74 0001 29
      01 01  02 01020304  03 0001 63  08 0003 722f74  09 0002 abcd  0b 7f  0b 8001  0b 808001  23 ffff
      26 0002 c3bc 0000
      78` },
  { name: 'PUBLISH empty topic with a topic alias; properties written in identifier order', version: 5,
    packet: pub('', Buffer.alloc(0), { properties: { topicAlias: 1, subscriptionIdentifiers: [1, 268435455] } }),
    hex: '30 0d 0000 0a 0b 01 0b ffffff7f 23 0001' },
  { name: 'SUBSCRIBE with options and a subscription identifier', version: 5,
    packet: { type: 8, packetId: 1, properties: { subscriptionIdentifiers: [200] }, subscriptions: [
      { topicFilter: 'a', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: 'b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 1 }] },
    hex: '82 0e 0001 03 0b c801 0001 61 2e 0001 62 10' },
  { name: 'SUBACK', version: 5, packet: { type: 9, packetId: 1, reasonCodes: [0, 0x87], properties: {} },
    hex: '90 05 0001 00 00 87' },
  { name: 'SUBACK with a reason string', version: 5,
    packet: { type: 9, packetId: 1, reasonCodes: [0x87], properties: { reasonString: 'no' } },
    hex: '90 09 0001 05 1f 0002 6e6f 87' },
  { name: 'UNSUBSCRIBE', version: 5, packet: { type: 10, packetId: 1, topicFilters: ['a'] }, hex: 'a2 06 0001 00 0001 61' },
  { name: 'UNSUBACK', version: 5, packet: { type: 11, packetId: 1, reasonCodes: [0, 0x11] },
    hex: 'b0 05 0001 00 00 11' },
  { name: 'PINGREQ', version: 5, packet: { type: 12 }, hex: 'c0 00' },
];

/** PUBLISH at 3.1.1 with topic 'a' (3 bytes) and a payload making the remaining length `rl`. */
function boundary(rl: number, header: string): Case {
  return { name: `remaining length ${rl}`, version: 4, packet: pub('a', Buffer.alloc(rl - 3, 0x5a)),
    hex: `${header} 0001 61 ${'5a'.repeat(rl - 3)}` };
}
const boundaryCases: Case[] = [
  boundary(127, '30 7f'), boundary(128, '30 8001'), boundary(16383, '30 ff7f'), boundary(16384, '30 808001'),
  boundary(2_097_151, '30 ffff7f'), boundary(2_097_152, '30 80808001'),
];

const allCases = [...v3Cases, ...v4Cases, ...v5Cases, ...boundaryCases];

describe('encode: hand-written bytes', () => {
  for (const c of allCases) {
    test(`v${c.version} ${c.name}`, () => {
      const out = encode(c.packet, c.version);
      assert.equal(out.toString('hex'), h(c.hex));
      assert.equal(encodedLength(c.packet, c.version), out.length);
    });
  }
});

describe('encode: strings', () => {
  test('a 65,535-byte topic fits, and 65,536 bytes throw RangeError', () => {
    const max = pub('a'.repeat(65_535), Buffer.alloc(0));
    const out = encode(max, 4);
    assert.equal(out.length, encodedLength(max, 4));
    assert.equal(out.readUInt16BE(4), 65_535);
    assert.throws(() => encode(pub('a'.repeat(65_536), Buffer.alloc(0)), 4), RangeError);
    assert.throws(() => encodedLength(pub('€'.repeat(21_846), Buffer.alloc(0)), 4), RangeError);
  });

  test('short strings mixing ASCII and multi-byte characters', () => {
    for (const s of ['é', 'aé', 'abc€', '😀', 'x/😀/y', 'ü'.repeat(24), 'a'.repeat(23) + 'ü']) {
      const out = encode(pub(s, Buffer.alloc(0)), 4);
      const bytes = u(s);
      assert.equal(out.readUInt16BE(2), bytes.length, s);
      assert.deepEqual(out.subarray(4), bytes, s);
    }
  });
});

/** A payload stand-in: only `length` is read before the size check, so nothing huge is allocated. */
const fake = (length: number): Buffer => ({ length }) as Buffer;

describe('encode: limits of the remaining length', () => {
  test('268,435,455 is the largest remaining length', () => {
    assert.equal(encodedLength(pub('a', fake(268_435_455 - 3)), 4), 1 + 4 + 268_435_455);
  });

  test('268,435,456 throws RangeError', () => {
    assert.throws(() => encodedLength(pub('a', fake(268_435_456 - 3)), 4), RangeError);
    assert.throws(() => encode(pub('a', fake(268_435_456 - 3)), 4), RangeError);
  });
});

describe('encode: programmer errors', () => {
  const bad: [string, ProtocolVersion, Packet, RangeErrorConstructor | TypeErrorConstructor][] = [
    ['PUBLISH QoS 1 without packet id', 4, pub('a', Buffer.alloc(0), { qos: 1 }), RangeError],
    ['PUBLISH QoS 1 with packet id 0', 5, pub('a', Buffer.alloc(0), { qos: 1, packetId: 0 }), RangeError],
    ['PUBLISH QoS 2 with packet id 65536', 4, pub('a', Buffer.alloc(0), { qos: 2, packetId: 65_536 }), RangeError],
    ['PUBLISH QoS 3', 4, pub('a', Buffer.alloc(0), { qos: 3 as 0 }), RangeError],
    ['PUBLISH DUP at QoS 0', 4, pub('a', Buffer.alloc(0), { dup: true }), RangeError],
    ['PUBLISH empty topic before MQTT 5', 4, pub('', Buffer.alloc(0)), TypeError],
    ['PUBLISH empty topic without alias', 5, pub('', Buffer.alloc(0)), TypeError],
    ['PUBACK packet id 0', 4, { type: 4, packetId: 0, reasonCode: 0 }, RangeError],
    ['PUBACK reason code 256', 5, { type: 4, packetId: 1, reasonCode: 256 }, RangeError],
    ['SUBSCRIBE without subscriptions', 4, { type: 8, packetId: 1, subscriptions: [] }, TypeError],
    ['SUBSCRIBE retain handling 3', 5, { type: 8, packetId: 1, subscriptions: [
      { topicFilter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 3 as 0 }] }, RangeError],
    ['SUBSCRIBE with two subscription identifiers', 5, { type: 8, packetId: 1,
      properties: { subscriptionIdentifiers: [1, 2] }, subscriptions: [
        { topicFilter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }, TypeError],
    ['UNSUBSCRIBE without filters', 5, { type: 10, packetId: 1, topicFilters: [] }, TypeError],
    ['SUBACK without codes', 5, { type: 9, packetId: 1, reasonCodes: [] }, TypeError],
    ['SUBACK return code 3 before MQTT 5', 4, { type: 9, packetId: 1, reasonCodes: [3] }, RangeError],
    ['AUTH before MQTT 5', 4, { type: 15, reasonCode: 0 }, TypeError],
    ['unknown property', 5, { type: 14, reasonCode: 0, properties: { colour: 1 } as object }, TypeError],
    ['property outside its packet', 5, { type: 14, reasonCode: 0, properties: { topicAlias: 1 } }, TypeError],
    ['byte property 256', 5, pub('a', Buffer.alloc(0), { properties: { payloadFormatIndicator: 256 } }), RangeError],
    ['uint16 property 65536', 5, { type: 2, sessionPresent: false, reasonCode: 0,
      properties: { receiveMaximum: 65_536 } }, RangeError],
    ['uint32 property 2^32', 5, { type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 2 ** 32 } },
      RangeError],
    ['fractional uint32 property', 5, { type: 14, reasonCode: 0, properties: { sessionExpiryInterval: 1.5 } },
      RangeError],
    ['subscription identifier 0', 5, pub('a', Buffer.alloc(0), { properties: { subscriptionIdentifiers: [0] } }),
      RangeError],
    ['binary property over 65,535 bytes', 5, { type: 15, reasonCode: 0x18,
      properties: { authenticationData: Buffer.alloc(65_536) } }, RangeError],
    ['keep alive 65536', 4, { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true,
      keepaliveSeconds: 65_536, clientId: 'a' }, RangeError],
    ['password without user name before MQTT 5', 4, { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true,
      keepaliveSeconds: 0, clientId: 'a', password: u('p') }, TypeError],
    ['Will QoS 3', 4, { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 0,
      clientId: 'a', will: { topic: 't', payload: Buffer.alloc(0), qos: 3 as 0, retain: false } }, RangeError],
    ['Will payload over 65,535 bytes', 4, { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true,
      keepaliveSeconds: 0, clientId: 'a', will: { topic: 't', payload: Buffer.alloc(65_536), qos: 0, retain: false } },
      RangeError],
    ['unknown packet type', 4, { type: 0 } as unknown as Packet, TypeError],
  ];
  for (const [name, version, packet, kind] of bad) {
    test(`${name} throws ${kind.name}`, () => {
      assert.throws(() => encode(packet, version), (e: unknown) => e instanceof kind
        && (e as { code?: string }).code === 'MQTT_ERR_ENCODE');
      assert.throws(() => encodedLength(packet, version), kind);
    });
  }

  test('protocol version 6 throws RangeError', () => {
    assert.throws(() => encode({ type: 12 }, 6 as 5), RangeError);
    assert.throws(() => encodedLength({ type: 12 }, 6 as 5), RangeError);
  });
});

describe('encodePublish and publishForRecipient', () => {
  const packet = pub('s/t', u('payload'), { qos: 1, packetId: 7, retain: true,
    properties: { contentType: 'c', userProperties: [['k', 'v']] } });

  test('bytes equal encode() and the packet id offset points at the packet id', () => {
    const e = encodePublish(packet, 5);
    assert.deepEqual(e.bytes, encode(packet, 5));
    assert.equal(e.qos, 1);
    assert.equal(e.packetIdOffset, 2 + 2 + 3);
    assert.equal(e.bytes.readUInt16BE(e.packetIdOffset), 7);
  });

  test('patches packet id, QoS and DUP into a copy, keeping RETAIN, without touching the shared bytes', () => {
    const e = encodePublish(packet, 5);
    const before = Buffer.from(e.bytes);
    const out = publishForRecipient(e, 0x1234, 2, true);
    assert.deepEqual(out, encode({ ...packet, qos: 2, dup: true, packetId: 0x1234 }, 5));
    assert.equal(out[0], 0x3d);
    assert.deepEqual(e.bytes, before);
    const again = publishForRecipient(e, 1, 1, false);
    assert.deepEqual(again, encode({ ...packet, packetId: 1 }, 5));
    assert.notEqual(again.buffer === out.buffer && again.byteOffset === out.byteOffset, true);
  });

  test('works with a multi-byte remaining length', () => {
    for (const size of [200, 20_000, 3_000_000]) {
      const big = pub('topic/x', Buffer.alloc(size, 1), { qos: 2, packetId: 9 });
      for (const version of [3, 4, 5] as const) {
        const e = encodePublish(big, version);
        assert.equal(e.bytes.readUInt16BE(e.packetIdOffset), 9);
        assert.deepEqual(publishForRecipient(e, 500, 1, false),
          encode({ ...big, qos: 1, packetId: 500 }, version));
      }
    }
  });

  test('QoS 0 has no packet id slot and cannot be patched', () => {
    const e = encodePublish(pub('a', u('b')), 4);
    assert.equal(e.qos, 0);
    assert.equal(e.packetIdOffset, -1);
    assert.throws(() => publishForRecipient(e, 1, 1, false), TypeError);
  });

  test('rejects a bad packet id or QoS', () => {
    const e = encodePublish(packet, 4);
    assert.throws(() => publishForRecipient(e, 0, 1, false), RangeError);
    assert.throws(() => publishForRecipient(e, 65_536, 1, false), RangeError);
    assert.throws(() => publishForRecipient(e, 1, 0 as 1, false), RangeError);
  });

  test('writePublishForRecipient writes the same bytes as publishForRecipient at an offset, touching nothing else', () => {
    const e = encodePublish(packet, 5);
    const target = Buffer.alloc(e.bytes.length + 6, 0xee);
    writePublishForRecipient(e, target, 3, 0x0102, 1, true);
    assert.deepEqual(target.subarray(3, 3 + e.bytes.length), publishForRecipient(e, 0x0102, 1, true));
    assert.deepEqual([...target.subarray(0, 3), ...target.subarray(3 + e.bytes.length)], [0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    assert.throws(() => writePublishForRecipient(e, target, 0, 0, 1, false), RangeError);
  });

  test('writeShortAck writes what encode gives for PUBACK/PUBREC/PUBREL/PUBCOMP in 3.1.1 and a v5 Success without properties [MQTT-3.6.1-1]', () => {
    for (const type of [4, 5, 6, 7] as const) {
      const target = Buffer.alloc(4);
      writeShortAck(target, 0, type, 0xabcd);
      assert.deepEqual(target, encode({ type, packetId: 0xabcd, reasonCode: 0 } as Packet, 4));
      assert.deepEqual(decodePacket(target, 5), { type, packetId: 0xabcd, reasonCode: 0, properties: {} });
    }
    assert.throws(() => writeShortAck(Buffer.alloc(4), 0, 4, 0), RangeError);
  });

  test('setRetainFlag sets and clears only the RETAIN bit', () => {
    const bytes = encode(pub('a', u('b'), { qos: 2, packetId: 1, dup: true }), 4);
    assert.equal(bytes[0], 0x3c);
    setRetainFlag(bytes, true);
    assert.equal(bytes[0], 0x3d);
    setRetainFlag(bytes, true);
    assert.equal(bytes[0], 0x3d);
    setRetainFlag(bytes, false);
    assert.equal(bytes[0], 0x3c);
  });
});

describe('encode agrees with mqtt-packet (oracle)', () => {
  const payloads = [Buffer.alloc(0), u('hello'), Buffer.alloc(300, 7)];
  for (const version of [4, 5] as const) {
    for (const qos of [0, 1, 2] as const) {
      for (const payload of payloads) {
        test(`v${version} PUBLISH QoS ${qos}, ${payload.length}-byte payload`, () => {
          const packetId = qos > 0 ? 42 : undefined;
          const properties = version === 5
            ? { payloadFormatIndicator: 1, messageExpiryInterval: 60, contentType: 'text/plain',
              responseTopic: 'r', correlationData: b('0102'), userProperties: [['a', 'b'] as const] }
            : undefined;
          const ours = encode(pub('a/b/c', payload, { qos, retain: true, ...(packetId ? { packetId } : {}),
            ...(properties ? { properties } : {}) }), version);
          const theirs = mqttPacket.generate({ cmd: 'publish', topic: 'a/b/c', payload, qos, retain: true, dup: false,
            ...(packetId ? { messageId: packetId } : {}),
            ...(properties ? { properties: { ...properties, payloadFormatIndicator: true, userProperties: { a: 'b' } } } : {}) },
          { protocolVersion: version });
          assert.equal(ours.toString('hex'), theirs.toString('hex'));
        });
      }
    }
  }

  test('v5 CONNECT with will and properties', () => {
    const ours = encode({ type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 60,
      clientId: 'cid', username: 'u', password: u('p'), properties: { sessionExpiryInterval: 10, receiveMaximum: 5 },
      will: { topic: 'w', payload: u('x'), qos: 1, retain: true, properties: { willDelayInterval: 5 } } }, 5);
    const theirs = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true,
      keepalive: 60, clientId: 'cid', username: 'u', password: u('p'),
      properties: { sessionExpiryInterval: 10, receiveMaximum: 5 },
      will: { topic: 'w', payload: u('x'), qos: 1, retain: true, properties: { willDelayInterval: 5 } } },
    { protocolVersion: 5 });
    assert.equal(ours.toString('hex'), theirs.toString('hex'));
  });
});

function passwordOnlyConnect(version: 3 | 4 | 5): Packet {
  return {
    type: 1, protocolName: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: true,
    keepaliveSeconds: 0, clientId: 'c', password: Buffer.from('pw'), ...(version === 5 ? { properties: {} } : {}),
  };
}

test('a password without a user name encodes for MQTT 3.1 and 5 (the decoder accepts both) and is refused for 3.1.1 [MQTT-3.1.2-22]', () => {
  const connect = passwordOnlyConnect;
  for (const version of [3, 5] as const) {
    assert.deepStrictEqual(decodePacket(encode(connect(version), version), version), connect(version));
  }
  assert.throws(() => encode(connect(4), 4), /MQTT-3.1.2-22/);
});

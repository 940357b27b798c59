/**
 * The codec fixture table: (packet, exact bytes) per protocol version.
 *
 * The bytes are written by hand from the specifications (MQTT 3.1, OASIS MQTT 3.1.1, OASIS MQTT 5.0), one field a
 * line with a comment, and never produced by our encoder. differential.test.ts parses every fixture with the
 * independent `mqtt-packet` package as a cross-check, and fixtures.test.ts checks that each remaining length agrees
 * with the bytes that follow it. Only the payloads of the size-boundary fixtures are built programmatically.
 *
 * A fixture marked `decodeOnly` is a valid but non-canonical encoding (a long form where the short form would do,
 * properties out of identifier order): it must decode to `packet`, but the encoder is expected to produce another
 * fixture's bytes for that packet.
 *
 * Conventions inside `hex\`...\``: whitespace is ignored and `#` starts a comment running to the end of the line.
 * Property order in the canonical fixtures is ascending by identifier, and each packet object lists its property
 * keys in that same order.
 */
import type { Packet, ProtocolVersion } from '../../src/protocol/types.js';

export interface Fixture {
  readonly name: string;
  readonly version: ProtocolVersion;
  readonly packet: Packet;
  /** The exact wire bytes, lowercase hex without separators. */
  readonly hex: string;
  /** A valid non-canonical encoding: checked by decoding only. */
  readonly decodeOnly?: boolean;
}

/** Strips `#` comments and whitespace from a commented hex listing. */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) text += String(values[i]) + (strings[i + 1] ?? '');
  const out = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '')
    .toLowerCase();
  if (!/^(?:[0-9a-f]{2})*$/.test(out)) throw new Error(`bad hex listing: ${out.slice(0, 80)}`);
  return out;
}

const b = (h: string): Buffer => Buffer.from(h, 'hex');
const u = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Deterministic filler for the boundary payloads: byte i is (i * 7 + 3) & 0xff. */
export function filler(length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 7 + 3) & 0xff;
  return buf;
}

// ---------------------------------------------------------------------------------------------------------------
// MQTT 3.1 (protocol level 3, protocol name "MQIsdp")
// ---------------------------------------------------------------------------------------------------------------

const v3: Fixture[] = [
  {
    name: 'v3 CONNECT minimal',
    version: 3,
    packet: { type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: true, keepaliveSeconds: 10, clientId: 'c3' },
    hex: hex`
      10 10              # CONNECT, remaining length 16
      00 06 4d5149736470 # protocol name "MQIsdp"
      03                 # protocol level 3
      02                 # flags: clean session
      00 0a              # keep alive 10
      00 02 6333         # client id "c3"
    `,
  },
  {
    name: 'v3 CONNECT will QoS 2 retained, username and password',
    version: 3,
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: true, keepaliveSeconds: 60, clientId: 'c',
      username: 'u', password: u('p'), will: { topic: 'w', payload: u('x'), qos: 2, retain: true },
    },
    hex: hex`
      10 1b              # CONNECT, remaining length 27
      00 06 4d5149736470 # "MQIsdp"
      03                 # level 3
      f6                 # flags: username 80 | password 40 | will retain 20 | will QoS 2 10 | will 04 | clean 02
      00 3c              # keep alive 60
      00 01 63           # client id "c"
      00 01 77           # will topic "w"
      00 01 78           # will payload "x"
      00 01 75           # username "u"
      00 01 70           # password "p"
    `,
  },
  {
    name: 'v3 CONNECT will QoS 1 not retained, empty will payload, persistent session',
    version: 3,
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: false, keepaliveSeconds: 0, clientId: 'c',
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 1, retain: false },
    },
    hex: hex`
      10 14              # CONNECT, remaining length 20
      00 06 4d5149736470 # "MQIsdp"
      03                 # level 3
      0c                 # flags: will QoS 1 08 | will 04
      00 00              # keep alive 0
      00 01 63           # client id "c"
      00 01 77           # will topic "w"
      00 00              # will payload: empty
    `,
  },
  {
    name: 'v3 CONNECT username only',
    version: 3,
    packet: {
      type: 1, protocolName: 'MQIsdp', protocolVersion: 3, clean: true, keepaliveSeconds: 30, clientId: 'c',
      username: 'u',
    },
    hex: hex`
      10 12              # CONNECT, remaining length 18
      00 06 4d5149736470 # "MQIsdp"
      03                 # level 3
      82                 # flags: username 80 | clean 02
      00 1e              # keep alive 30
      00 01 63           # client id "c"
      00 01 75           # username "u"
    `,
  },
  {
    name: 'v3 CONNACK accepted',
    version: 3,
    packet: { type: 2, sessionPresent: false, reasonCode: 0 },
    hex: hex`20 02  00  00 # CONNACK, length 2, reserved byte, return code 0`,
  },
  {
    name: 'v3 CONNACK identifier rejected',
    version: 3,
    packet: { type: 2, sessionPresent: false, reasonCode: 2 },
    hex: hex`20 02  00  02 # CONNACK, length 2, reserved byte, return code 2`,
  },
  {
    name: 'v3 PUBLISH QoS 0',
    version: 3,
    packet: { type: 3, topic: 'a/b', payload: u('hi'), qos: 0, retain: false, dup: false },
    hex: hex`
      30 07          # PUBLISH QoS 0, remaining length 7
      00 03 612f62   # topic "a/b"
      6869           # payload "hi"
    `,
  },
  {
    name: 'v3 PUBLISH QoS 1 retained',
    version: 3,
    packet: { type: 3, topic: 'a', payload: u('x'), qos: 1, retain: true, dup: false, packetId: 1 },
    hex: hex`
      33 06          # PUBLISH QoS 1 (02) retain (01), remaining length 6
      00 01 61       # topic "a"
      00 01          # packet id 1
      78             # payload "x"
    `,
  },
  {
    name: 'v3 PUBLISH QoS 2 dup',
    version: 3,
    packet: { type: 3, topic: 'a', payload: Buffer.alloc(0), qos: 2, retain: false, dup: true, packetId: 0x1234 },
    hex: hex`
      3c 05          # PUBLISH dup (08) QoS 2 (04), remaining length 5
      00 01 61       # topic "a"
      12 34          # packet id 0x1234
                     # empty payload
    `,
  },
  { name: 'v3 PUBACK', version: 3, packet: { type: 4, packetId: 1, reasonCode: 0 }, hex: hex`40 02 0001` },
  { name: 'v3 PUBREC', version: 3, packet: { type: 5, packetId: 2, reasonCode: 0 }, hex: hex`50 02 0002` },
  { name: 'v3 PUBREL', version: 3, packet: { type: 6, packetId: 3, reasonCode: 0 }, hex: hex`62 02 0003 # flags 0010` },
  { name: 'v3 PUBCOMP', version: 3, packet: { type: 7, packetId: 4, reasonCode: 0 }, hex: hex`70 02 0004` },
  {
    name: 'v3 SUBSCRIBE two filters',
    version: 3,
    packet: {
      type: 8, packetId: 5, subscriptions: [
        { topicFilter: 'a/+', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: '#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
    hex: hex`
      82 0c          # SUBSCRIBE (flags 0010), remaining length 12
      00 05          # packet id 5
      00 03 612f2b   # filter "a/+"
      01             # QoS 1
      00 01 23       # filter "#"
      02             # QoS 2
    `,
  },
  {
    name: 'v3 SUBACK',
    version: 3,
    packet: { type: 9, packetId: 5, reasonCodes: [1, 2] },
    hex: hex`90 04  0005  01 02 # SUBACK, length 4, packet id 5, granted QoS 1 and 2`,
  },
  {
    name: 'v3 UNSUBSCRIBE',
    version: 3,
    packet: { type: 10, packetId: 6, topicFilters: ['a/+'] },
    hex: hex`
      a2 07          # UNSUBSCRIBE (flags 0010), remaining length 7
      00 06          # packet id 6
      00 03 612f2b   # filter "a/+"
    `,
  },
  {
    name: 'v3 UNSUBACK',
    version: 3,
    packet: { type: 11, packetId: 6, reasonCodes: [] },
    hex: hex`b0 02 0006 # UNSUBACK, packet id 6, no payload`,
  },
  { name: 'v3 PINGREQ', version: 3, packet: { type: 12 }, hex: hex`c0 00` },
  { name: 'v3 PINGRESP', version: 3, packet: { type: 13 }, hex: hex`d0 00` },
  { name: 'v3 DISCONNECT', version: 3, packet: { type: 14, reasonCode: 0 }, hex: hex`e0 00` },
];

// ---------------------------------------------------------------------------------------------------------------
// MQTT 3.1.1 (protocol level 4)
// ---------------------------------------------------------------------------------------------------------------

const MQTT = '00 04 4d515454'; // protocol name "MQTT"

const v4: Fixture[] = [
  {
    name: 'v4 CONNECT minimal',
    version: 4,
    packet: { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'c' },
    hex: hex`
      10 0d          # CONNECT, remaining length 13
      ${MQTT}        # protocol name "MQTT"
      04             # level 4
      02             # flags: clean session
      00 3c          # keep alive 60
      00 01 63       # client id "c"
    `,
  },
  {
    name: 'v4 CONNECT zero-length client id',
    version: 4,
    packet: { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 0, clientId: '' },
    hex: hex`
      10 0c          # CONNECT, remaining length 12
      ${MQTT}        # "MQTT"
      04             # level 4
      02             # clean session
      00 00          # keep alive 0
      00 00          # client id ""
    `,
  },
  {
    name: 'v4 CONNECT username only',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'c',
      username: 'u',
    },
    hex: hex`
      10 10          # CONNECT, remaining length 16
      ${MQTT} 04     # "MQTT", level 4
      82             # flags: username 80 | clean 02
      00 3c          # keep alive 60
      00 01 63       # client id "c"
      00 01 75       # username "u"
    `,
  },
  {
    name: 'v4 CONNECT username and binary password',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'c',
      username: 'user', password: b('00ff'),
    },
    hex: hex`
      10 17          # CONNECT, remaining length 23
      ${MQTT} 04     # "MQTT", level 4
      c2             # flags: username 80 | password 40 | clean 02
      00 3c          # keep alive 60
      00 01 63       # client id "c"
      00 04 75736572 # username "user"
      00 02 00ff     # password 00 ff
    `,
  },
  {
    name: 'v4 CONNECT username and empty password',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'c',
      username: 'u', password: Buffer.alloc(0),
    },
    hex: hex`
      10 12          # CONNECT, remaining length 18
      ${MQTT} 04     # "MQTT", level 4
      c2             # flags: username | password | clean
      00 3c          # keep alive 60
      00 01 63       # client id "c"
      00 01 75       # username "u"
      00 00          # password: empty
    `,
  },
  {
    name: 'v4 CONNECT will QoS 0 not retained',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: 'c',
      will: { topic: 'w/t', payload: u('bye'), qos: 0, retain: false },
    },
    hex: hex`
      10 17          # CONNECT, remaining length 23
      ${MQTT} 04     # "MQTT", level 4
      06             # flags: will 04 | clean 02
      00 3c          # keep alive 60
      00 01 63       # client id "c"
      00 03 772f74   # will topic "w/t"
      00 03 627965   # will payload "bye"
    `,
  },
  {
    name: 'v4 CONNECT will QoS 1 retained, empty will payload, persistent session',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: false, keepaliveSeconds: 60, clientId: 'c',
      will: { topic: 'w', payload: Buffer.alloc(0), qos: 1, retain: true },
    },
    hex: hex`
      10 12          # CONNECT, remaining length 18
      ${MQTT} 04     # "MQTT", level 4
      2c             # flags: will retain 20 | will QoS 1 08 | will 04
      00 3c          # keep alive 60
      00 01 63       # client id "c"
      00 01 77       # will topic "w"
      00 00          # will payload: empty
    `,
  },
  {
    name: 'v4 CONNECT will QoS 2, username and password, max keep alive',
    version: 4,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 65535, clientId: 'c',
      username: 'u', password: u('p'), will: { topic: 'w', payload: b('0102'), qos: 2, retain: false },
    },
    hex: hex`
      10 1a          # CONNECT, remaining length 26
      ${MQTT} 04     # "MQTT", level 4
      d6             # flags: username 80 | password 40 | will QoS 2 10 | will 04 | clean 02
      ff ff          # keep alive 65535
      00 01 63       # client id "c"
      00 01 77       # will topic "w"
      00 02 0102     # will payload 01 02
      00 01 75       # username "u"
      00 01 70       # password "p"
    `,
  },
  {
    name: 'v4 CONNACK accepted',
    version: 4,
    packet: { type: 2, sessionPresent: false, reasonCode: 0 },
    hex: hex`20 02  00  00 # CONNACK, flags 0, return code 0`,
  },
  {
    name: 'v4 CONNACK session present',
    version: 4,
    packet: { type: 2, sessionPresent: true, reasonCode: 0 },
    hex: hex`20 02  01  00 # CONNACK, session present, return code 0`,
  },
  {
    name: 'v4 CONNACK not authorized',
    version: 4,
    packet: { type: 2, sessionPresent: false, reasonCode: 5 },
    hex: hex`20 02  00  05 # CONNACK, return code 5`,
  },
  {
    name: 'v4 PUBLISH QoS 0',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: u('hi'), qos: 0, retain: false, dup: false },
    hex: hex`
      30 07          # PUBLISH QoS 0, remaining length 7
      00 03 612f62   # topic "a/b"
      6869           # payload "hi"
    `,
  },
  {
    name: 'v4 PUBLISH QoS 0 retained, empty payload',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: Buffer.alloc(0), qos: 0, retain: true, dup: false },
    hex: hex`
      31 05          # PUBLISH QoS 0 retain, remaining length 5
      00 03 612f62   # topic "a/b"
    `,
  },
  {
    name: 'v4 PUBLISH QoS 1',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: u('x'), qos: 1, retain: false, dup: false, packetId: 1 },
    hex: hex`
      32 08          # PUBLISH QoS 1, remaining length 8
      00 03 612f62   # topic "a/b"
      00 01          # packet id 1
      78             # payload "x"
    `,
  },
  {
    name: 'v4 PUBLISH QoS 1 dup, packet id 65535',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: u('x'), qos: 1, retain: false, dup: true, packetId: 65535 },
    hex: hex`
      3a 08          # PUBLISH dup 08 | QoS 1 02, remaining length 8
      00 03 612f62   # topic "a/b"
      ff ff          # packet id 65535
      78             # payload "x"
    `,
  },
  {
    name: 'v4 PUBLISH QoS 2',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: u('x'), qos: 2, retain: false, dup: false, packetId: 2 },
    hex: hex`
      34 08          # PUBLISH QoS 2, remaining length 8
      00 03 612f62   # topic "a/b"
      00 02          # packet id 2
      78             # payload "x"
    `,
  },
  {
    name: 'v4 PUBLISH QoS 2 dup retained',
    version: 4,
    packet: { type: 3, topic: 'a/b', payload: u('x'), qos: 2, retain: true, dup: true, packetId: 0x1234 },
    hex: hex`
      3d 08          # PUBLISH dup 08 | QoS 2 04 | retain 01, remaining length 8
      00 03 612f62   # topic "a/b"
      12 34          # packet id 0x1234
      78             # payload "x"
    `,
  },
  {
    name: 'v4 PUBLISH non-ASCII topic',
    version: 4,
    packet: { type: 3, topic: 'ü/€', payload: u('é'), qos: 0, retain: false, dup: false },
    hex: hex`
      30 0a             # PUBLISH QoS 0, remaining length 10
      00 06 c3bc2fe282ac # topic "ü/€": U+00FC (c3 bc), "/", U+20AC (e2 82 ac)
      c3a9              # payload "é"
    `,
  },
  // Remaining length boundaries (section 2.2.3): 127 is the largest one-byte value, 16,383 the largest two-byte one.
  {
    name: 'v4 PUBLISH remaining length 127',
    version: 4,
    packet: { type: 3, topic: 't', payload: filler(124), qos: 0, retain: false, dup: false },
    hex: hex`
      30 7f          # PUBLISH QoS 0, remaining length 127 (one byte)
      00 01 74       # topic "t"
    ` + filler(124).toString('hex'),
  },
  {
    name: 'v4 PUBLISH remaining length 128',
    version: 4,
    packet: { type: 3, topic: 't', payload: filler(125), qos: 0, retain: false, dup: false },
    hex: hex`
      30 80 01       # PUBLISH QoS 0, remaining length 128 (two bytes)
      00 01 74       # topic "t"
    ` + filler(125).toString('hex'),
  },
  {
    name: 'v4 PUBLISH remaining length 16383',
    version: 4,
    packet: { type: 3, topic: 't', payload: filler(16_380), qos: 0, retain: false, dup: false },
    hex: hex`
      30 ff 7f       # PUBLISH QoS 0, remaining length 16383 (two bytes)
      00 01 74       # topic "t"
    ` + filler(16_380).toString('hex'),
  },
  {
    name: 'v4 PUBLISH remaining length 16384',
    version: 4,
    packet: { type: 3, topic: 't', payload: filler(16_381), qos: 0, retain: false, dup: false },
    hex: hex`
      30 80 80 01    # PUBLISH QoS 0, remaining length 16384 (three bytes)
      00 01 74       # topic "t"
    ` + filler(16_381).toString('hex'),
  },
  {
    name: 'v4 PUBLISH remaining length 2097151 (largest three-byte length)',
    version: 4,
    packet: { type: 3, topic: 'big', payload: filler(2_097_144), qos: 1, retain: false, dup: false, packetId: 7 },
    hex: hex`
      32 ff ff 7f    # PUBLISH QoS 1, remaining length 2,097,151
      00 03 626967   # topic "big"
      00 07          # packet id 7
    ` + filler(2_097_144).toString('hex'),
  },
  { name: 'v4 PUBACK', version: 4, packet: { type: 4, packetId: 1, reasonCode: 0 }, hex: hex`40 02 0001` },
  { name: 'v4 PUBREC', version: 4, packet: { type: 5, packetId: 0xabcd, reasonCode: 0 }, hex: hex`50 02 abcd` },
  { name: 'v4 PUBREL', version: 4, packet: { type: 6, packetId: 2, reasonCode: 0 }, hex: hex`62 02 0002 # flags 0010` },
  { name: 'v4 PUBCOMP', version: 4, packet: { type: 7, packetId: 65535, reasonCode: 0 }, hex: hex`70 02 ffff` },
  {
    name: 'v4 SUBSCRIBE one filter',
    version: 4,
    packet: {
      type: 8, packetId: 1,
      subscriptions: [{ topicFilter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    },
    hex: hex`
      82 06          # SUBSCRIBE (flags 0010), remaining length 6
      00 01          # packet id 1
      00 01 61       # filter "a"
      00             # QoS 0
    `,
  },
  {
    name: 'v4 SUBSCRIBE three filters',
    version: 4,
    packet: {
      type: 8, packetId: 10, subscriptions: [
        { topicFilter: 'a/+', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: '#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 's/+/x/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    },
    hex: hex`
      82 16               # SUBSCRIBE, remaining length 22
      00 0a               # packet id 10
      00 03 612f2b     00 # "a/+" QoS 0
      00 01 23         01 # "#" QoS 1
      00 07 732f2b2f782f23 02 # "s/+/x/#" QoS 2
    `,
  },
  {
    name: 'v4 SUBACK granted',
    version: 4,
    packet: { type: 9, packetId: 10, reasonCodes: [0, 1, 2] },
    hex: hex`
      90 05          # SUBACK, remaining length 5
      00 0a          # packet id 10
      00 01 02       # granted QoS 0, 1, 2
    `,
  },
  {
    name: 'v4 SUBACK with failure',
    version: 4,
    packet: { type: 9, packetId: 11, reasonCodes: [0x80, 1] },
    hex: hex`
      90 04          # SUBACK, remaining length 4
      00 0b          # packet id 11
      80 01          # failure, granted QoS 1
    `,
  },
  {
    name: 'v4 UNSUBSCRIBE two filters',
    version: 4,
    packet: { type: 10, packetId: 12, topicFilters: ['a/+', '#'] },
    hex: hex`
      a2 0a          # UNSUBSCRIBE (flags 0010), remaining length 10
      00 0c          # packet id 12
      00 03 612f2b   # "a/+"
      00 01 23       # "#"
    `,
  },
  {
    name: 'v4 UNSUBACK (no payload)',
    version: 4,
    packet: { type: 11, packetId: 12, reasonCodes: [] },
    hex: hex`b0 02 000c # UNSUBACK, packet id 12`,
  },
  { name: 'v4 PINGREQ', version: 4, packet: { type: 12 }, hex: hex`c0 00` },
  { name: 'v4 PINGRESP', version: 4, packet: { type: 13 }, hex: hex`d0 00` },
  { name: 'v4 DISCONNECT', version: 4, packet: { type: 14, reasonCode: 0 }, hex: hex`e0 00` },
];

// ---------------------------------------------------------------------------------------------------------------
// MQTT 5.0 (protocol level 5)
// ---------------------------------------------------------------------------------------------------------------

const SCRAM = '00 05 53 43 52 41 4d'; // UTF-8 string "SCRAM"

const v5: Fixture[] = [
  {
    name: 'v5 CONNECT minimal',
    version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 60, clientId: 'c',
      properties: {},
    },
    hex: hex`
      10 0e          # CONNECT, remaining length 14
      ${MQTT} 05     # "MQTT", level 5
      02             # flags: clean start
      00 3c          # keep alive 60
      00             # property length 0
      00 01 63       # client id "c"
    `,
  },
  {
    name: 'v5 CONNECT zero-length client id without clean start',
    version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: false, keepaliveSeconds: 0, clientId: '',
      properties: {},
    },
    hex: hex`
      10 0d          # CONNECT, remaining length 13
      ${MQTT} 05     # "MQTT", level 5
      00             # flags: none
      00 00          # keep alive 0
      00             # property length 0
      00 00          # client id ""
    `,
  },
  {
    name: 'v5 CONNECT password without username',
    version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 60, clientId: 'c',
      password: u('p'), properties: {},
    },
    hex: hex`
      10 11          # CONNECT, remaining length 17
      ${MQTT} 05     # "MQTT", level 5
      42             # flags: password 40 | clean 02 (allowed in 5.0, section 3.1.2.9)
      00 3c          # keep alive 60
      00             # property length 0
      00 01 63       # client id "c"
      00 01 70       # password "p"
    `,
  },
  {
    name: 'v5 CONNECT every CONNECT and will property, will QoS 1 retained, username and password',
    version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: true, keepaliveSeconds: 60, clientId: 'c',
      username: 'u', password: u('p'),
      will: {
        topic: 'w/t', payload: u('bye'), qos: 1, retain: true,
        properties: {
          payloadFormatIndicator: 1,
          messageExpiryInterval: 60,
          contentType: 'text/plain',
          responseTopic: 'r/t',
          correlationData: b('dead'),
          willDelayInterval: 30,
          userProperties: [['a', '1'], ['a', '2']],
        },
      },
      properties: {
        sessionExpiryInterval: 3600,
        authenticationMethod: 'SCRAM',
        authenticationData: b('010203'),
        requestProblemInformation: 0,
        requestResponseInformation: 1,
        receiveMaximum: 20,
        topicAliasMaximum: 10,
        userProperties: [['k', 'v']],
        maximumPacketSize: 1_048_576,
      },
    },
    hex: hex`
      10 7a                   # CONNECT, remaining length 122
      ${MQTT} 05              # "MQTT", level 5
      ee                      # flags: username 80 | password 40 | will retain 20 | will QoS 1 08 | will 04 | clean 02
      00 3c                   # keep alive 60
      29                      # property length 41
        11 00000e10           #   0x11 session expiry interval 3600
        15 ${SCRAM}           #   0x15 authentication method "SCRAM"
        16 0003 010203        #   0x16 authentication data 01 02 03
        17 00                 #   0x17 request problem information 0
        19 01                 #   0x19 request response information 1
        21 0014               #   0x21 receive maximum 20
        22 000a               #   0x22 topic alias maximum 10
        26 0001 6b 0001 76    #   0x26 user property ("k", "v")
        27 00100000           #   0x27 maximum packet size 1,048,576
      00 01 63                # client id "c"
      32                      # will property length 50
        01 01                 #   0x01 payload format indicator 1 (UTF-8)
        02 0000003c           #   0x02 message expiry interval 60
        03 000a 746578742f706c61696e # 0x03 content type "text/plain"
        08 0003 722f74        #   0x08 response topic "r/t"
        09 0002 dead          #   0x09 correlation data de ad
        18 0000001e           #   0x18 will delay interval 30
        26 0001 61 0001 31    #   0x26 user property ("a", "1")
        26 0001 61 0001 32    #   0x26 user property ("a", "2"): names may repeat
      00 03 772f74            # will topic "w/t"
      00 03 627965            # will payload "bye"
      00 01 75                # username "u"
      00 01 70                # password "p"
    `,
  },
  {
    name: 'v5 CONNECT will QoS 2 without will properties',
    version: 5,
    packet: {
      type: 1, protocolName: 'MQTT', protocolVersion: 5, clean: false, keepaliveSeconds: 5, clientId: 'c',
      will: { topic: 'w', payload: u('x'), qos: 2, retain: false, properties: {} },
      properties: {},
    },
    hex: hex`
      10 15          # CONNECT, remaining length 21
      ${MQTT} 05     # "MQTT", level 5
      14             # flags: will QoS 2 10 | will 04
      00 05          # keep alive 5
      00             # property length 0
      00 01 63       # client id "c"
      00             # will property length 0
      00 01 77       # will topic "w"
      00 01 78       # will payload "x"
    `,
  },
  {
    name: 'v5 CONNACK minimal',
    version: 5,
    packet: { type: 2, sessionPresent: false, reasonCode: 0, properties: {} },
    hex: hex`20 03  00  00  00 # CONNACK, flags 0, reason 0, property length 0`,
  },
  {
    name: 'v5 CONNACK session present',
    version: 5,
    packet: { type: 2, sessionPresent: true, reasonCode: 0, properties: {} },
    hex: hex`20 03  01  00  00 # CONNACK, session present, reason 0, property length 0`,
  },
  {
    name: 'v5 CONNACK failure with reason string',
    version: 5,
    packet: { type: 2, sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'no' } },
    hex: hex`
      20 08          # CONNACK, remaining length 8
      00             # flags 0
      87             # reason: Not authorized
      05             # property length 5
        1f 0002 6e6f #   0x1f reason string "no"
    `,
  },
  {
    name: 'v5 CONNACK every CONNACK property',
    version: 5,
    packet: {
      type: 2, sessionPresent: false, reasonCode: 0,
      properties: {
        sessionExpiryInterval: 0xffffffff,
        assignedClientIdentifier: 'auto-1',
        serverKeepAlive: 120,
        authenticationMethod: 'SCRAM',
        authenticationData: b('ff'),
        responseInformation: 'resp',
        serverReference: 'srv2',
        reasonString: 'ok',
        receiveMaximum: 65535,
        topicAliasMaximum: 0,
        maximumQoS: 1,
        retainAvailable: 0,
        userProperties: [['x', 'y']],
        maximumPacketSize: 0xffff,
        wildcardSubscriptionAvailable: 1,
        subscriptionIdentifiersAvailable: 0,
        sharedSubscriptionAvailable: 1,
      },
    },
    hex: hex`
      20 4f                   # CONNACK, remaining length 79
      00                      # flags 0
      00                      # reason: Success
      4c                      # property length 76
        11 ffffffff           #   0x11 session expiry interval 0xffffffff (never expires)
        12 0006 6175746f2d31  #   0x12 assigned client identifier "auto-1"
        13 0078               #   0x13 server keep alive 120
        15 ${SCRAM}           #   0x15 authentication method "SCRAM"
        16 0001 ff            #   0x16 authentication data ff
        1a 0004 72657370      #   0x1a response information "resp"
        1c 0004 73727632      #   0x1c server reference "srv2"
        1f 0002 6f6b          #   0x1f reason string "ok"
        21 ffff               #   0x21 receive maximum 65535
        22 0000               #   0x22 topic alias maximum 0
        24 01                 #   0x24 maximum QoS 1
        25 00                 #   0x25 retain available 0
        26 0001 78 0001 79    #   0x26 user property ("x", "y")
        27 0000ffff           #   0x27 maximum packet size 65535
        28 01                 #   0x28 wildcard subscription available 1
        29 00                 #   0x29 subscription identifiers available 0
        2a 01                 #   0x2a shared subscription available 1
    `,
  },
  {
    name: 'v5 PUBLISH QoS 0 without properties',
    version: 5,
    packet: { type: 3, topic: 'a/b', payload: u('hi'), qos: 0, retain: false, dup: false, properties: {} },
    hex: hex`
      30 08          # PUBLISH QoS 0, remaining length 8
      00 03 612f62   # topic "a/b"
      00             # property length 0
      6869           # payload "hi"
    `,
  },
  {
    name: 'v5 PUBLISH QoS 0 empty payload, four-byte UTF-8 in topic',
    version: 5,
    packet: { type: 3, topic: '😀/x', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false, properties: {} },
    hex: hex`
      30 09               # PUBLISH QoS 0, remaining length 9
      00 06 f09f98802f78  # topic: U+1F600 (f0 9f 98 80), "/x"
      00                  # property length 0
                          # empty payload
    `,
  },
  {
    name: 'v5 PUBLISH QoS 1 with every PUBLISH property',
    version: 5,
    packet: {
      type: 3, topic: 't', payload: u('{}'), qos: 1, retain: false, dup: false, packetId: 7,
      properties: {
        payloadFormatIndicator: 0,
        messageExpiryInterval: 86_400,
        contentType: 'json',
        responseTopic: 're/sp',
        correlationData: b('00010203'),
        subscriptionIdentifiers: [1, 268_435_455],
        topicAlias: 5,
        userProperties: [['k', 'v']],
      },
    },
    hex: hex`
      32 36                   # PUBLISH QoS 1, remaining length 54
      00 01 74                # topic "t"
      00 07                   # packet id 7
      2e                      # property length 46
        01 00                 #   0x01 payload format indicator 0
        02 00015180           #   0x02 message expiry interval 86400
        03 0004 6a736f6e      #   0x03 content type "json"
        08 0005 72652f7370    #   0x08 response topic "re/sp"
        09 0004 00010203      #   0x09 correlation data 00 01 02 03
        0b 01                 #   0x0b subscription identifier 1
        0b ffffff7f           #   0x0b subscription identifier 268,435,455 (largest varint)
        23 0005               #   0x23 topic alias 5
        26 0001 6b 0001 76    #   0x26 user property ("k", "v")
      7b7d                    # payload "{}"
    `,
  },
  {
    name: 'v5 PUBLISH QoS 0 retained, empty topic with topic alias',
    version: 5,
    packet: {
      type: 3, topic: '', payload: u('z'), qos: 0, retain: true, dup: false, properties: { topicAlias: 10 },
    },
    hex: hex`
      31 07          # PUBLISH QoS 0 retain, remaining length 7
      00 00          # topic "" (the alias stands for it, section 3.3.2.3.4)
      03             # property length 3
        23 000a      #   0x23 topic alias 10
      7a             # payload "z"
    `,
  },
  {
    name: 'v5 PUBLISH QoS 2 dup, multi-byte subscription identifiers',
    version: 5,
    packet: {
      type: 3, topic: 't', payload: Buffer.alloc(0), qos: 2, retain: false, dup: true, packetId: 9,
      properties: { subscriptionIdentifiers: [128, 16_384] },
    },
    hex: hex`
      3c 0d          # PUBLISH dup 08 | QoS 2 04, remaining length 13
      00 01 74       # topic "t"
      00 09          # packet id 9
      07             # property length 7
        0b 8001      #   0x0b subscription identifier 128 (two bytes)
        0b 808001    #   0x0b subscription identifier 16384 (three bytes)
    `,
  },
  {
    name: 'v5 PUBLISH properties out of identifier order, user properties keep wire order',
    version: 5,
    decodeOnly: true,
    packet: {
      type: 3, topic: 't', payload: u('x'), qos: 0, retain: false, dup: false,
      properties: { topicAlias: 1, userProperties: [['b', '2'], ['a', '1']] },
    },
    hex: hex`
      30 16               # PUBLISH QoS 0, remaining length 22
      00 01 74            # topic "t"
      11                  # property length 17
        26 0001 62 0001 32 #  0x26 user property ("b", "2")
        23 0001           #   0x23 topic alias 1
        26 0001 61 0001 31 #  0x26 user property ("a", "1")
      78                  # payload "x"
    `,
  },
  {
    name: 'v5 PUBLISH QoS 1, remaining length 2097152 (four-byte length), 2 MiB payload',
    version: 5,
    packet: {
      type: 3, topic: 'big', payload: filler(2_097_144), qos: 1, retain: false, dup: false, packetId: 8,
      properties: {},
    },
    hex: hex`
      32 80 80 80 01 # PUBLISH QoS 1, remaining length 2,097,152
      00 03 626967   # topic "big"
      00 08          # packet id 8
      00             # property length 0
    ` + filler(2_097_144).toString('hex'),
  },
  // PUBACK / PUBREC / PUBREL / PUBCOMP: short form (reason omitted), reason only, long form (section 3.4.2.1).
  {
    name: 'v5 PUBACK short form',
    version: 5,
    packet: { type: 4, packetId: 1, reasonCode: 0, properties: {} },
    hex: hex`40 02  0001 # PUBACK, packet id 1; reason and properties omitted`,
  },
  {
    name: 'v5 PUBACK reason only',
    version: 5,
    packet: { type: 4, packetId: 1, reasonCode: 0x10, properties: {} },
    hex: hex`40 03  0001  10 # PUBACK, packet id 1, reason: No matching subscribers; property length omitted`,
  },
  {
    name: 'v5 PUBACK success with reason string',
    version: 5,
    packet: { type: 4, packetId: 1, reasonCode: 0, properties: { reasonString: 'ok' } },
    hex: hex`
      40 09          # PUBACK, remaining length 9
      00 01          # packet id 1
      00             # reason: Success
      05             # property length 5
        1f 0002 6f6b #   0x1f reason string "ok"
    `,
  },
  {
    name: 'v5 PUBACK long form with reason string and user property',
    version: 5,
    packet: {
      type: 4, packetId: 1, reasonCode: 0x87, properties: { reasonString: 'no', userProperties: [['a', 'b']] },
    },
    hex: hex`
      40 10               # PUBACK, remaining length 16
      00 01               # packet id 1
      87                  # reason: Not authorized
      0c                  # property length 12
        1f 0002 6e6f      #   0x1f reason string "no"
        26 0001 61 0001 62 #  0x26 user property ("a", "b")
    `,
  },
  {
    name: 'v5 PUBACK reason 0 and empty properties written out',
    version: 5,
    decodeOnly: true,
    packet: { type: 4, packetId: 1, reasonCode: 0, properties: {} },
    hex: hex`40 04  0001  00  00 # PUBACK, packet id 1, reason 0, property length 0`,
  },
  {
    name: 'v5 PUBACK reason with empty properties written out',
    version: 5,
    decodeOnly: true,
    packet: { type: 4, packetId: 1, reasonCode: 0x10, properties: {} },
    hex: hex`40 04  0001  10  00 # PUBACK, packet id 1, reason 0x10, property length 0`,
  },
  {
    name: 'v5 PUBREC short form',
    version: 5,
    packet: { type: 5, packetId: 2, reasonCode: 0, properties: {} },
    hex: hex`50 02  0002`,
  },
  {
    name: 'v5 PUBREC reason only',
    version: 5,
    packet: { type: 5, packetId: 2, reasonCode: 0x91, properties: {} },
    hex: hex`50 03  0002  91 # reason: Packet Identifier in use`,
  },
  {
    name: 'v5 PUBREC long form',
    version: 5,
    packet: {
      type: 5, packetId: 2, reasonCode: 0x80, properties: { reasonString: 'no', userProperties: [['a', 'b']] },
    },
    hex: hex`
      50 10               # PUBREC, remaining length 16
      00 02               # packet id 2
      80                  # reason: Unspecified error
      0c                  # property length 12
        1f 0002 6e6f      #   reason string "no"
        26 0001 61 0001 62 #  user property ("a", "b")
    `,
  },
  {
    name: 'v5 PUBREL short form',
    version: 5,
    packet: { type: 6, packetId: 3, reasonCode: 0, properties: {} },
    hex: hex`62 02  0003 # PUBREL (flags 0010)`,
  },
  {
    name: 'v5 PUBREL reason only',
    version: 5,
    packet: { type: 6, packetId: 3, reasonCode: 0x92, properties: {} },
    hex: hex`62 03  0003  92 # reason: Packet Identifier not found`,
  },
  {
    name: 'v5 PUBREL long form',
    version: 5,
    packet: {
      type: 6, packetId: 3, reasonCode: 0x92, properties: { reasonString: 'no', userProperties: [['a', 'b']] },
    },
    hex: hex`
      62 10               # PUBREL, remaining length 16
      00 03               # packet id 3
      92                  # reason: Packet Identifier not found
      0c                  # property length 12
        1f 0002 6e6f      #   reason string "no"
        26 0001 61 0001 62 #  user property ("a", "b")
    `,
  },
  {
    name: 'v5 PUBCOMP short form',
    version: 5,
    packet: { type: 7, packetId: 4, reasonCode: 0, properties: {} },
    hex: hex`70 02  0004`,
  },
  {
    name: 'v5 PUBCOMP reason only',
    version: 5,
    packet: { type: 7, packetId: 4, reasonCode: 0x92, properties: {} },
    hex: hex`70 03  0004  92`,
  },
  {
    name: 'v5 PUBCOMP long form',
    version: 5,
    packet: { type: 7, packetId: 4, reasonCode: 0, properties: { userProperties: [['a', 'b']] } },
    hex: hex`
      70 0b               # PUBCOMP, remaining length 11
      00 04               # packet id 4
      00                  # reason: Success
      07                  # property length 7
        26 0001 61 0001 62 #  user property ("a", "b")
    `,
  },
  {
    name: 'v5 SUBSCRIBE minimal',
    version: 5,
    packet: {
      type: 8, packetId: 1, properties: {},
      subscriptions: [{ topicFilter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
    },
    hex: hex`
      82 07          # SUBSCRIBE, remaining length 7
      00 01          # packet id 1
      00             # property length 0
      00 01 61       # filter "a"
      00             # options: QoS 0
    `,
  },
  {
    name: 'v5 SUBSCRIBE with all subscription options, subscription identifier, user property, shared filter',
    version: 5,
    packet: {
      type: 8, packetId: 16,
      subscriptions: [
        { topicFilter: 'a/b', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: 'c/#', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: '+/d', qos: 0, noLocal: false, retainAsPublished: true, retainHandling: 0 },
        { topicFilter: 'e', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 1 },
        { topicFilter: 'f', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        { topicFilter: '$share/g/h', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
      properties: { subscriptionIdentifiers: [42], userProperties: [['s', '1']] },
    },
    hex: hex`
      82 33                   # SUBSCRIBE, remaining length 51
      00 10                   # packet id 16
      09                      # property length 9
        0b 2a                 #   0x0b subscription identifier 42
        26 0001 73 0001 31    #   0x26 user property ("s", "1")
      00 03 612f62  01        # "a/b": QoS 1
      00 03 632f23  06        # "c/#": QoS 2 | no local 04
      00 03 2b2f64  08        # "+/d": QoS 0 | retain as published 08
      00 01 65      11        # "e": QoS 1 | retain handling 1 (10)
      00 01 66      2e        # "f": QoS 2 | no local 04 | retain as published 08 | retain handling 2 (20)
      00 0a 2473686172652f672f68 01 # "$share/g/h": QoS 1
    `,
  },
  {
    name: 'v5 SUBACK granted',
    version: 5,
    packet: { type: 9, packetId: 16, reasonCodes: [0, 1, 2, 0x80], properties: {} },
    hex: hex`
      90 07          # SUBACK, remaining length 7
      00 10          # packet id 16
      00             # property length 0
      00 01 02 80    # granted QoS 0, 1, 2; Unspecified error
    `,
  },
  {
    name: 'v5 SUBACK failures with reason string and user property',
    version: 5,
    packet: {
      type: 9, packetId: 17, reasonCodes: [0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2, 0x83, 0x87, 0x00],
      properties: { reasonString: 'ok', userProperties: [['a', 'b']] },
    },
    hex: hex`
      90 18               # SUBACK, remaining length 24
      00 11               # packet id 17
      0c                  # property length 12
        1f 0002 6f6b      #   reason string "ok"
        26 0001 61 0001 62 #  user property ("a", "b")
      8f 91 97 9e a1 a2 83 87 00 # filter invalid, id in use, quota, shared n/s, sub ids n/s, wildcards n/s,
                          # implementation specific, not authorized, granted QoS 0
    `,
  },
  {
    name: 'v5 UNSUBSCRIBE',
    version: 5,
    packet: { type: 10, packetId: 17, topicFilters: ['a/b', '#'], properties: {} },
    hex: hex`
      a2 0b          # UNSUBSCRIBE, remaining length 11
      00 11          # packet id 17
      00             # property length 0
      00 03 612f62   # "a/b"
      00 01 23       # "#"
    `,
  },
  {
    name: 'v5 UNSUBSCRIBE with user property',
    version: 5,
    packet: { type: 10, packetId: 18, topicFilters: ['a/b'], properties: { userProperties: [['a', 'b']] } },
    hex: hex`
      a2 0f               # UNSUBSCRIBE, remaining length 15
      00 12               # packet id 18
      07                  # property length 7
        26 0001 61 0001 62 #  user property ("a", "b")
      00 03 612f62        # "a/b"
    `,
  },
  {
    name: 'v5 UNSUBACK',
    version: 5,
    packet: { type: 11, packetId: 17, reasonCodes: [0x00, 0x11], properties: {} },
    hex: hex`
      b0 05          # UNSUBACK, remaining length 5
      00 11          # packet id 17
      00             # property length 0
      00 11          # Success, No subscription existed
    `,
  },
  {
    name: 'v5 UNSUBACK failures with reason string',
    version: 5,
    packet: { type: 11, packetId: 18, reasonCodes: [0x80, 0x83, 0x87, 0x8f, 0x91], properties: { reasonString: 'ok' } },
    hex: hex`
      b0 0d          # UNSUBACK, remaining length 13
      00 12          # packet id 18
      05             # property length 5
        1f 0002 6f6b #   reason string "ok"
      80 83 87 8f 91 # unspecified, implementation specific, not authorized, filter invalid, id in use
    `,
  },
  { name: 'v5 PINGREQ', version: 5, packet: { type: 12 }, hex: hex`c0 00` },
  { name: 'v5 PINGRESP', version: 5, packet: { type: 13 }, hex: hex`d0 00` },
  {
    name: 'v5 DISCONNECT short form',
    version: 5,
    packet: { type: 14, reasonCode: 0, properties: {} },
    hex: hex`e0 00 # DISCONNECT, remaining length 0: Normal disconnection, no properties`,
  },
  {
    name: 'v5 DISCONNECT reason only',
    version: 5,
    packet: { type: 14, reasonCode: 0x04, properties: {} },
    hex: hex`e0 01  04 # reason: Disconnect with Will Message; property length omitted (section 3.14.2.2.1)`,
  },
  {
    name: 'v5 DISCONNECT reason 0 and empty properties written out',
    version: 5,
    decodeOnly: true,
    packet: { type: 14, reasonCode: 0, properties: {} },
    hex: hex`e0 02  00  00`,
  },
  {
    name: 'v5 DISCONNECT long form with every DISCONNECT property',
    version: 5,
    packet: {
      type: 14, reasonCode: 0x9c,
      properties: {
        sessionExpiryInterval: 0, serverReference: 'b', reasonString: 'bye', userProperties: [['k', 'v']],
      },
    },
    hex: hex`
      e0 18               # DISCONNECT, remaining length 24
      9c                  # reason: Use another server
      16                  # property length 22
        11 00000000       #   0x11 session expiry interval 0
        1c 0001 62        #   0x1c server reference "b"
        1f 0003 627965    #   0x1f reason string "bye"
        26 0001 6b 0001 76 #  0x26 user property ("k", "v")
    `,
  },
  {
    name: 'v5 AUTH short form',
    version: 5,
    packet: { type: 15, reasonCode: 0, properties: {} },
    hex: hex`f0 00 # AUTH, remaining length 0: Success, no properties (section 3.15.2.1)`,
  },
  {
    name: 'v5 AUTH reason 0 and empty properties written out',
    version: 5,
    decodeOnly: true,
    packet: { type: 15, reasonCode: 0, properties: {} },
    hex: hex`f0 02  00  00`,
  },
  {
    name: 'v5 AUTH re-authenticate with method',
    version: 5,
    packet: { type: 15, reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM' } },
    hex: hex`
      f0 0a          # AUTH, remaining length 10
      19             # reason: Re-authenticate
      08             # property length 8
        15 ${SCRAM}  #   authentication method "SCRAM"
    `,
  },
  {
    name: 'v5 AUTH continue authentication without properties',
    version: 5,
    packet: { type: 15, reasonCode: 0x18, properties: {} },
    // Only the all-default AUTH may be shortened (to remaining length 0); unlike PUBACK (3.4.2.2.1) and DISCONNECT
    // (3.14.2.2.1), AUTH has no rule letting a lone reason code stand without its Property Length.
    hex: hex`f0 02  18  00 # AUTH, remaining length 2, reason: Continue authentication, property length 0`,
  },
  {
    name: 'v5 AUTH long form with every AUTH property',
    version: 5,
    packet: {
      type: 15, reasonCode: 0x18,
      properties: {
        authenticationMethod: 'SCRAM', authenticationData: b('0102'), reasonString: 'c',
        userProperties: [['k', 'v']],
      },
    },
    hex: hex`
      f0 1a               # AUTH, remaining length 26
      18                  # reason: Continue authentication
      18                  # property length 24
        15 ${SCRAM}       #   0x15 authentication method "SCRAM"
        16 0002 0102      #   0x16 authentication data 01 02
        1f 0001 63        #   0x1f reason string "c"
        26 0001 6b 0001 76 #  0x26 user property ("k", "v")
    `,
  },
];

export const fixtures: readonly Fixture[] = [...v3, ...v4, ...v5];

export function fixturesFor(version: ProtocolVersion): Fixture[] {
  return fixtures.filter((f) => f.version === version);
}

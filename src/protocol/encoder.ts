/**
 * Encoder: packet + protocol version -> Buffer. Pure; never touches a stream.
 *
 * Design note: every packet is encoded in two passes over the packet object. The first pass computes the exact
 * remaining length (string byte lengths, property lengths) and validates what the wire cannot carry; the second
 * writes into one `Buffer.allocUnsafe` of exactly that size. No intermediate arrays or `Buffer.concat`. A string's
 * length prefix is written after the string itself (the write returns the byte count), so the second pass never
 * measures a string again. Short ASCII strings, the common case for topics, are measured and copied by a JS loop:
 * up to a couple of dozen characters that beats a call into C++ (`Buffer.byteLength`, `utf8Write`), which wins
 * above that (measured: raising the limit from 24 to 64 made a 38-character topic slower).
 *
 * Fan-out: `encodePublish` encodes a PUBLISH once and `publishForRecipient` copies it and patches the three
 * per-recipient fields (packet id, QoS, DUP), so the topic, properties and payload are encoded once.
 *
 * The encoder is the inverse of the decoder on canonical packets (see types.ts): acknowledgements with reason code
 * 0 and no properties use the short form, DISCONNECT and AUTH with reason 0 and no properties have no variable
 * header, an empty properties object encodes the same as absent properties, and properties go out in ascending
 * identifier order. Values the wire cannot carry are programmer errors and throw a TypeError or RangeError (with
 * `code` MQTT_ERR_ENCODE). String content is not validated here (U+0000, lone surrogates, topic syntax): that is
 * the job of utf8.ts and topic.ts where input enters; a lone surrogate would go out as U+FFFD.
 */
import { propertyDefinitions, type PropertyWireType } from './properties.js';
import type {
  ConnectPacket, Packet, ProtocolVersion, Properties, PublishPacket, QoS, SubackPacket, Subscription,
  UnsubackPacket, UserProperty,
} from './types.js';
import { MAX_VARINT, varintLength, writeVarint } from './varint.js';

const MAX_STRING = 65_535;
/** Up to this many UTF-16 units a JS loop measures and copies an ASCII string faster than a native call. */
const SHORT_STRING = 24;

/** A PUBLISH encoded once, reused for every recipient. */
export interface EncodedPublish {
  /** The whole packet as encoded, with the packet's own QoS, RETAIN, DUP and packet id. Shared: do not mutate. */
  readonly bytes: Buffer;
  readonly qos: QoS;
  /** Offset of the 2-byte packet id in `bytes`, or -1 at QoS 0. */
  readonly packetIdOffset: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and checks

function encodeError(Kind: TypeErrorConstructor | RangeErrorConstructor, message: string): Error {
  return Object.assign(new Kind(`cannot encode: ${message}`), { code: 'MQTT_ERR_ENCODE' });
}

function checkInt(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw encodeError(RangeError, `${what} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

function checkPacketId(packetId: number | undefined): number {
  if (packetId === undefined || !Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
    throw encodeError(RangeError, `packet identifier must be an integer in 1..65535, got ${packetId}`);
  }
  return packetId;
}

function checkQoS(qos: number, what: string): QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw encodeError(RangeError, `${what} must be 0, 1 or 2, got ${qos}`);
  return qos;
}

function checkVersion(version: number): void {
  if (version !== 3 && version !== 4 && version !== 5) {
    throw encodeError(RangeError, `protocol version must be 3, 4 or 5, got ${version}`);
  }
}

function checkRemainingLength(length: number): number {
  if (length > MAX_VARINT) throw encodeError(RangeError, `remaining length ${length} exceeds ${MAX_VARINT}`);
  return length;
}

// ---------------------------------------------------------------------------------------------------------------
// Strings, binary data, integers

/** Byte length of `s` as UTF-8; throws past 65,535 bytes (section 1.5.4). */
function utf8Length(s: string): number {
  const n = s.length;
  if (n <= SHORT_STRING) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > MAX_STRING) throw encodeError(RangeError, `string of ${bytes} bytes exceeds ${MAX_STRING}`);
  return bytes;
}

/** Node's Buffer method behind `write(s, offset, 'utf8')`, without its argument juggling and validation. */
type NodeBuffer = Buffer & { utf8Write(s: string, offset: number): number };

/** Writes a length-prefixed UTF-8 string; returns the offset after it. The buffer has room (first pass). */
function writeUtf8(buf: Buffer, offset: number, s: string): number {
  const n = s.length;
  let written: number;
  if (n <= SHORT_STRING) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[offset + 2 + i] = c;
    }
    written = i === n ? n : (buf as NodeBuffer).utf8Write(s, offset + 2);
  } else {
    written = (buf as NodeBuffer).utf8Write(s, offset + 2);
  }
  buf[offset] = written >>> 8;
  buf[offset + 1] = written & 0xff;
  return offset + 2 + written;
}

function binaryLength(data: Buffer): number {
  if (data.length > MAX_STRING) {
    throw encodeError(RangeError, `binary data of ${data.length} bytes exceeds ${MAX_STRING}`);
  }
  return data.length;
}

function writeBinary(buf: Buffer, offset: number, data: Buffer): number {
  buf[offset] = data.length >>> 8;
  buf[offset + 1] = data.length & 0xff;
  buf.set(data, offset + 2);
  return offset + 2 + data.length;
}

function writeUint16(buf: Buffer, offset: number, value: number): number {
  buf[offset] = value >>> 8;
  buf[offset + 1] = value & 0xff;
  return offset + 2;
}

function writeUint32(buf: Buffer, offset: number, value: number): number {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
  return offset + 4;
}

// ---------------------------------------------------------------------------------------------------------------
// MQTT 5 properties (section 2.2.2)

/**
 * The property table of properties.ts, recompiled for the encoder: one Map lookup per property gives the
 * identifier, a small-integer kind, the integer width and limit, and the allowed places as a bit mask (bit n for
 * packet type n, bit 16 for the Will Properties), so the hot path compares numbers, not strings or Sets.
 */
interface PropertyEncoding {
  readonly id: number;
  readonly kind: number;
  /** Integer width in bytes (1, 2 or 4) for KIND_INT. */
  readonly width: number;
  readonly max: number;
  readonly places: number;
}

const KIND_INT = 0, KIND_UTF8 = 1, KIND_BINARY = 2, KIND_VARINTS = 3, KIND_PAIRS = 4;
const WILL = 1 << 16;

const encodings: ReadonlyMap<string, PropertyEncoding> = new Map(propertyDefinitions.map((d) => {
  let places = 0;
  for (const place of d.places) places |= place === 'will' ? WILL : 1 << place;
  const width = d.wireType === 'byte' ? 1 : d.wireType === 'uint16' ? 2 : 4;
  const kinds: Record<PropertyWireType, number> = { byte: KIND_INT, uint16: KIND_INT, uint32: KIND_INT,
    utf8: KIND_UTF8, binary: KIND_BINARY, varint: KIND_VARINTS, pair: KIND_PAIRS };
  return [d.name, { id: d.id, kind: kinds[d.wireType], width, max: 2 ** (8 * width) - 1, places }];
}));

/**
 * Byte length of the property list (without its own length prefix); validates every value, and that it may appear
 * at `place` (1 << packet type, or WILL).
 */
function propertiesLength(props: Properties | undefined, place: number): number {
  if (props === undefined) return 0;
  let length = 0;
  for (const name in props) {
    const value = props[name as keyof Properties];
    if (value === undefined) continue;
    const e = encodings.get(name);
    if (e === undefined) throw encodeError(TypeError, `unknown property ${name}`);
    if ((e.places & place) === 0) throw encodeError(TypeError, `property ${name} is not allowed in ${placeName(place)}`);
    switch (e.kind) {
      case KIND_INT: checkInt(value as number, e.max, name); length += 1 + e.width; break;
      case KIND_UTF8: length += 3 + utf8Length(value as string); break;
      case KIND_BINARY: length += 3 + binaryLength(value as Buffer); break;
      case KIND_VARINTS: length += subscriptionIdentifiersLength(value as number[], place); break;
      default: {
        const pairs = value as UserProperty[];
        for (let i = 0; i < pairs.length; i++) {
          const pair = pairs[i]!;
          length += 5 + utf8Length(pair[0]) + utf8Length(pair[1]);
        }
      }
    }
  }
  return length;
}

function subscriptionIdentifiersLength(ids: number[], place: number): number {
  if (place !== 1 << 3 && ids.length > 1) {
    throw encodeError(TypeError, 'SUBSCRIBE carries at most one subscription identifier');
  }
  let length = 0;
  for (const id of ids) {
    if (checkInt(id, MAX_VARINT, 'subscription identifier') === 0) {
      throw encodeError(RangeError, 'subscription identifier must not be 0');
    }
    length += 1 + varintLength(id);
  }
  return length;
}

function placeName(place: number): string {
  return place === WILL ? 'Will Properties' : `packet type ${Math.log2(place)}`;
}

/**
 * Writes the property list (already validated by `propertiesLength`) without its length prefix, in ascending
 * identifier order, the canonical order. Objects usually list their keys in that order already (the decoder keeps
 * wire order, and senders write ascending), so one pass over the keys does; on the first key out of order, start
 * again and walk the table instead.
 */
function writePropertyList(buf: Buffer, offset: number, props: Properties): number {
  const start = offset;
  let lastId = 0;
  for (const name in props) {
    const value = props[name as keyof Properties];
    if (value === undefined) continue;
    const e = encodings.get(name)!;
    if (e.id < lastId) return writeInTableOrder(buf, start, props);
    lastId = e.id;
    offset = writeProperty(buf, offset, e, value);
  }
  return offset;
}

function writeInTableOrder(buf: Buffer, offset: number, props: Properties): number {
  for (const d of propertyDefinitions) {
    const value = props[d.name];
    if (value !== undefined) offset = writeProperty(buf, offset, encodings.get(d.name)!, value);
  }
  return offset;
}

function writeProperty(buf: Buffer, offset: number, e: PropertyEncoding,
  value: NonNullable<Properties[keyof Properties]>): number {
  const id = e.id;
  switch (e.kind) {
    case KIND_INT:
      buf[offset++] = id;
      if (e.width === 1) {
        buf[offset] = value as number;
        return offset + 1;
      }
      return e.width === 2 ? writeUint16(buf, offset, value as number) : writeUint32(buf, offset, value as number);
    case KIND_UTF8: buf[offset++] = id; return writeUtf8(buf, offset, value as string);
    case KIND_BINARY: buf[offset++] = id; return writeBinary(buf, offset, value as Buffer);
    case KIND_VARINTS:
      for (const sid of value as number[]) {
        buf[offset++] = id;
        offset = writeVarint(buf, offset, sid);
      }
      return offset;
    default: {
      const pairs = value as UserProperty[];
      for (let i = 0; i < pairs.length; i++) {
        const pair = pairs[i]!;
        buf[offset++] = id;
        offset = writeUtf8(buf, offset, pair[0]);
        offset = writeUtf8(buf, offset, pair[1]);
      }
      return offset;
    }
  }
}

/** Writes Property Length then the list, given the list length from the first pass. */
function writeProperties(buf: Buffer, offset: number, props: Properties | undefined, length: number): number {
  offset = writeVarint(buf, offset, length);
  return length === 0 ? offset : writePropertyList(buf, offset, props!);
}

/** Size of Property Length plus the list. */
function withLengthPrefix(length: number): number {
  return varintLength(length) + length;
}

// ---------------------------------------------------------------------------------------------------------------
// PUBLISH (section 3.3), the hot path

function publishVariableLength(p: PublishPacket, version: ProtocolVersion, topicLength: number,
  propsLength: number): number {
  const qos = checkQoS(p.qos, 'PUBLISH QoS');
  if (qos > 0) checkPacketId(p.packetId);
  else if (p.dup) throw encodeError(RangeError, 'DUP must be 0 at QoS 0 [MQTT-3.3.1-2]');
  let length = 2 + topicLength + p.payload.length;
  if (qos > 0) length += 2;
  if (version === 5) length += varintLength(propsLength) + propsLength;
  else if (topicLength === 0) throw encodeError(TypeError, 'PUBLISH topic must not be empty before MQTT 5');
  return checkRemainingLength(length);
}

function publishPropertiesLength(p: PublishPacket, version: ProtocolVersion): number {
  if (version !== 5) return 0;
  const length = propertiesLength(p.properties, 1 << 3);
  if (p.topic.length === 0 && p.properties?.topicAlias === undefined) {
    throw encodeError(TypeError, 'an empty PUBLISH topic needs a Topic Alias');
  }
  return length;
}

/** Encodes a PUBLISH: shared by `encode` and `encodePublish`. */
function writePublish(p: PublishPacket, version: ProtocolVersion): Buffer {
  const topicLength = utf8Length(p.topic);
  const propsLength = publishPropertiesLength(p, version);
  const remaining = publishVariableLength(p, version, topicLength, propsLength);
  const buf = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
  const qos = p.qos;
  buf[0] = 0x30 | (p.dup ? 0x08 : 0) | (qos << 1) | (p.retain ? 0x01 : 0);
  let offset = writeVarint(buf, 1, remaining);
  offset = writeUtf8(buf, offset, p.topic);
  if (qos > 0) offset = writeUint16(buf, offset, p.packetId!);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propsLength);
  buf.set(p.payload, offset);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------------
// CONNECT (section 3.1)

function connectRemainingLength(p: ConnectPacket, version: ProtocolVersion): number {
  let length = (version === 3 ? 8 : 6) + 1 + 1 + 2; // protocol name, level, flags, keep alive
  checkInt(p.keepaliveSeconds, 0xffff, 'keep alive');
  if (version === 5) length += withLengthPrefix(propertiesLength(p.properties, 1 << 1));
  length += 2 + utf8Length(p.clientId);
  const will = p.will;
  if (will !== undefined) {
    checkQoS(will.qos, 'Will QoS');
    if (version === 5) length += withLengthPrefix(propertiesLength(will.properties, WILL));
    length += 2 + utf8Length(will.topic) + 2 + binaryLength(will.payload);
  }
  if (p.username !== undefined) length += 2 + utf8Length(p.username);
  if (p.password !== undefined) {
    // MQTT 3.1.1 forbids a password without a user name [MQTT-3.1.2-22]; MQTT 3.1 and 5 allow it (as the decoder).
    if (version === 4 && p.username === undefined) {
      throw encodeError(TypeError, 'a password needs a user name in MQTT 3.1.1 [MQTT-3.1.2-22]');
    }
    length += 2 + binaryLength(p.password);
  }
  return checkRemainingLength(length);
}

function writeConnect(buf: Buffer, offset: number, p: ConnectPacket, version: ProtocolVersion): number {
  // The version parameter decides the protocol name; packet.protocolName can only agree with it.
  offset = writeUtf8(buf, offset, version === 3 ? 'MQIsdp' : 'MQTT');
  buf[offset++] = version;
  const will = p.will;
  let flags = p.clean ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  buf[offset++] = flags;
  offset = writeUint16(buf, offset, p.keepaliveSeconds);
  if (version === 5) offset = writeProperties(buf, offset, p.properties, propertiesLength(p.properties, 1 << 1));
  offset = writeUtf8(buf, offset, p.clientId);
  if (will !== undefined) {
    if (version === 5) offset = writeProperties(buf, offset, will.properties, propertiesLength(will.properties, WILL));
    offset = writeUtf8(buf, offset, will.topic);
    offset = writeBinary(buf, offset, will.payload);
  }
  if (p.username !== undefined) offset = writeUtf8(buf, offset, p.username);
  if (p.password !== undefined) offset = writeBinary(buf, offset, p.password);
  return offset;
}

// ---------------------------------------------------------------------------------------------------------------
// The other packets: remaining length, then body. `type` selects the layout.

/**
 * Remaining length of the v5 tail "reason code, properties": nothing when the reason is 0 and there are no
 * properties; the reason code alone when it is not 0 and the packet lets the Property Length go (PUBACK, PUBREC,
 * PUBREL, PUBCOMP 3.4.2.2.1 and siblings; DISCONNECT 3.14.2.2.1). AUTH has no such rule: its reason code always comes
 * with a Property Length (3.15.2.1).
 */
function reasonTailLength(reasonCode: number, propsLength: number, isPropertyLengthOptional: boolean): number {
  checkInt(reasonCode, 0xff, 'reason code');
  if (propsLength > 0 || (reasonCode !== 0 && !isPropertyLengthOptional)) return 1 + withLengthPrefix(propsLength);
  return reasonCode === 0 ? 0 : 1;
}

function writeReasonTail(buf: Buffer, offset: number, reasonCode: number, props: Properties | undefined,
  propsLength: number, isPropertyLengthOptional: boolean): number {
  if (propsLength > 0 || (reasonCode !== 0 && !isPropertyLengthOptional)) {
    buf[offset++] = reasonCode;
    return writeProperties(buf, offset, props, propsLength);
  }
  if (reasonCode !== 0) buf[offset++] = reasonCode;
  return offset;
}

function subscriptionOptions(s: Subscription, version: ProtocolVersion): number {
  const qos = checkQoS(s.qos, 'subscription QoS');
  if (version < 5) return qos;
  const retainHandling = checkInt(s.retainHandling, 2, 'retain handling');
  return qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (retainHandling << 4);
}

/** A 3.1.1 SUBACK carries only 0, 1, 2 or 0x80; MQTT 5 failure codes become 0x80 [MQTT-3.9.3-2]. */
function subackCode(code: number, version: ProtocolVersion): number {
  checkInt(code, 0xff, 'SUBACK reason code');
  if (version === 5) return code;
  if (code >= 0x80) return 0x80;
  if (code > 2) throw encodeError(RangeError, `SUBACK return code ${code} does not exist before MQTT 5`);
  return code;
}

function nonEmpty<T>(list: readonly T[], what: string): readonly T[] {
  if (list.length === 0) throw encodeError(TypeError, `${what} must not be empty`);
  return list;
}

function remainingLength(p: Packet, version: ProtocolVersion): number {
  const v5 = version === 5;
  switch (p.type) {
    case 1: return connectRemainingLength(p, version);
    case 2: checkInt(p.reasonCode, 0xff, 'CONNACK reason code');
      return v5 ? 2 + withLengthPrefix(propertiesLength(p.properties, 1 << 2)) : 2;
    case 3: return publishVariableLength(p, version, utf8Length(p.topic), publishPropertiesLength(p, version));
    case 4: case 5: case 6: case 7:
      checkPacketId(p.packetId);
      return v5 ? 2 + reasonTailLength(p.reasonCode, propertiesLength(p.properties, 1 << p.type), true) : 2;
    case 8: {
      checkPacketId(p.packetId);
      let length = v5 ? 2 + withLengthPrefix(propertiesLength(p.properties, 1 << 8)) : 2;
      for (const s of nonEmpty(p.subscriptions, 'SUBSCRIBE subscriptions')) {
        subscriptionOptions(s, version);
        length += 3 + utf8Length(s.topicFilter);
      }
      return checkRemainingLength(length);
    }
    case 9: case 11: return ackListLength(p, version);
    case 10: {
      checkPacketId(p.packetId);
      let length = v5 ? 2 + withLengthPrefix(propertiesLength(p.properties, 1 << 10)) : 2;
      for (const filter of nonEmpty(p.topicFilters, 'UNSUBSCRIBE topic filters')) length += 2 + utf8Length(filter);
      return checkRemainingLength(length);
    }
    case 12: case 13: return 0;
    case 14: return v5 ? reasonTailLength(p.reasonCode, propertiesLength(p.properties, 1 << 14), true) : 0;
    case 15:
      if (!v5) throw encodeError(TypeError, 'AUTH does not exist before MQTT 5');
      return reasonTailLength(p.reasonCode, propertiesLength(p.properties, 1 << 15), false);
    default: throw encodeError(TypeError, `unknown packet type ${(p as { type: unknown }).type}`);
  }
}

function ackListLength(p: SubackPacket | UnsubackPacket, version: ProtocolVersion): number {
  checkPacketId(p.packetId);
  if (version < 5 && p.type === 11) return 2;
  const codes = nonEmpty(p.reasonCodes, p.type === 9 ? 'SUBACK reason codes' : 'UNSUBACK reason codes');
  for (const code of codes) {
    if (p.type === 9) subackCode(code, version);
    else checkInt(code, 0xff, 'UNSUBACK reason code');
  }
  const propsLength = version === 5 ? withLengthPrefix(propertiesLength(p.properties, 1 << p.type)) : 0;
  return checkRemainingLength(2 + propsLength + codes.length);
}

const firstByte: readonly number[] = [0, 0x10, 0x20, 0x30, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2, 0xb0, 0xc0, 0xd0,
  0xe0, 0xf0];

/** Writes the variable header and payload of every packet but PUBLISH; validated by `remainingLength` first. */
function writeBody(buf: Buffer, offset: number, p: Exclude<Packet, PublishPacket>, version: ProtocolVersion): number {
  const v5 = version === 5;
  switch (p.type) {
    case 1: return writeConnect(buf, offset, p, version);
    case 2:
      buf[offset++] = p.sessionPresent && version > 3 ? 1 : 0; // 3.1 has no Session Present flag
      buf[offset++] = p.reasonCode;
      return v5 ? writeProperties(buf, offset, p.properties, propertiesLength(p.properties, 1 << 2)) : offset;
    case 4: case 5: case 6: case 7:
      offset = writeUint16(buf, offset, p.packetId);
      if (!v5) return offset;
      return writeReasonTail(buf, offset, p.reasonCode, p.properties, propertiesLength(p.properties, 1 << p.type),
        true);
    case 8:
      offset = writeUint16(buf, offset, p.packetId);
      if (v5) offset = writeProperties(buf, offset, p.properties, propertiesLength(p.properties, 1 << 8));
      for (const s of p.subscriptions) {
        offset = writeUtf8(buf, offset, s.topicFilter);
        buf[offset++] = subscriptionOptions(s, version);
      }
      return offset;
    case 9: case 11:
      offset = writeUint16(buf, offset, p.packetId);
      if (!v5 && p.type === 11) return offset;
      if (v5) offset = writeProperties(buf, offset, p.properties, propertiesLength(p.properties, 1 << p.type));
      for (const code of p.reasonCodes) buf[offset++] = p.type === 9 ? subackCode(code, version) : code;
      return offset;
    case 10:
      offset = writeUint16(buf, offset, p.packetId);
      if (v5) offset = writeProperties(buf, offset, p.properties, propertiesLength(p.properties, 1 << 10));
      for (const filter of p.topicFilters) offset = writeUtf8(buf, offset, filter);
      return offset;
    case 12: case 13: return offset;
    case 14: case 15:
      if (!v5) return offset;
      return writeReasonTail(buf, offset, p.reasonCode, p.properties, propertiesLength(p.properties, 1 << p.type),
        p.type === 14);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/**
 * Encodes any packet for a protocol version (3 = MQTT 3.1 'MQIsdp', 4 = 3.1.1, 5 = 5.0). Before MQTT 5, properties
 * and 5-only fields are ignored: acknowledgements carry no reason code, a SUBACK carries its reason codes as return
 * codes (failures as 0x80), UNSUBACK has no payload and DISCONNECT is empty.
 *
 * @throws TypeError or RangeError for a packet the wire cannot carry (a programmer error): a string over 65,535
 *   bytes, a missing or zero packet id at QoS > 0, a remaining length over 268,435,455, a property outside its
 *   packet, and so on.
 * @example
 * const bytes = encode({ type: 3, topic: 'a/b', payload: Buffer.from('hi'), qos: 0, retain: false, dup: false }, 4);
 * // <Buffer 30 07 00 03 61 2f 62 68 69>
 */
export function encode(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  checkVersion(protocolVersion);
  if (packet.type === 3) return writePublish(packet, protocolVersion);
  const remaining = remainingLength(packet, protocolVersion);
  const size = 1 + varintLength(remaining) + remaining;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = firstByte[packet.type]!;
  const end = writeBody(buf, writeVarint(buf, 1, remaining), packet, protocolVersion);
  if (end !== size) throw new Error(`encoder bug: wrote ${end} of ${size} bytes for packet type ${packet.type}`);
  return buf;
}

/**
 * The number of bytes `encode` would produce, computed without encoding (for Maximum Packet Size checks). Throws
 * what `encode` throws.
 * @example
 * if (encodedLength(packet, 5) > maxPacketBytes) dropOrTrim(packet);
 */
export function encodedLength(packet: Packet, protocolVersion: ProtocolVersion): number {
  checkVersion(protocolVersion);
  const remaining = remainingLength(packet, protocolVersion);
  return 1 + varintLength(remaining) + remaining;
}

/**
 * Encodes a PUBLISH once for fan-out. Send `bytes` as is to QoS 0 recipients (or with `setRetainFlag` on a copy),
 * and `publishForRecipient` for each QoS 1/2 recipient.
 * @example
 * const e = encodePublish(packet, 5);
 * socketA.write(publishForRecipient(e, 17, 1, false));
 */
export function encodePublish(packet: PublishPacket, protocolVersion: ProtocolVersion): EncodedPublish {
  checkVersion(protocolVersion);
  const bytes = writePublish(packet, protocolVersion);
  if (packet.qos === 0) return { bytes, qos: 0, packetIdOffset: -1 };
  // The packet id follows the topic: fixed header (1 byte + remaining length), 2-byte length, topic bytes.
  let headerLength = 1;
  while ((bytes[headerLength++]! & 0x80) !== 0);
  const topicLength = (bytes[headerLength]! << 8) | bytes[headerLength + 1]!;
  return { bytes, qos: packet.qos, packetIdOffset: headerLength + 2 + topicLength };
}

/**
 * A new Buffer for one recipient: a copy of `e.bytes` with the packet id, QoS (1 or 2) and DUP patched. The shared
 * bytes are not touched. `e` must have been encoded at QoS 1 or 2, so that it has room for a packet id.
 * @example
 * const forBob = publishForRecipient(e, bobSession.nextPacketId(), 1, false);
 */
export function publishForRecipient(e: EncodedPublish, packetId: number, qos: 1 | 2, dup: boolean): Buffer {
  const out = Buffer.allocUnsafe(e.bytes.length);
  writePublishForRecipient(e, out, 0, packetId, qos, dup);
  return out;
}

/**
 * `publishForRecipient` into a buffer the caller owns, at `offset` (it must have `e.bytes.length` bytes there):
 * the copy without a Buffer of its own.
 */
export function writePublishForRecipient(e: EncodedPublish, target: Buffer, offset: number, packetId: number,
  qos: 1 | 2, dup: boolean): void {
  if (e.packetIdOffset < 0) throw encodeError(TypeError, 'a QoS 0 PUBLISH has no room for a packet identifier');
  if (qos !== 1 && qos !== 2) throw encodeError(RangeError, `recipient QoS must be 1 or 2, got ${qos}`);
  checkPacketId(packetId);
  const src = e.bytes;
  target.set(src, offset);
  target[offset] = (src[0]! & 0xf1) | (dup ? 0x08 : 0) | (qos << 1);
  target[offset + e.packetIdOffset] = packetId >>> 8;
  target[offset + e.packetIdOffset + 1] = packetId & 0xff;
}

/**
 * A PUBACK, PUBREC, PUBREL or PUBCOMP of remaining length 2 (3.1.1; MQTT 5 Success without properties, which may
 * omit the Reason Code and Property Length) written into `target` at `offset`: 4 bytes.
 */
export function writeShortAck(target: Buffer, offset: number, type: 4 | 5 | 6 | 7, packetId: number): void {
  checkPacketId(packetId);
  // PUBREL's fixed header flags are 0010 [MQTT-3.6.1-1]; the others' 0000.
  target[offset] = (type << 4) | (type === 6 ? 2 : 0);
  target[offset + 1] = 2;
  target[offset + 2] = packetId >>> 8;
  target[offset + 3] = packetId & 0xff;
}

/**
 * Sets or clears the RETAIN bit of an encoded PUBLISH in place, on a buffer the caller owns (not a shared
 * `EncodedPublish.bytes`).
 * @example
 * const copy = Buffer.from(e.bytes); setRetainFlag(copy, false);
 */
export function setRetainFlag(bytes: Buffer, retain: boolean): void {
  bytes[0] = retain ? bytes[0]! | 0x01 : bytes[0]! & 0xfe;
}

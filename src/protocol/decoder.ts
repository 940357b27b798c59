/**
 * Incremental, pull-based MQTT decoder for protocol versions 3 (3.1), 4 (3.1.1) and 5.
 *
 * Design note: pushed chunks are kept by reference in a queue (an array plus a head index, so dropping a consumed
 * chunk is O(1)). `next()` reads the fixed header, which may straddle chunks, and checks the declared size against
 * `maxPacketBytes` before waiting for the body. When the whole packet lies in the head chunk it is decoded in place
 * and PUBLISH payloads and binary properties are `subarray` views of that chunk; only a packet that spans chunks is
 * copied, once, into a buffer of exactly its size. So decoding many packets from one large chunk is linear, and the
 * common case copies nothing. The price: a payload view keeps its whole chunk alive, so code that stores a message
 * for long (retained messages, offline queues) should copy the payload.
 *
 * The cursor over the packet being decoded lives in private fields of the decoder (#buf, #pos, #end) rather than
 * in a per-packet reader object, so a packet costs one allocation for the packet object (plus its strings, payload
 * view and, for MQTT 5, its properties object). Pulling instead of emitting lets the caller stop while, say, an
 * asynchronous CONNECT is being authenticated: bytes simply stay queued.
 *
 * Errors are ProtocolErrors carrying the reason code (0x81 Malformed Packet, 0x82 Protocol Error, 0x84, 0x95) and,
 * where one exists, the normative statement. Statement ids follow the version being decoded (3.1.1 ids for 3 and
 * 4, 5.0 ids for 5). After an error the decoder is dead: every call to `next()` throws the same error.
 */
import { checkUtf8 } from './utf8.js';
import { ProtocolError, malformed, protocolError } from './errors.js';
import { ReasonCode, validReasonCodes, validSubackReturnCodesV4 } from './reason-codes.js';
import { propertyById, type PropertyPlace } from './properties.js';
import { validateTopicFilter, validateTopicName } from './topic.js';
import type {
  AckPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  AuthPacket,
  Packet,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  RetainHandling,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from './types.js';

export interface DecoderOptions {
  /** Largest whole packet (fixed header included) accepted. Default 268_435_460. */
  maxPacketBytes?: number;
  /** Version used for packets other than CONNECT until a CONNECT sets it. Default 4. */
  protocolVersion?: ProtocolVersion;
}

/** 1 type byte + 4 remaining-length bytes + the largest remaining length. */
const DEFAULT_MAX_PACKET_BYTES = 268_435_460;
/** Consumed chunk slots are dropped from the queue array once this many have piled up. */
const COMPACT_AFTER = 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Decodes a byte stream into packets.
 *
 * @example
 * const decoder = new Decoder({ maxPacketBytes: 1_048_576 });
 * socket.on('data', (chunk) => {
 *   decoder.push(chunk);
 *   for (let packet = decoder.next(); packet !== null; packet = decoder.next()) handle(packet);
 * });
 */
export class Decoder {
  /** Current protocol version; set as soon as a CONNECT's protocol level byte is read and valid. */
  protocolVersion: ProtocolVersion;
  maxPacketBytes: number;

  #chunks: Buffer[] = [];
  #head = 0;
  /** Bytes of chunks[#head] already consumed; always less than its length while the queue is non-empty. */
  #offset = 0;
  #buffered = 0;
  #error: ProtocolError | undefined = undefined;
  /** Fixed header of the packet at the front once it is complete: first byte, header length, total length. */
  #firstByte = 0;
  #headerBytes = 0;
  #totalBytes = -1;
  /** The packet last returned by next(): its buffer and range (see lastPacketBytes). */
  #lastBuf: Buffer = EMPTY;
  #lastStart = 0;
  #lastEnd = 0;
  /** Cursor over the packet being decoded. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  #end = 0;

  constructor(options: DecoderOptions = {}) {
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    this.protocolVersion = options.protocolVersion ?? 4;
    if (!(this.maxPacketBytes >= 2)) throw new RangeError('maxPacketBytes must be at least 2');
    if (this.protocolVersion !== 3 && this.protocolVersion !== 4 && this.protocolVersion !== 5) {
      throw new RangeError('protocolVersion must be 3, 4 or 5');
    }
  }

  /** Bytes pushed but not yet consumed. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Appends bytes. Never throws. Keeps a reference to the chunk: do not reuse it. */
  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.#error !== undefined) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next whole packet, or null if more bytes are needed. Throws ProtocolError on malformed input; after it
   * throws, every further call throws the same error.
   */
  next(): Packet | null {
    if (this.#error !== undefined) throw this.#error;
    try {
      return this.#next();
    } catch (err) {
      // Anything but a ProtocolError would be a decoder bug; input must still never escape as another exception.
      const error = err instanceof ProtocolError
        ? err
        : new ProtocolError(ReasonCode.MalformedPacket, 'undecodable packet', undefined, { cause: err });
      this.#error = error;
      this.#chunks = [];
      this.#head = 0;
      this.#offset = 0;
      this.#buffered = 0;
      throw error;
    }
  }

  /**
   * The whole packet last returned by `next()` (fixed header included) as a view, not a copy; valid until the next
   * call to `next()`, empty after one returned null. Lets a broker forward an unchanged PUBLISH without encoding it
   * again.
   */
  lastPacketBytes(): Buffer {
    return this.#lastBuf.subarray(this.#lastStart, this.#lastEnd);
  }

  #next(): Packet | null {
    this.#lastBuf = EMPTY;
    if (this.#totalBytes < 0 && !this.#readFixedHeader()) return null;
    const total = this.#totalBytes;
    if (this.#buffered < total) return null;
    this.#totalBytes = -1;
    const chunk = this.#chunks[this.#head]!;
    const start = this.#offset;
    let packet: Packet;
    if (chunk.length - start >= total) {
      this.#consumeFromHead(chunk, total);
      packet = this.#decode(chunk, start + this.#headerBytes, start + total);
      this.#lastBuf = chunk;
      this.#lastStart = start;
      this.#lastEnd = start + total;
    } else {
      const whole = this.#take(total);
      packet = this.#decode(whole, this.#headerBytes, total);
      this.#lastBuf = whole;
      this.#lastStart = 0;
      this.#lastEnd = total;
    }
    this.#buf = EMPTY; // do not keep the last chunk alive longer than its packets do
    return packet;
  }

  /** Reads type byte and remaining length, possibly across chunks. False when more bytes are needed. */
  #readFixedHeader(): boolean {
    if (this.#buffered < 2) return false;
    const chunks = this.#chunks;
    let index = this.#head;
    let chunk = chunks[index]!;
    let at = this.#offset;
    const firstByte = chunk[at++]!;
    let length = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      while (at >= chunk.length) {
        if (++index >= chunks.length) return false;
        chunk = chunks[index]!;
        at = 0;
      }
      const byte = chunk[at++]!;
      length += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        const total = 1 + i + length;
        if (total > this.maxPacketBytes) {
          throw new ProtocolError(ReasonCode.PacketTooLarge,
            `packet of ${total} bytes exceeds the maximum of ${this.maxPacketBytes}`);
        }
        this.#firstByte = firstByte;
        this.#headerBytes = 1 + i;
        this.#totalBytes = total;
        return true;
      }
      multiplier *= 128;
    }
    throw malformed('remaining length is longer than 4 bytes');
  }

  #consumeFromHead(chunk: Buffer, count: number): void {
    this.#buffered -= count;
    this.#offset += count;
    if (this.#offset === chunk.length) this.#dropHead();
  }

  #dropHead(): void {
    const chunks = this.#chunks;
    this.#offset = 0;
    if (++this.#head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER) {
      chunks.splice(0, this.#head);
      this.#head = 0;
    } else {
      chunks[this.#head - 1] = EMPTY;
    }
  }

  /** Copies the next `count` bytes, which span chunks, into one new buffer and consumes them. */
  #take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    while (written < count) {
      const chunk = this.#chunks[this.#head]!;
      const n = Math.min(chunk.length - this.#offset, count - written);
      chunk.copy(out, written, this.#offset, this.#offset + n);
      written += n;
      this.#consumeFromHead(chunk, n);
    }
    return out;
  }

  #decode(buf: Buffer, start: number, end: number): Packet {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    const first = this.#firstByte;
    const type = first >> 4;
    if (type === 3) return this.#publish(first & 0x0f);
    const version = type === 1 ? 0 : this.protocolVersion;
    // Fixed header flags: 0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0000 otherwise.
    const expectedFlags = type === 6 || type === 8 || type === 10 ? 2 : 0;
    if ((first & 0x0f) !== expectedFlags) {
      throw malformed(`invalid fixed header flags ${first & 0x0f} for packet type ${type}`,
        version === 5 ? 'MQTT-2.1.3-1' : 'MQTT-2.2.2-2');
    }
    switch (type) {
      case 1: return this.#connect();
      case 2: return this.#connack();
      case 4: case 5: case 6: case 7: return this.#ack(type);
      case 8: return this.#subscribe();
      case 9: return this.#suback();
      case 10: return this.#unsubscribe();
      case 11: return this.#unsuback();
      case 12: case 13: return this.#ping(type);
      case 14: case 15: return this.#disconnectOrAuth(type);
      default: throw malformed('reserved packet type 0');
    }
  }

  // ---- packets ----

  #publish(flags: number): PublishPacket {
    const v5 = this.protocolVersion === 5;
    const qos = (flags >> 1) & 3;
    if (qos === 3) throw malformed('PUBLISH with QoS 3', 'MQTT-3.3.1-4');
    const dup = (flags & 8) !== 0;
    if (dup && qos === 0) throw malformed('PUBLISH with DUP set at QoS 0', 'MQTT-3.3.1-2');
    const topic = this.#topicName();
    const packet: PublishPacket = {
      type: 3, topic, payload: EMPTY, qos: qos as QoS, retain: (flags & 1) !== 0, dup,
    };
    if (qos > 0) packet.packetId = this.#packetId();
    if (v5) {
      const properties = this.#properties(3);
      packet.properties = properties;
      if (topic.length === 0 && properties.topicAlias === undefined) {
        throw protocolError('PUBLISH with an empty topic name and no Topic Alias', 'MQTT-4.7.3-1');
      }
    } else if (topic.length === 0) {
      throw malformed('PUBLISH with an empty topic name', 'MQTT-4.7.3-1');
    }
    packet.payload = this.#buf.subarray(this.#pos, this.#end);
    this.#pos = this.#end;
    return packet;
  }

  #connect(): ConnectPacket {
    const nameLength = this.#uint16();
    this.#need(nameLength + 1);
    const buf = this.#buf;
    const namePos = this.#pos;
    const level = buf[namePos + nameLength]!;
    this.#pos = namePos + nameLength + 1;
    // Tell the caller which CONNACK format to answer with before anything else can fail.
    if (level === 3 || level === 4 || level === 5) this.protocolVersion = level;
    const isMqtt = nameLength === 4 && buf.toString('latin1', namePos, namePos + 4) === 'MQTT';
    const isMqisdp = nameLength === 6 && buf.toString('latin1', namePos, namePos + 6) === 'MQIsdp';
    const v5 = level === 5;
    if (!isMqtt && !isMqisdp) throw protocolError('unknown protocol name', 'MQTT-3.1.2-1');
    if ((isMqtt && level !== 4 && level !== 5) || (isMqisdp && level !== 3)) {
      throw new ProtocolError(ReasonCode.UnsupportedProtocolVersion,
        `unsupported protocol level ${level} for ${isMqtt ? 'MQTT' : 'MQIsdp'}`, 'MQTT-3.1.2-2');
    }
    const flags = this.#uint8();
    if (level !== 3 && (flags & 1) !== 0) throw malformed('CONNECT reserved flag is set', 'MQTT-3.1.2-3');
    const hasWill = (flags & 0x04) !== 0;
    const willQos = (flags >> 3) & 3;
    const willRetain = (flags & 0x20) !== 0;
    const hasPassword = (flags & 0x40) !== 0;
    const hasUsername = (flags & 0x80) !== 0;
    if (!hasWill && willQos !== 0) {
      throw malformed('Will QoS set without Will Flag', v5 ? 'MQTT-3.1.2-11' : 'MQTT-3.1.2-13');
    }
    if (willQos === 3) throw malformed('Will QoS 3', v5 ? 'MQTT-3.1.2-12' : 'MQTT-3.1.2-14');
    if (!hasWill && willRetain) {
      throw malformed('Will Retain set without Will Flag', v5 ? 'MQTT-3.1.2-13' : 'MQTT-3.1.2-15');
    }
    if (level === 4 && hasPassword && !hasUsername) {
      throw malformed('Password Flag set without User Name Flag', 'MQTT-3.1.2-22');
    }
    const packet: ConnectPacket = {
      type: 1,
      protocolName: isMqtt ? 'MQTT' : 'MQIsdp',
      protocolVersion: level as ProtocolVersion,
      clean: (flags & 0x02) !== 0,
      keepaliveSeconds: this.#uint16(),
      clientId: '',
    };
    if (v5) packet.properties = this.#properties(1);
    packet.clientId = this.#string();
    if (hasWill) packet.will = this.#will(willQos as QoS, willRetain, v5);
    if (hasUsername) packet.username = this.#string();
    if (hasPassword) packet.password = this.#binary();
    this.#expectEnd('CONNECT');
    if (v5 && packet.properties!.authenticationData !== undefined &&
      packet.properties!.authenticationMethod === undefined) {
      throw protocolError('Authentication Data without Authentication Method');
    }
    return packet;
  }

  #will(qos: QoS, retain: boolean, v5: boolean): Will {
    const properties = v5 ? this.#properties('will') : undefined;
    const topic = this.#string();
    const problem = validateTopicName(topic);
    if (problem !== undefined) throw malformed(`invalid Will Topic: ${stripStatement(problem)}`, statementOf(problem));
    const will: Will = { topic, payload: this.#binary(), qos, retain };
    if (properties !== undefined) will.properties = properties;
    return will;
  }

  #connack(): ConnackPacket {
    const version = this.protocolVersion;
    if (version !== 5) this.#need(2);
    const ackFlags = this.#uint8();
    // MQTT 3.1 has no Session Present: its first byte is reserved and unused.
    if ((ackFlags & (version === 3 ? 0xff : 0xfe)) !== 0) {
      throw malformed('CONNACK reserved acknowledge flags are set', version === 5 ? 'MQTT-3.2.2-1' : undefined);
    }
    const reasonCode = this.#uint8();
    const packet: ConnackPacket = { type: 2, sessionPresent: ackFlags === 1, reasonCode };
    if (version === 5) {
      this.#checkReasonCode(2, reasonCode);
      packet.properties = this.#properties(2);
    } else if (reasonCode > 5) {
      throw malformed(`invalid CONNACK return code ${reasonCode}`);
    }
    this.#expectEnd('CONNACK');
    return packet;
  }

  #ack<T extends 4 | 5 | 6 | 7>(type: T): AckPacket<T> {
    const packetId = this.#packetId();
    const packet: AckPacket<T> = { type, packetId, reasonCode: 0 };
    if (this.protocolVersion === 5) {
      if (this.#pos < this.#end) {
        packet.reasonCode = this.#uint8();
        this.#checkReasonCode(type, packet.reasonCode);
      }
      packet.properties = this.#pos < this.#end ? this.#properties(type) : {};
    }
    this.#expectEnd('acknowledgement');
    return packet;
  }

  #subscribe(): SubscribePacket {
    const v5 = this.protocolVersion === 5;
    const packet: SubscribePacket = { type: 8, packetId: this.#packetId(), subscriptions: [] };
    if (v5) packet.properties = this.#properties(8);
    const subscriptions = packet.subscriptions;
    while (this.#pos < this.#end) {
      const topicFilter = this.#topicFilter();
      const options = this.#uint8();
      const qos = options & 3;
      const subscription: Subscription = {
        topicFilter, qos: qos as QoS, noLocal: false, retainAsPublished: false, retainHandling: 0,
      };
      if (v5) {
        if ((options & 0xc0) !== 0) throw malformed('subscription options reserved bits are set', 'MQTT-3.8.3-5');
        if (qos === 3) throw protocolError('subscription with Maximum QoS 3');
        const retainHandling = (options >> 4) & 3;
        if (retainHandling === 3) throw protocolError('subscription with Retain Handling 3');
        subscription.noLocal = (options & 0x04) !== 0;
        subscription.retainAsPublished = (options & 0x08) !== 0;
        subscription.retainHandling = retainHandling as RetainHandling;
        if (subscription.noLocal && topicFilter.startsWith('$share/')) {
          throw protocolError('No Local set on a shared subscription', 'MQTT-3.8.3-4');
        }
      } else if ((options & 0xfc) !== 0 || qos === 3) {
        throw malformed('invalid requested QoS byte', 'MQTT-3-8.3-4');
      }
      subscriptions.push(subscription);
    }
    if (subscriptions.length === 0) {
      throw protocolError('SUBSCRIBE without topic filters', v5 ? 'MQTT-3.8.3-2' : 'MQTT-3.8.3-3');
    }
    return packet;
  }

  #suback(): SubackPacket {
    const v5 = this.protocolVersion === 5;
    const packet: SubackPacket = { type: 9, packetId: this.#packetId(), reasonCodes: [] };
    if (v5) packet.properties = this.#properties(9);
    const valid = v5 ? validReasonCodes[9]! : validSubackReturnCodesV4;
    const buf = this.#buf;
    for (let i = this.#pos; i < this.#end; i++) {
      const code = buf[i]!;
      if (!valid.has(code)) throw malformed(`invalid SUBACK reason code 0x${code.toString(16)}`);
      packet.reasonCodes.push(code);
    }
    this.#pos = this.#end;
    // One code per filter of the SUBSCRIBE, which has at least one.
    if (packet.reasonCodes.length === 0) throw malformed('SUBACK without reason codes');
    return packet;
  }

  #unsubscribe(): UnsubscribePacket {
    const v5 = this.protocolVersion === 5;
    const packet: UnsubscribePacket = { type: 10, packetId: this.#packetId(), topicFilters: [] };
    if (v5) packet.properties = this.#properties(10);
    while (this.#pos < this.#end) packet.topicFilters.push(this.#topicFilter());
    if (packet.topicFilters.length === 0) throw protocolError('UNSUBSCRIBE without topic filters', 'MQTT-3.10.3-2');
    return packet;
  }

  #unsuback(): UnsubackPacket {
    const packet: UnsubackPacket = { type: 11, packetId: this.#packetId(), reasonCodes: [] };
    if (this.protocolVersion === 5) {
      packet.properties = this.#properties(11);
      const buf = this.#buf;
      for (let i = this.#pos; i < this.#end; i++) {
        this.#checkReasonCode(11, buf[i]!);
        packet.reasonCodes.push(buf[i]!);
      }
      this.#pos = this.#end;
      if (packet.reasonCodes.length === 0) throw malformed('UNSUBACK without reason codes');
    }
    this.#expectEnd('UNSUBACK');
    return packet;
  }

  #ping(type: 12 | 13): Packet {
    this.#expectEnd(type === 12 ? 'PINGREQ' : 'PINGRESP');
    return type === 12 ? { type: 12 } : { type: 13 };
  }

  #disconnectOrAuth(type: 14 | 15): DisconnectPacket | AuthPacket {
    const packet: DisconnectPacket | AuthPacket = { type, reasonCode: 0 };
    if (this.protocolVersion === 5) {
      if (this.#pos < this.#end) {
        packet.reasonCode = this.#uint8();
        this.#checkReasonCode(type, packet.reasonCode);
      }
      packet.properties = this.#pos < this.#end ? this.#properties(type) : {};
    } else if (type === 15) {
      throw malformed('AUTH packet before MQTT 5');
    }
    this.#expectEnd(type === 14 ? 'DISCONNECT' : 'AUTH');
    return packet;
  }

  // ---- fields ----

  #need(count: number): void {
    if (this.#end - this.#pos < count) throw malformed('packet ends before its fields do');
  }

  #expectEnd(what: string): void {
    if (this.#pos !== this.#end) throw malformed(`unexpected bytes at the end of ${what}`);
  }

  #uint8(): number {
    if (this.#pos >= this.#end) throw malformed('packet ends before its fields do');
    return this.#buf[this.#pos++]!;
  }

  #uint16(): number {
    this.#need(2);
    const buf = this.#buf;
    const value = (buf[this.#pos]! << 8) | buf[this.#pos + 1]!;
    this.#pos += 2;
    return value;
  }

  #uint32(): number {
    this.#need(4);
    const value = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return value;
  }

  /** Variable Byte Integer inside the packet; -1 is never returned (a bad one throws). */
  #varint(limit: number): number {
    const buf = this.#buf;
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      if (this.#pos >= limit) throw malformed('Variable Byte Integer runs past its field');
      const byte = buf[this.#pos++]!;
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return value;
      multiplier *= 128;
    }
    throw malformed('Variable Byte Integer is longer than 4 bytes');
  }

  #packetId(): number {
    const id = this.#uint16();
    if (id === 0) {
      throw protocolError('packet identifier 0', this.protocolVersion === 5 ? 'MQTT-2.2.1-3' : 'MQTT-2.3.1-1');
    }
    return id;
  }

  /** A UTF-8 Encoded String [MQTT-1.5.4-1/2] (3.1.1: [MQTT-1.5.3-1/2]). */
  #string(): string {
    const length = this.#uint16();
    this.#need(length);
    const start = this.#pos;
    const end = start + length;
    this.#pos = end;
    this.#checkUtf8(start, end);
    return this.#buf.toString('utf8', start, end);
  }

  #checkUtf8(start: number, end: number): void {
    const problem = checkUtf8(this.#buf, start, end);
    if (problem === undefined) return;
    const v5 = this.protocolVersion === 5;
    if (problem === 'null') throw malformed('string contains U+0000', v5 ? 'MQTT-1.5.4-2' : 'MQTT-1.5.3-2');
    throw malformed('string is not well-formed UTF-8', v5 ? 'MQTT-1.5.4-1' : 'MQTT-1.5.3-1');
  }

  /** Binary Data: a view into the input, not a copy. */
  #binary(): Buffer {
    const length = this.#uint16();
    this.#need(length);
    const start = this.#pos;
    this.#pos = start + length;
    return this.#buf.subarray(start, start + length);
  }

  /**
   * The PUBLISH topic name: one pass over the bytes rejects wildcards and U+0000 and spots non-ASCII, which alone
   * needs the full UTF-8 check. ('+' and '#' bytes cannot occur inside a multi-byte UTF-8 sequence.)
   */
  #topicName(): string {
    const length = this.#uint16();
    this.#need(length);
    const buf = this.#buf;
    const start = this.#pos;
    const end = start + length;
    this.#pos = end;
    let isAscii = true;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c <= 0x2b) { // '+', '#' and NUL are all below the letters, digits and '/' that make up most topics
        if (c === 0x2b || c === 0x23) throw malformed('topic name contains a wildcard', 'MQTT-3.3.2-2');
        if (c === 0) this.#checkUtf8(start, end);
      } else if (c >= 0x80) {
        isAscii = false;
      }
    }
    if (isAscii) return buf.toString('latin1', start, end);
    this.#checkUtf8(start, end);
    return buf.toString('utf8', start, end);
  }

  #topicFilter(): string {
    const filter = this.#string();
    const problem = validateTopicFilter(filter);
    if (problem !== undefined) {
      throw malformed(`invalid topic filter: ${stripStatement(problem)}`, statementOf(problem));
    }
    return filter;
  }

  #checkReasonCode(type: number, code: number): void {
    if (!validReasonCodes[type]!.has(code)) throw malformed(`invalid reason code 0x${code.toString(16)}`);
  }

  /** MQTT 5 properties (section 2.2.2), checked against the property table for `place`. */
  #properties(place: PropertyPlace): Properties {
    const length = this.#varint(this.#end);
    this.#need(length);
    const end = this.#pos + length;
    const properties: Properties = {};
    const bag = properties as Record<string, unknown>;
    while (this.#pos < end) {
      const id = this.#varint(end);
      const def = propertyById[id];
      if (def === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
      if (!def.places.has(place)) {
        throw malformed(`property ${def.name} is not allowed in ${place === 'will' ? 'Will Properties' : `packet type ${place}`}`);
      }
      const name = def.name;
      const seen = bag[name] !== undefined;
      if (seen && !(def.isRepeatable && (name === 'userProperties' || place === 3))) {
        throw protocolError(`property ${name} included more than once`);
      }
      let value: unknown;
      switch (def.wireType) {
        case 'byte': value = this.#fieldByte(end); break;
        case 'uint16': this.#fieldNeed(end, 2); value = this.#uint16(); break;
        case 'uint32': this.#fieldNeed(end, 4); value = this.#uint32(); break;
        case 'varint': value = this.#varint(end); break;
        case 'utf8': value = this.#fieldString(end); break;
        case 'binary': value = this.#fieldBinary(end); break;
        case 'pair': {
          const key = this.#fieldString(end);
          const pair = [key, this.#fieldString(end)] as const;
          if (seen) (bag[name] as unknown[]).push(pair); else bag[name] = [pair];
          continue;
        }
      }
      if (def.allowedValues !== undefined && !def.allowedValues.has(value as number)) {
        throw protocolError(`property ${name} has invalid value ${String(value)}`);
      }
      if (def.isZeroForbidden === true && value === 0) throw protocolError(`property ${name} is 0`);
      if (def.isRepeatable) {
        if (seen) (bag[name] as unknown[]).push(value); else bag[name] = [value];
      } else {
        bag[name] = value;
      }
    }
    return properties;
  }

  #fieldNeed(end: number, count: number): void {
    if (end - this.#pos < count) throw malformed('property runs past the properties field');
  }

  #fieldByte(end: number): number {
    this.#fieldNeed(end, 1);
    return this.#buf[this.#pos++]!;
  }

  #fieldString(end: number): string {
    this.#fieldNeed(end, 2);
    const length = (this.#buf[this.#pos]! << 8) | this.#buf[this.#pos + 1]!;
    this.#fieldNeed(end, 2 + length);
    return this.#string();
  }

  #fieldBinary(end: number): Buffer {
    this.#fieldNeed(end, 2);
    const length = (this.#buf[this.#pos]! << 8) | this.#buf[this.#pos + 1]!;
    this.#fieldNeed(end, 2 + length);
    return this.#binary();
  }
}


function statementOf(reason: string): string | undefined {
  const match = /\[(MQTT-[^\]]+)\]$/.exec(reason);
  return match === null ? undefined : match[1];
}

function stripStatement(reason: string): string {
  return reason.replace(/ \[MQTT-[^\]]+\]$/, '');
}

/**
 * Decodes exactly one whole packet (tests and tools). Throws ProtocolError unless `bytes` are exactly one valid
 * packet.
 *
 * @example decodePacket(Buffer.from([0xc0, 0x00]), 4) // { type: 12 }
 */
export function decodePacket(bytes: Buffer, protocolVersion: ProtocolVersion): Packet {
  const decoder = new Decoder({ protocolVersion, maxPacketBytes: Number.MAX_SAFE_INTEGER });
  decoder.push(bytes);
  const packet = decoder.next();
  if (packet === null) throw malformed('incomplete packet');
  if (decoder.bufferedBytes !== 0) throw malformed('bytes after the packet');
  return packet;
}

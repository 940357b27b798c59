/**
 * An MQTT packet builder and parser for integration tests, written straight from the spec and deliberately
 * independent of src/protocol: if our codec gets a byte wrong, these helpers will not make the same mistake, so
 * the integration tests catch it.
 *
 * Builders return the exact bytes of one packet. `raw()` and `rawWithLength()` build anything at all, including
 * packets the spec forbids (for the malformed-packet tests). The parser understands only what tests check: the
 * fields of the packets a broker sends (CONNACK, PUBLISH, the four acks, SUBACK, UNSUBACK, PINGRESP, DISCONNECT).
 */

export type Qos = 0 | 1 | 2;

export const Type = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
  Auth: 15,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Encoding primitives

type Bytes = Buffer | Uint8Array | readonly number[];

function toBuffer(b: Bytes | string): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  return Buffer.isBuffer(b) ? b : Buffer.from(b as Uint8Array);
}

/** Variable Byte Integer (MQTT 3.1.1 section 2.2.3 "Remaining Length"). */
export function varint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 268_435_455) throw new RangeError(`varint out of range: ${n}`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A length-prefixed string or binary field. A Buffer is written as is (lets tests send invalid UTF-8). */
export function str(s: string | Bytes): Buffer {
  const body = toBuffer(s);
  return Buffer.concat([u16(body.length), body]);
}

/** One packet: fixed header byte `type << 4 | flags`, a correct Remaining Length, then `body`. */
export function raw(type: number, flags: number, body: Bytes = []): Buffer {
  const b = toBuffer(body);
  return Buffer.concat([Buffer.from([((type & 0x0f) << 4) | (flags & 0x0f)]), varint(b.length), b]);
}

/** A fixed header with an arbitrary Remaining Length (which may lie about the body). */
export function rawWithLength(firstByte: number, remainingLength: number, body: Bytes = []): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), varint(remainingLength), toBuffer(body)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Builders

export interface WillOptions {
  topic: string;
  payload: string | Buffer;
  qos?: Qos;
  retain?: boolean;
  /** MQTT 5 only: the raw bytes of the will properties (without their length prefix). */
  properties?: Buffer;
}

export interface ConnectOptions {
  /** 3 = MQTT 3.1 ("MQIsdp"), 4 = MQTT 3.1.1, 5 = MQTT 5.0. Default 4. */
  protocolVersion?: 3 | 4 | 5;
  clientId?: string | Buffer;
  /** Clean Session (3.1/3.1.1) / Clean Start (5). Default true. */
  clean?: boolean;
  keepaliveSeconds?: number;
  username?: string | Buffer;
  password?: string | Buffer;
  will?: WillOptions;
  /** MQTT 5 only: raw CONNECT property bytes (without their length prefix). */
  properties?: Buffer;
  /** Overrides for malformed-CONNECT tests. */
  protocolName?: string;
  protocolLevel?: number;
  /** Replaces the computed Connect Flags byte. */
  flags?: number;
}

export function connect(opts: ConnectOptions = {}): Buffer {
  const version = opts.protocolVersion ?? 4;
  const name = opts.protocolName ?? (version === 3 ? 'MQIsdp' : 'MQTT');
  const level = opts.protocolLevel ?? version;
  const will = opts.will;
  let flags = 0;
  if (opts.clean ?? true) flags |= 0x02;
  if (will) flags |= 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0);
  if (opts.password !== undefined) flags |= 0x40;
  if (opts.username !== undefined) flags |= 0x80;
  const parts: Buffer[] = [str(name), Buffer.from([level, opts.flags ?? flags]), u16(opts.keepaliveSeconds ?? 0)];
  if (version === 5) parts.push(varint(opts.properties?.length ?? 0), opts.properties ?? Buffer.alloc(0));
  parts.push(str(opts.clientId ?? ''));
  if (will) {
    if (version === 5) parts.push(varint(will.properties?.length ?? 0), will.properties ?? Buffer.alloc(0));
    parts.push(str(will.topic), str(will.payload));
  }
  if (opts.username !== undefined) parts.push(str(opts.username));
  if (opts.password !== undefined) parts.push(str(opts.password));
  return raw(Type.Connect, 0, Buffer.concat(parts));
}

export interface PublishOptions {
  topic: string | Buffer;
  payload?: string | Buffer;
  qos?: Qos | 3;
  dup?: boolean;
  retain?: boolean;
  /** Required for QoS 1 and 2. */
  packetId?: number;
  /** MQTT 5 only: raw property bytes; when given, a properties field is written. */
  properties?: Buffer;
}

export function publish(opts: PublishOptions): Buffer {
  const qos = opts.qos ?? 0;
  const flags = (opts.dup ? 0x08 : 0) | (qos << 1) | (opts.retain ? 0x01 : 0);
  const parts: Buffer[] = [str(opts.topic)];
  if (qos > 0) {
    if (opts.packetId === undefined) throw new Error('publish: a QoS > 0 PUBLISH needs a packetId');
    parts.push(u16(opts.packetId));
  }
  if (opts.properties) parts.push(varint(opts.properties.length), opts.properties);
  parts.push(toBuffer(opts.payload ?? ''));
  return raw(Type.Publish, flags, Buffer.concat(parts));
}

export const puback = (packetId: number): Buffer => raw(Type.Puback, 0, u16(packetId));
export const pubrec = (packetId: number): Buffer => raw(Type.Pubrec, 0, u16(packetId));
/** PUBREL has reserved flags 0b0010 [MQTT-3.6.1-1]. */
export const pubrel = (packetId: number): Buffer => raw(Type.Pubrel, 0x02, u16(packetId));
export const pubcomp = (packetId: number): Buffer => raw(Type.Pubcomp, 0, u16(packetId));

/** SUBSCRIBE has reserved flags 0b0010 [MQTT-3.8.1-1]. `properties` (MQTT 5) adds a properties field. */
export function subscribe(
  packetId: number,
  filters: ReadonlyArray<readonly [filter: string | Buffer, qos: number]>,
  properties?: Buffer,
): Buffer {
  const parts: Buffer[] = [u16(packetId)];
  if (properties) parts.push(varint(properties.length), properties);
  for (const [filter, qos] of filters) parts.push(str(filter), Buffer.from([qos]));
  return raw(Type.Subscribe, 0x02, Buffer.concat(parts));
}

/** UNSUBSCRIBE has reserved flags 0b0010 [MQTT-3.10.1-1]. */
export function unsubscribe(packetId: number, filters: ReadonlyArray<string | Buffer>, properties?: Buffer): Buffer {
  const parts: Buffer[] = [u16(packetId)];
  if (properties) parts.push(varint(properties.length), properties);
  for (const filter of filters) parts.push(str(filter));
  return raw(Type.Unsubscribe, 0x02, Buffer.concat(parts));
}

export const pingreq = (): Buffer => raw(Type.Pingreq, 0);
export const disconnect = (): Buffer => raw(Type.Disconnect, 0);

// ---------------------------------------------------------------------------------------------------------------
// Parser

export interface Connack {
  type: 'connack';
  sessionPresent: boolean;
  returnCode: number;
  /** MQTT 5: the raw property bytes. */
  properties?: Buffer;
}
export interface Publish {
  type: 'publish';
  topic: string;
  qos: number;
  dup: boolean;
  retain: boolean;
  packetId?: number;
  payload: Buffer;
  /** MQTT 5: the raw property bytes (without their length); see v5.ts `parseProperties`. */
  properties?: Buffer;
}
export interface Ack {
  type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
  packetId: number;
  flags: number;
  /** MQTT 5: the reason code (0 when the packet omitted it). */
  reasonCode?: number;
  /** MQTT 5: the raw property bytes, when present. */
  properties?: Buffer;
}
export interface Suback {
  type: 'suback';
  packetId: number;
  /** One per filter: granted QoS, or 0x80 (failure). */
  codes: number[];
  /** MQTT 5: the raw property bytes. */
  properties?: Buffer;
}
export interface Unsuback {
  type: 'unsuback';
  packetId: number;
  /** MQTT 5: one reason code per filter. */
  codes?: number[];
}
export interface Pingresp {
  type: 'pingresp';
}
export interface Disconnect {
  type: 'disconnect';
  reasonCode: number;
}
/** Anything a broker should not send to a 3.1.1 client; kept whole so a test can report it. */
export interface Other {
  type: 'other';
  packetType: number;
  flags: number;
  body: Buffer;
}
export type Parsed = Connack | Publish | Ack | Suback | Unsuback | Pingresp | Disconnect | Other;

const ackNames = { 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp' } as const;

/** Parses one packet body. `protocolVersion` 5 skips the properties fields. */
export function parsePacket(firstByte: number, body: Buffer, protocolVersion: 3 | 4 | 5 = 4): Parsed {
  const packetType = firstByte >> 4;
  const flags = firstByte & 0x0f;
  const v5 = protocolVersion === 5;
  const skipProperties = (at: number): number => {
    let len = 0;
    let mult = 1;
    let byte: number;
    do {
      byte = body[at++] ?? 0;
      len += (byte & 0x7f) * mult;
      mult *= 128;
    } while (byte & 0x80);
    return at + len;
  };
  /** The length of the properties field starting at `at` (the value of its length prefix). */
  const propertiesLength = (at: number): number => {
    let len = 0;
    let mult = 1;
    let byte: number;
    do {
      byte = body[at++] ?? 0;
      len += (byte & 0x7f) * mult;
      mult *= 128;
    } while (byte & 0x80);
    return len;
  };
  switch (packetType) {
    case Type.Connack: {
      const connack: Connack = { type: 'connack', sessionPresent: ((body[0] ?? 0) & 0x01) === 1, returnCode: body[1] ?? -1 };
      if (v5 && body.length > 2) connack.properties = Buffer.from(body.subarray(skipProperties(2) - propertiesLength(2)));
      return connack;
    }
    case Type.Publish: {
      const qos = (flags >> 1) & 0x03;
      const topicLength = body.readUInt16BE(0);
      const topic = body.subarray(2, 2 + topicLength).toString('utf8');
      let at = 2 + topicLength;
      let packetId: number | undefined;
      if (qos > 0) {
        packetId = body.readUInt16BE(at);
        at += 2;
      }
      let properties: Buffer | undefined;
      if (v5) {
        const end = skipProperties(at);
        properties = Buffer.from(body.subarray(end - propertiesLength(at), end));
        at = end;
      }
      const p: Publish = {
        type: 'publish',
        topic,
        qos,
        dup: (flags & 0x08) !== 0,
        retain: (flags & 0x01) !== 0,
        payload: Buffer.from(body.subarray(at)),
      };
      if (packetId !== undefined) p.packetId = packetId;
      if (properties !== undefined) p.properties = properties;
      return p;
    }
    case Type.Puback:
    case Type.Pubrec:
    case Type.Pubrel:
    case Type.Pubcomp: {
      const ack: Ack = { type: ackNames[packetType], packetId: body.readUInt16BE(0), flags };
      if (v5) {
        ack.reasonCode = body[2] ?? 0;
        if (body.length > 3) ack.properties = Buffer.from(body.subarray(skipProperties(3) - propertiesLength(3)));
      }
      return ack;
    }
    case Type.Suback: {
      const at = v5 ? skipProperties(2) : 2;
      const suback: Suback = { type: 'suback', packetId: body.readUInt16BE(0), codes: [...body.subarray(at)] };
      if (v5) suback.properties = Buffer.from(body.subarray(at - propertiesLength(2), at));
      return suback;
    }
    case Type.Unsuback: {
      const unsuback: Unsuback = { type: 'unsuback', packetId: body.readUInt16BE(0) };
      if (v5) unsuback.codes = [...body.subarray(skipProperties(2))];
      return unsuback;
    }
    case Type.Pingresp:
      return { type: 'pingresp' };
    case Type.Disconnect:
      return { type: 'disconnect', reasonCode: body[0] ?? 0 };
    default:
      return { type: 'other', packetType, flags, body: Buffer.from(body) };
  }
}

/**
 * Incremental framing: push bytes as they arrive, get back every complete packet. Throws on a Remaining Length
 * longer than four bytes (the broker sent garbage).
 */
export class Framer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #protocolVersion: 3 | 4 | 5;

  constructor(protocolVersion: 3 | 4 | 5 = 4) {
    this.#protocolVersion = protocolVersion;
  }

  push(chunk: Buffer): Parsed[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: Parsed[] = [];
    for (;;) {
      const frame = this.#takeFrame();
      if (!frame) break;
      out.push(parsePacket(frame.firstByte, frame.body, this.#protocolVersion));
    }
    return out;
  }

  #takeFrame(): { firstByte: number; body: Buffer } | undefined {
    const buf = this.#buffer;
    if (buf.length < 2) return undefined;
    let length = 0;
    let mult = 1;
    let at = 1;
    for (;;) {
      if (at >= buf.length) return undefined;
      if (at > 4) throw new Error('Framer: Remaining Length longer than 4 bytes');
      const byte = buf[at++] ?? 0;
      length += (byte & 0x7f) * mult;
      mult *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (buf.length < at + length) return undefined;
    const frame = { firstByte: buf[0] ?? 0, body: buf.subarray(at, at + length) };
    this.#buffer = buf.subarray(at + length);
    return frame;
  }
}

/** A one-line description of a parsed packet for failure messages. */
export function describe(p: Parsed): string {
  switch (p.type) {
    case 'connack':
      return `CONNACK(sp=${p.sessionPresent ? 1 : 0}, rc=0x${p.returnCode.toString(16)})`;
    case 'publish': {
      const payload = p.payload.length > 32 ? `${p.payload.length} bytes` : JSON.stringify(p.payload.toString());
      const id = p.packetId === undefined ? '' : ` id=${p.packetId}`;
      return `PUBLISH(${p.topic} q${p.qos}${p.dup ? ' dup' : ''}${p.retain ? ' retain' : ''}${id} ${payload})`;
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return `${p.type.toUpperCase()}(${p.packetId})`;
    case 'suback':
      return `SUBACK(${p.packetId}: ${p.codes.map((c) => `0x${c.toString(16)}`).join(',')})`;
    case 'unsuback':
      return `UNSUBACK(${p.packetId})`;
    case 'pingresp':
      return 'PINGRESP';
    case 'disconnect':
      return `DISCONNECT(0x${p.reasonCode.toString(16)})`;
    case 'other':
      return `type ${p.packetType} flags ${p.flags} (${p.body.length} bytes)`;
  }
}

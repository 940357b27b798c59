/**
 * MQTT 5 test helpers written from the spec (sections 2.2.2 and 3.x), independent of src/protocol like packets.ts:
 * a property builder, a parser that keeps every property of every packet a broker sends, an AUTH and a DISCONNECT
 * builder, and a small raw client that exposes those parsed packets.
 */
import net from 'node:net';
import {
  connect as connectPacket, publish as publishPacket, raw, str, subscribe as subscribePacket, u16, varint,
  type ConnectOptions, type PublishOptions,
} from './packets.js';

/** Property identifiers (MQTT 5 section 2.2.2.2), by the spec's names. */
export const Prop = {
  PayloadFormatIndicator: 0x01, MessageExpiryInterval: 0x02, ContentType: 0x03, ResponseTopic: 0x08,
  CorrelationData: 0x09, SubscriptionIdentifier: 0x0b, SessionExpiryInterval: 0x11, AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13, AuthenticationMethod: 0x15, AuthenticationData: 0x16, RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18, RequestResponseInformation: 0x19, ResponseInformation: 0x1a, ServerReference: 0x1c,
  ReasonString: 0x1f, ReceiveMaximum: 0x21, TopicAliasMaximum: 0x22, TopicAlias: 0x23, MaximumQoS: 0x24,
  RetainAvailable: 0x25, UserProperty: 0x26, MaximumPacketSize: 0x27, WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29, SharedSubscriptionAvailable: 0x2a,
} as const;

type Kind = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair';
const kinds: Record<number, Kind> = {
  0x01: 'byte', 0x02: 'u32', 0x03: 'utf8', 0x08: 'utf8', 0x09: 'binary', 0x0b: 'varint', 0x11: 'u32', 0x12: 'utf8',
  0x13: 'u16', 0x15: 'utf8', 0x16: 'binary', 0x17: 'byte', 0x18: 'u32', 0x19: 'byte', 0x1a: 'utf8', 0x1c: 'utf8',
  0x1f: 'utf8', 0x21: 'u16', 0x22: 'u16', 0x23: 'u16', 0x24: 'byte', 0x25: 'byte', 0x26: 'pair', 0x27: 'u32',
  0x28: 'byte', 0x29: 'byte', 0x2a: 'byte',
};

export type PropValue = number | string | Buffer | readonly [string, string];

/** Encodes properties, in the given order, without the Property Length prefix. */
export function props(...entries: ReadonlyArray<readonly [id: number, value: PropValue]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of entries) {
    const kind = kinds[id];
    if (kind === undefined) throw new Error(`unknown property 0x${id.toString(16)}`);
    parts.push(Buffer.from([id]));
    if (kind === 'byte') parts.push(Buffer.from([value as number]));
    else if (kind === 'u16') parts.push(u16(value as number));
    else if (kind === 'u32') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(value as number);
      parts.push(b);
    } else if (kind === 'varint') parts.push(varint(value as number));
    else if (kind === 'pair') {
      const [k, v] = value as readonly [string, string];
      parts.push(str(k), str(v));
    } else parts.push(str(value as string | Buffer));
  }
  return Buffer.concat(parts);
}

/** Properties as read from the wire: id -> values in order (several for User Property). */
export type PropMap = Map<number, PropValue[]>;

function readProps(body: Buffer, at: number): { map: PropMap; end: number } {
  const { value: length, next } = readVarint(body, at);
  const end = next + length;
  const map: PropMap = new Map();
  let i = next;
  while (i < end) {
    const id = body[i++]!;
    const kind = kinds[id];
    if (kind === undefined) throw new Error(`broker sent unknown property 0x${id.toString(16)}`);
    let value: PropValue;
    if (kind === 'byte') value = body[i++]!;
    else if (kind === 'u16') { value = body.readUInt16BE(i); i += 2; }
    else if (kind === 'u32') { value = body.readUInt32BE(i); i += 4; }
    else if (kind === 'varint') { const r = readVarint(body, i); value = r.value; i = r.next; }
    else if (kind === 'pair') {
      const k = readString(body, i); i = k.next;
      const v = readString(body, i); i = v.next;
      value = [k.value.toString('utf8'), v.value.toString('utf8')];
    } else {
      const s = readString(body, i); i = s.next;
      value = kind === 'utf8' ? s.value.toString('utf8') : Buffer.from(s.value);
    }
    const list = map.get(id) ?? [];
    list.push(value);
    map.set(id, list);
  }
  return { map, end };
}

function readVarint(body: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let mult = 1;
  let byte: number;
  do {
    byte = body[at++]!;
    value += (byte & 0x7f) * mult;
    mult *= 128;
  } while (byte & 0x80);
  return { value, next: at };
}

function readString(body: Buffer, at: number): { value: Buffer; next: number } {
  const length = body.readUInt16BE(at);
  return { value: body.subarray(at + 2, at + 2 + length), next: at + 2 + length };
}

/** One packet from the broker with its reason code (or CONNACK code) and properties. */
export interface V5Packet {
  type: number;
  flags: number;
  reasonCode: number;
  sessionPresent?: boolean;
  packetId?: number;
  topic?: string;
  payload?: Buffer;
  props: PropMap;
}

/** Parses one packet body the way a MQTT 5 client reads it (reason code and properties may be omitted). */
export function parseV5(firstByte: number, body: Buffer): V5Packet {
  const type = firstByte >> 4;
  const flags = firstByte & 0x0f;
  const out: V5Packet = { type, flags, reasonCode: 0, props: new Map() };
  switch (type) {
    case 2:
      out.sessionPresent = (body[0]! & 1) === 1;
      out.reasonCode = body[1]!;
      if (body.length > 2) out.props = readProps(body, 2).map;
      return out;
    case 3: {
      const topic = readString(body, 0);
      out.topic = topic.value.toString('utf8');
      let at = topic.next;
      if (((flags >> 1) & 3) > 0) { out.packetId = body.readUInt16BE(at); at += 2; }
      const p = readProps(body, at);
      out.props = p.map;
      out.payload = Buffer.from(body.subarray(p.end));
      return out;
    }
    case 4: case 5: case 6: case 7: case 9: case 11:
      out.packetId = body.readUInt16BE(0);
      if (type === 9 || type === 11) {
        const p = readProps(body, 2);
        out.props = p.map;
        out.reasonCode = body[p.end]!;
        return out;
      }
      if (body.length > 2) out.reasonCode = body[2]!;
      if (body.length > 3) out.props = readProps(body, 3).map;
      return out;
    case 14: case 15:
      if (body.length > 0) out.reasonCode = body[0]!;
      if (body.length > 1) out.props = readProps(body, 1).map;
      return out;
    default:
      return out;
  }
}

/** The first value of property `id`, or undefined. */
export function prop(p: V5Packet, id: number): PropValue | undefined {
  return p.props.get(id)?.[0];
}

/** AUTH (MQTT 5 section 3.15) with a reason code and raw properties. */
export function auth(reasonCode: number, properties: Buffer): Buffer {
  return raw(15, 0, Buffer.concat([Buffer.from([reasonCode]), varint(properties.length), properties]));
}

/** DISCONNECT (MQTT 5 section 3.14) with a reason code and raw properties. */
export function disconnectV5(reasonCode: number, properties: Buffer = Buffer.alloc(0)): Buffer {
  return raw(14, 0, Buffer.concat([Buffer.from([reasonCode]), varint(properties.length), properties]));
}

const names: Record<number, string> = {
  2: 'CONNACK', 3: 'PUBLISH', 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP', 9: 'SUBACK', 11: 'UNSUBACK',
  13: 'PINGRESP', 14: 'DISCONNECT', 15: 'AUTH',
};

function describeV5(p: V5Packet): string {
  return `${names[p.type] ?? p.type}(0x${p.reasonCode.toString(16)}${p.topic === undefined ? '' : ` ${p.topic}`})`;
}

/** A raw MQTT 5 client over TCP: every wait is bounded (2 s by default) and says what arrived when it fails. */
export class V5Client {
  readonly socket: net.Socket;
  readonly received: V5Packet[] = [];
  #queue: V5Packet[] = [];
  #buffer = Buffer.alloc(0);
  #isClosed = false;
  #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#isClosed = true;
      this.#notify();
    });
  }

  static open(t: { after(fn: () => unknown): void }, port: number): Promise<V5Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const c = new V5Client(socket);
        t.after(() => socket.destroy());
        resolve(c);
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(...buffers: Buffer[]): void {
    if (!this.socket.destroyed) for (const b of buffers) this.socket.write(b);
  }

  /** CONNECT as MQTT 5 (with `properties` as raw bytes) and return the broker's answer (CONNACK or AUTH). */
  async connect(options: ConnectOptions = {}): Promise<V5Packet> {
    this.send(connectPacket({ protocolVersion: 5, ...options }));
    return this.next();
  }

  async next(timeoutMs = 2000): Promise<V5Packet> {
    await this.#waitFor(() => this.#queue.length > 0 || this.#isClosed, timeoutMs);
    const p = this.#queue.shift();
    if (p !== undefined) return p;
    throw new Error(`${this.#isClosed ? 'closed' : `nothing within ${timeoutMs} ms`}; got [${this.received.map(describeV5).join(', ')}]`);
  }

  /** The next packet, which must be of `type` (a packet type number). */
  async expect(type: number, timeoutMs = 2000): Promise<V5Packet> {
    const p = await this.next(timeoutMs);
    if (p.type !== type) throw new Error(`expected ${names[type] ?? type}, got ${describeV5(p)}`);
    return p;
  }

  async expectClosed(timeoutMs = 2000): Promise<void> {
    const ok = await this.#waitFor(() => this.#isClosed, timeoutMs);
    if (!ok) throw new Error(`still open after ${timeoutMs} ms; got [${this.received.map(describeV5).join(', ')}]`);
  }

  async expectNothing(ms = 200): Promise<void> {
    await this.#waitFor(() => this.#queue.length > 0, ms);
    const p = this.#queue[0];
    if (p !== undefined) throw new Error(`expected nothing, got ${describeV5(p)}`);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const buf = this.#buffer;
      if (buf.length < 2) break;
      let length = 0;
      let mult = 1;
      let at = 1;
      let isComplete = false;
      while (at < buf.length && at <= 4) {
        const byte = buf[at++]!;
        length += (byte & 0x7f) * mult;
        mult *= 128;
        if ((byte & 0x80) === 0) { isComplete = true; break; }
      }
      if (!isComplete || buf.length < at + length) break;
      const p = parseV5(buf[0]!, buf.subarray(at, at + length));
      this.#buffer = buf.subarray(at + length);
      this.received.push(p);
      this.#queue.push(p);
    }
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#waiters) w();
  }

  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      this.#waiters.add(check);
    });
  }
}

/** SUBSCRIBE with an empty MQTT 5 properties field. */
export function subscribeV5(packetId: number, filters: ReadonlyArray<readonly [string, number]>): Buffer {
  return subscribePacket(packetId, filters, Buffer.alloc(0));
}

/** PUBLISH with MQTT 5 properties (empty by default). */
export function publishV5(options: PublishOptions): Buffer {
  return publishPacket({ properties: Buffer.alloc(0), ...options });
}

/** Opens a raw MQTT 5 connection and checks CONNACK 0x00; returns the client and the CONNACK. */
export async function openV5(t: { after(fn: () => unknown): void }, port: number, options: ConnectOptions = {}):
  Promise<{ c: V5Client; connack: V5Packet }> {
  const c = await V5Client.open(t, port);
  const connack = await c.connect(options);
  if (connack.type !== 2 || connack.reasonCode !== 0) throw new Error(`CONNECT refused: ${describeV5(connack)}`);
  return { c, connack };
}

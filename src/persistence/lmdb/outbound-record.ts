/**
 * The binary record of an outbound entry (a message queued or in flight for a persistent session).
 *
 * Design note: these are the store's hot records: with persistent subscribers every delivery writes one before the
 * publisher's PUBACK, and most are deleted a moment later. Encoding them as msgpack through lmdb-js cost about 2 µs of
 * main-thread time per message in a CPU profile of `culex bench fanin -q 1 --persistent` (about a third of what the
 * durable store added per message there), so they get a fixed layout, written by the table's own encoder
 * (OutboundRecordEncoder, below) into a shared slab: no Buffer per record.
 * The other tables (sessions, retained messages, wills) are written far less often and stay msgpack.
 *
 * Layout (integers big-endian):
 *
 *   u8  version (1)
 *   u8  flags: bits 0-1 entry QoS (1 or 2), bits 2-3 state (0 queued, 1 publish, 2 pubrel),
 *       bits 4-5 message QoS, bit 6 retain, bit 7 an optional section follows the payload
 *   u16 packet identifier
 *   f64 seq
 *   u16 client id length, then its UTF-8 bytes
 *   u16 topic length, then its UTF-8 bytes
 *   u32 payload length, then the payload
 *   optional section: u8 which parts follow: bit 0 message expiry (f64 ms since the epoch),
 *       bit 1 Subscription Identifiers (u32 count, then u32 each), bit 2 shared subscription (u16 length, UTF-8),
 *       bit 3 properties (u32 length, then JSON with Buffers as {"$b": base64})
 *
 * Every read checks the version, each length against the bytes left and each field's range, and that the record ends
 * where its last field does; anything else is a BadRecordError, which the store handles as corruption.
 */
import type { Properties, QoS } from '../../protocol/types.js';
import type { StoredMessage, StoredOutgoing } from '../persistence.js';
import { BadRecordError } from './records.js';

const VERSION = 1;
const STATES = ['queued', 'publish', 'pubrel'] as const;
const FIXED_BYTES = 1 + 1 + 2 + 8 + 2 + 2 + 4;

const HAS_EXPIRY = 1;
const HAS_SUBSCRIPTION_IDS = 2;
const HAS_SHARED = 4;
const HAS_PROPERTIES = 8;

function stateIndex(state: StoredOutgoing['state']): number {
  return state === 'queued' ? 0 : state === 'publish' ? 1 : 2;
}

/** Properties as JSON: Buffer values (Correlation Data, Authentication Data) become {"$b": base64}. */
function propertiesJson(props: Properties): string {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(props)) {
    if (value !== undefined) out[name] = Buffer.isBuffer(value) ? { $b: value.toString('base64') } : value;
  }
  return JSON.stringify(out);
}

function parseProperties(json: string): Properties {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new BadRecordError('bad outbound entry properties');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRecordError('bad outbound entry properties');
  }
  const props = parsed as Record<string, unknown>;
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const b64 = (value as { $b?: unknown }).$b;
      if (typeof b64 !== 'string') throw new BadRecordError('bad outbound entry properties');
      props[name] = Buffer.from(b64, 'base64');
    }
  }
  return props as Properties;
}

/**
 * Writes `s` (`bytes` long in UTF-8) at `at`. A short ASCII string (a client id, most topics) is copied char by char:
 * cheaper than Buffer.write's checks and call into C++ for the few bytes.
 */
function writeString(buf: Buffer, at: number, s: string, bytes: number): void {
  if (bytes !== s.length || bytes > 48) {
    buf.write(s, at, bytes, 'utf8');
    return;
  }
  for (let i = 0; i < bytes; i++) buf[at + i] = s.charCodeAt(i);
}

/** The record of `e`, queued for `clientId`, in a Buffer of its own. */
export function encodeOutbound(clientId: string, e: StoredOutgoing): Buffer {
  const layout = measure(clientId, e, newLayout());
  const buf = Buffer.allocUnsafe(layout.size);
  writeRecord(buf, 0, clientId, e, layout);
  return buf;
}

/** A record's size, and the lengths measuring it found (so writing does not work them out again). */
export interface Layout {
  size: number;
  clientBytes: number;
  topicBytes: number;
  sharedBytes: number;
  parts: number;
  json: string | undefined;
  jsonBytes: number;
}

export function newLayout(): Layout {
  return { size: 0, clientBytes: 0, topicBytes: 0, sharedBytes: 0, parts: 0, json: undefined, jsonBytes: 0 };
}

/** The properties section of `e`'s record (JSON), or undefined when its message has none. */
export function propertiesJsonOf(e: StoredOutgoing): string | undefined {
  return e.message.properties === undefined ? undefined : propertiesJson(e.message.properties);
}

/** Fills `into` for the record of `e` (the encoder refills one Layout: measuring allocates nothing). */
export function measure(clientId: string, e: StoredOutgoing, into: Layout, json = propertiesJsonOf(e)): Layout {
  const m = e.message;
  const ids = e.subscriptionIdentifiers;
  const shared = e.sharedSubscription;
  into.clientBytes = Buffer.byteLength(clientId);
  into.topicBytes = Buffer.byteLength(m.topic);
  into.sharedBytes = shared === undefined ? 0 : Buffer.byteLength(shared);
  into.json = json;
  into.jsonBytes = json === undefined ? 0 : Buffer.byteLength(json);
  into.parts = (m.expiresAtMs === undefined ? 0 : HAS_EXPIRY) | (ids === undefined ? 0 : HAS_SUBSCRIPTION_IDS)
    | (shared === undefined ? 0 : HAS_SHARED) | (json === undefined ? 0 : HAS_PROPERTIES);
  let size = FIXED_BYTES + into.clientBytes + into.topicBytes + m.payload.length;
  if (into.parts !== 0) {
    size += 1;
    if (m.expiresAtMs !== undefined) size += 8;
    if (ids !== undefined) size += 4 + 4 * ids.length;
    if (shared !== undefined) size += 2 + into.sharedBytes;
    if (json !== undefined) size += 4 + into.jsonBytes;
  }
  into.size = size;
  return into;
}

/** Writes the record of `e` at `at` (`layout` from measure()); `buf` has room for it. */
export function writeRecord(buf: Buffer, at: number, clientId: string, e: StoredOutgoing, layout: Layout): void {
  const m = e.message;
  const { clientBytes, topicBytes, parts, json } = layout;
  buf[at] = VERSION;
  buf[at + 1] = e.qos | (stateIndex(e.state) << 2) | (m.qos << 4) | (m.retain ? 0x40 : 0) | (parts === 0 ? 0 : 0x80);
  buf.writeUInt16BE(e.packetId, at + 2);
  buf.writeDoubleBE(e.seq, at + 4);
  at += 12;
  buf.writeUInt16BE(clientBytes, at);
  writeString(buf, at + 2, clientId, clientBytes);
  at += 2 + clientBytes;
  buf.writeUInt16BE(topicBytes, at);
  writeString(buf, at + 2, m.topic, topicBytes);
  at += 2 + topicBytes;
  buf.writeUInt32BE(m.payload.length, at);
  at += 4 + m.payload.copy(buf, at + 4);
  if (parts === 0) return;
  buf[at++] = parts;
  if (m.expiresAtMs !== undefined) at = buf.writeDoubleBE(m.expiresAtMs, at);
  const ids = e.subscriptionIdentifiers;
  if (ids !== undefined) {
    at = buf.writeUInt32BE(ids.length, at);
    for (const id of ids) at = buf.writeUInt32BE(id, at);
  }
  const shared = e.sharedSubscription;
  if (shared !== undefined) {
    at = buf.writeUInt16BE(layout.sharedBytes, at);
    at += buf.write(shared, at, layout.sharedBytes, 'utf8');
  }
  if (json !== undefined) {
    at = buf.writeUInt32BE(layout.jsonBytes, at);
    buf.write(json, at, layout.jsonBytes, 'utf8');
  }
}

/** An outbound entry to be written: the entry (`value`) and the client it is queued for (`owner`). */
export interface OwnedEntry {
  readonly value: unknown;
  readonly owner: string;
}

/** A slab and the part of it one record fills: how lmdb-js's encoder protocol hands back a value without a copy. */
type SlabView = Buffer & { start: number; end: number };

/** Records up to this size share a slab; a bigger one gets a Buffer of its own. */
const SLAB_BYTES = 64 * 1024;
const SHARED_RECORD_MAX = 4 * 1024;

/**
 * lmdb-js's value encoder for the outbound table (its `encoder` option). Design note: lmdb-js keeps a pointer to each
 * value until its transaction is written, and an encoder whose output carries `start`/`end` may hand back one shared
 * buffer each time. So records are written one after the other into a 64 KB slab, and each put() returns that slab
 * with the record's bounds: no Buffer per record. A slab is never written over; a full one is left to the
 * collector, which frees it once lmdb-js has dropped the writes that point into it. A value that is already bytes
 * (the format conversion writes those) goes through as it is. Reads get the stored bytes, copied out of lmdb-js's
 * shared read buffer (`needsStableBuffer`), as with the `binary` encoding.
 */
export class OutboundRecordEncoder {
  /** lmdb-js calls encode() with its reuse-buffer mode only for encoders that set this. */
  readonly copyBuffers = true;
  readonly needsStableBuffer = true;
  #slab: SlabView | undefined;
  #at = 0;
  readonly #layout = newLayout();

  encode(value: OwnedEntry | Uint8Array): Uint8Array {
    if (value instanceof Uint8Array) return value;
    const entry = value.value as StoredOutgoing;
    const layout = measure(value.owner, entry, this.#layout);
    if (layout.size > SHARED_RECORD_MAX) {
      const own = Buffer.allocUnsafeSlow(layout.size);
      writeRecord(own, 0, value.owner, entry, layout);
      return own;
    }
    let slab = this.#slab;
    if (slab === undefined || this.#at + layout.size > SLAB_BYTES) {
      // A slab of its own (not a slice of Node's pool): lmdb-js takes the address of its ArrayBuffer, plus `start`.
      slab = this.#slab = Object.assign(Buffer.allocUnsafeSlow(SLAB_BYTES), { start: 0, end: 0 });
      this.#at = 0;
    }
    writeRecord(slab, this.#at, value.owner, entry, layout);
    slab.start = this.#at;
    slab.end = this.#at += layout.size;
    return slab;
  }

  decode(bytes: Buffer): Buffer {
    return bytes;
  }
}

function fail(what: string): never {
  throw new BadRecordError(`bad outbound entry (${what})`);
}

/** Reads the record `bytes` holds; throws BadRecordError when it is not a whole, valid record. */
export function decodeOutbound(bytes: Buffer): { clientId: string; entry: StoredOutgoing } {
  const end = bytes.length;
  if (end < FIXED_BYTES) fail('too short');
  if (bytes[0] !== VERSION) fail(`record version ${bytes[0]}`);
  const flags = bytes[1]!;
  const qos = flags & 3;
  const state = STATES[(flags >> 2) & 3];
  const messageQos = (flags >> 4) & 3;
  if ((qos !== 1 && qos !== 2) || state === undefined || messageQos === 3) fail('flags');
  const packetId = bytes.readUInt16BE(2);
  const seq = bytes.readDoubleBE(4);
  if (!Number.isSafeInteger(seq) || seq < 0) fail('seq');
  let at = 12;
  const need = (n: number): void => {
    if (at + n > end) fail('truncated');
  };
  const string16 = (): string => {
    need(2);
    const n = bytes.readUInt16BE(at);
    need(2 + n);
    const s = bytes.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return s;
  };
  const clientId = string16();
  const topic = string16();
  need(4);
  const payloadLength = bytes.readUInt32BE(at);
  at += 4;
  need(payloadLength);
  // A small payload is copied into Node's shared Buffer pool, as the broker does with a payload it keeps
  // (Message.detach), rather than keeping the whole record's bytes (and their ArrayBuffer) alive; a large one is the
  // record's bytes (lmdb-js hands each value read with `binary` encoding over as a Buffer of its own).
  const view = bytes.subarray(at, at + payloadLength);
  const payload = payloadLength < Buffer.poolSize >>> 1 ? Buffer.from(view) : view;
  at += payloadLength;
  const message: { -readonly [K in keyof StoredMessage]: StoredMessage[K] } = {
    topic, payload, qos: messageQos as QoS, retain: (flags & 0x40) !== 0,
  };
  const entry: { -readonly [K in keyof StoredOutgoing]: StoredOutgoing[K] } = {
    seq, qos: qos as 1 | 2, state: state!, packetId, message,
  };
  if ((flags & 0x80) !== 0) {
    need(1);
    const parts = bytes[at++]!;
    if (parts === 0 || parts > 15) fail('optional parts');
    if ((parts & HAS_EXPIRY) !== 0) {
      need(8);
      const expiresAtMs = bytes.readDoubleBE(at);
      at += 8;
      if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) fail('expiry');
      message.expiresAtMs = expiresAtMs;
    }
    if ((parts & HAS_SUBSCRIPTION_IDS) !== 0) {
      need(4);
      const count = bytes.readUInt32BE(at);
      at += 4;
      need(4 * count);
      const ids: number[] = [];
      for (let i = 0; i < count; i++, at += 4) ids.push(bytes.readUInt32BE(at));
      entry.subscriptionIdentifiers = ids;
    }
    if ((parts & HAS_SHARED) !== 0) entry.sharedSubscription = string16();
    if ((parts & HAS_PROPERTIES) !== 0) {
      need(4);
      const n = bytes.readUInt32BE(at);
      at += 4;
      need(n);
      message.properties = parseProperties(bytes.toString('utf8', at, at + n));
      at += n;
    }
  }
  if (at !== end) fail('bytes after the record');
  return { clientId, entry };
}

/**
 * The key of an outbound entry: the client's key (records.ts keyOf) as UTF-8, a 0 byte, and the seq as 8 bytes
 * big-endian, so one client's entries are together and in seq order. The write queue hands its pending write as the
 * key (it carries both fields), so no key object is made per write.
 */
export interface OutboundKey {
  readonly clientKeyBytes: Buffer;
  readonly n: number;
}

/**
 * lmdb-js's custom key encoding for the outbound table (its `keyEncoder` option). The default, ordered-binary
 * encoding of a [string, number] array, took ~0.44 µs per durable delivery in a profile of `pairs --persistent`;
 * measured alone, a put() of a 40-byte value cost 420-490 ns of main-thread time with this key against 620-690 ns
 * with the array (200 k puts, 3 of 4 rounds; the fourth was even). Keys start with the client key's '=' or '#',
 * above the [5] that lmdb-js starts a range read from.
 */
export const outboundKeyEncoder = {
  writeKey(key: OutboundKey | Uint8Array, target: Uint8Array, start: number): number {
    // lmdb-js starts a range read without a start key from bytes of its own ([5]).
    if (key instanceof Uint8Array) {
      target.set(key, start);
      return start + key.length;
    }
    const bytes = key.clientKeyBytes;
    target.set(bytes, start);
    let at = start + bytes.length;
    target[at++] = 0;
    const high = Math.floor(key.n / 0x1_0000_0000);
    const low = key.n >>> 0;
    target[at++] = high >>> 24;
    target[at++] = (high >>> 16) & 0xff;
    target[at++] = (high >>> 8) & 0xff;
    target[at++] = high & 0xff;
    target[at++] = low >>> 24;
    target[at++] = (low >>> 16) & 0xff;
    target[at++] = (low >>> 8) & 0xff;
    target[at++] = low & 0xff;
    return at;
  },
  readKey(source: Uint8Array, start: number, end: number): OutboundKey {
    if (end - start < 9 || source[end - 9] !== 0) throw new BadRecordError('bad outbound entry key');
    const view = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    const n = view.readUInt32BE(end - 8) * 0x1_0000_0000 + view.readUInt32BE(end - 4);
    return { clientKeyBytes: Buffer.from(view.subarray(start, end - 9)), n };
  },
};

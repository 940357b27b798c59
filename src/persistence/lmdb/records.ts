/**
 * The record shapes of the lmdb store, and their checks. Values are msgpack (lmdb-js's default encoding) of small
 * plain objects with short field names (outbound entries, the hot records, have a binary layout of their own:
 * outbound-record.ts; OutgoingRecord here is their format-1 shape, read only to convert an old store); every record
 * read back is checked field by field, so a damaged value is reported as corruption instead of reaching the broker
 * as a half-formed session or message.
 *
 * Keys: LMDB limits a key to about 1,900 bytes, while a topic or client id may reach 65,535. Strings up to
 * MAX_PLAIN_KEY_BYTES are their own key after a `=`; longer ones become `#` + SHA-256 hex, so the two forms never
 * meet, and the record keeps the full string. (A NUL marker would not do: ordered-binary ends strings inside array
 * keys with a 0 byte.)
 */
import { createHash } from 'node:crypto';
import type { Properties, QoS } from '../../protocol/types.js';
import type {
  StoredDelayedWill, StoredMessage, StoredOutgoing, StoredSession, StoredSubscription,
} from '../persistence.js';

const MAX_PLAIN_KEY_BYTES = 480;

export function keyOf(value: string): string {
  if (value.length * 3 <= MAX_PLAIN_KEY_BYTES || Buffer.byteLength(value) <= MAX_PLAIN_KEY_BYTES) return `=${value}`;
  return `#${createHash('sha256').update(value).digest('hex')}`;
}

/** A record that fails its check: the store treats it as corruption. */
export class BadRecordError extends Error {
  readonly code = 'MQTT_ERR_STORE_BAD_RECORD';
}

export interface MessageRecord {
  t: string;
  p: Buffer;
  q: QoS;
  r: boolean;
  pr?: Properties;
  x?: number;
}

export interface SessionRecord {
  c: string;
  e: number;
  d?: number;
  s: StoredSubscription[];
}

export interface OutgoingRecord {
  c: string;
  n: number;
  q: 1 | 2;
  st: StoredOutgoing['state'];
  id: number;
  m: MessageRecord;
  /** Subscription Identifiers, when any. */
  si?: number[];
  /** The shared subscription whose group chose the session, when any. */
  sh?: string;
}

export interface WillRecord {
  c: string;
  f: number;
  m: MessageRecord;
}

export function messageRecord(m: StoredMessage): MessageRecord {
  const r: MessageRecord = { t: m.topic, p: m.payload, q: m.qos, r: m.retain };
  if (m.properties !== undefined) r.pr = m.properties;
  if (m.expiresAtMs !== undefined) r.x = m.expiresAtMs;
  return r;
}

export function sessionRecord(s: StoredSession): SessionRecord {
  const r: SessionRecord = { c: s.clientId, e: s.expiryIntervalSeconds, s: [...s.subscriptions] };
  if (s.disconnectedAtMs !== undefined) r.d = s.disconnectedAtMs;
  return r;
}

function fail(what: string): never {
  throw new BadRecordError(`bad ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

function isQos(v: unknown): v is QoS {
  return v === 0 || v === 1 || v === 2;
}

export function toMessage(v: unknown, what: string): StoredMessage {
  if (!isObject(v) || typeof v.t !== 'string' || !Buffer.isBuffer(v.p) || !isQos(v.q) || typeof v.r !== 'boolean') {
    return fail(what);
  }
  if (v.pr !== undefined && !isObject(v.pr)) return fail(`${what} properties`);
  if (v.x !== undefined && !isUint(v.x)) return fail(`${what} expiry`);
  // The decoded payload has an ArrayBuffer of its own (about 200 bytes of bookkeeping besides the bytes, and one
  // more object for the GC to track); a small one is copied into Node's shared Buffer pool instead, as the broker
  // does with a payload it keeps (Message.detach).
  const payload = v.p.length < Buffer.poolSize >>> 1 ? Buffer.from(v.p) : v.p;
  const m: { -readonly [K in keyof StoredMessage]: StoredMessage[K] } = { topic: v.t, payload, qos: v.q, retain: v.r };
  if (v.pr !== undefined) m.properties = v.pr as Properties;
  if (v.x !== undefined) m.expiresAtMs = v.x;
  return m;
}

function toSubscription(v: unknown): StoredSubscription {
  if (!isObject(v) || typeof v.topicFilter !== 'string' || !isQos(v.qos) || typeof v.noLocal !== 'boolean'
    || typeof v.retainAsPublished !== 'boolean' || !isQos(v.retainHandling)
    || (v.subscriptionIdentifier !== undefined && !isUint(v.subscriptionIdentifier))) {
    return fail('subscription');
  }
  return v as unknown as StoredSubscription;
}

export function toSession(v: unknown): StoredSession {
  if (!isObject(v) || typeof v.c !== 'string' || !isUint(v.e, 0xFFFF_FFFF) || !Array.isArray(v.s)
    || (v.d !== undefined && !isUint(v.d))) {
    return fail('session');
  }
  const s: { -readonly [K in keyof StoredSession]: StoredSession[K] } = {
    clientId: v.c, expiryIntervalSeconds: v.e, subscriptions: v.s.map(toSubscription),
  };
  if (v.d !== undefined) s.disconnectedAtMs = v.d;
  return s;
}

export function toOutgoing(v: unknown): { clientId: string; entry: StoredOutgoing } {
  if (!isObject(v) || typeof v.c !== 'string' || !isUint(v.n) || (v.q !== 1 && v.q !== 2) || !isUint(v.id, 65_535)
    || (v.st !== 'queued' && v.st !== 'publish' && v.st !== 'pubrel')
    || (v.si !== undefined && !(Array.isArray(v.si) && v.si.every((id) => isUint(id))))
    || (v.sh !== undefined && typeof v.sh !== 'string')) {
    return fail('outbound entry');
  }
  const entry: { -readonly [K in keyof StoredOutgoing]: StoredOutgoing[K] } = {
    seq: v.n, qos: v.q, state: v.st, packetId: v.id, message: toMessage(v.m, 'outbound message'),
  };
  if (v.si !== undefined) entry.subscriptionIdentifiers = v.si as number[];
  if (v.sh !== undefined) entry.sharedSubscription = v.sh;
  return { clientId: v.c, entry };
}

export function toIncoming(v: unknown): string {
  if (typeof v !== 'string') return fail('inbound QoS 2 record');
  return v;
}

export function toWill(v: unknown): StoredDelayedWill {
  if (!isObject(v) || typeof v.c !== 'string' || !isUint(v.f)) return fail('delayed will');
  return { clientId: v.c, fireAtMs: v.f, message: toMessage(v.m, 'will message') };
}

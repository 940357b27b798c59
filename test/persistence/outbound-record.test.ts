/**
 * The binary outbound-entry record (src/persistence/lmdb/outbound-record.ts): every field round-trips, and every
 * damaged or cut-short record is a BadRecordError, never a half-formed entry.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeOutbound, encodeOutbound, OutboundRecordEncoder } from '../../src/persistence/lmdb/outbound-record.js';
import { BadRecordError } from '../../src/persistence/lmdb/records.js';
import type { StoredOutgoing } from '../../src/persistence/persistence.js';

const plain: StoredOutgoing = {
  seq: 7, qos: 1, state: 'queued', packetId: 0,
  message: { topic: 'a/b', payload: Buffer.from('hello'), qos: 1, retain: false },
};

const full: StoredOutgoing = {
  seq: 2 ** 40 + 3, qos: 2, state: 'pubrel', packetId: 65_535,
  message: {
    topic: 'ü/ñ/€', payload: Buffer.alloc(10_000, 7), qos: 2, retain: true, expiresAtMs: 1_800_000_000_123,
    properties: {
      contentType: 'text/plain', responseTopic: 'r/1', correlationData: Buffer.from([0, 1, 255]),
      payloadFormatIndicator: 1, userProperties: [['k', 'v'], ['k', 'w']],
    },
  },
  subscriptionIdentifiers: [1, 268_435_455], sharedSubscription: '$share/g/a/#',
};

/** What lmdb-js stores for one encode(): the slab's bytes from `start` to `end`, or the whole of an own buffer. */
function stored(out: Uint8Array): Buffer {
  const view = out as Uint8Array & { start?: number; end?: number };
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return view.start === undefined ? bytes : bytes.subarray(view.start, view.end);
}

describe('outbound record', () => {
  for (const [name, entry, clientId] of [['plain', plain, 'c1'], ['every optional part', full, 'ü'.repeat(300)]] as const) {
    test(`round trip: ${name}`, () => {
      const bytes = encodeOutbound(clientId, entry);
      const back = decodeOutbound(bytes);
      assert.equal(back.clientId, clientId);
      assert.deepEqual(back.entry, entry);
    });
  }

  test('each state, entry QoS and message QoS round-trips', () => {
    for (const state of ['queued', 'publish', 'pubrel'] as const) {
      for (const qos of [1, 2] as const) {
        for (const messageQos of [0, 1, 2] as const) {
          const entry = { ...plain, state, qos, message: { ...plain.message, qos: messageQos, retain: true } };
          assert.deepEqual(decodeOutbound(encodeOutbound('c', entry)).entry, entry);
        }
      }
    }
  });

  test('an empty payload and an empty client id round-trip', () => {
    const entry = { ...plain, message: { ...plain.message, payload: Buffer.alloc(0) } };
    assert.deepEqual(decodeOutbound(encodeOutbound('', entry)), { clientId: '', entry });
  });

  test('every record cut short, byte by byte, is a BadRecordError', () => {
    for (const entry of [plain, full]) {
      const bytes = encodeOutbound('client', entry);
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(() => decodeOutbound(bytes.subarray(0, n)), BadRecordError, `cut at ${n} of ${bytes.length}`);
      }
    }
  });

  test('a byte after the record is a BadRecordError', () => {
    const bytes = encodeOutbound('c', plain);
    assert.throws(() => decodeOutbound(Buffer.concat([bytes, Buffer.from([0])])), /bytes after the record/);
  });

  const damaged: [string, (b: Buffer) => void, RegExp][] = [
    ['an unknown version', (b) => { b[0] = 2; }, /record version 2/],
    ['entry QoS 0', (b) => { b[1] = b[1]! & ~3; }, /flags/],
    ['state 3', (b) => { b[1] = b[1]! | 0x0c; }, /flags/],
    ['message QoS 3', (b) => { b[1] = b[1]! | 0x30; }, /flags/],
    ['a negative seq', (b) => { b.writeDoubleBE(-1, 4); }, /seq/],
    ['a fractional seq', (b) => { b.writeDoubleBE(1.5, 4); }, /seq/],
    ['a payload length past the end', (b) => { b.writeUInt32BE(1_000_000, b.length - 4 - 5); }, /truncated/],
  ];
  for (const [name, damage, message] of damaged) {
    test(`${name} is a BadRecordError`, () => {
      const bytes = encodeOutbound('c', plain);
      damage(bytes);
      assert.throws(() => decodeOutbound(bytes), (err: unknown) => err instanceof BadRecordError && message.test(err.message));
    });
  }

  test('properties that are not JSON, or a Buffer marker without base64, are a BadRecordError', () => {
    const entry = { ...plain, message: { ...plain.message, properties: { contentType: 'x' } } };
    const bytes = encodeOutbound('c', entry);
    const at = bytes.indexOf(Buffer.from('{"contentType":"x"}'));
    assert.ok(at > 0);
    const notJson = Buffer.from(bytes);
    notJson[at] = 0x5b; // '['
    assert.throws(() => decodeOutbound(notJson), /properties/);
    // The properties are the record's last part: replace them with other JSON.
    const withProperties = (text: string): Buffer => {
      const json = Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(json.length);
      return Buffer.concat([bytes.subarray(0, at - 4), length, json]);
    };
    assert.throws(() => decodeOutbound(withProperties('{"correlationData":{"$b":1}}')), /properties/);
    assert.deepEqual(decodeOutbound(withProperties('{"correlationData":{"$b":"QQ=="}}')).entry.message.properties,
      { correlationData: Buffer.from('A') });
  });

  describe('the table encoder (records written one after another into a shared slab)', () => {
    test('each record it writes is byte for byte what encodeOutbound makes, and decodes back', () => {
      const encoder = new OutboundRecordEncoder();
      for (const [entry, clientId] of [[plain, 'c1'], [full, 'ü'.repeat(300)], [plain, '']] as const) {
        const bytes = stored(encoder.encode({ value: entry, owner: clientId }));
        assert.deepEqual(bytes, encodeOutbound(clientId, entry));
        assert.deepEqual(decodeOutbound(Buffer.from(bytes)), { clientId, entry });
      }
    });

    test('records never overlap: earlier ones keep their bytes as the slab fills and a new slab starts', () => {
      const encoder = new OutboundRecordEncoder();
      const written: Array<{ bytes: Buffer; seq: number }> = [];
      // ~64-byte records: a 64 KB slab holds about a thousand, so 3,000 fill several.
      for (let seq = 0; seq < 3_000; seq++) {
        const entry = { ...plain, seq, message: { ...plain.message, payload: Buffer.alloc(20, seq & 0xff) } };
        written.push({ bytes: stored(encoder.encode({ value: entry, owner: `client-${seq}` })), seq });
      }
      const slabs = new Set(written.map(({ bytes }) => bytes.buffer));
      assert.ok(slabs.size >= 3, `${slabs.size} slabs`);
      for (const { bytes, seq } of written) {
        const back = decodeOutbound(Buffer.from(bytes));
        assert.equal(back.clientId, `client-${seq}`);
        assert.equal(back.entry.seq, seq);
        assert.deepEqual(back.entry.message.payload, Buffer.alloc(20, seq & 0xff));
      }
    });

    test('a record over 4 KB gets a buffer of its own; bytes given to it go through as they are', () => {
      const encoder = new OutboundRecordEncoder();
      const big = encoder.encode({ value: full, owner: 'c' }) as Uint8Array & { start?: number };
      assert.equal(big.start, undefined);
      assert.deepEqual(decodeOutbound(Buffer.from(big)).entry, full);
      const raw = encodeOutbound('c', plain);
      assert.equal(encoder.encode(raw), raw);
      const read = Buffer.from([1, 2, 3]);
      assert.equal(encoder.decode(read), read);
    });
  });
});

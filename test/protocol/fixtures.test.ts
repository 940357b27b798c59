/**
 * Checks every fixture three ways (STYLE.md section 7): decode (whole, one byte at a time, random splits), encode
 * (hex compare, encodedLength) and round trip. Then all fixtures of a version as one stream.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, decodePacket } from '../../src/protocol/decoder.js';
import { encode, encodePublish, encodedLength, publishForRecipient } from '../../src/protocol/encoder.js';
import { propertyDefinitions } from '../../src/protocol/properties.js';
import { readVarint } from '../../src/protocol/varint.js';
import type { Packet, Properties, ProtocolVersion } from '../../src/protocol/types.js';
import { fixtures, fixturesFor, hex, type Fixture } from './fixtures.js';

const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];
const SEEDS = [1, 2, 3, 42, 0xc0ffee];
/** Above this size "one byte at a time" feeds the head and tail singly and the middle in 4 KiB chunks. */
const BYTEWISE_LIMIT = 64 * 1024;

/** mulberry32: a small seeded PRNG, so a failing split can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `bytes` into chunks of 1..maxChunk bytes at random points (copies, so views cannot alias). */
export function randomSplit(bytes: Buffer, seed: number, maxChunk: number): Buffer[] {
  const rnd = mulberry32(seed);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    chunks.push(Buffer.from(bytes.subarray(i, i + n)));
    i += n;
  }
  return chunks;
}

function bytewiseChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  if (bytes.length <= BYTEWISE_LIMIT) {
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    return chunks;
  }
  const head = 64;
  const tail = 64;
  for (let i = 0; i < head; i++) chunks.push(bytes.subarray(i, i + 1));
  for (let i = head; i < bytes.length - tail; i += 4096) chunks.push(bytes.subarray(i, Math.min(i + 4096, bytes.length - tail)));
  for (let i = bytes.length - tail; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return chunks;
}

/** Pushes chunks one by one, pulling after each push; returns every packet in order. */
function decodeChunks(chunks: readonly Buffer[], version: ProtocolVersion): Packet[] {
  const decoder = new Decoder({ protocolVersion: version });
  const packets: Packet[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let p = decoder.next(); p !== null; p = decoder.next()) packets.push(p);
  }
  assert.equal(decoder.next(), null);
  assert.equal(decoder.bufferedBytes, 0, 'all bytes consumed');
  return packets;
}

function bytesOf(f: Fixture): Buffer {
  return Buffer.from(f.hex, 'hex');
}

describe('fixture table', () => {
  test('hex listing strips comments and whitespace', () => {
    assert.equal(hex`
      10 0a # comment with 00 ff
      AB    # upper case is accepted
    `, '100aab');
    assert.throws(() => hex`1`);
  });

  test('names are unique', () => {
    const names = fixtures.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
  });

  test('each remaining length equals the bytes after the fixed header', () => {
    for (const f of fixtures) {
      const bytes = bytesOf(f);
      const rl = readVarint(bytes, 1, bytes.length);
      assert.ok(typeof rl === 'object', `${f.name}: remaining length`);
      assert.equal(rl.value, bytes.length - 1 - rl.bytes, `${f.name}: remaining length`);
    }
  });

  test('every packet type appears in every version (AUTH in 5 only), encodable and canonical', () => {
    for (const v of VERSIONS) {
      const types = new Set(fixturesFor(v).filter((f) => f.decodeOnly !== true).map((f) => f.packet.type));
      const expected = v === 5 ? 15 : 14;
      for (let t = 1; t <= expected; t++) assert.ok(types.has(t as Packet['type']), `version ${v} lacks type ${t}`);
      assert.equal(types.has(15), v === 5);
    }
  });

  test('every MQTT 5 property appears at least once', () => {
    const seen = new Set<string>();
    const collect = (props: Properties | undefined): void => {
      for (const key of Object.keys(props ?? {})) seen.add(key);
    };
    for (const f of fixturesFor(5)) {
      const p = f.packet;
      if ('properties' in p) collect(p.properties);
      if (p.type === 1) collect(p.will?.properties);
    }
    const missing = propertyDefinitions.map((d) => d.name).filter((n) => !seen.has(n));
    assert.deepEqual(missing, []);
    assert.equal(propertyDefinitions.length, 27);
  });
});

for (const version of VERSIONS) {
  describe(`fixtures, version ${version}`, () => {
    for (const f of fixturesFor(version)) {
      describe(f.name, () => {
        const bytes = bytesOf(f);

        test('decodePacket', () => {
          assert.deepStrictEqual(decodePacket(bytes, version), f.packet);
        });

        test('Decoder, whole', () => {
          assert.deepStrictEqual(decodeChunks([bytes], version), [f.packet]);
        });

        test('Decoder, one byte at a time', () => {
          const chunks = bytewiseChunks(bytes);
          const decoder = new Decoder({ protocolVersion: version });
          for (let i = 0; i < chunks.length - 1; i++) {
            decoder.push(chunks[i]!);
            assert.equal(decoder.next(), null, `packet emitted early, after chunk ${i}`);
          }
          decoder.push(chunks[chunks.length - 1]!);
          assert.deepStrictEqual(decoder.next(), f.packet);
          assert.equal(decoder.next(), null);
        });

        test('Decoder, random splits', () => {
          const maxChunk = bytes.length > BYTEWISE_LIMIT ? 300_000 : Math.max(2, bytes.length >> 1);
          for (const seed of SEEDS) {
            assert.deepStrictEqual(decodeChunks(randomSplit(bytes, seed, maxChunk), version), [f.packet], `seed ${seed}`);
          }
        });

        if (f.decodeOnly !== true) {
          test('encode', () => {
            const out = encode(f.packet, version);
            // Compare short hex directly; for large fixtures, compare without building a multi-megabyte diff.
            if (bytes.length <= BYTEWISE_LIMIT) assert.equal(out.toString('hex'), f.hex);
            else assert.ok(out.equals(bytes), 'large encoding differs');
            assert.equal(encodedLength(f.packet, version), bytes.length);
          });
        }

        const p = f.packet;
        if (p.type === 3 && f.decodeOnly !== true) {
          test('encodePublish, publishForRecipient', () => {
            const e = encodePublish(p, version);
            assert.ok(e.bytes.equals(bytes), 'encodePublish bytes');
            assert.equal(e.qos, p.qos);
            if (p.packetId === undefined) {
              assert.equal(e.packetIdOffset, -1);
              return;
            }
            assert.equal(e.bytes.readUInt16BE(e.packetIdOffset), p.packetId);
            for (const [qos, dup] of [[1, false], [2, true]] as const) {
              const out = publishForRecipient(e, 0xbeef, qos, dup);
              assert.deepStrictEqual(decodePacket(out, version), { ...p, qos, dup, packetId: 0xbeef });
            }
            assert.ok(e.bytes.equals(bytes), 'shared bytes untouched');
          });
        }

        test('round trip', () => {
          assert.deepStrictEqual(decodePacket(encode(f.packet, version), version), f.packet);
        });
      });
    }

    describe('all fixtures as one stream', () => {
      const list = fixturesFor(version);
      const connect = list.find((f) => f.packet.type === 1)!;
      const ordered = [connect, ...list];
      const stream = Buffer.concat(ordered.map(bytesOf));
      const expected = ordered.map((f) => f.packet);

      test('pushed whole', () => {
        const decoder = new Decoder(); // the leading CONNECT sets the version
        decoder.push(stream);
        const got: Packet[] = [];
        for (let p = decoder.next(); p !== null; p = decoder.next()) got.push(p);
        assert.equal(decoder.protocolVersion, version);
        assert.equal(got.length, expected.length);
        for (let i = 0; i < got.length; i++) assert.deepStrictEqual(got[i], expected[i], ordered[i]!.name);
      });

      test('pushed in random splits', () => {
        for (const seed of SEEDS) {
          const decoder = new Decoder();
          const got: Packet[] = [];
          for (const chunk of randomSplit(stream, seed, 5000)) {
            decoder.push(chunk);
            for (let p = decoder.next(); p !== null; p = decoder.next()) got.push(p);
          }
          assert.equal(got.length, expected.length, `seed ${seed}`);
          for (let i = 0; i < got.length; i++) assert.deepStrictEqual(got[i], expected[i], `${ordered[i]!.name}, seed ${seed}`);
        }
      });
    });
  });
}

/**
 * Property tests (STYLE.md section 7): encode-then-decode is the identity on valid canonical packets, and arbitrary
 * or mutated bytes only ever yield packets or a ProtocolError, never another exception.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { Decoder, decodePacket } from '../../src/protocol/decoder.js';
import { encode, encodedLength } from '../../src/protocol/encoder.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { PacketTypeName, type Packet, type ProtocolVersion } from '../../src/protocol/types.js';
import { VERSIONS, packet, packetArbitraries } from './arbitraries.js';

const RUNS_PER_TYPE = 250;
const RUNS_GARBAGE = 4000;
const RUNS_MUTATION = 4000;

/** Splits `bytes` at the given cut points (fractions of its length). */
function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].toSorted((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    if (p > start) chunks.push(bytes.subarray(start, p));
    start = Math.max(start, p);
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/**
 * Pushes the chunks and pulls after each. Returns the packets decoded before the first error, and the error.
 * Fails the property if anything other than a genuine ProtocolError escapes, including the decoder's own wrapper
 * for unexpected internal exceptions (message 'undecodable packet', with a `cause`), which would hide a bug.
 */
function feed(chunks: readonly Buffer[], version: ProtocolVersion): { packets: Packet[]; error?: ProtocolError } {
  const decoder = new Decoder({ protocolVersion: version });
  const packets: Packet[] = [];
  try {
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let p = decoder.next(); p !== null; p = decoder.next()) packets.push(p);
    }
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`);
    assert.equal(err.cause, undefined, `internal exception wrapped as ProtocolError: ${String(err.cause)}`);
    assert.equal(typeof err.reasonCode, 'number');
    assert.ok(err.reasonCode >= 0x80, `error reason code 0x${err.reasonCode.toString(16)} is not a failure`);
    // A dead decoder keeps throwing the same error.
    assert.throws(() => decoder.next(), (again) => again === err);
    return { packets, error: err };
  }
  return { packets };
}

/** Whatever the decoder accepts is a canonical packet: it re-encodes, and decodes back to itself. */
function assertCanonical(p: Packet, version: ProtocolVersion): void {
  const bytes = encode(p, version);
  assert.equal(encodedLength(p, version), bytes.length);
  assert.deepStrictEqual(decodePacket(bytes, version), p);
}

for (const version of VERSIONS) {
  describe(`round trip, version ${version}`, () => {
    for (const [type, arb] of packetArbitraries(version)) {
      test(`decodePacket(encode(p)) equals p: ${PacketTypeName[type]!}`, () => {
        fc.assert(
          fc.property(arb, (p) => {
            const bytes = encode(p, version);
            assert.equal(encodedLength(p, version), bytes.length);
            assert.deepStrictEqual(decodePacket(bytes, version), p);
          }),
          { numRuns: RUNS_PER_TYPE },
        );
      });
    }

    test('a stream of packets in random splits decodes in order', () => {
      fc.assert(
        fc.property(
          fc.array(packet(version).filter((p) => p.type !== 1), { minLength: 1, maxLength: 8 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
          (packets, cuts) => {
            const stream = Buffer.concat(packets.map((p) => encode(p, version)));
            const got = feed(splitAt(stream, cuts), version);
            assert.equal(got.error, undefined);
            assert.deepStrictEqual(got.packets, packets);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
}

describe('hostile input yields packets or ProtocolError only', () => {
  const versionArb = fc.constantFrom(...VERSIONS);

  test('random bytes', () => {
    fc.assert(
      fc.property(versionArb, fc.uint8Array({ minLength: 1, maxLength: 80 }), (version, raw) => {
        const got = feed([Buffer.from(raw)], version);
        for (const p of got.packets) assertCanonical(p, version);
      }),
      { numRuns: RUNS_GARBAGE },
    );
  });

  test('random bytes after a plausible fixed header', () => {
    // A valid type/flags byte and a small remaining length get past the fixed header into the packet bodies.
    const header = fc.constantFrom(0x10, 0x20, 0x30, 0x31, 0x32, 0x34, 0x3b, 0x3d, 0x40, 0x50, 0x62, 0x70, 0x82,
      0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0);
    fc.assert(
      fc.property(versionArb, header, fc.uint8Array({ maxLength: 60 }), (version, first, body) => {
        const bytes = Buffer.concat([Buffer.from([first, body.length]), Buffer.from(body)]);
        const got = feed([bytes], version);
        for (const p of got.packets) assertCanonical(p, version);
      }),
      { numRuns: RUNS_GARBAGE },
    );
  });

  type Mutation =
    | { kind: 'flip'; at: number; bit: number }
    | { kind: 'set'; at: number; value: number }
    | { kind: 'insert'; at: number; value: number }
    | { kind: 'delete'; at: number };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }, { noNullPrototype: true }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }, { noNullPrototype: true }),
  );

  function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
    const arr = [...bytes];
    for (const m of mutations) {
      if (arr.length === 0 && m.kind !== 'insert') continue;
      const at = m.at % Math.max(1, m.kind === 'insert' ? arr.length + 1 : arr.length);
      if (m.kind === 'flip') arr[at] = arr[at]! ^ (1 << m.bit);
      else if (m.kind === 'set') arr[at] = m.value;
      else if (m.kind === 'insert') arr.splice(at, 0, m.value);
      else arr.splice(at, 1);
    }
    return Buffer.from(arr);
  }

  test('mutated valid encodings, in random splits', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VERSIONS).chain((v) =>
          fc.tuple(fc.constant(v), fc.array(packet(v), { minLength: 1, maxLength: 3 }))),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        ([version, packets], mutations, cuts) => {
          const bytes = mutate(Buffer.concat(packets.map((p) => encode(p, version))), mutations);
          const got = feed(splitAt(bytes, cuts), version);
          // A CONNECT may switch the decoder's version; re-check what follows with the version it ran under.
          let v = version;
          for (const p of got.packets) {
            if (p.type === 1) v = p.protocolVersion;
            assertCanonical(p, v);
          }
        },
      ),
      { numRuns: RUNS_MUTATION },
    );
  });

  test('truncated valid encodings never yield a packet', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VERSIONS).chain((v) => fc.tuple(fc.constant(v), packet(v))),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        ([version, p], cut) => {
          const bytes = encode(p, version);
          const prefix = bytes.subarray(0, Math.floor(cut * bytes.length));
          const got = feed([prefix], version);
          assert.equal(got.error, undefined);
          assert.deepStrictEqual(got.packets, []);
          assert.throws(() => decodePacket(prefix, version), ProtocolError);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('cases the properties found', () => {
  // A SUBACK answers each filter of a SUBSCRIBE, which has at least one [MQTT-3.8.3-3], so a SUBACK without reason
  // codes (and an MQTT 5 UNSUBACK without them, section 3.11.3) cannot be valid. The encoder refuses such packets;
  // the decoder must not produce them either, or a decoded packet would not re-encode.
  const cases: [string, ProtocolVersion][] = [
    ['90020001', 3],
    ['90020001', 4],
    ['9003000100', 5],
    ['b003000100', 5],
  ];
  for (const [input, version] of cases) {
    test(`version ${version}: ${input} is rejected`, () => {
      assert.throws(() => decodePacket(Buffer.from(input, 'hex'), version), ProtocolError);
    });
  }
});

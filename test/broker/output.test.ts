/**
 * Output (src/broker/output.ts): a turn's packets joined into one Buffer, in order, whatever mix of staged small
 * packets, acknowledgements, per-recipient PUBLISH copies and large packets; checked against a plain concatenation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { Output } from '../../src/broker/output.js';
import { encodePublish, publishForRecipient } from '../../src/protocol/encoder.js';

const template = encodePublish({ type: 3, topic: 'a/b', payload: Buffer.from('hello'), qos: 1, packetId: 1, retain: false, dup: false }, 4);

describe('Output', () => {
  test('take() on an empty output is undefined; bytes counts what is queued', () => {
    const out = new Output();
    assert.equal(out.take(), undefined);
    out.append(Buffer.from([1, 2, 3]));
    out.appendAck(4, 0x1234);
    assert.equal(out.bytes, 7);
    assert.deepEqual([...out.take()!], [1, 2, 3, 0x40, 2, 0x12, 0x34]);
    assert.equal(out.bytes, 0);
    assert.equal(out.take(), undefined);
  });

  test('the first packet of the first flush (a CONNACK) leaves as it is, with no stage; later packets are staged', () => {
    const out = new Output();
    const connack = Buffer.from([0x20, 2, 0, 0]);
    out.append(connack);
    assert.equal(out.take(), connack, 'the same Buffer, not a copy');
    const ack = Buffer.from([0x90, 3, 0, 1, 0]);
    out.append(ack);
    const staged = out.take()!;
    assert.notEqual(staged, ack, 'copied into a stage');
    assert.deepEqual(staged, ack);
    // When more follows the first packet in that first flush, the parts are joined in order.
    const fresh = new Output();
    fresh.append(connack);
    fresh.appendAck(4, 7);
    assert.deepEqual([...fresh.take()!], [0x20, 2, 0, 0, 0x40, 2, 0, 7]);
  });

  test('an empty append writes nothing: alone, even as a connection\'s first write, take() is undefined', () => {
    // Found by the property test below (seed -687514023): the unstaged first packet let an empty Buffer through.
    const out = new Output();
    out.append(Buffer.alloc(0));
    assert.equal(out.bytes, 0);
    assert.equal(out.take(), undefined);
    const connack = Buffer.from([0x20, 2, 0, 0]);
    out.append(Buffer.alloc(0));
    out.append(connack);
    assert.equal(out.take(), connack, 'the first real packet still leaves as it is');
  });

  test('a per-recipient PUBLISH copy equals publishForRecipient and leaves the template untouched', () => {
    const before = Buffer.from(template.bytes);
    const out = new Output();
    out.appendPublishFor(template, 0xBEEF, 2, true);
    assert.deepEqual(out.take(), publishForRecipient(template, 0xBEEF, 2, true));
    assert.deepEqual(template.bytes, before);
  });

  test('large packets keep their place between staged ones', () => {
    const out = new Output();
    const big = Buffer.alloc(40_000, 7);
    out.appendAck(5, 1);
    out.append(big);
    out.appendAck(7, 2);
    const chunk = out.take()!;
    assert.equal(chunk.length, 40_008);
    assert.deepEqual([...chunk.subarray(0, 4)], [0x50, 2, 0, 1]);
    assert.ok(chunk.subarray(4, 40_004).equals(big));
    assert.deepEqual([...chunk.subarray(40_004)], [0x70, 2, 0, 2]);
  });

  test('any sequence of writes over several turns comes out as their concatenation', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 16_000, max: 20_000 })) }),
      fc.record({ kind: fc.constant('ack' as const), id: fc.integer({ min: 1, max: 65_535 }) }),
      fc.record({ kind: fc.constant('publish' as const), id: fc.integer({ min: 1, max: 65_535 }), dup: fc.boolean() }),
    );
    fc.assert(fc.property(fc.array(fc.array(op, { maxLength: 400 }), { minLength: 1, maxLength: 4 }), (turns) => {
      const out = new Output();
      let seed = 0;
      for (const ops of turns) {
        const expected: Buffer[] = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            const b = Buffer.alloc(o.size, seed++ & 0xff);
            out.append(b);
            expected.push(b);
          } else if (o.kind === 'ack') {
            out.appendAck(6, o.id);
            expected.push(Buffer.from([0x62, 2, o.id >> 8, o.id & 0xff]));
          } else {
            out.appendPublishFor(template, o.id, 1, o.dup);
            expected.push(publishForRecipient(template, o.id, 1, o.dup));
          }
        }
        const chunk = out.take();
        const joined = Buffer.concat(expected);
        if (joined.length === 0) assert.equal(chunk, undefined);
        else assert.ok(chunk!.equals(joined));
      }
    }), { numRuns: 200 });
  });
});

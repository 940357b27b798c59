/**
 * LevelMap (src/broker/level-map.ts): behaves as a Map before and after it splits into shards, checked against a
 * Map over random operations with a small split threshold, and the trie and retained index across a real split.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { LevelMap } from '../../src/broker/level-map.js';
import { RetainedIndex } from '../../src/broker/retained.js';
import { SubscriptionTrie } from '../../src/broker/subscription-trie.js';

const names = fc.oneof(fc.constantFrom('a', 'b', 'c', '', 'ü', '🙂'), fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 300 }).map(String));
const ops = fc.array(fc.oneof(
  fc.record({ kind: fc.constant('set' as const), name: names, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), name: names }),
), { maxLength: 400 });

describe('LevelMap', () => {
  test('gives the same answers as a Map for any sequence of sets and deletes, across the split', () => {
    fc.assert(fc.property(ops, fc.integer({ min: 2, max: 64 }), (sequence, shardAt) => {
      const level = new LevelMap<number>([], shardAt);
      const model = new Map<string, number>();
      for (const op of sequence) {
        if (op.kind === 'set') {
          level.set(op.name, op.value);
          model.set(op.name, op.value);
        } else {
          assert.equal(level.delete(op.name), model.delete(op.name));
        }
        assert.equal(level.size, model.size);
      }
      for (const [name, value] of model) assert.equal(level.get(name), value);
      assert.equal(level.get('not there at all'), undefined);
      assert.deepEqual(new Map(level.entries()), model);
      const values = level.maps().flatMap((map) => [...map.values()]);
      assert.deepEqual(values.toSorted((x, y) => x - y), [...model.values()].toSorted((x, y) => x - y));
    }), { numRuns: 300 });
  });

  test('keeps insertion order while it is one Map; built from entries at or over the threshold, it starts split', () => {
    const small = new LevelMap<number>([['z', 1], ['a', 2]]);
    small.set('m', 3);
    assert.deepEqual([...small.entries()], [['z', 1], ['a', 2], ['m', 3]]);
    const split = new LevelMap<number>([['x', 1], ['y', 2], ['z', 3]], 3);
    assert.equal(split.size, 3);
    assert.equal(split.get('y'), 2);
  });

  test('the subscription trie and the retained index work across a level of 70,000 children (past the split)', () => {
    const trie = new SubscriptionTrie<number>();
    const retained = new RetainedIndex<number>();
    for (let i = 0; i < 70_000; i++) {
      trie.add(`devices/d${i}/state`, `s${i}`, i);
      retained.set(`devices/d${i}/state`, i);
    }
    trie.add('devices/+/state', 'plus', -1);
    const out: number[] = [];
    const n = trie.match('devices/d69999/state', out);
    assert.deepEqual(out.slice(0, n).toSorted((x, y) => x - y), [-1, 69_999]);
    assert.equal(retained.get('devices/d12345/state'), 12_345);
    const all: number[] = [];
    assert.equal(retained.match('devices/+/state', all), 70_000);
    for (let i = 0; i < 70_000; i += 2) {
      trie.remove(`devices/d${i}/state`, `s${i}`);
      retained.delete(`devices/d${i}/state`);
    }
    assert.equal(trie.match('devices/d2/state', out), 1, 'only the + subscription is left for a removed device');
    assert.equal(retained.get('devices/d2/state'), undefined);
    assert.equal(retained.get('devices/d3/state'), 3);
    const left: number[] = [];
    assert.equal(retained.match('devices/#', left), 35_000);
  });
});

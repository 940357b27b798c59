/**
 * InflightTable (src/common/inflight-table.ts): in-flight messages by packet identifier, checked against a Map
 * as the model under random sends, acknowledgements and restored identifiers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { InflightTable as Table, type InflightKeys } from '../../src/common/inflight-table.js';

interface Entry {
  packetId: number;
  seq: number;
}

const KEYS: InflightKeys<Entry> = { packetId: (e) => e.packetId, seq: (e) => e.seq };

/** The table as the broker's sessions use it: entries carry their own packet id and seq. */
class InflightTable<E extends Entry> extends Table<E> {
  constructor() {
    super(KEYS);
  }
}

describe('InflightTable', () => {
  test('freeId skips identifiers in flight and wraps from 65535 to 1, never 0 [MQTT-2.2.1-3]', () => {
    const table = new InflightTable<Entry>();
    table.set({ packetId: 65_535, seq: 1 });
    table.set({ packetId: 1, seq: 2 });
    const id = table.freeId(65_535);
    assert.notEqual(id, 65_535);
    assert.notEqual(id, 1);
    assert.notEqual(id, 0);
    assert.equal(table.get(id), undefined);
  });

  test('identifiers that share a slot (restored from the store) are kept apart: the table grows', () => {
    const table = new InflightTable<Entry>();
    const ids = [3, 3 + 8, 3 + 64, 3 + 32_768];
    ids.forEach((packetId, seq) => table.set({ packetId, seq }));
    assert.equal(table.size, 4);
    for (const id of ids) assert.equal(table.get(id)?.packetId, id);
    assert.equal(table.get(3 + 16), undefined);
    assert.deepEqual(table.values().map((e) => e.packetId), ids);
  });

  test('set with an identifier already there replaces the entry', () => {
    const table = new InflightTable<Entry>();
    table.set({ packetId: 9, seq: 1 });
    table.set({ packetId: 9, seq: 2 });
    assert.equal(table.size, 1);
    assert.equal(table.get(9)?.seq, 2);
  });

  test('65,534 messages in flight: every identifier but one is taken, and freeId finds the last', () => {
    const table = new InflightTable<Entry>();
    let next = 1;
    for (let seq = 0; seq < 65_534; seq++) {
      const packetId = table.freeId(next);
      table.set({ packetId, seq });
      next = packetId === 65_535 ? 1 : packetId + 1;
    }
    assert.equal(table.size, 65_534);
    const last = table.freeId(next);
    assert.ok(last >= 1 && last <= 65_535 && !table.has(last));
    table.set({ packetId: last, seq: 65_534 });
    assert.equal(new Set(table.values().map((e) => e.packetId)).size, 65_535);
  });

  test('behaves like a Map keyed by packet id under random sends, acks and restores; values() in seq order', () => {
    const op = fc.oneof(
      fc.constant({ kind: 'send' as const }),
      fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('restore' as const), packetId: fc.integer({ min: 1, max: 65_535 }) }),
      fc.record({ kind: fc.constant('stray' as const), packetId: fc.integer({ min: 0, max: 65_535 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const table = new InflightTable<Entry>();
      const model = new Map<number, Entry>();
      let next = 1;
      let seq = 0;
      for (const o of ops) {
        if (o.kind === 'send') {
          const packetId = table.freeId(next);
          assert.ok(packetId >= 1 && packetId <= 65_535);
          assert.equal(model.has(packetId), false, 'a free identifier is not in flight');
          next = packetId === 65_535 ? 1 : packetId + 1;
          const entry = { packetId, seq: seq++ };
          table.set(entry);
          model.set(packetId, entry);
        } else if (o.kind === 'ack') {
          const keys = [...model.keys()];
          if (keys.length === 0) continue;
          const id = keys[o.pick % keys.length]!;
          assert.equal(table.delete(id), true);
          model.delete(id);
        } else if (o.kind === 'restore') {
          if (model.has(o.packetId)) continue;
          const entry = { packetId: o.packetId, seq: seq++ };
          table.set(entry);
          model.set(o.packetId, entry);
        } else {
          assert.equal(table.get(o.packetId), model.get(o.packetId));
          assert.equal(table.delete(o.packetId), model.delete(o.packetId));
        }
        assert.equal(table.size, model.size);
      }
      assert.deepEqual(table.values(), [...model.values()].toSorted((a, b) => a.seq - b.seq));
      for (const [id, entry] of model) assert.equal(table.get(id), entry);
    }), { numRuns: 300 });
  });

  test('ids from an allocator of its own (the client library): one stuck id while the counter goes round', () => {
    interface Item { message: { packetId: number; seq: number } }
    const table = new Table<Item>({ packetId: (i) => i.message.packetId, seq: (i) => i.message.seq });
    const stuck: Item = { message: { packetId: 1, seq: 0 } };
    table.set(stuck);
    let id = 2;
    for (let seq = 1; seq < 70_000; seq++) {
      const item = { message: { packetId: id, seq } };
      table.set(item);
      assert.equal(table.get(id), item);
      assert.equal(table.delete(id), true);
      id = id === 65_535 ? 2 : id + 1;
    }
    assert.equal(table.size, 1);
    assert.equal(table.get(1), stuck);
    assert.deepEqual(table.values(), [stuck]);
  });

  test('clear() empties it; it works again afterwards', () => {
    const table = new InflightTable<Entry>();
    for (let i = 1; i <= 100; i++) table.set({ packetId: i, seq: i });
    table.clear();
    assert.equal(table.size, 0);
    assert.deepEqual(table.values(), []);
    table.set({ packetId: 42, seq: 1 });
    assert.equal(table.get(42)?.seq, 1);
  });
});

/**
 * The conformance suite every InflightStore implementation must pass: `storeConformance(name, open)`, where
 * `open()` returns a store over the same backing data each time it is called within one test (for durable stores,
 * a reopened store must see what the previous one wrote; a memory store passes `reopens: false`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InflightStore, StoredPublish } from '../../src/index.js';

function entry(seq: number, extra: Partial<StoredPublish> = {}): StoredPublish {
  return {
    seq, topic: `t/${seq}`, payload: Buffer.from([0, 1, 2, seq & 0xff]), qos: 1, retain: false, packetId: seq,
    state: 'publish', isSent: false, ...extra,
  };
}

export function storeConformance(name: string, factory: () => { open(): InflightStore; reopens: boolean }): void {
  describe(`InflightStore conformance: ${name}`, () => {
    test('put, load in seq order, delete, delete of a missing entry', async () => {
      const store = factory().open();
      await store.put(entry(3));
      await store.put(entry(1));
      await store.put(entry(2, { qos: 2, retain: true }));
      assert.deepEqual((await store.load()).map((e) => e.seq), [1, 2, 3]);
      await store.delete(1);
      await store.delete(99);
      const left = await store.load();
      assert.deepEqual(left.map((e) => e.seq), [2, 3]);
      assert.deepEqual(left[0], entry(2, { qos: 2, retain: true }));
      await store.close();
    });

    test('put replaces by seq; properties with binary values round-trip', async () => {
      const store = factory().open();
      const properties = {
        correlationData: Buffer.from('c0ffee', 'hex'), responseTopic: 'r/1', userProperties: [['k', 'v']] as Array<[string, string]>,
        messageExpiryInterval: 60, contentType: 'text/plain',
      };
      await store.put(entry(5, { properties }));
      await store.put(entry(5, { properties, state: 'pubrel', isSent: true, qos: 2 }));
      const [loaded] = await store.load();
      assert.deepEqual(loaded, entry(5, { properties, state: 'pubrel', isSent: true, qos: 2 }));
      await store.close();
    });

    test('a stored entry is a copy: mutating the caller\'s object or payload later does not change it', async () => {
      const store = factory().open();
      const e = entry(7);
      await store.put(e);
      e.payload[0] = 99;
      e.topic = 'changed';
      const [loaded] = await store.load();
      assert.equal(loaded!.topic, 't/7');
      assert.equal(loaded!.payload[0], 0);
      await store.close();
    });

    test('a put immediately followed by a delete of the same entry leaves nothing behind', async () => {
      const f = factory();
      const store = f.open();
      const writes = [];
      for (let i = 1; i <= 20; i++) writes.push(store.put(entry(i)), store.put(entry(i, { isSent: true })), store.delete(i));
      await Promise.all(writes);
      assert.deepEqual(await store.load(), []);
      await store.close();
      if (f.reopens) assert.deepEqual(await f.open().load(), []);
    });

    test('what one store wrote, a reopened store loads (durable stores only)', async (t) => {
      const f = factory();
      if (!f.reopens) {
        t.skip('not durable');
        return;
      }
      const store = f.open();
      await store.put(entry(1));
      await store.put(entry(2, { state: 'pubrel', isSent: true, qos: 2 }));
      await store.close();
      const again = f.open();
      assert.deepEqual(await again.load(), [entry(1), entry(2, { state: 'pubrel', isSent: true, qos: 2 })]);
      await again.close();
    });
  });
}

/**
 * The lmdb store's write-behind queue (write-queue.ts): a put and the delete of the same key that meet in the queue
 * never reach the disk; writes queued while a commit is under way go into the next one; flush() covers exactly what
 * was submitted before it; a key on disk that is deleted stays deleted; a big queue is split over transactions.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { LmdbPersistence, type Durability } from '../../src/persistence/lmdb/lmdb-persistence.js';
import type { StoredOutgoing } from '../../src/persistence/persistence.js';

async function openStore(t: TestContext, durability: Durability = 'sync') {
  const directory = mkdtempSync(join(tmpdir(), 'culex-lmdb-queue-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const store = new LmdbPersistence({ directory, durability, isVerifiedBeforeOpen: false });
  await store.open();
  const reopen = async () => {
    await store.close();
    const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    const state = await again.open();
    await again.close();
    return state;
  };
  return { store, reopen };
}

function entry(seq: number, state: StoredOutgoing['state'] = 'publish'): StoredOutgoing {
  return { seq, qos: 1, state, packetId: seq, message: { topic: `t/${seq}`, payload: Buffer.from([seq]), qos: 1, retain: false } };
}

describe('lmdb write queue', () => {
  test('an outbound entry put and deleted before a commit takes it is never written', async (t) => {
    const { store, reopen } = await openStore(t);
    store.putOutgoing('c', entry(1));
    store.deleteOutgoing('c', 1);
    await store.flush();
    assert.deepEqual(store.writeStats, { issued: 0, cancelled: 2, commits: 0, segments: 0, inSegments: 0 });
    const state = await reopen();
    assert.equal(state.outgoing.size, 0);
  });

  test('writes queued while a commit is under way wait for the next one, and cancel out there', async (t) => {
    const { store, reopen } = await openStore(t);
    store.saveSession({ clientId: 'c', expiryIntervalSeconds: 60, subscriptions: [] });
    const first = store.flush();
    await turn(); // the first commit has started and is not done yet
    assert.equal(store.writeStats.commits, 1);
    store.putOutgoing('c', entry(1));
    store.putOutgoing('c', entry(2));
    store.deleteOutgoing('c', 1);
    const second = store.flush();
    await first;
    await second;
    assert.deepEqual(store.writeStats, { issued: 2, cancelled: 2, commits: 2, segments: 1, inSegments: 1 });
    const state = await reopen();
    assert.deepEqual(state.outgoing.get('c')?.map((e) => e.seq), [2]);
  });

  test('a QoS 2 entry on disk that is changed and then deleted in one queue is removed, not cancelled', async (t) => {
    const { store, reopen } = await openStore(t);
    store.putOutgoing('c', { ...entry(1, 'publish'), qos: 2 });
    await store.flush();
    store.putOutgoing('c', { ...entry(1, 'pubrel'), qos: 2 });
    store.deleteOutgoing('c', 1);
    await store.flush();
    assert.deepEqual(store.writeStats, { issued: 2, cancelled: 0, commits: 2, segments: 0, inSegments: 0 });
    assert.equal((await reopen()).outgoing.size, 0);
  });

  test('a QoS 1 entry in a segment that is changed and then deleted: the change cancels out, the segment goes', async (t) => {
    const { store, reopen } = await openStore(t);
    store.putOutgoing('c', entry(1, 'queued'));
    await store.flush();
    store.putOutgoing('c', entry(1, 'publish'));
    store.deleteOutgoing('c', 1);
    await store.flush();
    assert.deepEqual(store.writeStats, { issued: 2, cancelled: 2, commits: 2, segments: 1, inSegments: 1 });
    assert.equal((await reopen()).outgoing.size, 0);
  });

  test('a put queued after the delete of the same key on disk is written after it (the put wins)', async (t) => {
    const { store, reopen } = await openStore(t);
    store.putOutgoing('c', entry(1, 'queued'));
    await store.flush();
    store.deleteSession('c');
    store.putOutgoing('c', entry(1, 'pubrel'));
    await store.flush();
    const state = await reopen();
    assert.deepEqual(state.outgoing.get('c')?.map((e) => e.state), ['pubrel']);
  });

  test('inbound QoS 2 identifiers stored and released before a commit are never written', async (t) => {
    const { store, reopen } = await openStore(t);
    store.putIncomingQos2('c', 7);
    store.putIncomingQos2('c', 8);
    store.deleteIncomingQos2('c', 7);
    await store.flush();
    assert.deepEqual(store.writeStats, { issued: 1, cancelled: 2, commits: 1, segments: 0, inSegments: 0 });
    assert.deepEqual([...(await reopen()).incomingQos2.entries()], [['c', [8]]]);
  });

  test('flush() before anything is queued resolves at once; flush() during a commit waits for it', async (t) => {
    const { store } = await openStore(t);
    await store.flush();
    store.putRetained('r', { topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true });
    await turn();
    let isDone = false;
    const during = store.flush().then(() => {
      isDone = true;
    });
    assert.equal(isDone, false);
    await during;
    assert.equal(store.writeStats.commits, 1);
  });

  test('writes submitted while close() waits for the last commit are committed too, and their flush() settles', async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'culex-lmdb-queue-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    await store.open();
    store.putOutgoing('c', entry(1, 'queued'));
    // Entry 2 is submitted as entry 1's commit settles, just before close() (waiting on the same commit) goes on.
    const late = store.flush().then(() => {
      store.putOutgoing('c', entry(2, 'queued'));
      return store.flush();
    });
    await Promise.all([store.close(), late]);
    const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    const state = await again.open();
    await again.close();
    assert.deepEqual(state.outgoing.get('c')?.map((e) => e.seq), [1, 2]);
  });

  for (const durability of ['batched', 'none'] as const) {
    test(`a write made while close() syncs (${durability}) is committed and synced too, and its flush() resolves`, async (t) => {
      const directory = mkdtempSync(join(tmpdir(), 'culex-lmdb-queue-'));
      t.after(() => rmSync(directory, { recursive: true, force: true }));
      const store = new LmdbPersistence({ directory, durability, isVerifiedBeforeOpen: false });
      await store.open();
      store.putOutgoing('c', entry(1, 'queued'));
      // Entry 1's commit settles, close() goes on to sync it; entry 2 comes in the next turn, during that sync.
      let late: Promise<void> | undefined;
      void store.flush().then(() => setImmediate(() => {
        store.putOutgoing('c', entry(2, 'queued'));
        late = store.flush();
      }));
      await store.close();
      assert.ok(late !== undefined, 'entry 2 was written before close() ended');
      await late;
      const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
      const state = await again.open();
      await again.close();
      assert.deepEqual(state.outgoing.get('c')?.map((e) => e.seq), [1, 2]);
    });
  }

  for (const durability of ['sync', 'batched', 'none'] as const) {
    test(`50,000 writes in one turn are split over transactions and all restored (${durability})`, async (t) => {
      const { store, reopen } = await openStore(t, durability);
      for (let i = 0; i < 25_000; i++) {
        store.putOutgoing(`c${i % 10}`, entry(i, 'queued'));
        store.putRetained(`r/${i}`, { topic: `r/${i}`, payload: Buffer.alloc(64, i), qos: 0, retain: true });
      }
      await store.flush();
      // The retained messages one by one; the outbound entries in segments (of at most 256, per client and commit).
      assert.equal(store.writeStats.inSegments, 25_000);
      assert.equal(store.writeStats.issued, 25_000 + store.writeStats.segments);
      assert.ok(store.writeStats.segments >= 25_000 / 256 && store.writeStats.segments < 2_500,
        `${store.writeStats.segments} segments`);
      assert.ok(store.writeStats.commits > 1, `${store.writeStats.commits} commit(s)`);
      const state = await reopen();
      assert.equal(state.retained.length, 25_000);
      assert.equal([...state.outgoing.values()].reduce((n, list) => n + list.length, 0), 25_000);
    });
  }
});

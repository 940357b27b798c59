/**
 * Segments (write-queue.ts): the first writes of a client's QoS 1 outbound entries that one commit takes go into one
 * record of the `segments` table. What must hold: entries come back whole and in seq order, also mixed with entries
 * stored one by one; a change of an entry in a segment wins over the segment's copy; a segment goes with its last
 * current entry (acknowledged, or its session deleted); a clean close leaves no acknowledged entry to come back; after
 * a crash, an acknowledged QoS 1 entry may come back with its segment, a QoS 2 entry never.
 *
 * A crash is the store file copied while the store is open, after a flush (durability `sync`): what a `kill -9` at
 * that moment leaves.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { open as openLmdb } from 'lmdb';
import { LmdbPersistence, STORE_FILE } from '../../src/persistence/lmdb/lmdb-persistence.js';
import type { RestoredState, StoredOutgoing } from '../../src/persistence/persistence.js';

function tempDir(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'culex-lmdb-segments-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function openStore(t: TestContext): Promise<{ store: LmdbPersistence; directory: string }> {
  const directory = tempDir(t);
  const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
  await store.open();
  t.after(() => store.close());
  return { store, directory };
}

/** What a restart finds in `directory` (the store there must be closed, or be a copy). */
async function restore(directory: string): Promise<RestoredState> {
  const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
  const state = await store.open();
  await store.close();
  return state;
}

/** The store file as a crash would leave it now, in a directory of its own. */
function crashCopy(t: TestContext, directory: string): string {
  const copy = join(tempDir(t), 'copy');
  mkdirSync(copy);
  copyFileSync(join(directory, STORE_FILE), join(copy, STORE_FILE));
  return copy;
}

/** How many records the segments table of a closed store holds. */
function segmentRecords(directory: string): number {
  const root = openLmdb({ path: join(directory, STORE_FILE), noSubdir: true, maxDbs: 12, readOnly: true });
  const db = root.openDB({ name: 'segments', encoding: 'binary', keyEncoding: 'binary' });
  let n = 0;
  for (const _ of db.getRange()) n++;
  void root.close();
  return n;
}

function entry(seq: number, qos: 1 | 2 = 1, state: StoredOutgoing['state'] = 'publish'): StoredOutgoing {
  return {
    seq, qos, state, packetId: seq,
    message: { topic: `t/${seq}`, payload: Buffer.from([seq, 0, 255]), qos, retain: false },
  };
}

const seqs = (state: RestoredState, client = 'c'): number[] | undefined => state.outgoing.get(client)?.map((e) => e.seq);

describe('lmdb store: segments', () => {
  test('QoS 1 entries taken by one commit share one segment and come back whole, in seq order with QoS 2 ones', async (t) => {
    const { store, directory } = await openStore(t);
    const full: StoredOutgoing = {
      seq: 3, qos: 1, state: 'queued', packetId: 0, subscriptionIdentifiers: [7, 268_435_455],
      sharedSubscription: '$share/g/t/#',
      message: {
        topic: 't/ü', payload: Buffer.alloc(70_000, 9), qos: 1, retain: true, expiresAtMs: 1_900_000_000_000,
        properties: { contentType: 'x', correlationData: Buffer.from([0, 1]), userProperties: [['a', '1'], ['a', '2']] },
      },
    };
    store.putOutgoing('c', entry(4));
    store.putOutgoing('c', entry(2, 2));
    store.putOutgoing('c', full);
    store.putOutgoing('c', entry(1));
    store.putOutgoing('d', entry(1));
    await store.flush();
    const stats = store.writeStats;
    assert.deepEqual({ segments: stats.segments, inSegments: stats.inSegments, issued: stats.issued }, {
      segments: 2, inSegments: 4, issued: 3,
    });
    await store.close();
    const state = await restore(directory);
    assert.deepEqual(seqs(state), [1, 2, 3, 4]);
    assert.deepEqual(state.outgoing.get('c')?.[2], full);
    assert.deepEqual(state.outgoing.get('c')?.[1], entry(2, 2));
    assert.deepEqual(seqs(state, 'd'), [1]);
  });

  test('a segment goes with its last acknowledged entry; acknowledging only some keeps it', async (t) => {
    const { store, directory } = await openStore(t);
    for (const seq of [1, 2, 3]) store.putOutgoing('c', entry(seq));
    await store.flush();
    store.deleteOutgoing('c', 1);
    store.deleteOutgoing('c', 2);
    await store.flush();
    assert.equal(segmentRecords(crashCopy(t, directory)), 1);
    store.deleteOutgoing('c', 3);
    await store.flush();
    const copy = crashCopy(t, directory);
    assert.equal(segmentRecords(copy), 0);
    assert.equal((await restore(copy)).outgoing.size, 0);
  });

  test('a change of an entry in a segment is restored instead of the segment\'s copy, after a crash too', async (t) => {
    const { store, directory } = await openStore(t);
    store.putOutgoing('c', entry(1, 1, 'queued'));
    store.putOutgoing('c', entry(2, 1, 'queued'));
    await store.flush();
    store.putOutgoing('c', { ...entry(2), packetId: 77 }); // sent: 'publish' under packet id 77
    await store.flush();
    const state = await restore(crashCopy(t, directory));
    assert.deepEqual(state.outgoing.get('c')?.map((e) => [e.seq, e.state, e.packetId]), [[1, 'queued', 1], [2, 'publish', 77]]);
  });

  test('after a crash an acknowledged QoS 1 entry may come back with its segment (a duplicate); a QoS 2 one never', async (t) => {
    const { store, directory } = await openStore(t);
    store.putOutgoing('c', entry(1));
    store.putOutgoing('c', entry(2));
    store.putOutgoing('c', entry(3, 2));
    await store.flush();
    store.deleteOutgoing('c', 1); // PUBACK: entry 2 keeps the segment
    store.deleteOutgoing('c', 3); // PUBCOMP
    await store.flush();
    const state = await restore(crashCopy(t, directory));
    assert.deepEqual(seqs(state), [1, 2]);
  });

  test('a clean close rewrites what is current in partly acknowledged segments: nothing acknowledged comes back', async (t) => {
    const { store, directory } = await openStore(t);
    for (const seq of [1, 2, 3, 4]) store.putOutgoing('c', entry(seq));
    store.putOutgoing('d', entry(1));
    await store.flush();
    store.deleteOutgoing('c', 1);
    store.deleteOutgoing('c', 3);
    await store.flush();
    await store.close();
    assert.equal(segmentRecords(directory), 1, 'the segment of d, whole, stays');
    const state = await restore(directory);
    assert.deepEqual(seqs(state), [2, 4]);
    assert.deepEqual(state.outgoing.get('c')?.[1], entry(4));
    assert.deepEqual(seqs(state, 'd'), [1]);
    // Restored from records of their own: acknowledging them after the restart removes them.
    const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    await again.open();
    again.deleteOutgoing('c', 2);
    await again.close();
    assert.deepEqual(seqs(await restore(directory)), [4]);
  });

  test('entries restored from a segment keep it: acknowledging all of them after a restart removes it', async (t) => {
    const { store, directory } = await openStore(t);
    for (const seq of [1, 2]) store.putOutgoing('c', entry(seq));
    await store.flush();
    const copy = crashCopy(t, directory);
    const again = new LmdbPersistence({ directory: copy, isVerifiedBeforeOpen: false });
    assert.deepEqual(seqs(await again.open()), [1, 2]);
    again.deleteOutgoing('c', 1);
    again.deleteOutgoing('c', 2);
    await again.close();
    assert.equal(segmentRecords(copy), 0);
  });

  test('deleteSession removes the client\'s segments, and only its own', async (t) => {
    const { store, directory } = await openStore(t);
    for (const seq of [1, 2]) store.putOutgoing('c', entry(seq));
    store.putOutgoing('d', entry(1));
    await store.flush();
    store.deleteOutgoing('c', 1);
    await store.flush();
    store.deleteSession('c');
    await store.flush();
    const copy = crashCopy(t, directory);
    assert.equal(segmentRecords(copy), 1);
    const state = await restore(copy);
    assert.equal(state.outgoing.get('c'), undefined);
    assert.deepEqual(seqs(state, 'd'), [1]);
  });

  test('the open store keeps nothing of what open() restored (the broker holds it)', async (t) => {
    const { store, directory } = await openStore(t);
    store.saveSession({ clientId: 'c', expiryIntervalSeconds: 60, subscriptions: [] });
    store.putOutgoing('c', entry(1));
    await store.close();
    const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    t.after(() => again.close());
    let state: RestoredState | undefined = await again.open();
    assert.equal(state.sessions.length, 1);
    const sessions = new WeakRef(state.sessions);
    const entries = new WeakRef(state.outgoing.get('c')!);
    state = undefined;
    // A full GC (the flag is set for this process; a new context exposes gc()).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(sessions.deref(), undefined, 'the restored sessions are still reachable from the store');
    assert.equal(entries.deref(), undefined, 'the restored entries are still reachable from the store');
  });

  test('a damaged segment is corruption: moved aside and reported', async (t) => {
    const { store, directory } = await openStore(t);
    store.putOutgoing('c', entry(1));
    store.putOutgoing('c', entry(2));
    await store.flush();
    await store.close();
    const root = openLmdb({ path: join(directory, STORE_FILE), noSubdir: true, maxDbs: 12 });
    const db = root.openDB({ name: 'segments', encoding: 'binary', keyEncoding: 'binary' });
    const [record] = [...db.getRange()];
    await db.put(record!.key, Buffer.concat([record!.value as Buffer, Buffer.from([0])]));
    await root.close();
    const errors: string[] = [];
    const again = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false, logger: { error: (m) => errors.push(m) } });
    const state = await again.open();
    await again.close();
    assert.equal(state.outgoing.size, 0);
    assert.match(errors[0] ?? '', /STORE CORRUPT.*bytes after the segment/);
  });
});

/**
 * The write queue (src/persistence/lmdb/write-queue.ts) against a fake table whose commits the test ends — or fails —
 * when it chooses: flush() must never resolve before every write queued before it is on the "disk" or cancelled,
 * must reject when one of them was in a failed commit, and must never hang. A seeded random run (puts, deletes,
 * changes of queued values, session-like deletes, flushes, commits ending in any order of turns and timers, held-back
 * writes) is checked against a model of what is logically stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import type { Database, RootDatabase } from 'lmdb';
import { WriteQueue, type KeyIndex, type TableKey } from '../../src/persistence/lmdb/write-queue.js';

interface FakeCommit {
  readonly ops: [key: string, value: unknown][];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly promise: Promise<void>;
  isEnded: boolean;
}

/** A table whose put()/remove() calls of one synchronous run join one commit, as lmdb-js batches them. */
function fakeTable(): { db: Database<unknown, TableKey>; commits: FakeCommit[] } {
  const commits: FakeCommit[] = [];
  let current: FakeCommit | undefined;
  const write = (key: unknown, value: unknown): Promise<void> => {
    if (current === undefined) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {});
      current = { ops: [], resolve, reject, promise, isEnded: false };
      commits.push(current);
      queueMicrotask(() => {
        current = undefined;
      });
    }
    const name = Array.isArray(key) ? key.join('/') : String(key);
    // An outbound entry is handed over as the queued write itself ({ value, owner }).
    const stored = typeof value === 'object' && value !== null && 'owner' in value
      ? (value as unknown as { value: unknown }).value
      : value;
    current.ops.push([name, stored]);
    return current.promise;
  };
  const db = { put: (key: unknown, value: unknown) => write(key, value), remove: (key: unknown) => write(key, undefined) };
  return { db: db as unknown as Database<unknown, TableKey>, commits };
}

/** The root only needs `flushed` (durability sync waits on it after each commit). */
const root = { flushed: Promise.resolve() } as unknown as RootDatabase;

describe('write queue against a model', () => {
  test('a failed commit holding writes of two generations rejects both generations\' flush() waiters', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false, 20);
    const index: KeyIndex = new Map();
    q.set(db, 's', 1);
    await turn(); // commit 0 {s} under way
    q.setIndexed(db, index, 'c', 1, { v: 1 }, 'c', true); // awaits its acknowledgement
    q.set(db, 'x', 1);
    const first = q.flush();
    first.catch(() => {});
    commits[0]!.resolve(); // commit 1 starts at once (busy): takes x, holds c/1 back
    await turn();
    assert.deepEqual(commits[1]!.ops.map(([key]) => key), ['x']);
    q.set(db, 'y', 1);
    let second = 'pending';
    q.flush().then(() => (second = 'resolved'), () => (second = 'rejected'));
    await sleep(30); // c/1 is now older than the hold time
    commits[1]!.resolve(); // commit 2 takes c/1 and y
    await turn();
    assert.deepEqual(commits[2]!.ops.map(([key]) => key), ['c/1', 'y']);
    commits[2]!.reject(new Error('disk full'));
    await assert.rejects(first, /disk full/);
    await turn();
    assert.equal(second, 'rejected', 'y was never written');
  });

  test('a failed commit no flush() waited on is reported by the next flush(), once', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false, 0);
    q.set(db, 'session', 1);
    await turn();
    commits[0]!.reject(new Error('disk full'));
    await turn();
    await assert.rejects(q.flush(), /disk full/);
    await q.flush(); // reported: the next one resolves
  });

  test('close() rejects the flush() waiters of writes it leaves uncommitted instead of leaving them pending', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false, 0);
    q.set(db, 'session', 1);
    const pending = q.flush();
    q.close(); // before the commit scheduled for the end of the turn
    await assert.rejects(pending, /closed before these writes were committed/);
    await turn();
    assert.equal(commits.length, 0, 'a closed queue commits nothing');
    await assert.rejects(q.flush(), /closed before these writes were committed/, 'a flush() after close() rejects too');
  });

  test('idle() resolves once the commit under way has ended', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false, 0);
    await q.idle(); // none under way
    q.set(db, 'session', 1);
    await turn(); // the commit is under way
    let isIdle = false;
    void q.idle().then(() => (isIdle = true));
    await turn();
    assert.equal(isIdle, false);
    commits[0]!.resolve();
    await turn();
    assert.equal(isIdle, true);
    assert.equal(q.hasOutstanding, false);
  });

  for (let seed = 1; seed <= 24; seed++) {
    test(`random run ${seed}: every resolved flush() finds its writes on disk; none hangs`, async () => {
      await randomRun(seed);
    });
  }
});

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

async function randomRun(seed: number): Promise<void> {
  const r = random(seed);
  const { db, commits } = fakeTable();
  const q = new WriteQueue(root, false, 1 + Math.floor(r() * 3));
  const disk = new Map<string, unknown>();
  const logical = new Map<string, unknown>();
  /** Every logical change in order: [key, value or undefined for a delete]. */
  const history: [string, unknown][] = [];
  const indexes = new Map<string, KeyIndex>();
  const indexOf = (client: string): KeyIndex => {
    let index = indexes.get(client);
    if (index === undefined) indexes.set(client, (index = new Map()));
    return index;
  };
  const flushes: { at: number; snapshot: Map<string, unknown>; isSettled: boolean }[] = [];
  const problems: string[] = [];
  let value = 0;

  const check = (f: (typeof flushes)[number]): void => {
    f.isSettled = true;
    for (const [key, expected] of f.snapshot) {
      const onDisk = disk.get(key);
      // On disk as of the flush, or already as a later change made it.
      if (onDisk === expected || history.slice(f.at).some(([k, v]) => k === key && v === onDisk)) continue;
      problems.push(`flush at ${f.at} resolved, but ${key} on disk is ${String(onDisk)}, not ${String(expected)}`);
    }
  };
  const endCommit = (commit: FakeCommit): void => {
    commit.isEnded = true;
    for (const [key, v] of commit.ops) {
      if (v === undefined) disk.delete(key);
      else disk.set(key, v);
    }
    commit.resolve();
  };

  for (let step = 0; step < 300; step++) {
    const x = r();
    if (x < 0.45) {
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
        const y = r();
        const client = `c${Math.floor(r() * 2)}`;
        const seq = Math.floor(r() * 4);
        const key = `${client}/${seq}`;
        if (y < 0.45) {
          value++;
          q.setIndexed(db, indexOf(client), client, seq, value, 'owner', r() < 0.7);
          logical.set(key, value);
          history.push([key, value]);
        } else if (y < 0.8) {
          q.setIndexed(db, indexOf(client), client, seq, undefined);
          if (logical.delete(key)) history.push([key, undefined]);
        } else if (y < 0.9) {
          value++;
          q.set(db, `s/${client}`, value);
          logical.set(`s/${client}`, value);
          history.push([`s/${client}`, value]);
        } else {
          // Like deleteSession: remove every key of the client's index.
          const index = indexOf(client);
          for (const s of index.keys()) q.setIndexed(db, index, client, s, undefined);
          indexes.delete(client);
          for (const k of logical.keys()) {
            if (k.startsWith(`${client}/`)) {
              logical.delete(k);
              history.push([k, undefined]);
            }
          }
        }
      }
      if (r() < 0.5) {
        const snapshot = new Map(logical);
        for (const [key] of history) if (!logical.has(key)) snapshot.set(key, undefined);
        const f = { at: history.length, snapshot, isSettled: false };
        flushes.push(f);
        q.flush().then(() => check(f), (err: unknown) => problems.push(`flush failed: ${String(err)}`));
      }
    } else if (x < 0.75) {
      const commit = commits.find((c) => !c.isEnded);
      if (commit !== undefined) endCommit(commit);
      await Promise.resolve();
    } else if (x < 0.9) {
      await turn();
    } else {
      await sleep(1 + Math.floor(r() * 3));
    }
  }
  // Drain: end every commit, give held-back writes their time, until a last flush() covers everything.
  const last = { isSettled: false };
  q.flush().then(() => (last.isSettled = true), (err: unknown) => problems.push(`last flush failed: ${String(err)}`));
  for (let k = 0; k < 100 && !(last.isSettled && flushes.every((f) => f.isSettled)); k++) {
    for (const commit of commits) if (!commit.isEnded) endCommit(commit);
    await sleep(2);
  }
  const pending = flushes.filter((f) => !f.isSettled).length;
  if (pending > 0) problems.push(`${pending} flush() never settled`);
  for (const [key, v] of logical) if (disk.get(key) !== v) problems.push(`at the end ${key} is ${String(disk.get(key))}, not ${String(v)}`);
  for (const [key] of disk) if (!logical.has(key)) problems.push(`at the end ${key} is on disk but was deleted`);
  assert.deepEqual(problems.slice(0, 5), [], `seed ${seed}`);
}

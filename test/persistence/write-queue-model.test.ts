/**
 * The write queue (src/persistence/lmdb/write-queue.ts) against a fake table whose commits the test ends — or fails —
 * when it chooses: flush() must never resolve before every write queued before it is on the "disk" or cancelled,
 * must reject when one of them was in a failed commit, and must never hang. A seeded random run (puts, deletes,
 * changes of queued values, session-like deletes, flushes, commits ending in any order of turns and timers, entries
 * grouped into segments) is checked against a model of what is logically stored and what a restore would find.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import type { Database, RootDatabase } from 'lmdb';
import { WriteQueue, type KeyIndex, type SegmentTable, type TableKey } from '../../src/persistence/lmdb/write-queue.js';
import type { OutboundKey } from '../../src/persistence/lmdb/outbound-record.js';

interface FakeCommit {
  /** Each write: its table ('main' or 'segments'), key as text, and value (undefined: removed). */
  readonly ops: [key: string, value: unknown, table: 'main' | 'segments'][];
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly promise: Promise<void>;
  isEnded: boolean;
}

/**
 * Two tables ('main', and 'segments' for the queue's segments) whose put()/remove() calls of one synchronous run join
 * one commit, as lmdb-js batches them.
 */
function fakeTables(): { db: Database<unknown, TableKey>; segmentsDb: Database<unknown, TableKey>; commits: FakeCommit[] } {
  const commits: FakeCommit[] = [];
  let current: FakeCommit | undefined;
  const write = (table: 'main' | 'segments', key: unknown, value: unknown): Promise<void> => {
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
    // An outbound key (a queued write or a Segment) carries the client key bytes and a number.
    const name = Array.isArray(key) ? key.join('/')
      : typeof key === 'object' && key !== null && 'clientKeyBytes' in key
        ? `${String((key as unknown as OutboundKey).clientKeyBytes)}/${(key as unknown as OutboundKey).n}`
        : String(key);
    // An outbound entry is handed over as the queued write itself ({ value, owner }).
    const stored = typeof value === 'object' && value !== null && 'owner' in value
      ? (value as unknown as { value: unknown }).value
      : value;
    current.ops.push([name, stored, table]);
    return current.promise;
  };
  const table = (name: 'main' | 'segments') => ({
    put: (key: unknown, value: unknown) => write(name, key, value), remove: (key: unknown) => write(name, key, undefined),
  }) as unknown as Database<unknown, TableKey>;
  return { db: table('main'), segmentsDb: table('segments'), commits };
}

function fakeTable(): { db: Database<unknown, TableKey>; commits: FakeCommit[] } {
  const { db, commits } = fakeTables();
  return { db, commits };
}

/** The root only needs `flushed` (durability sync waits on it after each commit). */
const root = { flushed: Promise.resolve() } as unknown as RootDatabase;

describe('write queue against a model', () => {
  test('a failed commit holding writes of two generations rejects both generations\' flush() waiters', async () => {
    const { db, commits } = fakeTable();
    // A table slow enough (20 µs a write) that a commit's time budget ends after its first 256 writes.
    const slow = {
      put: (key: unknown, value: unknown) => {
        const until = performance.now() + 0.02;
        while (performance.now() < until);
        return db.put(key as TableKey, value);
      },
      remove: (key: unknown) => db.remove(key as TableKey),
    } as unknown as Database<unknown, TableKey>;
    const q = new WriteQueue(root, false);
    for (let i = 0; i < 300; i++) q.set(slow, `a${i}`, i);
    const first = q.flush();
    first.catch(() => {});
    await turn(); // commit 0 under way with the first 256; 44 of the first generation wait
    assert.equal(commits[0]!.ops.length, 256);
    q.set(db, 'y', 1);
    let second = 'pending';
    q.flush().then(() => (second = 'resolved'), () => (second = 'rejected'));
    commits[0]!.resolve(); // commit 1 starts at once: the 44 left, and y
    await turn();
    assert.equal(commits[1]!.ops.length, 45);
    assert.deepEqual(commits[1]!.ops.at(-1)?.slice(0, 2), ['y', 1]);
    commits[1]!.reject(new Error('disk full'));
    await assert.rejects(first, /disk full/);
    await turn();
    assert.equal(second, 'rejected', 'y was never written');
  });

  test('a failed commit no flush() waited on is reported by the next flush(), once', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false);
    q.set(db, 'session', 1);
    await turn();
    commits[0]!.reject(new Error('disk full'));
    await turn();
    await assert.rejects(q.flush(), /disk full/);
    await q.flush(); // reported: the next one resolves
  });

  test('close() rejects the flush() waiters of writes it leaves uncommitted instead of leaving them pending', async () => {
    const { db, commits } = fakeTable();
    const q = new WriteQueue(root, false);
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
    const q = new WriteQueue(root, false);
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

/**
 * A client's outbound entries as the broker makes them: new ones under the next seq (seqs start again after the
 * session is deleted), either "QoS 1" ({ seq, v } objects, which may go into segments) or "QoS 2" (plain numbers,
 * never grouped); changes of a current entry keep its kind. Every value has its own number (`v`, or the number).
 */
type ModelValue = number | { readonly seq: number; readonly v: number };
const idOf = (value: unknown): number => (typeof value === 'number' ? value : (value as { v: number }).v);

async function randomRun(seed: number): Promise<void> {
  const r = random(seed);
  const { db, segmentsDb, commits } = fakeTables();
  const segmentTable: SegmentTable = {
    db: segmentsDb,
    canGroup: (value) => typeof value === 'object',
    encode: (owner, values) => Buffer.from(JSON.stringify({ owner, values })),
  };
  const q = new WriteQueue(root, false, segmentTable);
  /** Individual records on "disk", by key text; segments by their key text: the entries they hold. */
  const disk = new Map<string, unknown>();
  const segmentsOnDisk = new Map<string, { client: string; n: number; entries: { seq: number; v: number }[] }>();
  /** Logically stored: the id of each current key's value. */
  const logical = new Map<string, number>();
  /** Every logical change in order: [key, id, or undefined for a delete]. */
  const history: [string, number | undefined][] = [];
  const indexes = new Map<string, KeyIndex>();
  const nextSeq = new Map<string, number>();
  const kinds = new Map<string, 'grouped' | 'single'>();
  const groupedIds = new Set<number>();
  const indexOf = (client: string): KeyIndex => {
    let index = indexes.get(client);
    if (index === undefined) indexes.set(client, (index = new Map()));
    return index;
  };
  const flushes: { at: number; snapshot: Map<string, number | undefined>; isSettled: boolean }[] = [];
  const problems: string[] = [];
  let value = 0;

  /** What a restore finds for `key` (client/seq): its record, else the first segment (in key order) holding it. */
  const restored = (key: string): { id: number | undefined; from: 'record' | 'segment' | undefined } => {
    if (disk.has(key)) return { id: idOf(disk.get(key)), from: 'record' };
    const [client, seqText] = key.split('/');
    const seq = Number(seqText);
    const holding = [...segmentsOnDisk.values()].filter((sg) => sg.client === client).toSorted((a, b) => a.n - b.n);
    for (const sg of holding) {
      const found = sg.entries.find((e) => e.seq === seq);
      if (found !== undefined) return { id: found.v, from: 'segment' };
    }
    return { id: undefined, from: undefined };
  };
  const check = (f: (typeof flushes)[number]): void => {
    f.isSettled = true;
    for (const [key, expected] of f.snapshot) {
      const { id, from } = restored(key);
      // As of the flush, or as a later change made it; a deleted "QoS 1" entry may come back from its segment.
      if (id === expected || history.slice(f.at).some(([k, v]) => k === key && v === id)) continue;
      // A "QoS 1" entry deleted by then (or later) may come back from a segment (a duplicate, which QoS 1 allows).
      if (from === 'segment' && groupedIds.has(id!)
        && (expected === undefined || history.slice(f.at).some(([k, v]) => k === key && v === undefined))) continue;
      problems.push(`flush at ${f.at} resolved, but a restore finds ${key} = ${String(id)} (${String(from)}), not ${String(expected)}`);
    }
  };
  const endCommit = (commit: FakeCommit): void => {
    commit.isEnded = true;
    for (const [key, v, table] of commit.ops) {
      if (table === 'segments') {
        if (v === undefined) segmentsOnDisk.delete(key);
        else {
          const { owner, values } = JSON.parse(String(v)) as { owner: string; values: { seq: number; v: number }[] };
          segmentsOnDisk.set(key, { client: owner, n: Number(key.split('/')[1]), entries: values });
        }
      } else if (v === undefined) disk.delete(key);
      else disk.set(key, v);
    }
    commit.resolve();
  };
  const change = (key: string, id: number | undefined): void => {
    if (id === undefined) logical.delete(key);
    else logical.set(key, id);
    history.push([key, id]);
  };

  for (let step = 0; step < 300; step++) {
    const x = r();
    if (x < 0.45) {
      for (let n = 1 + Math.floor(r() * 4); n > 0; n--) {
        const y = r();
        const client = `c${Math.floor(r() * 2)}`;
        const index = indexOf(client);
        const clientKey = Buffer.from(client);
        const current = [...logical.keys()].filter((k) => k.startsWith(`${client}/`));
        const pick = current.length === 0 ? undefined : current[Math.floor(r() * current.length)]!;
        if (y < 0.3 || (y < 0.75 && pick === undefined)) {
          // A new entry.
          const seq = nextSeq.get(client) ?? 1;
          nextSeq.set(client, seq + 1);
          const key = `${client}/${seq}`;
          value++;
          const isGrouped = r() < 0.7;
          kinds.set(key, isGrouped ? 'grouped' : 'single');
          const v: ModelValue = isGrouped ? { seq, v: value } : value;
          if (isGrouped) groupedIds.add(value);
          q.setIndexed(db, index, clientKey, seq, v, client);
          change(key, value);
        } else if (y < 0.5) {
          // A change of a current entry (its state), of the same kind.
          const seq = Number(pick!.split('/')[1]);
          value++;
          const v: ModelValue = kinds.get(pick!) === 'grouped' ? { seq, v: value } : value;
          if (typeof v === 'object') groupedIds.add(value);
          q.setIndexed(db, index, clientKey, seq, v, client);
          change(pick!, value);
        } else if (y < 0.75) {
          q.setIndexed(db, index, clientKey, Number(pick!.split('/')[1]), undefined);
          change(pick!, undefined);
        } else if (y < 0.9) {
          value++;
          q.set(db, `s/${client}`, value);
          change(`s/${client}`, value);
        } else {
          // Like deleteSession: remove every key of the client's index; its seqs start again.
          for (const s of index.keys()) q.setIndexed(db, index, clientKey, s, undefined);
          indexes.delete(client);
          nextSeq.delete(client);
          for (const k of current) change(k, undefined);
        }
      }
      if (r() < 0.5) {
        const snapshot = new Map<string, number | undefined>(logical);
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
  // Drain: end every commit until a last flush() covers everything.
  const last = { isSettled: false };
  q.flush().then(() => (last.isSettled = true), (err: unknown) => problems.push(`last flush failed: ${String(err)}`));
  for (let k = 0; k < 100 && !(last.isSettled && flushes.every((f) => f.isSettled)); k++) {
    for (const commit of commits) if (!commit.isEnded) endCommit(commit);
    await sleep(2);
  }
  const pending = flushes.filter((f) => !f.isSettled).length;
  if (pending > 0) problems.push(`${pending} flush() never settled`);
  for (const [key, id] of logical) {
    const found = key.startsWith('s/') ? idOf(disk.get(key)) : restored(key).id;
    if (found !== id) problems.push(`at the end a restore finds ${key} = ${String(found)}, not ${String(id)}`);
  }
  for (const [key] of disk) if (!logical.has(key)) problems.push(`at the end ${key} is on disk but was deleted`);
  // No segment is left without a current entry (its record must go with its last one).
  for (const [name, sg] of segmentsOnDisk) {
    const isCurrent = sg.entries.some((e) => {
      const key = `${sg.client}/${e.seq}`;
      return logical.get(key) === e.v && !disk.has(key);
    });
    if (!isCurrent) problems.push(`at the end segment ${name} is on disk with no current entry`);
  }
  assert.deepEqual(problems.slice(0, 5), [], `seed ${seed}`);
}

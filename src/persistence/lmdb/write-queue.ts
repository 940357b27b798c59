/**
 * The lmdb store's write path: a write-behind queue with group commit.
 *
 * Design note: the broker's `save*`/`put*`/`delete*` calls only queue a write here (no encoding, no lmdb-js call).
 * One commit at a time: the first write while none is under way schedules one at the end of the event-loop turn; it
 * hands everything queued to lmdb-js as one transaction and waits for it to be committed (and, when synced, for its
 * fsync). Writes queued meanwhile wait for the next commit, which starts as soon as that one is done. So a put and
 * the delete of the same key that meet in the queue (an outbound entry acknowledged by its subscriber before a commit
 * took it) cancel out and never reach the disk, and a busy broker pays one transaction and one sync per commit, not
 * per message. A commit spends at most about COMMIT_BUDGET_MS on the event loop (encoding happens as lmdb-js takes
 * each write); the rest goes into the next transaction.
 *
 * Holding back: a commit that follows another at once (the broker is busy) leaves out the new outbound entries that
 * await their subscriber's acknowledgement and were queued less than the hold time ago (the store's `holdBackMs`,
 * default 1 ms); the next commit takes them, unless the acknowledgement came first and they cancelled out. Measured
 * under `culex bench fanin -q 1 --persistent`, half of the acknowledgements come within about 1 ms of the put, so
 * holding back turns most of these writes (a put, then a delete in a later transaction) into none. Durability is
 * unchanged: a publisher's acknowledgement still waits until every entry of its message is on disk or acknowledged
 * by its subscriber. The price: a held entry whose acknowledgement does not come in time goes into the commit after
 * the one it was held from, so its publisher waits up to one more commit (its transaction and sync, a few ms) —
 * only while commits run back to back (a commit that starts longer than the hold time after the last one ended
 * holds nothing back).
 *
 * `flush()` resolves once every write queued before it is committed or cancelled: a write carries the generation it
 * was first queued in (a generation ends when a commit starts), the queue counts the writes of each generation not
 * yet committed or cancelled, and a flush() waiter of generation g settles once no generation up to g has any left —
 * so a held-back write that cancels out does not make its generation wait for another commit.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { OutboundKey } from './outbound-record.js';

/**
 * A key: a string; [client key, number] for inbound QoS 2 identifiers; an OutboundKey (client key bytes and seq, in
 * the outbound table's own encoding) for outbound entries.
 */
export type Key = string | [string, number] | OutboundKey;

/**
 * The key type the tables are declared with: lmdb-js's typings allow no object keys, though a table with a custom
 * `keyEncoder` (the outbound table) takes any. Keys are cast to it where they are handed to lmdb-js.
 */
export type TableKey = string | [string, number];

/**
 * A client's keys that the store has or will have, by number (seq or packet id), each mapped to its queued write,
 * or to null when the key is on disk (or in the commit under way) with no write queued.
 */
export type KeyIndex = Map<number, PendingWrite | null>;

/** A queued write: `value` undefined removes the key. */
interface PendingWrite {
  readonly db: Database<unknown, TableKey>;
  /**
   * The key; for a key of a client's index, made at commit time from `clientKey` and `n` — or, with
   * `clientKeyBytes`, this write itself is the key (an OutboundKey).
   */
  readonly key: Key | undefined;
  readonly clientKey: string;
  readonly clientKeyBytes: Buffer | undefined;
  value: unknown;
  /**
   * Set for a value its table's encoder builds from `value` and `owner` at commit time (outbound entries, so they are
   * encoded only if they get that far): this write itself is then the value handed to lmdb-js (an OwnedEntry).
   */
  readonly owner: string | undefined;
  /** The store does not have the key, nor does a commit under way write it: deleting it cancels the write. */
  readonly isNew: boolean;
  /** An outbound entry sent to its subscriber: its acknowledgement may come soon and cancel this write. */
  awaitsAck: boolean;
  /** performance.now() when the write was queued (for a new key of a client's index). */
  readonly queuedAt: number;
  isCancelled: boolean;
  /**
   * For a key of a client's index: the number the write is queued under, and (for a put) that index; a remove of a
   * key the store has is not in the index.
   */
  readonly index: KeyIndex | undefined;
  readonly n: number;
  /** The generation the write was first queued in (a change of its value keeps it: flush() waiters since wait too). */
  generation: number;
}

/** The flush() callers of one generation; they wait on the writes of generations `since` (the oldest with writes
 * left when the waiter was made) to `generation`. */
class Waiter {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;
  constructor(readonly generation: number, readonly since: number) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  settle(failure: Error | undefined): void {
    if (failure === undefined) this.#resolve();
    else this.#reject(failure);
  }
}

const RESOLVED = Promise.resolve();
function ignore(): void {}
/** The longest a commit hands writes to lmdb-js on the event loop before it leaves the rest to the next one. */
const COMMIT_BUDGET_MS = 4;
/** How long a busy queue holds back a new outbound entry that awaits its acknowledgement (see the design note). */
export const DEFAULT_HOLD_BACK_MS = 1;

export class WriteQueue {
  readonly #root: RootDatabase;
  /** Wait for the fsync of each commit (durability `sync`). */
  readonly #isSynced: boolean;
  readonly #holdMs: number;
  /** Queued writes in submission order; a cancelled one stays, marked, until a commit passes it. */
  #writes: PendingWrite[] = [];
  /** How many of #writes are not cancelled. */
  #liveWrites = 0;
  /** The commit under way: resolves once its transaction is committed (and synced). */
  #committing: Promise<unknown> | undefined;
  #isCommitScheduled = false;
  /** Retries a commit that held back every write it had, once the oldest of them is old enough. */
  #holdTimer: NodeJS.Timeout | undefined;
  #lastCommitEndedAt = -Infinity;
  #generation = 1;
  /** By generation, ascending (insertion order): its writes not yet committed or cancelled; none is 0. */
  readonly #outstanding = new Map<number, number>();
  #waiters: Waiter[] = [];
  /**
   * Generations that had a write in a failed commit, with the error, until a waiter has reported it (rejected) and no
   * waiter covers them any more. A failure no waiter covered yet goes to the next waiters made (as lmdb-js does, the
   * next flush() reports it), so it is never lost.
   */
  readonly #failed = new Map<number, { readonly err: Error; isReported: boolean }>();
  /**
   * Writes handed to lmdb-js; writes that cancelled out in the queue; transactions; writes a commit held back (a
   * write held back by two commits counts twice).
   */
  writesIssued = 0;
  writesCancelled = 0;
  commits = 0;
  writesHeld = 0;
  /** Set by every commit; the owner's sync timer (durability `batched`) clears it. */
  hasUnsynced = false;
  /** Set by close(): what is still queued then is never committed. */
  isClosed = false;

  /** `holdMs`: the hold time of the design note (0: never hold back). */
  constructor(root: RootDatabase, isSynced: boolean, holdMs = DEFAULT_HOLD_BACK_MS) {
    this.#root = root;
    this.#isSynced = isSynced;
    this.#holdMs = holdMs;
  }

  /** Queues a put (`value` defined) or remove of a key outside any index. */
  set(db: Database<unknown, TableKey>, key: Key, value: unknown): void {
    this.#queue({
      db, key, clientKey: '', clientKeyBytes: undefined, value, owner: undefined, isNew: false, awaitsAck: false,
      queuedAt: 0, isCancelled: false, index: undefined, n: 0, generation: 0,
    });
  }

  /**
   * Queues a put (`value` defined) or remove of a key of a client's index — [clientKey, n], or an OutboundKey when
   * `clientKey` is bytes — or changes the write already queued for it; keeps `index` current. Removing a key the
   * index does not have is a no-op. With `owner`, the table's encoder makes the record from the value and `owner`.
   * `awaitsAck`: an outbound entry sent to its subscriber (a busy queue may hold its write back a moment).
   */
  setIndexed(db: Database<unknown, TableKey>, index: KeyIndex, clientKey: string | Buffer, n: number, value: unknown,
    owner?: string, awaitsAck = false): void {
    const queued = index.get(n);
    if (queued === undefined || queued === null) {
      // Removing a key the store has: a write of its own, outside the index (nothing can cancel it), its key made
      // at commit time like a put's.
      if (value === undefined && queued === undefined) return;
      const isBytes = typeof clientKey !== 'string';
      const isRemove = value === undefined;
      const isNew = queued === undefined;
      const op: PendingWrite = {
        db, key: undefined, clientKey: isBytes ? '' : clientKey, clientKeyBytes: isBytes ? clientKey : undefined, value,
        owner: isRemove ? undefined : owner, isNew, awaitsAck, queuedAt: isNew ? performance.now() : 0,
        isCancelled: false, index: isRemove ? undefined : index, n, generation: 0,
      };
      if (isRemove) index.delete(n);
      else index.set(n, op);
      this.#queue(op);
      return;
    }
    if (value !== undefined) {
      queued.value = value;
      queued.awaitsAck = awaitsAck;
      return;
    }
    index.delete(n);
    if (!queued.isNew) {
      queued.value = undefined;
      return;
    }
    // Written and deleted before any commit took it: neither reaches the disk.
    queued.isCancelled = true;
    this.writesCancelled += 2;
    this.#liveWrites--;
    if (this.#release(queued.generation, 1)) this.#settle();
  }

  #queue(op: PendingWrite): void {
    const generation = this.#generation;
    op.generation = generation;
    this.#writes.push(op);
    this.#liveWrites++;
    const outstanding = this.#outstanding;
    outstanding.set(generation, (outstanding.get(generation) ?? 0) + 1);
    if (!this.#isCommitScheduled && this.#committing === undefined) {
      this.#isCommitScheduled = true;
      setImmediate(this.#commitNow);
    }
  }

  readonly #commitNow = (): void => {
    this.#isCommitScheduled = false;
    if (this.#committing !== undefined || this.isClosed) return;
    if (this.#liveWrites === 0) {
      this.#writes = [];
      return;
    }
    const writes = this.#writes;
    const startedAt = performance.now();
    // Busy: the last commit ended a moment ago, or writes are being held back already.
    const holdMs = this.#holdMs;
    const isBusy = holdMs > 0 && (startedAt - this.#lastCommitEndedAt < holdMs || this.#holdTimer !== undefined);
    const holdAfter = isBusy ? startedAt - holdMs : Infinity;
    let held: PendingWrite[] | undefined;
    let batch: Promise<unknown> | undefined;
    // How many writes of each generation this commit takes (generations ascend along the queue).
    const generations: number[] = [];
    const counts: number[] = [];
    let count = 0;
    let i = 0;
    while (i < writes.length) {
      const op = writes[i++]!;
      if (op.isCancelled) continue;
      if (op.queuedAt > holdAfter && op.awaitsAck && op.isNew && op.value !== undefined) {
        (held ??= []).push(op);
        continue;
      }
      // Taken: the key is on disk once this commits, and a later write of it is a new queued one.
      if (op.index !== undefined && op.index.get(op.n) === op) op.index.set(op.n, null);
      const { value } = op;
      const key = op.key ?? (op.clientKeyBytes !== undefined ? op as OutboundKey : [op.clientKey, op.n]);
      const tableKey = key as TableKey;
      batch = value === undefined ? op.db.remove(tableKey) : op.db.put(tableKey, op.owner === undefined ? value : op);
      count++;
      if (generations.at(-1) === op.generation) counts[counts.length - 1]!++;
      else {
        generations.push(op.generation);
        counts.push(1);
      }
      if ((count & 255) === 0 && performance.now() - startedAt > COMMIT_BUDGET_MS) break;
    }
    const rest = i === writes.length ? [] : writes.slice(i);
    this.#writes = held === undefined ? rest : held.concat(rest);
    if (held !== undefined) this.writesHeld += held.length;
    else if (this.#holdTimer !== undefined) {
      // Nothing is held back any more: the retry is not needed (and no longer marks the queue busy).
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
    if (count === 0) {
      // Everything was held back: try again once the oldest of it is old enough (not unref'd: close() may wait on it).
      this.#holdTimer ??= setTimeout(this.#holdEnded, Math.max(1, held![0]!.queuedAt + holdMs - startedAt));
      return;
    }
    this.#generation++;
    this.#liveWrites -= count;
    this.writesIssued += count;
    this.commits++;
    this.hasUnsynced = true;
    const root = this.#root;
    const done = this.#isSynced ? batch!.then(() => root.flushed) : batch!;
    this.#committing = done;
    done.then(() => this.#committed(generations, counts, undefined),
      (err: unknown) => this.#committed(generations, counts, err as Error));
  };

  readonly #holdEnded = (): void => {
    this.#holdTimer = undefined;
    if (!this.#isCommitScheduled) this.#commitNow();
  };

  #committed(generations: readonly number[], counts: readonly number[], err: Error | undefined): void {
    this.#committing = undefined;
    this.#lastCommitEndedAt = performance.now();
    if (err !== undefined) for (const generation of generations) this.#failed.set(generation, { err, isReported: false });
    let isAnyDone = false;
    for (let i = 0; i < generations.length; i++) isAnyDone = this.#release(generations[i]!, counts[i]!) || isAnyDone;
    if (isAnyDone || err !== undefined) this.#settle();
    if (this.#liveWrites > 0) this.#commitNow();
    else this.#writes = [];
  }

  /** Some write queued is not committed or cancelled yet. */
  get hasOutstanding(): boolean {
    return this.#outstanding.size > 0;
  }

  /**
   * Resolves once the commit under way now has ended (at once when none is). Writes queued meanwhile may have started
   * another one.
   */
  idle(): Promise<void> {
    return this.#committing === undefined ? RESOLVED : this.#committing.then(ignore, ignore);
  }

  /**
   * Called by the owner when it closes the environment. What is still queued is never committed: its flush() waiters
   * reject (they never resolve, as the writes are not on disk, and must not hang).
   */
  close(): void {
    this.isClosed = true;
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length > 0) {
      const err = new Error('the store was closed before these writes were committed');
      for (const waiter of waiters) waiter.settle(err);
    }
  }

  /** `n` writes of `generation` are committed or cancelled; true when that generation has none left. */
  #release(generation: number, n: number): boolean {
    const outstanding = this.#outstanding;
    const left = outstanding.get(generation)! - n;
    if (left > 0) {
      outstanding.set(generation, left);
      return false;
    }
    outstanding.delete(generation);
    return true;
  }

  /** The oldest generation with writes left (Infinity when none): it only grows, as writes join the newest one. */
  #oldestOutstanding(): number {
    for (const generation of this.#outstanding.keys()) return generation;
    return Infinity;
  }

  /**
   * Settles the waiters of generations below the oldest with writes left: rejected when a generation they cover had
   * a write in a failed commit. Then forgets the reported failures no remaining or future waiter covers.
   */
  #settle(): void {
    const oldest = this.#oldestOutstanding();
    const waiters = this.#waiters;
    let i = 0;
    while (i < waiters.length && waiters[i]!.generation < oldest) i++;
    if (i > 0) {
      this.#waiters = waiters.slice(i);
      for (let k = 0; k < i; k++) {
        const waiter = waiters[k]!;
        waiter.settle(this.#failureIn(waiter.since, waiter.generation));
      }
    }
    if (this.#failed.size > 0) {
      const covered = Math.min(oldest, this.#waiters[0]?.since ?? Infinity);
      for (const [generation, failure] of this.#failed) {
        if (failure.isReported && generation < covered) this.#failed.delete(generation);
      }
    }
  }

  /** The first failure in generations `since`..`generation`; marks every failure there reported. */
  #failureIn(since: number, generation: number): Error | undefined {
    let first: Error | undefined;
    for (const [failed, failure] of this.#failed) {
      if (failed < since || failed > generation) continue;
      first ??= failure.err;
      failure.isReported = true;
    }
    return first;
  }

  /** The oldest generation a new waiter covers: the oldest with writes left, or with a failure not reported yet. */
  #coveredFrom(): number {
    let since = this.#oldestOutstanding();
    for (const [generation, failure] of this.#failed) if (!failure.isReported && generation < since) since = generation;
    return since;
  }

  /**
   * Resolves when every write queued before the call is committed (synced too, with `isSynced`) or cancelled; rejects
   * when one of them was in a failed commit.
   */
  flush(): Promise<void> {
    if (this.#outstanding.size === 0 && this.#failed.size === 0) return RESOLVED;
    // A closed queue commits nothing more: a waiter would never settle.
    if (this.isClosed) return Promise.reject(new Error('the store was closed before these writes were committed'));
    const generation = this.#generation;
    // Every flush() of one generation shares one promise (covering the oldest writes any of them waits on).
    let waiter = this.#waiters.at(-1);
    if (waiter?.generation !== generation) {
      waiter = new Waiter(generation, this.#coveredFrom());
      this.#waiters.push(waiter);
      // Nothing left to wait for (only an unreported failure): settle at once.
      if (this.#outstanding.size === 0) this.#settle();
    }
    return waiter.promise;
  }
}

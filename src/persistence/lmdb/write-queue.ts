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
 * `flush()` resolves once everything queued before it is committed: writes carry the generation they were queued in,
 * and a commit that took every write of a generation (or the queue emptied by cancellation) completes it.
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
  isCancelled: boolean;
  /**
   * For a key of a client's index: the number the write is queued under, and (for a put) that index; a remove of a
   * key the store has is not in the index.
   */
  readonly index: KeyIndex | undefined;
  readonly n: number;
  /** The generation of flush() waiters this write belongs to. */
  generation: number;
}

class Waiter {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;
  constructor(readonly generation: number) {
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
/** The longest a commit hands writes to lmdb-js on the event loop before it leaves the rest to the next one. */
const COMMIT_BUDGET_MS = 4;

export class WriteQueue {
  readonly #root: RootDatabase;
  /** Wait for the fsync of each commit (durability `sync`). */
  readonly #isSynced: boolean;
  /** Queued writes in submission order; a cancelled one stays, marked, until a commit passes it. */
  #writes: PendingWrite[] = [];
  /** How many of #writes are not cancelled. */
  #liveWrites = 0;
  /** The commit under way: resolves once its transaction is committed (and synced). */
  #committing: Promise<unknown> | undefined;
  #isCommitScheduled = false;
  #generation = 1;
  #waiters: Waiter[] = [];
  #failure: Error | undefined;
  /** Writes handed to lmdb-js; writes that cancelled out in the queue; transactions. */
  writesIssued = 0;
  writesCancelled = 0;
  commits = 0;
  /** Set by every commit; the owner's sync timer (durability `batched`) clears it. */
  hasUnsynced = false;
  /** Set by the owner when it closes the environment: what is still queued then is never committed. */
  isClosed = false;

  constructor(root: RootDatabase, isSynced: boolean) {
    this.#root = root;
    this.#isSynced = isSynced;
  }

  /** Queues a put (`value` defined) or remove of a key outside any index. */
  set(db: Database<unknown, TableKey>, key: Key, value: unknown): void {
    this.#queue({
      db, key, clientKey: '', clientKeyBytes: undefined, value, owner: undefined, isNew: false,
      isCancelled: false, index: undefined, n: 0, generation: 0,
    });
  }

  /**
   * Queues a put (`value` defined) or remove of a key of a client's index — [clientKey, n], or an OutboundKey when
   * `clientKey` is bytes — or changes the write already queued for it; keeps `index` current. Removing a key the
   * index does not have is a no-op. With `owner`, the table's encoder makes the record from the value and `owner`.
   */
  setIndexed(db: Database<unknown, TableKey>, index: KeyIndex, clientKey: string | Buffer, n: number, value: unknown,
    owner?: string): void {
    const queued = index.get(n);
    if (queued === undefined || queued === null) {
      // Removing a key the store has: a write of its own, outside the index (nothing can cancel it), its key made
      // at commit time like a put's.
      if (value === undefined && queued === undefined) return;
      const isBytes = typeof clientKey !== 'string';
      const isRemove = value === undefined;
      const op: PendingWrite = {
        db, key: undefined, clientKey: isBytes ? '' : clientKey, clientKeyBytes: isBytes ? clientKey : undefined, value,
        owner: isRemove ? undefined : owner, isNew: queued === undefined, isCancelled: false,
        index: isRemove ? undefined : index, n, generation: 0,
      };
      if (isRemove) index.delete(n);
      else index.set(n, op);
      this.#queue(op);
      return;
    }
    queued.generation = this.#generation;
    if (value !== undefined) {
      queued.value = value;
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
    if (--this.#liveWrites === 0 && this.#committing === undefined) this.#settle(Infinity);
  }

  #queue(op: PendingWrite): void {
    op.generation = this.#generation;
    this.#writes.push(op);
    this.#liveWrites++;
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
      this.#settle(Infinity);
      return;
    }
    const last = this.#generation++;
    const writes = this.#writes;
    const startedAt = performance.now();
    let batch: Promise<unknown> | undefined;
    let count = 0;
    let i = 0;
    while (i < writes.length) {
      const op = writes[i++]!;
      if (op.isCancelled) continue;
      // Taken: the key is on disk once this commits, and a later write of it is a new queued one.
      if (op.index !== undefined && op.index.get(op.n) === op) op.index.set(op.n, null);
      const { value } = op;
      const key = op.key ?? (op.clientKeyBytes !== undefined ? op as OutboundKey : [op.clientKey, op.n]);
      const tableKey = key as TableKey;
      batch = value === undefined ? op.db.remove(tableKey) : op.db.put(tableKey, op.owner === undefined ? value : op);
      count++;
      if ((count & 255) === 0 && performance.now() - startedAt > COMMIT_BUDGET_MS) break;
    }
    this.#liveWrites -= count;
    this.#writes = i === writes.length ? [] : writes.slice(i);
    // The generations up to `completes` have every write in this or an earlier transaction.
    let completes = last;
    for (const op of this.#writes) if (!op.isCancelled && op.generation <= completes) completes = op.generation - 1;
    this.writesIssued += count;
    this.commits++;
    this.hasUnsynced = true;
    const root = this.#root;
    const done = this.#isSynced ? batch!.then(() => root.flushed) : batch!;
    this.#committing = done;
    done.then(() => this.#committed(completes, undefined), (err: unknown) => this.#committed(completes, err as Error));
  };

  #committed(completes: number, err: Error | undefined): void {
    this.#committing = undefined;
    if (err !== undefined) this.#failure ??= err;
    this.#settle(this.#liveWrites === 0 ? Infinity : completes);
    if (this.#liveWrites > 0) this.#commitNow();
    else this.#writes = [];
  }

  /** Settles the waiters of generations up to `generation`, with the first failure since the last settle. */
  #settle(generation: number): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    const failure = this.#failure;
    for (const waiter of waiters) {
      if (waiter.generation > generation) this.#waiters.push(waiter);
      else waiter.settle(failure);
    }
    if (this.#waiters.length < waiters.length) this.#failure = undefined;
  }

  /** Resolves when every write queued before the call is committed (synced too, with `isSynced`). */
  flush(): Promise<void> {
    let generation: number;
    if (this.#liveWrites > 0) generation = this.#generation;
    else if (this.#committing !== undefined) generation = this.#generation - 1;
    else return RESOLVED;
    // Every flush() of one generation shares one promise.
    let waiter = this.#waiters.at(-1);
    if (waiter?.generation !== generation) {
      waiter = new Waiter(generation);
      this.#waiters.push(waiter);
    }
    return waiter.promise;
  }
}

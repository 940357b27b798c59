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
 * Segments: each write handed to lmdb-js costs about 2.7 µs of CPU (its main-thread part and its writer thread; 1,400
 * puts and 1,400 removes of 60-byte records per commit took 7.2-8.5 ms, the same entries as 50 records of 28 took
 * 0.6-1.1 ms). So a commit writes the first writes of a client's QoS 1 outbound entries that it takes as one record of
 * the segments table (up to SEGMENT_MAX_ENTRIES each), keyed by the client and the seq of its first entry, and the
 * client's index maps each of those seqs to its Segment. Deleting such an entry only counts it out of its segment;
 * the segment's record is removed with its last current entry. A change of such an entry (its state) is written as a
 * record of its own, which a restore prefers to the segment's copy. The price: after a crash, a QoS 1 entry its
 * subscriber had acknowledged comes back if its segment still held an entry not acknowledged — a duplicate, which
 * QoS 1 allows. QoS 2 entries are never put in segments (a duplicate there is not allowed), and a clean close()
 * rewrites the current entries of partly acknowledged segments as records of their own (lmdb-persistence.ts).
 *
 * Before segments, a busy queue held a new entry awaiting its acknowledgement out of the next commit for up to 1 ms,
 * so that the acknowledgement would cancel its write; with segments that only delayed publishers' acknowledgements
 * (`culex bench pairs -c 50 -q 1 --persistent`, broker pinned to one CPU, 2 runs each: 206-218 k msg/s without it,
 * 141-144 k with it; fanin 8 -> 1: 238-253 k against 211-245 k), so it is gone.
 *
 * `flush()` resolves once every write queued before it is committed or cancelled: a write carries the generation it
 * was first queued in (a generation ends when a commit starts), the queue counts the writes of each generation not
 * yet committed or cancelled, and a flush() waiter of generation g settles once no generation up to g has any left.
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
 * Outbound entries that one commit wrote in one record of the segments table (see the design note). The record's key
 * is the client's key bytes and the seq of its first entry: a Segment is its own OutboundKey.
 */
export class Segment {
  /** How many of its entries are still current: in the index under this segment, with no newer record of their own. */
  live: number;
  constructor(readonly clientKeyBytes: Buffer, readonly n: number, readonly size: number, live = size) {
    this.live = live;
  }
}

/**
 * A client's keys that the store has or will have, by number (seq or packet id), each mapped to its queued write,
 * to null when the key is on disk (or in the commit under way) with no write queued, or to the Segment that holds it.
 */
export type KeyIndex = Map<number, PendingWrite | Segment | null>;

/**
 * Where first writes of QoS 1 outbound entries go (see the design note): the segments table, how to tell an entry
 * that may go there, and how to make a segment's record from the entries of one client.
 */
export interface SegmentTable {
  readonly db: Database<unknown, TableKey>;
  canGroup(value: unknown): boolean;
  encode(owner: string, values: readonly unknown[]): Buffer;
}

/** The most entries one segment holds (a commit that takes more of one client's entries writes several). */
const SEGMENT_MAX_ENTRIES = 256;

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
  /** The first write of the key (not a change of an entry a segment holds): it may go into a segment. */
  readonly isFirst: boolean;
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

export class WriteQueue {
  readonly #root: RootDatabase;
  /** Wait for the fsync of each commit (durability `sync`). */
  readonly #isSynced: boolean;
  readonly #segments: SegmentTable | undefined;
  /** Queued writes in submission order; a cancelled one stays, marked, until a commit passes it. */
  #writes: PendingWrite[] = [];
  /** How many of #writes are not cancelled. */
  #liveWrites = 0;
  /** The commit under way: resolves once its transaction is committed (and synced). */
  #committing: Promise<unknown> | undefined;
  #isCommitScheduled = false;
  #generation = 1;
  /**
   * By generation, ascending (insertion order): its writes not yet committed or cancelled; none is 0. The current
   * generation's count is kept apart (#newest, a field rather than a Map entry per write) until a commit ends it.
   */
  readonly #outstanding = new Map<number, number>();
  #newest = 0;
  #waiters: Waiter[] = [];
  /**
   * Generations that had a write in a failed commit, with the error, until a waiter has reported it (rejected) and no
   * waiter covers them any more. A failure no waiter covered yet goes to the next waiters made (as lmdb-js does, the
   * next flush() reports it), so it is never lost.
   */
  readonly #failed = new Map<number, { readonly err: Error; isReported: boolean }>();
  /** Writes handed to lmdb-js (a segment counts as one); writes that cancelled out in the queue; transactions. */
  writesIssued = 0;
  writesCancelled = 0;
  commits = 0;
  /** Segment records written, and the entries they held (counted in writesIssued as one write per segment). */
  segmentsWritten = 0;
  entriesInSegments = 0;
  /** Set by every commit; the owner's sync timer (durability `batched`) clears it. */
  hasUnsynced = false;
  /** Set by close(): what is still queued then is never committed. */
  isClosed = false;

  /** Without `segments`, every write is its own. */
  constructor(root: RootDatabase, isSynced: boolean, segments?: SegmentTable) {
    this.#root = root;
    this.#isSynced = isSynced;
    this.#segments = segments;
  }

  /** Queues a put (`value` defined) or remove of a key outside any index. */
  set(db: Database<unknown, TableKey>, key: Key, value: unknown): void {
    this.#queue({
      db, key, clientKey: '', clientKeyBytes: undefined, value, owner: undefined, isNew: false, isFirst: false,
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
    if (queued instanceof Segment) {
      // The entry is in a segment: that copy is out of date from now on. A change is written as a record of its own
      // (a restore prefers it to the segment's copy); a delete only leaves the segment, which goes with its last entry.
      // The change is queued before the segment's removal, so no commit can take the removal without it.
      if (value === undefined) {
        index.delete(n);
        this.#leaveSegment(queued);
        return;
      }
      const op: PendingWrite = {
        db, key: undefined, clientKey: typeof clientKey === 'string' ? clientKey : '',
        clientKeyBytes: typeof clientKey === 'string' ? undefined : clientKey, value, owner, isNew: true, isFirst: false,
        isCancelled: false, index, n, generation: 0,
      };
      index.set(n, op);
      this.#queue(op);
      this.#leaveSegment(queued);
      return;
    }
    if (queued === undefined || queued === null) {
      // Removing a key the store has: a write of its own, outside the index (nothing can cancel it), its key made
      // at commit time like a put's.
      if (value === undefined && queued === undefined) return;
      const isBytes = typeof clientKey !== 'string';
      const isRemove = value === undefined;
      const isNew = queued === undefined;
      const op: PendingWrite = {
        db, key: undefined, clientKey: isBytes ? '' : clientKey, clientKeyBytes: isBytes ? clientKey : undefined, value,
        owner: isRemove ? undefined : owner, isNew, isFirst: isNew, isCancelled: false,
        index: isRemove ? undefined : index, n, generation: 0,
      };
      if (isRemove) index.delete(n);
      else index.set(n, op);
      this.#queue(op);
      return;
    }
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
    this.#liveWrites--;
    if (this.#release(queued.generation, 1)) this.#settle();
  }

  /** One entry of `segment` is no longer current; the last one queues the removal of its record. */
  #leaveSegment(segment: Segment): void {
    if (--segment.live > 0) return;
    this.#queue({
      db: this.#segments!.db, key: segment, clientKey: '', clientKeyBytes: undefined, value: undefined, owner: undefined,
      isNew: false, isFirst: false, isCancelled: false, index: undefined, n: 0, generation: 0,
    });
  }

  #queue(op: PendingWrite): void {
    const generation = this.#generation;
    op.generation = generation;
    this.#writes.push(op);
    this.#liveWrites++;
    this.#newest++;
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
    let batch: Promise<unknown> | undefined;
    const segments = this.#segments;
    /** First writes of QoS 1 outbound entries this commit takes, by client (its index): they go into segments. */
    let groups: Map<KeyIndex, PendingWrite[]> | undefined;
    let grouped = 0;
    // How many writes of each generation this commit takes (generations ascend along the queue).
    const generations: number[] = [];
    const counts: number[] = [];
    let count = 0;
    let i = 0;
    while (i < writes.length) {
      const op = writes[i++]!;
      if (op.isCancelled) continue;
      const { value } = op;
      if (op.isFirst && segments !== undefined && op.clientKeyBytes !== undefined && op.owner !== undefined
        && value !== undefined && segments.canGroup(value)) {
        // Into this commit's segment of its client (written after the loop).
        groups ??= new Map();
        const group = groups.get(op.index!);
        if (group === undefined) groups.set(op.index!, [op]);
        else group.push(op);
        grouped++;
      } else {
        // Taken: the key is on disk once this commits, and a later write of it is a new queued one.
        if (op.index !== undefined && op.index.get(op.n) === op) op.index.set(op.n, null);
        const key = op.key ?? (op.clientKeyBytes !== undefined ? op as OutboundKey : [op.clientKey, op.n]);
        const tableKey = key as TableKey;
        batch = value === undefined ? op.db.remove(tableKey) : op.db.put(tableKey, op.owner === undefined ? value : op);
      }
      count++;
      if (generations.at(-1) === op.generation) counts[counts.length - 1]!++;
      else {
        generations.push(op.generation);
        counts.push(1);
      }
      if ((count & 255) === 0 && performance.now() - startedAt > COMMIT_BUDGET_MS) break;
    }
    this.#writes = i === writes.length ? [] : writes.slice(i);
    let issued = count - grouped;
    if (groups !== undefined) {
      for (const [index, ops] of groups) {
        for (let at = 0; at < ops.length; at += SEGMENT_MAX_ENTRIES) {
          const part = ops.length <= SEGMENT_MAX_ENTRIES ? ops : ops.slice(at, at + SEGMENT_MAX_ENTRIES);
          const first = part[0]!;
          const segment = new Segment(first.clientKeyBytes!, first.n, part.length);
          for (const op of part) {
            // Taken: from now on the index finds the entry in its segment.
            if (index.get(op.n) === op) index.set(op.n, segment);
            else segment.live--;
          }
          if (segment.live === 0) continue;
          batch = segments!.db.put(segment as unknown as TableKey,
            segments!.encode(first.owner!, part.map((op) => op.value)));
          issued++;
          this.segmentsWritten++;
          this.entriesInSegments += part.length;
        }
      }
    }
    if (this.#newest > 0) this.#outstanding.set(this.#generation, this.#newest);
    this.#newest = 0;
    this.#generation++;
    this.#liveWrites -= count;
    this.writesIssued += issued;
    this.commits++;
    this.hasUnsynced = true;
    const root = this.#root;
    // (No write handed over only when every segment lost all its entries before it was written: nothing to wait for.)
    const written = batch ?? RESOLVED;
    const done = this.#isSynced ? written.then(() => root.flushed) : written;
    this.#committing = done;
    done.then(() => this.#committed(generations, counts, undefined),
      (err: unknown) => this.#committed(generations, counts, err as Error));
  };

  #committed(generations: readonly number[], counts: readonly number[], err: Error | undefined): void {
    this.#committing = undefined;
    if (err !== undefined) for (const generation of generations) this.#failed.set(generation, { err, isReported: false });
    let isAnyDone = false;
    for (let i = 0; i < generations.length; i++) isAnyDone = this.#release(generations[i]!, counts[i]!) || isAnyDone;
    if (isAnyDone || err !== undefined) this.#settle();
    if (this.#liveWrites > 0) this.#commitNow();
    else this.#writes = [];
  }

  /** Some write queued is not committed or cancelled yet. */
  get hasOutstanding(): boolean {
    return this.#newest > 0 || this.#outstanding.size > 0;
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
    const waiters = this.#waiters;
    this.#waiters = [];
    if (waiters.length > 0) {
      const err = new Error('the store was closed before these writes were committed');
      for (const waiter of waiters) waiter.settle(err);
    }
  }

  /** `n` writes of `generation` are committed or cancelled; true when that generation has none left. */
  #release(generation: number, n: number): boolean {
    if (generation === this.#generation) return (this.#newest -= n) === 0;
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
    return this.#newest > 0 ? this.#generation : Infinity;
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
    if (!this.hasOutstanding && this.#failed.size === 0) return RESOLVED;
    // A closed queue commits nothing more: a waiter would never settle.
    if (this.isClosed) return Promise.reject(new Error('the store was closed before these writes were committed'));
    const generation = this.#generation;
    // Every flush() of one generation shares one promise (covering the oldest writes any of them waits on).
    let waiter = this.#waiters.at(-1);
    if (waiter?.generation !== generation) {
      waiter = new Waiter(generation, this.#coveredFrom());
      this.#waiters.push(waiter);
      // Nothing left to wait for (only an unreported failure): settle at once.
      if (!this.hasOutstanding) this.#settle();
    }
    return waiter.promise;
  }
}

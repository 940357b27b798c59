/**
 * The durable store: one LMDB file (`<directory>/culex.mdb`, through lmdb-js) holding sessions, outbound entries,
 * inbound QoS 2 identifiers, retained messages and delayed wills, each in its own named database.
 *
 * Design note — group commit: the broker's synchronous `save*`/`put*`/`delete*` calls only queue a write
 * (write-queue.ts); one commit at a time hands the queue to lmdb-js as one transaction (written by its own thread),
 * and what is queued meanwhile waits for the next, so an outbound entry acknowledged before a commit took it never
 * reaches the disk. `flush()` waits for the commit that covers the writes before it, and then, per durability mode:
 * - `sync` (default): for the fsync too (lmdb-js `flushed`: with overlappingSync a commit resolves before its sync);
 *   the next commit starts after that sync. Loss window: none — a PUBACK/PUBREC means the message and its queue
 *   entries are on disk.
 * - `batched`: commits are not synced; a timer syncs every `batchWindowMs`. `flush()` waits for the commit only.
 *   Loss window: nothing on a crash of the process (a committed transaction is in the OS page cache); the writes of
 *   the last `batchWindowMs` (plus one sync) on a power loss or OS crash — or the whole store: without a sync per
 *   commit (MDB_NOSYNC) LMDB does not order its page and meta writes, so such a crash can leave the file
 *   inconsistent, and the corruption check below then moves it aside. (lmdb-js's overlappingSync keeps the file
 *   consistent but syncs every commit, which is what `sync` does.)
 * - `none`: no sync at all, and the broker does not wait (`isDurable` false). Loss window: the writes not yet
 *   committed (those of the last commit or two, a few ms) on a crash of the process; whatever the OS had not written
 *   on a power loss (or the whole store, as with `batched`).
 * Deleting a session removes its outbound entries and inbound identifiers one key at a time: an in-memory index of
 * those keys (built at open) spares a range scan inside the write transaction.
 *
 * Corruption: LMDB does not validate pages and can crash the process (SIGSEGV/SIGBUS) on a damaged file, so before
 * opening an existing file a child process reads every record (verify.ts); any failure there, or a record that fails
 * its check here, makes the file corrupt: it is renamed `culex.mdb.bad-<timestamp>`, reported through
 * `logger.error`, and the store starts empty — or, with `onCorruption: 'refuse'`, `open()` rejects.
 */
import { mkdirSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type {
  Persistence, RestoredState, StoredDelayedWill, StoredMessage, StoredOutgoing, StoredSession,
} from '../persistence.js';
import { acquireLock, type StoreLock } from './lock.js';
import { keyOf, messageRecord, sessionRecord, toIncoming, toMessage, toSession, toWill } from './records.js';
import { verifyInChild } from './verify.js';
import { decodeOutbound, type OutboundKey } from './outbound-record.js';
import { decodeSegment } from './segment-record.js';
import {
  convertFormat, FORMAT_VERSION, noOpenStats, openTables, readAll, segmentTable, type OpenStats, type WriteTables,
} from './tables.js';
import { Segment, WriteQueue, type KeyIndex, type TableKey } from './write-queue.js';

export type { OpenStats } from './tables.js';

export type Durability = 'sync' | 'batched' | 'none';

export interface LmdbPersistenceOptions {
  /** Directory of the store; created when missing. The file inside is `culex.mdb`. */
  readonly directory: string;
  /** Default 'sync'. See the design note for each mode's loss window. */
  readonly durability?: Durability;
  /** With 'batched': the longest time between syncs, in ms. Default 100. */
  readonly batchWindowMs?: number;
  /** 'move-aside' (default): rename a corrupt file and start empty. 'refuse': `open()` rejects instead. */
  readonly onCorruption?: 'move-aside' | 'refuse';
  /** Where corruption is reported. */
  readonly logger?: { error(message: string): void };
  /** Check an existing file in a child process before opening it (default true; tests of the codec may skip it). */
  readonly isVerifiedBeforeOpen?: boolean;
}

/** The store refused to open: a corrupt file with `onCorruption: 'refuse'`. */
export class StoreCorruptError extends Error {
  readonly code = 'MQTT_ERR_STORE_CORRUPT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreCorruptError';
  }
}

export const STORE_FILE = 'culex.mdb';
/** close(): how many times it waits for writes submitted meanwhile before it closes anyway. */
const CLOSE_FLUSH_ROUNDS = 8;
/** lmdb-js has `sync` (mdb_env_sync on its own thread) but its typings omit it. */
interface Syncable {
  sync(callback: (err?: Error | null) => void): unknown;
}

function syncEnv(root: RootDatabase): Promise<void> {
  return new Promise((resolve, reject) => {
    (root as unknown as Syncable).sync((err) => (err === undefined || err === null ? resolve() : reject(err)));
  });
}

/** One client's outbound entries and inbound QoS 2 identifiers in the store (for deleteSession and the write queue). */
interface ClientKeys {
  /** The client id as a key (keyOf). */
  readonly key: string;
  /** `key` as UTF-8, for outbound keys (OutboundKey). */
  readonly keyBytes: Buffer;
  readonly seqs: KeyIndex;
  readonly packetIds: KeyIndex;
}

export class LmdbPersistence implements Persistence {
  readonly name = 'lmdb';
  readonly isDurable: boolean;
  readonly durability: Durability;
  readonly file: string;
  readonly #options: LmdbPersistenceOptions;
  #root: RootDatabase | undefined;
  #lock: StoreLock | undefined;
  /** By client id. */
  readonly #index = new Map<string, ClientKeys>();
  #queue: WriteQueue | undefined;
  /** The queue and the tables the write calls use, set when the tables are open (not built per write). */
  #writeTarget: { q: WriteQueue; db: WriteTables } | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #openStats = noOpenStats();

  constructor(options: LmdbPersistenceOptions) {
    this.#options = options;
    this.durability = options.durability ?? 'sync';
    this.isDurable = this.durability !== 'none';
    this.file = join(options.directory, STORE_FILE);
  }

  async open(): Promise<RestoredState> {
    mkdirSync(this.#options.directory, { recursive: true });
    this.#lock = acquireLock(this.#options.directory);
    this.#openStats = noOpenStats();
    try {
      if (existsSync(this.file) && this.#options.isVerifiedBeforeOpen !== false) {
        const began = performance.now();
        const problem = await verifyInChild(this.file);
        this.#openStats.verifyMs = performance.now() - began;
        if (problem !== undefined) this.#corrupt(problem);
      }
      let state: RestoredState;
      const began = performance.now();
      try {
        state = await this.#openAndRead();
      } catch (err) {
        this.#closeEnv();
        this.#corrupt((err as Error).message, err);
        state = await this.#openAndRead();
      }
      this.#openStats.readWallMs = performance.now() - began;
      this.#startSyncTimer();
      return state;
    } catch (err) {
      this.#lock.release();
      this.#lock = undefined;
      throw err;
    }
  }

  /** What the last `open()` cost (for the store-scale benchmark and logs). */
  get openStats(): Readonly<OpenStats> {
    return this.#openStats;
  }

  /** A corrupt file: refuse, or move it aside (the caller then opens a new, empty one). */
  #corrupt(problem: string, cause?: unknown): void {
    if (this.#options.onCorruption === 'refuse') {
      throw new StoreCorruptError(`the store ${this.file} is corrupt (${problem}); refusing to start`, { cause });
    }
    const stamp = new Date().toISOString().replaceAll(':', '-');
    const aside = `${this.file}.bad-${stamp}`;
    renameSync(this.file, aside);
    rmSync(`${this.file}-lock`, { force: true });
    this.#options.logger?.error(`STORE CORRUPT: ${this.file} could not be read (${problem}). It was moved to ${aside}; `
      + 'the broker starts with an EMPTY store (no sessions, queued or retained messages).');
  }

  async #openAndRead(): Promise<RestoredState> {
    const isSynced = this.durability === 'sync';
    const root = openLmdb({ path: this.file, noSubdir: true, maxDbs: 12, noSync: !isSynced, overlappingSync: isSynced });
    this.#root = root;
    const db = openTables(root);
    this.#queue = new WriteQueue(root, isSynced, segmentTable(db.segments));
    // The write path treats every table alike; lmdb-js's typings make each key type its own Database type.
    this.#writeTarget = { q: this.#queue, db: db as unknown as WriteTables };
    const format = db.meta.get('format');
    if (format === 1 || format === 2) await convertFormat(format, root, db);
    else if (format === undefined || format === 3) await db.meta.put('format', FORMAT_VERSION);
    else if (format !== FORMAT_VERSION) throw new Error(`unknown store format ${String(format)}`);

    const stats = this.#openStats;
    const sessions: StoredSession[] = [];
    await readAll(db.sessions, stats, (_key, value) => {
      sessions.push(toSession(value));
    });
    const outgoing = new Map<string, StoredOutgoing[]>();
    await readAll(db.outbound, stats, (_key, value) => {
      const { clientId, entry } = decodeOutbound(value);
      let list = outgoing.get(clientId);
      if (list === undefined) outgoing.set(clientId, (list = []));
      list.push(entry);
      this.#keysOf(clientId).seqs.set(entry.seq, null);
    });
    // Entries in segments, unless a record of their own (read above) is newer; a segment with no current entry left
    // is removed.
    const merged = new Set<StoredOutgoing[]>();
    await readAll(db.segments, stats, (key, value) => {
      const { clientId, entries } = decodeSegment(value);
      const keys = this.#keysOf(clientId);
      const segment = new Segment(keys.keyBytes, (key as unknown as OutboundKey).n, entries.length, 0);
      let list = outgoing.get(clientId);
      if (list === undefined) outgoing.set(clientId, (list = []));
      for (const entry of entries) {
        if (keys.seqs.has(entry.seq)) continue;
        keys.seqs.set(entry.seq, segment);
        segment.live++;
        list.push(entry);
        merged.add(list);
      }
      if (segment.live === 0) this.#queue!.set(db.segments as Database<unknown, TableKey>, segment, undefined);
    });
    for (const list of merged) list.sort((a, b) => a.seq - b.seq);
    for (const [clientId, list] of outgoing) if (list.length === 0) outgoing.delete(clientId);
    const incomingQos2 = new Map<string, number[]>();
    await readAll(db.incoming, stats, (key, value) => {
      const clientId = toIncoming(value);
      let list = incomingQos2.get(clientId);
      if (list === undefined) incomingQos2.set(clientId, (list = []));
      list.push(key[1]);
      this.#keysOf(clientId).packetIds.set(key[1], null);
    });
    const retained: StoredMessage[] = [];
    await readAll(db.retained, stats, (_key, value) => {
      retained.push(toMessage(value, 'retained message'));
    });
    const delayedWills: StoredDelayedWill[] = [];
    await readAll(db.wills, stats, (_key, value) => {
      delayedWills.push(toWill(value));
    });
    return { sessions, outgoing, incomingQos2, retained, delayedWills };
  }

  #keysOf(clientId: string): ClientKeys {
    let keys = this.#index.get(clientId);
    if (keys === undefined) {
      const key = keyOf(clientId);
      this.#index.set(clientId, (keys = { key, keyBytes: Buffer.from(key), seqs: new Map(), packetIds: new Map() }));
    }
    return keys;
  }

  #startSyncTimer(): void {
    if (this.durability !== 'batched') return;
    const windowMs = this.#options.batchWindowMs ?? 100;
    this.#syncTimer = setInterval(() => {
      if (this.#queue?.hasUnsynced !== true || this.#root === undefined) return;
      this.#queue.hasUnsynced = false;
      // Syncs what is committed; a commit still running is synced by the next tick.
      syncEnv(this.#root).catch((err: unknown) => {
        this.#options.logger?.error(`store sync failed: ${(err as Error).message}`);
      });
    }, windowMs);
    this.#syncTimer.unref();
  }

  #closeEnv(): void {
    try {
      this.#root?.close();
    } catch {
      // Closing a damaged environment may fail; the file is moved aside next.
    }
    this.#root = undefined;
    this.#closeQueue();
    this.#index.clear();
  }

  #closeQueue(): void {
    this.#queue?.close();
    this.#queue = undefined;
    this.#writeTarget = undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.#syncTimer);
    const root = this.#root;
    const queue = this.#queue;
    if (root !== undefined && queue !== undefined) {
      // Writes submitted while close() waits (a session saved as its connection closes, a write made as a flush()
      // settles) are committed too, and a clean shutdown leaves everything on disk whatever the durability mode. The
      // check that nothing is left and the queue's close() run in one go, so no write can slip in between.
      await queue.flush().catch(() => {});
      this.#splitSegments();
      for (let round = 1; ; round++) {
        await queue.flush().catch(() => {});
        if (this.durability !== 'sync') await syncEnv(root).catch(() => {});
        if (!queue.hasOutstanding) break;
        if (round === CLOSE_FLUSH_ROUNDS) {
          // A store that keeps being written to: let the commit under way end (and reach the disk), then close.
          // What was never handed to lmdb-js is dropped and its flush() rejects.
          await queue.idle();
          if (this.durability !== 'sync') await syncEnv(root).catch(() => {});
          break;
        }
      }
      this.#closeQueue();
      await root.close();
    }
    this.#root = undefined;
    this.#closeQueue();
    this.#index.clear();
    this.#lock?.release();
    this.#lock = undefined;
  }

  /**
   * For a clean shutdown: the current entries of every segment some of whose entries are gone (acknowledged) are
   * rewritten as records of their own, so the segment's record goes and a restart does not bring the gone ones back.
   */
  #splitSegments(): void {
    const target = this.#writeTarget;
    if (target === undefined) return;
    const { q, db } = target;
    for (const [clientId, keys] of this.#index) {
      let partial: Set<Segment> | undefined;
      for (const value of keys.seqs.values()) {
        if (value instanceof Segment && value.live < value.size) (partial ??= new Set()).add(value);
      }
      if (partial === undefined) continue;
      for (const segment of partial) {
        const bytes = db.segments.get(segment as unknown as TableKey) as Buffer | undefined;
        if (bytes === undefined) continue;
        for (const entry of decodeSegment(bytes).entries) {
          if (keys.seqs.get(entry.seq) !== segment) continue;
          q.setIndexed(db.outbound, keys.seqs, keys.keyBytes, entry.seq, entry, clientId);
        }
      }
    }
  }

  #writes(): { q: WriteQueue; db: WriteTables } {
    if (this.#writeTarget === undefined) throw new Error('LmdbPersistence: write before open()');
    return this.#writeTarget;
  }

  saveSession(session: StoredSession): void {
    const { q, db } = this.#writes();
    q.set(db.sessions, keyOf(session.clientId), sessionRecord(session));
  }

  deleteSession(clientId: string): void {
    const { q, db } = this.#writes();
    const keys = this.#index.get(clientId);
    q.set(db.sessions, keys?.key ?? keyOf(clientId), undefined);
    if (keys === undefined) return;
    for (const seq of keys.seqs.keys()) q.setIndexed(db.outbound, keys.seqs, keys.keyBytes, seq, undefined);
    for (const id of keys.packetIds.keys()) q.setIndexed(db.incoming, keys.packetIds, keys.key, id, undefined);
    this.#index.delete(clientId);
  }

  putOutgoing(clientId: string, entry: StoredOutgoing): void {
    const { q, db } = this.#writes();
    const keys = this.#keysOf(clientId);
    q.setIndexed(db.outbound, keys.seqs, keys.keyBytes, entry.seq, entry, clientId);
  }

  deleteOutgoing(clientId: string, seq: number): void {
    const { q, db } = this.#writes();
    const keys = this.#index.get(clientId);
    if (keys !== undefined) q.setIndexed(db.outbound, keys.seqs, keys.keyBytes, seq, undefined);
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    const { q, db } = this.#writes();
    const keys = this.#keysOf(clientId);
    if (!keys.packetIds.has(packetId)) q.setIndexed(db.incoming, keys.packetIds, keys.key, packetId, clientId);
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    const { q, db } = this.#writes();
    const keys = this.#index.get(clientId);
    if (keys !== undefined) q.setIndexed(db.incoming, keys.packetIds, keys.key, packetId, undefined);
  }

  putRetained(topic: string, message: StoredMessage | undefined): void {
    const { q, db } = this.#writes();
    q.set(db.retained, keyOf(topic), message === undefined ? undefined : messageRecord(message));
  }

  putDelayedWill(clientId: string, will: { readonly message: StoredMessage; readonly fireAtMs: number }): void {
    const { q, db } = this.#writes();
    q.set(db.wills, keyOf(clientId), { c: clientId, f: will.fireAtMs, m: messageRecord(will.message) });
  }

  deleteDelayedWill(clientId: string): void {
    const { q, db } = this.#writes();
    q.set(db.wills, keyOf(clientId), undefined);
  }

  /** Resolves when every write submitted before the call is durable (`batched`: committed). */
  flush(): Promise<void> {
    if (this.#queue === undefined) return Promise.reject(new Error('LmdbPersistence: flush() before open()'));
    return this.#queue.flush();
  }

  /**
   * Write counters: handed to lmdb-js (a segment counts as one), cancelled out before a commit took them,
   * transactions, segment records written and the entries they held.
   */
  get writeStats(): { issued: number; cancelled: number; commits: number; segments: number; inSegments: number } {
    const q = this.#queue;
    return {
      issued: q?.writesIssued ?? 0, cancelled: q?.writesCancelled ?? 0, commits: q?.commits ?? 0,
      segments: q?.segmentsWritten ?? 0, inSegments: q?.entriesInSegments ?? 0,
    };
  }
}


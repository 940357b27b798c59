/**
 * The lmdb store's tables: their options and opening, what the write queue needs to write segments, the conversion
 * of older store formats, and the paged read of a table at start-up (lmdb-persistence.ts uses them).
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { Database, RootDatabase } from 'lmdb';
import type { StoredOutgoing } from '../persistence.js';
import { toOutgoing } from './records.js';
import {
  decodeOutbound, encodeOutbound, outboundKeyEncoder, OutboundRecordEncoder, type OutboundKey,
} from './outbound-record.js';
import { encodeSegment } from './segment-record.js';
import type { SegmentTable, TableKey } from './write-queue.js';

/**
 * 4: as 3, plus the `segments` table (QoS 1 outbound entries written together, write-queue.ts). 3: outbound entries
 * in the `outbound` table, binary records under binary keys (outbound-record.ts). 2: the same records under
 * ordered-binary [client key, seq] keys. 1: in `outgoing`, msgpack. A store of format 1 or 2 is converted when
 * opened; one of format 3 only gets the new table.
 */
export const FORMAT_VERSION = 4;
/** At start-up the store is read a page per event-loop turn; a page ends after this many ms... */
const RESTORE_PAGE_MS = 3;
/** ...checked every this many records. */
const RESTORE_CHECK_EVERY = 8;

/** What the last `open()` cost: the corruption check, and the read of the records in time-bounded pages. */
export interface OpenStats {
  /** Wall time of the check in a child process (0 when skipped). */
  verifyMs: number;
  /** Time spent reading and checking records on the event loop, summed over the pages (not the waits between). */
  readMs: number;
  /** Wall time from opening the file to the last record read. */
  readWallMs: number;
  records: number;
  pages: number;
  longestPageMs: number;
  /**
   * CPU time of the whole process (all threads) during that page: well under longestPageMs means the process waited
   * for a CPU for most of it.
   */
  longestPageCpuMs: number;
  /** Pages that took more than twice their budget: a GC pause, or the process waiting for a CPU, inside them. */
  slowPages: number;
}

export function noOpenStats(): OpenStats {
  return { verifyMs: 0, readMs: 0, readWallMs: 0, records: 0, pages: 0, longestPageMs: 0, longestPageCpuMs: 0, slowPages: 0 };
}

export interface Databases {
  meta: Database<unknown, string>;
  sessions: Database<unknown, string>;
  outbound: Database<Buffer, TableKey>;
  segments: Database<Buffer, TableKey>;
  incoming: Database<unknown, [string, number]>;
  retained: Database<unknown, string>;
  wills: Database<unknown, string>;
}

/** Opens (creating when missing) every table of the current format. */
export function openTables(root: RootDatabase): Databases {
  return {
    meta: root.openDB({ name: 'meta' }),
    sessions: root.openDB({ name: 'sessions' }),
    outbound: root.openDB(outboundTable()),
    segments: root.openDB(segmentsTable()),
    incoming: root.openDB({ name: 'incoming' }),
    retained: root.openDB({ name: 'retained' }),
    wills: root.openDB({ name: 'wills' }),
  };
}

export type WriteTables = Record<Exclude<keyof Databases, 'meta'>, Database<unknown, TableKey>>;

/**
 * The outbound table's options: its own key and value encoders (outbound-record.ts); the value encoder is per store,
 * as it holds the slab records are written into. lmdb-js takes a custom key encoder per database (its typings list
 * it for the root only).
 */
function outboundTable(): { name: string; encoding: 'binary'; keyEncoder: typeof outboundKeyEncoder;
  encoder: OutboundRecordEncoder; } {
  return { name: 'outbound', encoding: 'binary', keyEncoder: outboundKeyEncoder, encoder: new OutboundRecordEncoder() };
}

/**
 * What the write queue needs to write segments. Made outside `#openAndRead`: closures made there would share its
 * scope, and so keep everything it restored (sessions, entries) alive as long as the queue (seen in a heap snapshot:
 * +0.9 KB per session with one queued message).
 */
export function segmentTable(db: Database<Buffer, TableKey>): SegmentTable {
  return {
    db: db as Database<unknown, TableKey>,
    canGroup: (value) => (value as StoredOutgoing).qos === 1,
    encode: (owner, values) => encodeSegment(owner, values as StoredOutgoing[]),
  };
}

/** The segments table's options: keys as the outbound table's, values the bytes encodeSegment makes. */
function segmentsTable(): { name: string; encoding: 'binary'; keyEncoder: typeof outboundKeyEncoder } {
  return { name: 'segments', encoding: 'binary', keyEncoder: outboundKeyEncoder };
}

/**
 * Converts a store of format 1 (outbound entries as msgpack in `outgoing`) or 2 (binary records under ordered-binary
 * keys in `outbound`) to the current one, in one transaction: each entry is rewritten in `outbound` under its binary
 * key, the old table (1) or old keys (2) go, and the format becomes current.
 */
export async function convertFormat(format: 1 | 2, root: RootDatabase, db: Databases): Promise<void> {
  const legacy = format === 1 ? root.openDB<unknown, [string, number]>({ name: 'outgoing' })
    : root.openDB<Buffer, [string, number]>({ name: 'outbound', encoding: 'binary' });
  await root.transaction(() => {
    const entries = [...legacy.getRange()].map(({ key, value }) => ({
      key, ...(format === 1 ? toOutgoing(value) : decodeOutbound(value as Buffer)),
    }));
    if (format === 1) legacy.dropSync();
    else for (const { key } of entries) legacy.removeSync(key);
    for (const { key, clientId, entry } of entries) {
      const outboundKey: OutboundKey = { clientKeyBytes: Buffer.from(key[0]), n: key[1] };
      db.outbound.put(outboundKey as unknown as TableKey, encodeOutbound(clientId, entry));
    }
    db.meta.put('format', FORMAT_VERSION);
  });
}

/**
 * Calls `onRecord` for every record of a database, a page per event-loop turn. A page ends after RESTORE_PAGE_MS
 * (checked every RESTORE_CHECK_EVERY records), so the turn stays short whatever the size of the records and the
 * work done with each.
 */
export async function readAll<V, K extends string | [string, number]>(
  db: Database<V, K>, stats: OpenStats, onRecord: (key: K, value: V) => void,
): Promise<void> {
  let start: K | undefined;
  for (;;) {
    const began = performance.now();
    const cpu = process.cpuUsage();
    let isLast = true;
    let count = 0;
    for (const { key, value } of db.getRange(start === undefined ? {} : { start, exclusiveStart: true })) {
      onRecord(key, value);
      start = key;
      if (++count % RESTORE_CHECK_EVERY === 0 && performance.now() - began >= RESTORE_PAGE_MS) {
        isLast = false;
        break;
      }
    }
    const ms = performance.now() - began;
    stats.pages++;
    stats.records += count;
    stats.readMs += ms;
    if (ms > stats.longestPageMs) {
      const used = process.cpuUsage(cpu);
      stats.longestPageMs = ms;
      stats.longestPageCpuMs = (used.user + used.system) / 1000;
    }
    if (ms > 2 * RESTORE_PAGE_MS) stats.slowPages++;
    if (isLast) return;
    await turn();
  }
}

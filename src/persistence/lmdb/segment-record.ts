/**
 * A segment: the first writes of several QoS 1 entries of one client, taken by one commit, in one record of the
 * `segments` table (see write-queue.ts). Layout: u8 version (1), u32 count (>= 1), then for each entry a u32 length
 * and its outbound record (outbound-record.ts); every record names the same client. A read checks each part as the
 * outbound records' reads do; anything else is a BadRecordError, which the store handles as corruption.
 */
import type { StoredOutgoing } from '../persistence.js';
import { decodeOutbound, measure, newLayout, propertiesJsonOf, writeRecord } from './outbound-record.js';
import { BadRecordError } from './records.js';

function fail(what: string): never {
  throw new BadRecordError(`bad outbound segment (${what})`);
}

const SEGMENT_VERSION = 1;

export function encodeSegment(clientId: string, entries: readonly StoredOutgoing[]): Buffer {
  // Measured twice (to size the buffer, then to write each record) with one Layout: no object per entry. The
  // properties' JSON, the one costly part, is made once.
  const jsons = entries.map(propertiesJsonOf);
  const layout = newLayout();
  let size = 5;
  for (let i = 0; i < entries.length; i++) size += 4 + measure(clientId, entries[i]!, layout, jsons[i]).size;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = SEGMENT_VERSION;
  buf.writeUInt32BE(entries.length, 1);
  let at = 5;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    measure(clientId, e, layout, jsons[i]);
    buf.writeUInt32BE(layout.size, at);
    writeRecord(buf, at + 4, clientId, e, layout);
    at += 4 + layout.size;
  }
  return buf;
}

/** Reads a segment; throws BadRecordError unless it is whole and valid, and every record names one client. */
export function decodeSegment(bytes: Buffer): { clientId: string; entries: StoredOutgoing[] } {
  if (bytes.length < 5) fail('too short');
  if (bytes[0] !== SEGMENT_VERSION) fail(`version ${bytes[0]}`);
  const count = bytes.readUInt32BE(1);
  if (count === 0) fail('empty');
  const entries: StoredOutgoing[] = [];
  let clientId = '';
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) fail('truncated');
    const end = at + 4 + bytes.readUInt32BE(at);
    if (end > bytes.length) fail('truncated');
    const record = decodeOutbound(bytes.subarray(at + 4, end));
    if (i === 0) clientId = record.clientId;
    else if (record.clientId !== clientId) fail('records of two clients');
    entries.push(record.entry);
    at = end;
  }
  if (at !== bytes.length) fail('bytes after the segment');
  return { clientId, entries };
}


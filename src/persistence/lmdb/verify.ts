/**
 * Reads every record of a store file in a child process. LMDB trusts its pages: a damaged file can crash the reading
 * process with SIGSEGV or SIGBUS instead of throwing, so the broker lets a child take that risk first. The child
 * exits 0 when every record reads, 1 with the problem on stderr otherwise; a crash shows as the signal.
 *
 * Design note: the child walks the main database (the tables' names) and every key and value of every table (every
 * page of the B-trees and every overflow page of a large value) but does not decode the values: the broker decodes
 * and checks each record when it reads the store right after (records.ts), and a bad record there is handled as
 * corruption too. Leaving out the msgpack decode (values are handed over as views of lmdb-js's read buffer, never
 * copied) makes the check about three times faster, and the check is part of the start-up time.
 *
 * What it cannot check: LMDB's free-page list (its database 0, which lmdb-js does not open). Damage that hits only
 * that list passes here and can still crash the broker when it writes.
 *
 * Run directly: `node verify.js <file>`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open as openLmdb } from 'lmdb';

/** The tables of the current format, then `outgoing` of format 1 (converted when the store opens), when present. */
const DATABASES = ['meta', 'sessions', 'outbound', 'segments', 'incoming', 'retained', 'wills', 'outgoing'];
const PAGE_BYTES = 4096;

/** Resolves with undefined when the file is sound, or with what is wrong with it. */
export function verifyInChild(file: string): Promise<string | undefined> {
  const self = fileURLToPath(import.meta.url);
  // Under a TypeScript loader (tests), the child needs the same loader, found from here rather than from its cwd.
  const loader = self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...loader, self, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('error', (err) => resolve(`could not start the check: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(undefined);
      else if (signal !== null) resolve(`reading it crashed the checking process (${signal})`);
      else resolve(stderr.trim().split('\n').at(-1) ?? `check failed (exit ${code})`);
    });
  });
}

/** Touches every record of every database; returns the number of records and a sum of the bytes read. */
function verify(file: string): { records: number; sum: number } {
  let touched = 0;
  // The value bytes as they are (a view lmdb-js reuses): one byte read per page, so that a value kept on overflow
  // pages is faulted in, and read, page by page.
  const encoder = {
    encode: (value: unknown): Buffer => value as Buffer,
    decode: (bytes: Uint8Array): number => {
      let sum = 0;
      for (let i = 0; i < bytes.length; i += PAGE_BYTES) sum += bytes[i]!;
      if (bytes.length > 0) sum += bytes[bytes.length - 1]!;
      touched = (touched + sum) | 0;
      return bytes.length;
    },
  };
  const root = openLmdb({ path: file, noSubdir: true, maxDbs: 12, readOnly: true, encoder, keyEncoding: 'binary' });
  let records = 0;
  // The main database first: its records are the tables' names and roots. A damaged page there can hide a table
  // (a read-only open then finds no such table, and a check of the tables alone passes); the broker would then
  // create the table again and write over the damaged page, which corrupts its heap.
  for (const _ of root.getRange()) records++;
  for (const name of DATABASES) {
    // lmdb-js takes a custom encoder per database (its typings list it for the root only). Keys are read as bytes:
    // the outbound table's keys have an encoding of their own (outbound-record.ts), and none needs decoding here.
    const options = { name, encoder, keyEncoding: 'binary' as const };
    // lmdb-js returns undefined for a table a read-only environment does not have.
    const db = root.openDB(options) as ReturnType<typeof root.openDB> | undefined;
    if (db === undefined) continue;
    for (const { value } of db.getRange()) {
      if (typeof value !== 'number') throw new Error('the check read a decoded value instead of its bytes');
      records++;
    }
  }
  root.close();
  return { records, sum: touched };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    verify(process.argv[2]!);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

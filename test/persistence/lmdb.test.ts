/**
 * The persistence conformance suite on the lmdb store, in each durability mode. A restart is a new instance over
 * the same directory (a fresh temporary directory per test). The corruption check in a child process is off here
 * (it costs a process start per reopen); lmdb-store.test.ts covers it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { LmdbPersistence, type Durability } from '../../src/persistence/lmdb/lmdb-persistence.js';
import { persistenceConformance } from '../conformance/persistence.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

for (const durability of ['sync', 'batched', 'none'] as Durability[]) {
  persistenceConformance(`lmdb (${durability})`, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'culex-lmdb-'));
    dirs.push(directory);
    const make = (): LmdbPersistence => new LmdbPersistence({
      directory, durability, batchWindowMs: 20, isVerifiedBeforeOpen: false,
    });
    return { store: make(), reopen: async () => make() };
  });
}

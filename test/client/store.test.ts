/** The in-flight store conformance suite on MemoryStore and FileStore, and FileStore's crash-safety details. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, MemoryStore } from '../../src/index.js';
import { storeConformance } from './store-conformance.js';

const dirs: string[] = [];
process.on('exit', () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-store-'));
  dirs.push(dir);
  return dir;
}

storeConformance('MemoryStore', () => {
  const store = new MemoryStore();
  return { open: () => store, reopens: false };
});

storeConformance('FileStore', () => {
  const dir = tempDir();
  return { open: () => new FileStore(dir), reopens: true };
});

test('FileStore ignores and removes a half-written .tmp file left by a crash', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, '0000000000000001.123.abc.tmp'), 'partial');
  const store = new FileStore(dir);
  assert.deepEqual(await store.load(), []);
  assert.deepEqual(readdirSync(dir), []);
});

/** The in-flight store conformance suite on MemoryStore and FileStore, and FileStore's crash-safety details. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient, FileStore, MemoryStore, type InflightStore, type MqttClientError } from '../../src/index.js';
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

test('a client\'s publishes made before its store is loaded wait for the load: no stored message is overwritten, and the new ones follow the stored ones', async () => {
  // The store holds a message from an earlier run (seq 1, packet id 1), and load() takes a while (as a FileStore's
  // reading a directory does). Before the fix, a publish made at once took seq 1 and overwrote it in the store, and a
  // FileStore's load removed the temporary file of that publish's write.
  const inner = new MemoryStore();
  await inner.put({ seq: 1, topic: 'old', payload: Buffer.from('old'), qos: 1, retain: false, packetId: 1, isSent: true, state: 'publish' });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const calls: string[] = [];
  const store: InflightStore = {
    load: async () => {
      calls.push('load');
      const entries = await inner.load();
      await gate;
      calls.push('loaded');
      return entries;
    },
    put: (entry) => { calls.push(`put ${entry.seq} ${entry.topic}`); return inner.put(entry); },
    delete: (seq) => { calls.push(`delete ${seq}`); return inner.delete(seq); },
    close: () => inner.close(),
  };
  const client = createClient('mqtt://127.0.0.1:1', {
    clientId: 'early-publisher', clean: false, store, reconnect: { initialDelayMs: 60_000 },
    dial: () => Promise.reject(new Error('offline')),
  });
  const settled: string[] = [];
  const early = [client.publish('new/a', 'a', { qos: 1 }), client.publish('new/b', 'b', { qos: 2 }), client.publish('new/c', 'c')]
    .map((p, i) => p.then(() => settled.push(`${i} ok`), (err: MqttClientError) => settled.push(`${i} ${err.code}`)));
  await delay(50);
  assert.deepEqual(calls, ['load'], 'nothing touches the store while it is being loaded');
  assert.equal(client.pendingPublishes, 3);
  release();
  await delay(50);
  assert.deepEqual(calls, ['load', 'loaded', 'put 2 new/a', 'put 3 new/b']);
  const stored = await inner.load();
  assert.deepEqual(stored.map((e) => [e.seq, e.topic]), [[1, 'old'], [2, 'new/a'], [3, 'new/b']]);
  assert.equal(new Set(stored.map((e) => e.packetId)).size, 3, 'the new messages got packet ids other than the stored one\'s');
  assert.equal(client.pendingPublishes, 4);
  await client.end();
  await Promise.all(early);
  assert.deepEqual(settled.toSorted(), ['0 MQTT_ERR_CLIENT_CLOSED', '1 MQTT_ERR_CLIENT_CLOSED', '2 MQTT_ERR_CLIENT_CLOSED']);
});

test('publishes waiting for the store to be loaded are rejected when the load fails', async () => {
  const store: InflightStore = {
    load: () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error('disk gone')), 20)),
    put: async () => undefined,
    delete: async () => undefined,
    close: async () => undefined,
  };
  const client = createClient('mqtt://127.0.0.1:1', { store, dial: () => Promise.reject(new Error('offline')) });
  await assert.rejects(client.publish('t', 'x', { qos: 1 }), { code: 'MQTT_ERR_STORE' });
});

test('publishes waiting for the store to be loaded count against maxQueuedMessages', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const inner = new MemoryStore();
  const store: InflightStore = {
    load: async () => { await gate; return inner.load(); },
    put: (entry) => inner.put(entry),
    delete: (seq) => inner.delete(seq),
    close: () => inner.close(),
  };
  const client = createClient('mqtt://127.0.0.1:1', { store, maxQueuedMessages: 2, dial: () => Promise.reject(new Error('offline')) });
  const kept = [client.publish('t/1', 'x', { qos: 1 }), client.publish('t/2', 'x', { qos: 1 })];
  await assert.rejects(client.publish('t/3', 'x', { qos: 1 }), { code: 'MQTT_ERR_QUEUE_FULL' });
  release();
  await delay(20);
  assert.equal(client.pendingPublishes, 2);
  await client.end();
  await Promise.allSettled(kept);
});

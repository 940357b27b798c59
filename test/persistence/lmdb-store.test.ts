/**
 * What the lmdb store does beyond the conformance suite: a really corrupted file (garbage over the header, garbage
 * over the middle, a record of the wrong shape) is moved aside and reported, or refused; one broker per store
 * directory; keys longer than LMDB allows.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import { LmdbPersistence, StoreCorruptError, type LmdbPersistenceOptions } from '../../src/persistence/lmdb/lmdb-persistence.js';
import { StoreLockedError } from '../../src/persistence/lmdb/lock.js';
import { encodeOutbound } from '../../src/persistence/lmdb/outbound-record.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-lmdb-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function collectingLogger(): { errors: string[]; error(message: string): void } {
  const errors: string[] = [];
  return { errors, error: (message) => errors.push(message) };
}

/** A store with 300 sessions, each with two outbound entries, and 2,000 retained messages; closed cleanly. */
async function populate(directory: string): Promise<void> {
  const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
  await store.open();
  for (let i = 0; i < 300; i++) {
    store.saveSession({ clientId: `c${i}`, expiryIntervalSeconds: 60, subscriptions: [] });
    for (const seq of [1, 2]) {
      store.putOutgoing(`c${i}`, {
        seq, qos: 1, state: 'queued', packetId: 0,
        message: { topic: `t/${i}`, payload: Buffer.alloc(100, i), qos: 1, retain: false },
      });
    }
  }
  for (let i = 0; i < 2000; i++) {
    store.putRetained(`r/${i}`, { topic: `r/${i}`, payload: Buffer.alloc(200, i), qos: 0, retain: true });
  }
  await store.close();
}

function overwrite(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(length, 0x5A), 0, length, offset);
  closeSync(fd);
}

async function openAfterDamage(t: TestContext, damage: (file: string) => void, options: Partial<LmdbPersistenceOptions> = {}) {
  const directory = tempDir(t);
  await populate(directory);
  const store = new LmdbPersistence({ directory, ...options });
  damage(store.file);
  const logger = collectingLogger();
  const opened = new LmdbPersistence({ directory, logger, ...options });
  t.after(() => opened.close());
  return { directory, opened, logger };
}

/**
 * The page number of the main database's root (the page that lists the tables) in the newer meta page. The offsets
 * are those of lmdb-js's LMDB (a 24-byte page header, then MDB_meta: magic, version, address, map size, the free
 * and main MDB_db records of 48 bytes each, last page, txnid); the magic number is checked so that a change of
 * layout fails here rather than damaging the wrong page.
 */
function mainRootPage(file: string): number {
  const bytes = readFileSync(file);
  const metas = [0, 4096].map((base) => {
    assert.equal(bytes.readUInt32LE(base + 24), 0xBEEFC0DE, 'an LMDB meta page');
    return { root: Number(bytes.readBigUInt64LE(base + 136)), txnid: bytes.readBigUInt64LE(base + 152) };
  });
  const newer = metas[0]!.txnid > metas[1]!.txnid ? metas[0]! : metas[1]!;
  assert.equal(Number(bytes.readBigUInt64LE(newer.root * 4096)), newer.root, 'the root page carries its own number');
  return newer.root;
}

function asideFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => /^culex\.mdb\.bad-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/.test(name));
}

describe('lmdb store: corruption', () => {
  const damages: [string, (file: string) => void][] = [
    ['garbage over the first 8 KiB (both meta pages)', (file) => overwrite(file, 0, 8192)],
    ['garbage over 80 KiB in the middle', (file) => overwrite(file, 4096 * 30, 4096 * 20)],
    ['the file cut to a third of its size', (file) => truncateSync(file, Math.floor(statSync(file).size / 3))],
    // Found by CI: with this page damaged, a read-only open finds no tables at all, so a check of the tables alone
    // passed, and the broker's own open then wrote over the page and corrupted its heap (SIGABRT in malloc).
    ['garbage over the page that holds the table names', (file) => overwrite(file, mainRootPage(file) * 4096, 4096)],
  ];
  for (const [what, damage] of damages) {
    test(`${what}: moved aside as culex.mdb.bad-<timestamp>, reported, the store starts empty and works`, async (t) => {
      const { directory, opened, logger } = await openAfterDamage(t, damage);
      const state = await opened.open();
      assert.deepEqual([state.sessions.length, state.retained.length, state.outgoing.size], [0, 0, 0]);
      assert.equal(asideFiles(directory).length, 1, `one file moved aside in ${readdirSync(directory).join(', ')}`);
      assert.equal(logger.errors.length, 1);
      assert.match(logger.errors[0]!, /^STORE CORRUPT: .*culex\.mdb could not be read \(.+\)\. It was moved to .*culex\.mdb\.bad-.*EMPTY store/);
      // The new store is a working one.
      opened.saveSession({ clientId: 'after', expiryIntervalSeconds: 1, subscriptions: [] });
      await opened.close();
      const again = new LmdbPersistence({ directory });
      t.after(() => again.close());
      assert.deepEqual((await again.open()).sessions.map((s) => s.clientId), ['after']);
    });
  }

  test('with onCorruption "refuse", open() rejects with MQTT_ERR_STORE_CORRUPT and leaves the file alone', async (t) => {
    const { directory, opened, logger } = await openAfterDamage(t, (file) => overwrite(file, 0, 8192),
      { onCorruption: 'refuse' });
    await assert.rejects(opened.open(), (err: unknown) => {
      assert.ok(err instanceof StoreCorruptError);
      assert.equal(err.code, 'MQTT_ERR_STORE_CORRUPT');
      assert.match(err.message, /culex\.mdb is corrupt \(.+\); refusing to start/);
      return true;
    });
    assert.deepEqual(asideFiles(directory), []);
    assert.deepEqual(logger.errors, []);
    // The lock is released: a store that moves the file aside can open the directory next.
    const mover = new LmdbPersistence({ directory });
    t.after(() => mover.close());
    assert.deepEqual((await mover.open()).sessions, []);
    assert.equal(asideFiles(directory).length, 1);
  });

  for (const isVerified of [true, false]) {
    test(`a record of the wrong shape is corruption too (check in a child process: ${isVerified})`, async (t) => {
      const { directory, opened, logger } = await openAfterDamage(t, (file) => {
        const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8 });
        root.openDB({ name: 'sessions' }).putSync('=c7', { c: 'c7', e: 'not a number', s: [] });
        root.close();
      }, { isVerifiedBeforeOpen: isVerified });
      assert.deepEqual((await opened.open()).sessions, []);
      assert.equal(asideFiles(directory).length, 1);
      assert.match(logger.errors[0] ?? '', /bad session/);
    });
  }
});

describe('lmdb store: outbound records', () => {
  const damages: [string, Buffer, Buffer, RegExp][] = [
    ['record', outboundKeyBytes('=c7', 1), Buffer.from([1, 1, 0]), /bad outbound entry \(too short\)/],
    ['key', Buffer.from('=c7'), encodeOutbound('c7', {
      seq: 1, qos: 1, state: 'queued', packetId: 0, message: { topic: 't', payload: Buffer.from('x'), qos: 1, retain: false },
    }), /bad outbound entry key/],
  ];
  for (const [what, key, value, message] of damages) {
    test(`a damaged outbound ${what} is corruption: moved aside and reported`, async (t) => {
      const { directory, opened, logger } = await openAfterDamage(t, (file) => {
        const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8 });
        root.openDB({ name: 'outbound', encoding: 'binary', keyEncoding: 'binary' }).putSync(key, value);
        root.close();
      }, { isVerifiedBeforeOpen: false });
      assert.deepEqual((await opened.open()).outgoing.size, 0);
      assert.equal(asideFiles(directory).length, 1);
      assert.match(logger.errors[0] ?? '', message);
    });
  }

  test('a store of format 1 (outbound entries as msgpack in `outgoing`) is converted when opened', async (t) => {
    const directory = tempDir(t);
    const file = join(directory, 'culex.mdb');
    const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8 });
    root.openDB({ name: 'meta' }).putSync('format', 1);
    const legacy = root.openDB({ name: 'outgoing' });
    for (const [c, n] of [['a', 1], ['a', 2], ['b', 5]] as const) {
      legacy.putSync([`=${c}`, n], {
        c, n, q: 1, st: 'queued', id: 0, m: { t: `t/${c}`, p: Buffer.from(`m${n}`), q: 1, r: false, x: 1_900_000_000_000 },
        si: [4],
      });
    }
    for (const name of ['sessions', 'incoming', 'retained', 'wills']) root.openDB({ name });
    await root.close();

    const store = new LmdbPersistence({ directory });
    const state = await store.open();
    assert.deepEqual(state.outgoing.get('a')?.map((e) => [e.seq, e.message.payload.toString(), e.subscriptionIdentifiers]),
      [[1, 'm1', [4]], [2, 'm2', [4]]]);
    assert.equal(state.outgoing.get('b')?.[0]?.message.expiresAtMs, 1_900_000_000_000);
    // The converted entries are the store's own now: deleting one deletes it on disk.
    store.deleteOutgoing('a', 1);
    await store.close();

    const check = openLmdb({ path: file, noSubdir: true, maxDbs: 8, readOnly: true });
    assert.equal(check.openDB({ name: 'meta' }).get('format'), 4);
    assert.equal(check.openDB({ name: 'outgoing' }), undefined, 'the format 1 table is dropped');
    assert.deepEqual(rawOutboundKeys(check), [outboundKeyBytes('=a', 2), outboundKeyBytes('=b', 5)]);
    await check.close();
    const again = new LmdbPersistence({ directory });
    t.after(() => again.close());
    const reopened = await again.open();
    assert.deepEqual(reopened.outgoing.get('a')?.map((e) => e.seq), [2]);
    assert.deepEqual(reopened.outgoing.get('b')?.map((e) => e.seq), [5]);
  });

  test('a store of format 2 (binary records under ordered-binary keys) is converted when opened', async (t) => {
    const directory = tempDir(t);
    const file = join(directory, 'culex.mdb');
    const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8 });
    root.openDB({ name: 'meta' }).putSync('format', 2);
    const old = root.openDB({ name: 'outbound', encoding: 'binary' });
    for (const [c, n] of [['a', 1], ['a', 2 ** 33], ['ü', 5]] as const) {
      old.putSync([`=${c}`, n], encodeOutbound(c, {
        seq: n, qos: 2, state: 'pubrel', packetId: 7, message: { topic: `t/${c}`, payload: Buffer.from(`m${n}`), qos: 2, retain: false },
      }));
    }
    for (const name of ['sessions', 'incoming', 'retained', 'wills']) root.openDB({ name });
    await root.close();

    const store = new LmdbPersistence({ directory });
    const state = await store.open();
    assert.deepEqual(state.outgoing.get('a')?.map((e) => [e.seq, e.state, e.message.payload.toString()]),
      [[1, 'pubrel', 'm1'], [2 ** 33, 'pubrel', `m${2 ** 33}`]]);
    assert.deepEqual(state.outgoing.get('ü')?.map((e) => e.seq), [5]);
    store.deleteOutgoing('a', 1);
    await store.close();

    const check = openLmdb({ path: file, noSubdir: true, maxDbs: 8, readOnly: true });
    assert.equal(check.openDB({ name: 'meta' }).get('format'), 4);
    assert.deepEqual(rawOutboundKeys(check), [outboundKeyBytes('=a', 2 ** 33), outboundKeyBytes('=ü', 5)],
      'only binary keys are left, in client then seq order');
    await check.close();
    const again = new LmdbPersistence({ directory });
    t.after(() => again.close());
    assert.deepEqual((await again.open()).outgoing.get('a')?.map((e) => e.seq), [2 ** 33]);
  });

  test('a store of format 3 (no segments table) opens as it is and becomes format 4', async (t) => {
    const directory = tempDir(t);
    const file = join(directory, 'culex.mdb');
    const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8 });
    root.openDB({ name: 'meta' }).putSync('format', 3);
    const outbound = root.openDB({ name: 'outbound', encoding: 'binary', keyEncoding: 'binary' });
    outbound.putSync(outboundKeyBytes('=a', 1), encodeOutbound('a', {
      seq: 1, qos: 1, state: 'publish', packetId: 3, message: { topic: 't', payload: Buffer.from('m1'), qos: 1, retain: false },
    }));
    for (const name of ['sessions', 'incoming', 'retained', 'wills']) root.openDB({ name });
    await root.close();

    const store = new LmdbPersistence({ directory });
    const state = await store.open();
    assert.deepEqual(state.outgoing.get('a')?.map((e) => [e.seq, e.packetId]), [[1, 3]]);
    // The old record is acknowledged (removed); a new entry goes into a segment.
    store.deleteOutgoing('a', 1);
    store.putOutgoing('a', { seq: 2, qos: 1, state: 'queued', packetId: 0, message: { topic: 't', payload: Buffer.from('m2'), qos: 1, retain: false } });
    await store.flush();
    assert.equal(store.writeStats.segments, 1);
    await store.close();

    const check = openLmdb({ path: file, noSubdir: true, maxDbs: 12, readOnly: true });
    assert.equal(check.openDB({ name: 'meta' }).get('format'), 4);
    assert.deepEqual(rawOutboundKeys(check), []);
    await check.close();
    const again = new LmdbPersistence({ directory });
    t.after(() => again.close());
    assert.deepEqual((await again.open()).outgoing.get('a')?.map((e) => e.seq), [2]);
  });
});

/** The outbound table's key for (client key, seq): UTF-8, a 0 byte, the seq as 8 bytes big-endian. */
function outboundKeyBytes(clientKey: string, seq: number): Buffer {
  const n = Buffer.alloc(8);
  n.writeBigUInt64BE(BigInt(seq));
  return Buffer.concat([Buffer.from(clientKey), Buffer.from([0]), n]);
}

function rawOutboundKeys(root: RootDatabase): Buffer[] {
  return [...root.openDB({ name: 'outbound', encoding: 'binary', keyEncoding: 'binary' }).getKeys()] as Buffer[];
}

describe('lmdb store: one broker per directory', () => {
  test('a second store on an open directory is refused with MQTT_ERR_STORE_LOCKED', async (t) => {
    const directory = tempDir(t);
    const first = new LmdbPersistence({ directory });
    t.after(() => first.close());
    await first.open();
    const second = new LmdbPersistence({ directory });
    await assert.rejects(second.open(), (err: unknown) => err instanceof StoreLockedError
      && err.code === 'MQTT_ERR_STORE_LOCKED' && err.message.includes(`process ${process.pid}`));
    await first.close();
    await second.open();
    await second.close();
  });

  test('the lock of a process that is gone (kill -9) is taken over', async (t) => {
    const directory = tempDir(t);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(directory, 'culex.lock'), gone.stdout);
    const store = new LmdbPersistence({ directory });
    t.after(() => store.close());
    assert.deepEqual((await store.open()).sessions, []);
  });
});

const long = (c: string): string => c.repeat(5000);

describe('lmdb store: keys', () => {
  test('topics and client ids longer than an LMDB key round-trip, and stay apart', async (t) => {
    const directory = tempDir(t);
    const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
    await store.open();
    for (const c of ['a', 'b', 'ü']) {
      store.putRetained(long(c), { topic: long(c), payload: Buffer.from(c), qos: 0, retain: true });
      store.saveSession({ clientId: long(c), expiryIntervalSeconds: 5, subscriptions: [] });
      store.putOutgoing(long(c), {
        seq: 1, qos: 1, state: 'queued', packetId: 0, message: { topic: 't', payload: Buffer.from(c), qos: 1, retain: false },
      });
      store.putIncomingQos2(long(c), 9);
    }
    store.deleteSession(long('b'));
    await store.close();
    const again = new LmdbPersistence({ directory });
    t.after(() => again.close());
    const state = await again.open();
    assert.deepEqual(state.retained.map((m) => m.topic.length).toSorted(), [5000, 5000, 5000]);
    assert.deepEqual(state.retained.map((m) => m.payload.toString()).toSorted(), ['a', 'b', 'ü']);
    assert.deepEqual(state.sessions.map((s) => s.clientId[0]).toSorted(), ['a', 'ü']);
    assert.deepEqual([...state.outgoing.keys()].map((id) => id[0]).toSorted(), ['a', 'ü']);
    assert.deepEqual([...state.incomingQos2.values()], [[9], [9]]);
  });
});

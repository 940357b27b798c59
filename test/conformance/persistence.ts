/**
 * The conformance suite of the `Persistence` interface (src/persistence/persistence.ts). Every implementation runs
 * it from its own test file:
 *
 *   persistenceConformance('memory', async () => {
 *     const store = new MemoryPersistence();
 *     return { store, reopen: async () => store };
 *   });
 *
 * `create()` returns a fresh, empty, not yet opened store over its own underlying data, and `reopen()`, which
 * returns a new instance over the same underlying data (a store that lives only in memory returns the same
 * instance). The suite opens `store` itself, and before each `reopen()` it flushes and closes the previous
 * instance; it then opens the returned one. Every store the suite opened is closed after its test.
 *
 * What the suite does not fix: the order of restored sessions, retained messages, delayed wills and inbound QoS 2 identifiers
 * (it sorts them), whether a client without outbound entries appears in `outgoing` with an empty list, and whether
 * absent optional fields come back absent or as `undefined`. Everything else must come back exactly: outbound
 * entries in `seq` order, payloads and binary properties byte for byte as Buffers, user properties in order.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type {
  Persistence, RestoredState, StoredDelayedWill, StoredMessage, StoredOutgoing, StoredSession, StoredSubscription,
} from '../../src/persistence/persistence.js';

export interface PersistenceHarness {
  store: Persistence;
  reopen: () => Promise<Persistence>;
}

/** A store under test: the current instance, plus restart() = flush, close, reopen, open. */
interface Opened {
  store: Persistence;
  state: RestoredState;
  restart: () => Promise<RestoredState>;
}

const subscription = (topicFilter: string, overrides: Partial<StoredSubscription> = {}): StoredSubscription => ({
  topicFilter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0, ...overrides,
});

const session = (clientId: string, overrides: Partial<StoredSession> = {}): StoredSession => ({
  clientId, expiryIntervalSeconds: 0xFFFFFFFF, subscriptions: [subscription(`${clientId}/#`)], ...overrides,
});

const message = (topic: string, payload: string | Buffer, overrides: Partial<StoredMessage> = {}): StoredMessage => ({
  topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: 1, retain: false, ...overrides,
});

const outgoing = (seq: number, overrides: Partial<StoredOutgoing> = {}): StoredOutgoing => ({
  seq, qos: 1, state: 'queued', packetId: (seq % 65535) + 1, message: message(`out/${seq}`, `payload ${seq}`), ...overrides,
});

/** A copy of `value` without `undefined`-valued object keys (absent and undefined are treated alike). */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = normalize(v);
    return out;
  }
  return value;
}

/** Deep strict equality after normalize(); strict equality also requires a Buffer where a Buffer is expected. */
function assertSame(actual: unknown, expected: unknown, what?: string): void {
  assert.deepEqual(normalize(actual), normalize(expected), what);
}

function sessionsOf(state: RestoredState): StoredSession[] {
  return [...state.sessions].toSorted((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}

function retainedOf(state: RestoredState): StoredMessage[] {
  return [...state.retained].toSorted((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

function willsOf(state: RestoredState): StoredDelayedWill[] {
  return [...state.delayedWills].toSorted((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}

function outgoingOf(state: RestoredState, clientId: string): readonly StoredOutgoing[] {
  return state.outgoing.get(clientId) ?? [];
}

function incomingOf(state: RestoredState, clientId: string): number[] {
  return [...(state.incomingQos2.get(clientId) ?? [])].toSorted((a, b) => a - b);
}

/** Client ids present in a restored map with at least one entry. */
function nonEmptyKeys(map: ReadonlyMap<string, readonly unknown[]>): string[] {
  return [...map].filter(([, v]) => v.length > 0).map(([k]) => k).toSorted();
}

function assertEmpty(state: RestoredState): void {
  assert.deepEqual(state.sessions, []);
  assert.deepEqual(nonEmptyKeys(state.outgoing), []);
  assert.deepEqual(nonEmptyKeys(state.incomingQos2), []);
  assert.deepEqual(state.retained, []);
  assert.deepEqual(state.delayedWills, []);
}

/** Every byte value, taken as a view into the middle of a larger buffer (a non-zero byteOffset). */
function binaryPayload(): Buffer {
  const backing = Buffer.alloc(300, 0xEE);
  for (let i = 0; i < 256; i++) backing[20 + i] = i;
  return backing.subarray(20, 276);
}

export function persistenceConformance(name: string, create: () => Promise<PersistenceHarness>): void {
  /** Creates and opens a store; every instance opened is closed after the test. */
  async function open(t: TestContext): Promise<Opened> {
    const { store, reopen } = await create();
    let current = store;
    let isOpen = false;
    t.after(async () => {
      if (isOpen) await current.close();
    });
    const state = await current.open();
    isOpen = true;
    const opened: Opened = {
      store: current,
      state,
      restart: async () => {
        await current.flush();
        await current.close();
        isOpen = false;
        current = await reopen();
        opened.store = current;
        opened.state = await current.open();
        isOpen = true;
        return opened.state;
      },
    };
    return opened;
  }

  describe(`persistence conformance: ${name}`, () => {
    test('has a name and says whether it is durable', async (t) => {
      const { store } = await open(t);
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0);
      assert.equal(typeof store.isDurable, 'boolean');
    });

    test('open() on an empty store restores nothing, before and after a restart', async (t) => {
      const s = await open(t);
      assertEmpty(s.state);
      await s.store.flush();
      assertEmpty(await s.restart());
    });

    test('flush() resolves after writes, with nothing pending, and when called several times at once', async (t) => {
      const s = await open(t);
      await s.store.flush();
      s.store.saveSession(session('f1'));
      s.store.putRetained('f/r', message('f/r', 'r', { retain: true }));
      const first = s.store.flush();
      s.store.putOutgoing('f1', outgoing(1));
      await Promise.all([first, s.store.flush(), s.store.flush()]);
      await s.store.flush();
      const state = await s.restart();
      assert.deepEqual(state.sessions.map((x) => x.clientId), ['f1']);
      assert.equal(outgoingOf(state, 'f1').length, 1);
      assert.equal(state.retained.length, 1);
    });

    test('sessions are restored after a restart with every field', async (t) => {
      const s = await open(t);
      const a = session('alice', {
        expiryIntervalSeconds: 0xFFFFFFFF,
        subscriptions: [
          subscription('a/+/b', { qos: 0 }),
          subscription('a/#', { qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, subscriptionIdentifier: 268_435_455 }),
          subscription('$share/g/x', { qos: 1, retainHandling: 1, subscriptionIdentifier: 1 }),
        ],
      });
      const b = session('bob', { expiryIntervalSeconds: 0, disconnectedAtMs: 1_700_000_000_123, subscriptions: [] });
      const c = session('ünïcødé 😀 client', { expiryIntervalSeconds: 3600, disconnectedAtMs: 0 });
      for (const x of [a, b, c]) s.store.saveSession(x);
      const state = await s.restart();
      assertSame(sessionsOf(state), [a, b, c]);
      // Subscription order within a session is kept.
      assert.deepEqual(sessionsOf(state)[0]?.subscriptions.map((x) => x.topicFilter), ['a/+/b', 'a/#', '$share/g/x']);
      // A second restart restores the same, without duplicates.
      assertSame(sessionsOf(await s.restart()), [a, b, c]);
    });

    test('saveSession upserts: the last save of a client id wins, in the same turn and across restarts', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('u', { expiryIntervalSeconds: 10 }));
      s.store.saveSession(session('u', { expiryIntervalSeconds: 20, subscriptions: [subscription('x')] }));
      let state = await s.restart();
      assertSame(sessionsOf(state), [session('u', { expiryIntervalSeconds: 20, subscriptions: [subscription('x')] })]);

      const updated = session('u', { expiryIntervalSeconds: 30, disconnectedAtMs: 5, subscriptions: [] });
      s.store.saveSession(updated);
      await s.store.flush();
      state = await s.restart();
      assertSame(sessionsOf(state), [updated]);
      // Clearing disconnectedAtMs (the client is connected again) is an update too.
      const connected = session('u', { expiryIntervalSeconds: 30, subscriptions: [] });
      s.store.saveSession(connected);
      state = await s.restart();
      assertSame(sessionsOf(state), [connected]);
      assert.equal(sessionsOf(state)[0]?.disconnectedAtMs, undefined);
    });

    test('saving a session keeps its outbound entries and inbound QoS 2 identifiers', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('keep'));
      s.store.putOutgoing('keep', outgoing(1));
      s.store.putIncomingQos2('keep', 7);
      await s.restart();
      s.store.saveSession(session('keep', { expiryIntervalSeconds: 5 }));
      const state = await s.restart();
      assertSame(outgoingOf(state, 'keep'), [outgoing(1)]);
      assert.deepEqual(incomingOf(state, 'keep'), [7]);
    });

    test('deleteSession removes the session with its outbound entries and inbound QoS 2 identifiers, and nothing else', async (t) => {
      const s = await open(t);
      for (const id of ['gone', 'stays']) {
        s.store.saveSession(session(id));
        s.store.putOutgoing(id, outgoing(1));
        s.store.putOutgoing(id, outgoing(2, { qos: 2, state: 'pubrel' }));
        s.store.putIncomingQos2(id, 1);
        s.store.putIncomingQos2(id, 65535);
      }
      s.store.putRetained('gone/r', message('gone/r', 'retained', { retain: true }));
      let state = await s.restart();
      assert.equal(state.sessions.length, 2);

      s.store.deleteSession('gone');
      state = await s.restart();
      assertSame(sessionsOf(state), [session('stays')]);
      assert.deepEqual(nonEmptyKeys(state.outgoing), ['stays']);
      assert.deepEqual(nonEmptyKeys(state.incomingQos2), ['stays']);
      assertSame(outgoingOf(state, 'stays'), [outgoing(1), outgoing(2, { qos: 2, state: 'pubrel' })]);
      assert.deepEqual(incomingOf(state, 'stays'), [1, 65535]);
      // Retained messages are not a session's.
      assert.equal(state.retained.length, 1);
    });

    test('deleteSession of an unknown client id is a no-op', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('known'));
      s.store.deleteSession('unknown');
      const state = await s.restart();
      assertSame(sessionsOf(state), [session('known')]);
    });

    test('writes apply in submission order within one turn (delete then save, put then delete)', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('order'));
      s.store.putOutgoing('order', outgoing(1));
      s.store.putIncomingQos2('order', 3);
      await s.restart();
      // In one turn: delete the session (taking its entries), then start a new one with a fresh entry.
      s.store.deleteSession('order');
      s.store.saveSession(session('order', { expiryIntervalSeconds: 1 }));
      s.store.putOutgoing('order', outgoing(2));
      s.store.putOutgoing('order', outgoing(3));
      s.store.deleteOutgoing('order', 3);
      s.store.putIncomingQos2('order', 4);
      s.store.deleteIncomingQos2('order', 4);
      s.store.putRetained('o/r', message('o/r', 'x', { retain: true }));
      s.store.putRetained('o/r', undefined);
      const state = await s.restart();
      assertSame(sessionsOf(state), [session('order', { expiryIntervalSeconds: 1 })]);
      assertSame(outgoingOf(state, 'order'), [outgoing(2)]);
      assert.deepEqual(incomingOf(state, 'order'), []);
      assert.deepEqual(state.retained, []);
    });

    test('putOutgoing restores entries in seq order (numeric, not submission or string order), per client', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('q'));
      s.store.saveSession(session('r'));
      const seqs = [100, 2, 10, 1, 2 ** 32 + 1, 20, 3];
      for (const seq of seqs) s.store.putOutgoing('q', outgoing(seq));
      s.store.putOutgoing('r', outgoing(5));
      const state = await s.restart();
      assert.deepEqual(outgoingOf(state, 'q').map((e) => e.seq), seqs.toSorted((a, b) => a - b));
      assertSame(outgoingOf(state, 'q'), seqs.toSorted((a, b) => a - b).map((seq) => outgoing(seq)));
      assertSame(outgoingOf(state, 'r'), [outgoing(5)]);
    });

    test('outbound entries keep their Subscription Identifiers and shared subscription', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('ids'));
      const tagged = outgoing(1, { subscriptionIdentifiers: [1, 268_435_455], sharedSubscription: '$share/g/a/#' });
      s.store.putOutgoing('ids', tagged);
      s.store.putOutgoing('ids', outgoing(2));
      const state = await s.restart();
      assertSame(outgoingOf(state, 'ids'), [tagged, outgoing(2)]);
      assert.equal(outgoingOf(state, 'ids')[1]?.sharedSubscription, undefined);
    });

    test('putOutgoing upserts by seq: the state, packet id and QoS of an entry are replaced', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('up'));
      s.store.putOutgoing('up', outgoing(1));
      s.store.putOutgoing('up', outgoing(2, { qos: 2 }));
      await s.restart();
      s.store.putOutgoing('up', outgoing(1, { state: 'publish', packetId: 42 }));
      s.store.putOutgoing('up', outgoing(2, { qos: 2, state: 'publish', packetId: 43 }));
      s.store.putOutgoing('up', outgoing(2, { qos: 2, state: 'pubrel', packetId: 43 }));
      const state = await s.restart();
      assertSame(outgoingOf(state, 'up'), [
        outgoing(1, { state: 'publish', packetId: 42 }),
        outgoing(2, { qos: 2, state: 'pubrel', packetId: 43 }),
      ]);
    });

    test('deleteOutgoing removes one entry of one client; unknown seqs and clients are no-ops', async (t) => {
      const s = await open(t);
      for (const id of ['d1', 'd2']) {
        s.store.saveSession(session(id));
        for (const seq of [1, 2, 3]) s.store.putOutgoing(id, outgoing(seq));
      }
      await s.restart();
      s.store.deleteOutgoing('d1', 2);
      s.store.deleteOutgoing('d1', 99);
      s.store.deleteOutgoing('nobody', 1);
      let state = await s.restart();
      assertSame(outgoingOf(state, 'd1'), [outgoing(1), outgoing(3)]);
      assertSame(outgoingOf(state, 'd2'), [outgoing(1), outgoing(2), outgoing(3)]);
      s.store.deleteOutgoing('d1', 1);
      s.store.deleteOutgoing('d1', 3);
      state = await s.restart();
      assert.deepEqual(outgoingOf(state, 'd1'), []);
      assert.deepEqual(nonEmptyKeys(state.outgoing), ['d2']);
      // The session itself stays.
      assert.deepEqual(sessionsOf(state).map((x) => x.clientId), ['d1', 'd2']);
    });

    test('inbound QoS 2 identifiers: put (idempotent), delete, per client', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('i1'));
      s.store.saveSession(session('i2'));
      for (const id of [5, 1, 65535, 5]) s.store.putIncomingQos2('i1', id);
      s.store.putIncomingQos2('i2', 5);
      let state = await s.restart();
      assert.deepEqual(incomingOf(state, 'i1'), [1, 5, 65535]);
      assert.deepEqual(incomingOf(state, 'i2'), [5]);
      s.store.deleteIncomingQos2('i1', 5);
      s.store.deleteIncomingQos2('i1', 2);
      s.store.deleteIncomingQos2('nobody', 5);
      state = await s.restart();
      assert.deepEqual(incomingOf(state, 'i1'), [1, 65535]);
      assert.deepEqual(incomingOf(state, 'i2'), [5]);
      s.store.deleteIncomingQos2('i1', 1);
      s.store.deleteIncomingQos2('i1', 65535);
      state = await s.restart();
      assert.deepEqual(nonEmptyKeys(state.incomingQos2), ['i2']);
    });

    test('putRetained stores, replaces and removes (undefined) by topic', async (t) => {
      const s = await open(t);
      const topics = ['a/b', '/leading', 'trailing/', 'ünïcødé/😀', 'a/b/c'];
      for (const topic of topics) s.store.putRetained(topic, message(topic, `v1 ${topic}`, { retain: true }));
      let state = await s.restart();
      assertSame(retainedOf(state), topics.toSorted().map((topic) => message(topic, `v1 ${topic}`, { retain: true })));

      s.store.putRetained('a/b', message('a/b', 'v2', { qos: 2, retain: true }));
      s.store.putRetained('/leading', undefined);
      s.store.putRetained('never/stored', undefined);
      state = await s.restart();
      const expected = [
        message('a/b', 'v2', { qos: 2, retain: true }),
        ...['trailing/', 'ünïcødé/😀', 'a/b/c'].map((topic) => message(topic, `v1 ${topic}`, { retain: true })),
      ].toSorted((x, y) => (x.topic < y.topic ? -1 : 1));
      assertSame(retainedOf(state), expected);
      assert.deepEqual(state.sessions, []);
    });

    test('binary payloads and properties survive byte-exact, as Buffers, with user properties in order', async (t) => {
      const s = await open(t);
      const properties = {
        payloadFormatIndicator: 0,
        messageExpiryInterval: 120,
        contentType: 'application/octet-stream; ünï',
        responseTopic: 'reply/😀',
        correlationData: Buffer.from([0x00, 0xFF, 0x80, 0x00, 0x7F]),
        subscriptionIdentifiers: [7, 268_435_455],
        userProperties: [['b', '2'], ['a', '1'], ['b', ''], ['', 'empty name'], ['b', '2']] as [string, string][],
      };
      const payloads: Buffer[] = [binaryPayload(), Buffer.alloc(0), Buffer.from('{"json":true}'), Buffer.alloc(256 * 1024, 0x00)];
      payloads[3]?.fill(0xA5, 1000, 2000);
      s.store.saveSession(session('bin'));
      payloads.forEach((payload, i) => {
        s.store.putOutgoing('bin', outgoing(i + 1, { message: message(`bin/${i}`, payload, { properties }) }));
        s.store.putRetained(`bin/${i}`, message(`bin/${i}`, payload, { retain: true, qos: 2, properties }));
      });
      const state = await s.restart();
      const out = outgoingOf(state, 'bin');
      const retained = retainedOf(state);
      assert.equal(out.length, payloads.length);
      assert.equal(retained.length, payloads.length);
      payloads.forEach((payload, i) => {
        for (const m of [out[i]?.message, retained[i]]) {
          assert.ok(m, `message ${i} restored`);
          assert.ok(Buffer.isBuffer(m.payload), `payload ${i} is a Buffer`);
          assert.equal(m.payload.length, payload.length, `payload ${i} length`);
          assert.ok(m.payload.equals(payload), `payload ${i} bytes`);
          assert.ok(Buffer.isBuffer(m.properties?.correlationData), `correlationData ${i} is a Buffer`);
          assert.ok(m.properties.correlationData.equals(properties.correlationData), `correlationData ${i} bytes`);
          assert.deepEqual(m.properties.userProperties, properties.userProperties, `userProperties ${i} in order`);
          assertSame(m.properties, properties, `properties ${i}`);
        }
      });
    });

    test('expiresAtMs is kept on outbound entries and retained messages', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('exp'));
      const expiresAtMs = 1_700_000_123_456;
      s.store.putOutgoing('exp', outgoing(1, { message: message('exp/1', 'x', { expiresAtMs, properties: { messageExpiryInterval: 60 } }) }));
      s.store.putOutgoing('exp', outgoing(2));
      s.store.putRetained('exp/r', message('exp/r', 'r', { retain: true, expiresAtMs: expiresAtMs + 1 }));
      s.store.putRetained('exp/none', message('exp/none', 'r', { retain: true }));
      const state = await s.restart();
      assert.equal(outgoingOf(state, 'exp')[0]?.message.expiresAtMs, expiresAtMs);
      assert.equal(outgoingOf(state, 'exp')[0]?.message.properties?.messageExpiryInterval, 60);
      assert.equal(outgoingOf(state, 'exp')[1]?.message.expiresAtMs, undefined);
      assert.equal(retainedOf(state).find((m) => m.topic === 'exp/r')?.expiresAtMs, expiresAtMs + 1);
      assert.equal(retainedOf(state).find((m) => m.topic === 'exp/none')?.expiresAtMs, undefined);
    });

    test('delayed wills: put, replace, delete, per client, with every message field', async (t) => {
      const s = await open(t);
      const properties = {
        payloadFormatIndicator: 1, messageExpiryInterval: 30, contentType: 'text/plain', responseTopic: 'r/t',
        correlationData: Buffer.from([0, 1, 0xFF]), userProperties: [['k', 'v'], ['k', 'w']] as [string, string][],
      };
      const w1 = message('will/a', binaryPayload(), { qos: 2, retain: true, properties, expiresAtMs: 1_700_000_030_000 });
      s.store.putDelayedWill('wa', { message: w1, fireAtMs: 1_700_000_000_500 });
      s.store.putDelayedWill('wb', { message: message('will/b', 'b1', { qos: 0 }), fireAtMs: 2 });
      s.store.putDelayedWill('wc', { message: message('will/c', ''), fireAtMs: 3 });
      let state = await s.restart();
      assertSame(willsOf(state), [
        { clientId: 'wa', message: w1, fireAtMs: 1_700_000_000_500 },
        { clientId: 'wb', message: message('will/b', 'b1', { qos: 0 }), fireAtMs: 2 },
        { clientId: 'wc', message: message('will/c', ''), fireAtMs: 3 },
      ]);
      const restored = willsOf(state)[0]!.message;
      assert.ok(Buffer.isBuffer(restored.payload) && restored.payload.equals(binaryPayload()), 'will payload bytes');
      assert.ok(Buffer.isBuffer(restored.properties?.correlationData), 'correlationData is a Buffer');

      // The last put of a client id wins; delete removes one client's will; unknown ids are no-ops.
      s.store.putDelayedWill('wb', { message: message('will/b', 'b2'), fireAtMs: 20 });
      s.store.deleteDelayedWill('wc');
      s.store.deleteDelayedWill('nobody');
      state = await s.restart();
      assertSame(willsOf(state).map((w) => [w.clientId, w.message.payload.toString('latin1'), w.fireAtMs]), [
        ['wa', binaryPayload().toString('latin1'), 1_700_000_000_500], ['wb', 'b2', 20],
      ]);
      s.store.deleteDelayedWill('wa');
      s.store.deleteDelayedWill('wb');
      state = await s.restart();
      assert.deepEqual(state.delayedWills, []);
    });

    test('delayed wills are independent of sessions: deleteSession keeps the will, deleteDelayedWill keeps the session', async (t) => {
      const s = await open(t);
      s.store.saveSession(session('dw'));
      s.store.putOutgoing('dw', outgoing(1));
      s.store.putDelayedWill('dw', { message: message('will/dw', 'x'), fireAtMs: 10 });
      s.store.putDelayedWill('no-session', { message: message('will/ns', 'y'), fireAtMs: 11 });
      await s.restart();
      s.store.deleteSession('dw');
      let state = await s.restart();
      assert.deepEqual(state.sessions, []);
      assert.deepEqual(willsOf(state).map((w) => w.clientId), ['dw', 'no-session']);
      s.store.saveSession(session('dw'));
      s.store.deleteDelayedWill('dw');
      // In one turn: put then delete leaves nothing; delete then put leaves the put.
      s.store.putDelayedWill('turn-a', { message: message('will/a', 'a'), fireAtMs: 1 });
      s.store.deleteDelayedWill('turn-a');
      s.store.deleteDelayedWill('no-session');
      s.store.putDelayedWill('no-session', { message: message('will/ns', 'z'), fireAtMs: 12 });
      state = await s.restart();
      assertSame(sessionsOf(state), [session('dw')]);
      assertSame(willsOf(state), [{ clientId: 'no-session', message: message('will/ns', 'z'), fireAtMs: 12 }]);
    });

    test('10,000 writes in one turn, then one flush, are all restored', async (t) => {
      const s = await open(t);
      const clients = 100;
      const perClient = 90;
      for (let c = 0; c < clients; c++) {
        const id = `bulk-${c}`;
        s.store.saveSession(session(id));
        for (let i = perClient; i > 0; i--) s.store.putOutgoing(id, outgoing(i, { message: message(`bulk/${c}/${i}`, `${c}:${i}`) }));
        s.store.putIncomingQos2(id, c + 1);
      }
      for (let r = 0; r < 800; r++) s.store.putRetained(`bulk/r/${r}`, message(`bulk/r/${r}`, String(r), { retain: true }));
      // 100 sessions + 9,000 outbound entries + 100 inbound ids + 800 retained = 10,000 writes.
      await s.store.flush();
      const state = await s.restart();
      assert.equal(state.sessions.length, clients);
      assert.equal(state.retained.length, 800);
      for (let c = 0; c < clients; c++) {
        const entries = outgoingOf(state, `bulk-${c}`);
        assert.equal(entries.length, perClient, `bulk-${c} entries`);
        entries.forEach((e, i) => {
          assert.equal(e.seq, i + 1);
          assert.equal(e.message.payload.toString(), `${c}:${i + 1}`);
        });
        assert.deepEqual(incomingOf(state, `bulk-${c}`), [c + 1]);
      }
      const retainedPayloads = new Set(state.retained.map((m) => m.payload.toString()));
      assert.equal(retainedPayloads.size, 800);
    });
  });
}

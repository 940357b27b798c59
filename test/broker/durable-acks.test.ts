/**
 * DurableAcks (src/broker/durable-acks.ts): acknowledgements wait for the store's flush() and go out in order, one
 * batch per flush promise; a failed flush answers every waiting packet with the failure. Then the broker with a
 * durable store: PUBACK/PUBREC carry the right packet identifier and reason code once the store has answered.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DurableAcks } from '../../src/broker/durable-acks.js';
import { MemoryPersistence } from '../../src/persistence/memory/memory-persistence.js';
import { createBroker } from '../../src/index.js';
import { connect, publish, Framer, type Parsed } from '../helpers/packets.js';

/** A store whose flush() returns the promise the test controls. */
function controlledStore() {
  const store = new MemoryPersistence();
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  let promise = Promise.resolve();
  let flushes = 0;
  const next = (): void => {
    promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  };
  store.flush = () => {
    flushes++;
    return promise;
  };
  return { store, next, resolve: () => resolve(), reject: (err: Error) => reject(err), flushes: () => flushes };
}

describe('DurableAcks', () => {
  test('acknowledgements wait for the flush, then go out in order; one continuation per flush promise', async () => {
    const c = controlledStore();
    const sent: string[] = [];
    const acks = new DurableAcks<string, number>(c.store, (conn, packet, code, failed) => {
      sent.push(`${conn}:${packet}:${code}:${failed}`);
    });
    c.next();
    acks.add('a', 1, 0);
    acks.add('b', 2, 0x10);
    await Promise.resolve();
    assert.deepEqual(sent, []);
    c.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['a:1:0:false', 'b:2:16:false']);
    c.next();
    acks.add('a', 3, 0);
    c.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent.at(-1), 'a:3:0:false');
    assert.equal(c.flushes(), 3);
  });

  test('a failed flush answers each waiting packet with the failure', async () => {
    const c = controlledStore();
    const sent: string[] = [];
    const acks = new DurableAcks<string, number>(c.store, (conn, packet, _code, failed, err) => {
      sent.push(`${conn}:${packet}:${failed}:${err?.message}`);
    });
    c.next();
    acks.add('a', 1, 0);
    acks.add('a', 2, 0);
    c.reject(new Error('disk full'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['a:1:true:disk full', 'a:2:true:disk full']);
  });
});

/** A memory store that says it is durable, with a flush() that waits for the test and then resolves or fails. */
class GatedDurableStore extends MemoryPersistence {
  override readonly isDurable = true as unknown as false;
  failure: Error | undefined;
  #gate: Promise<void> = new Promise(() => {});
  #open!: () => void;

  constructor() {
    super();
    this.#arm();
  }

  #arm(): void {
    this.#gate = new Promise<void>((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open();
  }

  override async flush(): Promise<void> {
    await super.flush();
    await this.#gate;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** An in-memory client: `packets` are what the broker wrote, parsed for the client's protocol version. */
class Client extends Duplex {
  readonly packets: Parsed[] = [];
  readonly #framer: Framer;

  constructor(version: 4 | 5) {
    super();
    this.#framer = new Framer(version);
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.packets.push(...this.#framer.push(chunk));
    callback();
  }
}

/** The acknowledgements a client got: type, packet identifier, reason code (- when the packet has none). */
function acksOf(c: Client): string[] {
  return c.packets.map((p) => {
    const ack = p as { type: string; packetId?: number; reasonCode?: number };
    return `${ack.type} ${ack.packetId} ${ack.reasonCode === undefined ? '-' : `0x${ack.reasonCode.toString(16)}`}`;
  });
}

async function durableBroker(t: { after: (fn: () => Promise<void>) => void }, failure?: Error) {
  const store = new GatedDurableStore();
  store.failure = failure;
  const broker = createBroker({ persistence: store });
  t.after(async () => {
    store.release();
    await broker.close();
  });
  const client = async (clientId: string, version: 4 | 5): Promise<Client> => {
    const c = new Client(version);
    broker.handle(c);
    c.push(connect({ clientId, protocolVersion: version }));
    await nextTurn();
    assert.deepEqual(c.packets.map((p) => p.type), ['connack']);
    c.packets.length = 0;
    return c;
  };
  return { store, client };
}

describe('broker with a durable store: acknowledgements', () => {
  test('PUBACK and PUBREC wait for the store, then carry each PUBLISH\'s packet identifier, in order', async (t) => {
    const { store, client } = await durableBroker(t);
    const v5 = await client('v5', 5);
    const v4 = await client('v4', 4);
    // Identifiers near the top of the range check that the identifier survives the wait whole.
    v5.push(Buffer.concat([
      publish({ topic: 'a', payload: 'x', qos: 1, packetId: 65_535, properties: Buffer.alloc(0) }),
      publish({ topic: 'a', payload: 'y', qos: 2, packetId: 65_534, properties: Buffer.alloc(0) }),
    ]));
    v4.push(publish({ topic: 'a', payload: 'z', qos: 1, packetId: 300 }));
    await nextTurn();
    assert.deepEqual([...v5.packets, ...v4.packets], [], 'nothing before the store has answered');
    store.release();
    await nextTurn();
    await nextTurn();
    // MQTT 5: no subscriber matched, so 0x10 No matching subscribers; 3.1.1 has no reason code.
    assert.deepEqual(acksOf(v5), ['puback 65535 0x10', 'pubrec 65534 0x10']);
    assert.deepEqual(acksOf(v4), ['puback 300 -']);
  });

  test('an acknowledgement that needs no store waits behind earlier ones that do [MQTT-4.6.0-2]', async (t) => {
    const { store, client } = await durableBroker(t);
    const v5 = await client('v5', 5);
    // Payload Format Indicator 1 with a payload that is not UTF-8: answered 0x99 without touching the store.
    const notUtf8 = { topic: 'a', payload: Buffer.from([0xff]), qos: 1 as const, properties: Buffer.from([0x01, 0x01]) };
    v5.push(Buffer.concat([
      publish({ topic: 'a', payload: 'x', qos: 1, packetId: 1, properties: Buffer.alloc(0) }),
      publish({ ...notUtf8, packetId: 2 }),
    ]));
    await nextTurn();
    assert.deepEqual(acksOf(v5), [], 'the 0x99 does not overtake the PUBACK that waits for the store');
    store.release();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v5), ['puback 1 0x10', 'puback 2 0x99']);
    // Nothing waits any more: the next one is answered at once.
    v5.push(publish({ ...notUtf8, packetId: 3 }));
    await nextTurn();
    assert.deepEqual(acksOf(v5).at(-1), 'puback 3 0x99');
  });

  test('a client that ends its side after a PUBLISH still gets the PUBACK once the store answers, then the end', async (t) => {
    const { store, client } = await durableBroker(t);
    const v4 = await client('v4-end', 4);
    v4.push(publish({ topic: 'a', payload: 'x', qos: 1, packetId: 9 }));
    v4.push(null);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v4), []);
    assert.equal(v4.writableEnded, false, 'the broker keeps its side open for the acknowledgement');
    store.release();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v4), ['puback 9 -']);
    assert.equal(v4.writableEnded, true, 'then ends it');
  });

  test('a resent QoS 2 PUBLISH is not answered before its first copy is on disk [MQTT-4.3.3-9]', async (t) => {
    const { store, client } = await durableBroker(t);
    const v4 = await client('v4', 4);
    v4.push(publish({ topic: 'a', payload: 'x', qos: 2, packetId: 5 }));
    v4.push(publish({ topic: 'a', payload: 'x', qos: 2, packetId: 5, dup: true }));
    await nextTurn();
    assert.deepEqual(acksOf(v4), []);
    store.release();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v4), ['pubrec 5 -', 'pubrec 5 -']);
  });

  test('a store failure answers MQTT 5 with 0x80 Unspecified error and 3.1.1 with a plain PUBACK', async (t) => {
    const { store, client } = await durableBroker(t, new Error('disk full'));
    const v5 = await client('v5', 5);
    const v4 = await client('v4', 4);
    v5.push(publish({ topic: 'a', payload: 'x', qos: 2, packetId: 7, properties: Buffer.alloc(0) }));
    v4.push(publish({ topic: 'a', payload: 'z', qos: 1, packetId: 8 }));
    await nextTurn();
    store.release();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v5), ['pubrec 7 0x80']);
    assert.deepEqual(acksOf(v4), ['puback 8 -']);
    // A refusal that waited behind a failed commit keeps its own reason code.
    v5.push(Buffer.concat([
      publish({ topic: 'a', payload: 'x', qos: 1, packetId: 9, properties: Buffer.alloc(0) }),
      publish({ topic: 'a', payload: Buffer.from([0xff]), qos: 1, packetId: 10, properties: Buffer.from([0x01, 0x01]) }),
    ]));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(acksOf(v5).slice(1), ['puback 9 0x80', 'puback 10 0x99']);
  });
});

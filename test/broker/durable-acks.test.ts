/**
 * DurableAcks (src/broker/durable-acks.ts): acknowledgements wait for the store's flush() and go out in order, one
 * batch per flush promise; a failed flush answers every waiting packet with the failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DurableAcks } from '../../src/broker/durable-acks.js';
import { MemoryPersistence } from '../../src/persistence/memory/memory-persistence.js';

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

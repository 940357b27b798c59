/**
 * StreamEvents (the event methods of RawSocket): EventEmitter's order and removal semantics, checked against
 * EventEmitter itself on the same sequence of calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, errorMonitor, once } from 'node:events';
import { StreamEvents } from '../../src/transport/stream-events.js';

type Emitter = Pick<EventEmitter, 'on' | 'once' | 'off' | 'emit' | 'listenerCount' | 'removeAllListeners'
  | 'prependListener' | 'listeners' | 'rawListeners' | 'eventNames' | 'setMaxListeners' | 'getMaxListeners'>;

/** The same script of calls on an emitter, returning what the listeners saw. */
function script(emitter: Emitter): string[] {
  const seen: string[] = [];
  const a = (x: unknown): void => { seen.push(`a${String(x)}`); };
  const b = (x: unknown): void => { seen.push(`b${String(x)}`); };
  const c = (x: unknown): void => { seen.push(`c${String(x)}`); };
  for (const event of ['data', 'close', 'custom']) {
    seen.push(`-- ${event}`);
    emitter.on(event, a);
    emitter.once(event, b);
    emitter.on(event, c);
    emitter.on(event, a);
    seen.push(`count ${emitter.listenerCount(event)}`);
    emitter.emit(event, 1); // a b c a; b is gone after it
    emitter.off(event, a); // the last a goes
    emitter.emit(event, 2); // a c
    emitter.once(event, b);
    emitter.off(event, b); // a once listener removed by the function given
    emitter.emit(event, 3); // a c
    // A listener that removes another during an emit: the other still runs in that emit, not in the next.
    const remover = (x: unknown): void => {
      seen.push(`r${String(x)}`);
      emitter.off(event, c);
    };
    emitter.removeAllListeners(event);
    emitter.on(event, remover);
    emitter.on(event, c);
    emitter.emit(event, 4); // r c
    emitter.emit(event, 5); // r
    seen.push(`count ${emitter.listenerCount(event)}`, `emit without listeners ${String(new EventEmitter().emit(event))}`);
    // prependListener, listeners / rawListeners (a once listener as given / as wrapped), listenerCount of one function.
    emitter.removeAllListeners(event);
    emitter.on(event, a);
    emitter.once(event, b);
    emitter.prependListener(event, c);
    seen.push(`listeners ${emitter.listeners(event).map((l) => (l === a ? 'a' : l === b ? 'b' : l === c ? 'c' : '?')).join('')}`,
      `raw ${emitter.rawListeners(event).map((l) => (l === a ? 'a' : l === b ? 'b' : l === c ? 'c' : 'w')).join('')}`,
      `count of b ${emitter.listenerCount(event, b)}`, `names ${emitter.eventNames().map(String).join(',')}`);
    emitter.emit(event, 6); // c a b
    // A once listener runs once even when a listener before it emits again from inside the emit.
    emitter.removeAllListeners(event);
    let depth = 0;
    emitter.on(event, () => {
      if (depth++ === 0) emitter.emit(event, 'inner');
    });
    emitter.once(event, b);
    emitter.emit(event, 'outer');
    emitter.removeAllListeners(event);
  }
  seen.push(`max ${emitter.setMaxListeners(20).getMaxListeners()}`);
  return seen;
}

test('StreamEvents calls, orders and removes listeners as EventEmitter does, for stream events and others', () => {
  const expected = script(new EventEmitter());
  assert.deepEqual(script(new StreamEvents() as unknown as Emitter), expected);
  assert.ok(expected.includes('r4') && expected.includes('c4') && !expected.includes('c5'));
});

test('StreamEvents refuses a listener that is not a function, as EventEmitter does', () => {
  const events = new StreamEvents();
  for (const bad of [42, undefined, 'f']) {
    assert.throws(() => events.on('data', bad as never), TypeError);
    assert.throws(() => events.once('data', bad as never), TypeError);
    assert.throws(() => new EventEmitter().on('data', bad as never), TypeError);
  }
  assert.equal(events.listenerCount('data'), 0);
});

test('StreamEvents: errorMonitor listeners see an error before the error listeners, and do not handle it', () => {
  const events = new StreamEvents();
  const order: string[] = [];
  events.on(errorMonitor, () => order.push('monitor'));
  assert.throws(() => events.emit('error', new Error('boom')), /boom/);
  events.on('error', () => order.push('listener'));
  events.emit('error', new Error('again'));
  assert.deepEqual(order, ['monitor', 'monitor', 'listener']);
});

test('StreamEvents: an error with no listener is thrown, with one it is handed over; this is the emitter', () => {
  const events = new StreamEvents();
  const boom = new Error('boom');
  assert.throws(() => events.emit('error', boom), /boom/);
  const calls: [unknown, unknown][] = [];
  events.on('error', function onError(this: unknown, err: Error) {
    calls.push([this, err]);
  });
  assert.equal(events.emit('error', boom), true);
  assert.deepEqual(calls, [[events, boom]]);
  assert.equal(events.emit('end'), false, 'no listener');
  assert.equal(events.listenerCount('drain'), 0);
});

test('StreamEvents works with node:events once() (resolves on the event, rejects on error)', async () => {
  const events = new StreamEvents();
  const closed = once(events as unknown as EventEmitter, 'close');
  events.emit('close', 'x');
  assert.deepEqual(await closed, ['x']);
  const failed = once(events as unknown as EventEmitter, 'end');
  events.emit('error', new Error('reset'));
  await assert.rejects(failed, /reset/);
  assert.equal(events.listenerCount('end'), 0, 'once() removed its listeners');
  assert.equal(events.listenerCount('error'), 0);
});

/**
 * The event methods of an EventEmitter that a stream is used with (`on`, `once`, `off`, `emit`, `listenerCount`,
 * and their long names), for RawSocket.
 *
 * Design note: an EventEmitter keeps its listeners in an object that every new event name reshapes, so each accepted
 * connection paid for that object and its backing store (about 280 bytes held per idle connection, in a heap
 * snapshot of 2,000 of them) and for the reshaping on every `on()`. A stream has five events: their listeners live
 * in five fields of the stream itself (one function, or an array when there are more), and any other event name in
 * a Map made when first used. Semantics follow EventEmitter's: listeners run in the order they were added, a
 * listener removed during an `emit` still runs in that `emit`, a `once` listener runs once even when an emit
 * re-enters, `once` listeners can be removed by the function given, `errorMonitor` listeners see an `error` first,
 * and an `error` with no listener throws. Also there: `prependListener`, `listeners`, `rawListeners`, `eventNames`,
 * `setMaxListeners` / `getMaxListeners` (kept, not enforced). Not there: the `newListener` / `removeListener` events,
 * and `instanceof EventEmitter` (so `events.getEventListeners()` and `events.setMaxListeners()` refuse a RawSocket).
 */
import { errorMonitor } from 'node:events';

/** Any listener; called with the stream as `this`. */
type Listener = (...args: never[]) => unknown;
type Slot = Listener | Listener[] | undefined;
interface OnceWrapper {
  (this: StreamEvents, ...args: unknown[]): void;
  readonly listener: Listener;
  isFired: boolean;
}

function checkListener(listener: unknown): void {
  if (typeof listener !== 'function') throw new TypeError(`The "listener" argument must be a function, got ${typeof listener}`);
}

function call(listener: Listener, self: StreamEvents, args: unknown[]): void {
  (listener as (...a: unknown[]) => unknown).apply(self, args);
}

function isFor(entry: Listener, listener: Listener): boolean {
  return entry === listener || (entry as Partial<OnceWrapper>).listener === listener;
}

export class StreamEvents {
  #data: Slot;
  #end: Slot;
  #close: Slot;
  #error: Slot;
  #drain: Slot;
  #other: Map<string | symbol, Listener[]> | undefined;
  #maxListeners = 10;

  #get(event: string | symbol): Slot {
    switch (event) {
      case 'data': return this.#data;
      case 'end': return this.#end;
      case 'close': return this.#close;
      case 'error': return this.#error;
      case 'drain': return this.#drain;
      default: {
        const list = this.#other?.get(event);
        return list === undefined || list.length === 0 ? undefined : list;
      }
    }
  }

  #set(event: string | symbol, slot: Slot): void {
    switch (event) {
      case 'data': this.#data = slot; break;
      case 'end': this.#end = slot; break;
      case 'close': this.#close = slot; break;
      case 'error': this.#error = slot; break;
      case 'drain': this.#drain = slot; break;
      default: {
        const list = slot === undefined ? [] : Array.isArray(slot) ? slot : [slot];
        if (list.length === 0) this.#other?.delete(event);
        else (this.#other ??= new Map()).set(event, list);
      }
    }
  }

  on(event: string | symbol, listener: Listener): this {
    checkListener(listener);
    const slot = this.#get(event);
    this.#set(event, slot === undefined ? listener : Array.isArray(slot) ? [...slot, listener] : [slot, listener]);
    return this;
  }

  prependListener(event: string | symbol, listener: Listener): this {
    checkListener(listener);
    const slot = this.#get(event);
    this.#set(event, slot === undefined ? listener : Array.isArray(slot) ? [listener, ...slot] : [listener, slot]);
    return this;
  }

  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  once(event: string | symbol, listener: Listener): this {
    checkListener(listener);
    const wrapper = function onceWrapper(this: StreamEvents, ...args: unknown[]): void {
      if (wrapper.isFired) return; // an emit that started before an inner one removed it
      wrapper.isFired = true;
      this.off(event, wrapper as Listener);
      call(listener, this, args);
    } as OnceWrapper;
    (wrapper as { listener: Listener }).listener = listener;
    wrapper.isFired = false;
    return this.on(event, wrapper as Listener);
  }

  /** Removes the last added registration of `listener` (or of a `once` wrapping it), as EventEmitter does. */
  off(event: string | symbol, listener: Listener): this {
    const slot = this.#get(event);
    if (slot === undefined) return this;
    if (!Array.isArray(slot)) {
      if (isFor(slot, listener)) this.#set(event, undefined);
      return this;
    }
    const at = slot.findLastIndex((entry) => isFor(entry, listener));
    if (at === -1) return this;
    // A new array, never an edit of the old one: an emit in progress goes on over the list it started with.
    const rest = slot.filter((_, i) => i !== at);
    this.#set(event, rest.length === 1 ? rest[0] : rest);
    return this;
  }

  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: string | symbol): this {
    if (event !== undefined) {
      this.#set(event, undefined);
      return this;
    }
    this.#data = this.#end = this.#close = this.#error = this.#drain = undefined;
    this.#other = undefined;
    return this;
  }

  /** How many listeners `event` has (only those that are, or wrap, `listener` when given). */
  listenerCount(event: string | symbol, listener?: Listener): number {
    const slot = this.#get(event);
    if (listener === undefined) return slot === undefined ? 0 : Array.isArray(slot) ? slot.length : 1;
    return this.rawListeners(event).filter((entry) => isFor(entry, listener)).length;
  }

  /** The listeners of `event`, a `once` listener as the function given. */
  listeners(event: string | symbol): Listener[] {
    return this.rawListeners(event).map((entry) => (entry as Partial<OnceWrapper>).listener ?? entry);
  }

  /** The listeners of `event` as registered (a `once` listener as its wrapper). */
  rawListeners(event: string | symbol): Listener[] {
    const slot = this.#get(event);
    return slot === undefined ? [] : Array.isArray(slot) ? [...slot] : [slot];
  }

  eventNames(): (string | symbol)[] {
    const names: (string | symbol)[] = (['data', 'end', 'close', 'error', 'drain'] as const)
      .filter((name) => this.#get(name) !== undefined);
    for (const [name, list] of this.#other ?? []) if (list.length > 0) names.push(name);
    return names;
  }

  setMaxListeners(count: number): this {
    this.#maxListeners = count;
    return this;
  }

  getMaxListeners(): number {
    return this.#maxListeners;
  }

  /** Calls the listeners of `event` in order; false when it has none. An `error` with no listener is thrown. */
  emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.#other?.has(errorMonitor) === true) this.emit(errorMonitor, ...args);
    const slot = this.#get(event);
    if (slot === undefined) {
      if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error: ${String(args[0])}`);
      return false;
    }
    if (!Array.isArray(slot)) {
      call(slot, this, args);
      return true;
    }
    // Listener lists are never edited in place (`on` and `off` make new ones), so this one stays as it was.
    for (const listener of slot) call(listener, this, args);
    return true;
  }

  /** `emit` of a stream event with no or one argument (no rest array), for the stream's own use. */
  protected emitOne(event: 'data' | 'end' | 'close' | 'drain', arg?: unknown): void {
    const slot = this.#get(event);
    if (slot === undefined) return;
    if (!Array.isArray(slot)) {
      (slot as (a: unknown) => unknown).call(this, arg);
      return;
    }
    for (const listener of slot) (listener as (a: unknown) => unknown).call(this, arg);
  }
}

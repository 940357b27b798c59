/**
 * An accepted connection served on libuv's stream handle directly, without a `net.Socket` around it.
 *
 * Design note: a `net.Socket` is a full Duplex (two stream states, a write queue, timers), and on the benchmark
 * machine a Node server that only accepts and answers CONNECT costs 76-95 µs of CPU and 3.8-4.0 KB per connection
 * with one (`bench/brokers/node-floor.mjs`), 27-28 µs and 1.2 KB on the bare handle. An MQTT broker with many
 * short-lived or idle connections pays that for nothing: the
 * Connection already queues its packets, joins them into one write per event-loop turn, and tracks backpressure.
 * RawSocket gives the Connection the few parts of a Duplex it uses (`ByteStream`): chunks as `data`, the peer's end as
 * `end`, one write per flush with `writableLength` / `writableNeedDrain` / `drain`, `end()` (shutdown), `destroy()`,
 * `pause()` / `resume()`. Like a `net.Socket`, a paused RawSocket keeps reading up to its high-water mark (so the
 * peer's end is still seen while a Connection waits on a hook) and hands those bytes over when resumed.
 *
 * The handle's API is Node's own internal one (`process.binding('tcp_wrap' | 'stream_wrap')`, the calls `net` itself
 * makes; deprecated as DEP0111, documentation-only, so no warning unless Node runs with `--pending-deprecation`).
 * `loadStreamBinding()` checks every part used is there; when anything is missing (another Node major that moved
 * it), listeners fall back to `net.Socket`, which serves the same connections at the old cost. Plain TCP and Unix
 * socket listeners use it; TLS, WebSocket and PROXY-protocol listeners need a `net.Socket` under their own layers.
 */
import { getSystemErrorName } from 'node:util';
import type { ByteStream } from '../broker/byte-stream.js';
import { StreamEvents } from './stream-events.js';

/** libuv's status for the end of the input. */
const UV_EOF = -4095;
/**
 * `writableNeedDrain` is set when this many bytes wait in libuv's queue, and a paused socket stops reading when this
 * many wait to be handed over (net.Socket's default high-water mark).
 */
const HIGH_WATER_MARK_BYTES = 16 * 1024;

/** A request object for one write or shutdown: the binding calls `oncomplete` on it with a libuv status. */
interface Request {
  handle: StreamHandle;
  oncomplete: (this: Request, status: number) => void;
  /** Kept so the bytes of an unfinished write stay alive (net does the same). */
  buffer?: Buffer | Buffer[];
}

/** The parts of a libuv TCP or pipe handle (`tcp_wrap.TCP`, `pipe_wrap.Pipe`) this file uses. */
export interface StreamHandle {
  /** Must stay a function (the binding asserts it). */
  onread: (this: StreamHandle, buffer: ArrayBuffer | undefined) => void;
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: Request, buffer: Buffer): number;
  writev(req: Request, chunks: Buffer[], isAllBuffers: true): number;
  shutdown(req: Request): number;
  close(callback: (this: StreamHandle) => void): void;
  setNoDelay?(isEnabled: boolean): number;
  getpeername?(out: { address?: string; port?: number }): number;
  [SOCKET]?: RawSocket;
}

interface StreamBinding {
  readonly WriteWrap: new () => Request;
  readonly ShutdownWrap: new () => Request;
  /** Where the binding leaves the result of the last read and write (indexes below). */
  readonly streamBaseState: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
  readonly kLastWriteWasAsync: number;
}

/** The stream binding, when this Node has every part RawSocket uses; else undefined (listeners use net.Socket). */
export function loadStreamBinding(): StreamBinding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    const isComplete = typeof binding.WriteWrap === 'function' && typeof binding.ShutdownWrap === 'function'
      && binding.streamBaseState instanceof Int32Array && typeof binding.kReadBytesOrError === 'number'
      && typeof binding.kArrayBufferOffset === 'number' && typeof binding.kLastWriteWasAsync === 'number';
    return isComplete ? binding as StreamBinding : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an accepted handle offers every call RawSocket makes. */
export function isUsableHandle(handle: object): handle is StreamHandle {
  const h = handle as Partial<Record<keyof StreamHandle, unknown>>;
  return typeof h.readStart === 'function' && typeof h.readStop === 'function' && typeof h.writeBuffer === 'function'
    && typeof h.writev === 'function' && typeof h.shutdown === 'function' && typeof h.close === 'function' && 'writeQueueSize' in h;
}

const SOCKET = Symbol('culex.rawSocket');

/** The name of a libuv status (ECONNRESET), or `UV<status>` for one Node does not know. */
export function uvErrorName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `UV${status}`;
  }
}

function uvError(status: number, syscall: string): NodeJS.ErrnoException {
  const code = uvErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  return err;
}

export class RawSocket extends StreamEvents implements ByteStream {
  /**
   * As on a `net.Socket`: false ends the output by itself when the peer ends its own; true (what a Connection sets)
   * keeps it open until `end()`.
   */
  allowHalfOpen = false;
  destroyed = false;
  readonly #handle: StreamHandle;
  readonly #binding: StreamBinding;
  /** Asked to hand over what it reads (resume()) and not paused since. */
  #isFlowing = false;
  /** The handle is reading. */
  #isReading = false;
  #isInputEnded = false;
  #isEndEmitted = false;
  /** Read while paused, handed over on resume(). */
  #held: Buffer[] | undefined;
  #heldBytes = 0;
  #isHandOverScheduled = false;
  #isOutputEnded = false;
  #isShutDown = false;
  #isDrainDue = false;
  /** Writes handed to libuv that it has not finished (the kernel's buffer was full). */
  #writesInFlight = 0;
  /** Written while a write was in flight: handed to libuv together, as one writev, when it finishes. */
  #waiting: Buffer[] | undefined;
  #waitingBytes = 0;
  #peer: { address?: string; port?: number } | undefined;

  constructor(handle: StreamHandle, binding: StreamBinding) {
    super();
    this.#handle = handle;
    this.#binding = binding;
    handle[SOCKET] = this;
    handle.onread = RawSocket.#onRead;
  }

  static #onRead(this: StreamHandle, buffer: ArrayBuffer | undefined): void {
    const socket = this[SOCKET]!;
    const state = socket.#binding.streamBaseState;
    const count = state[socket.#binding.kReadBytesOrError]!;
    if (count > 0) {
      const chunk = Buffer.from(buffer!, state[socket.#binding.kArrayBufferOffset]!, count);
      // Behind what is held, never before it.
      if (socket.#isFlowing && socket.#held === undefined) socket.emitOne('data', chunk);
      else socket.#hold(chunk);
    } else if (count === UV_EOF) {
      socket.#isInputEnded = true;
      socket.#stopReading();
      if (socket.#held === undefined) socket.#emitEnd();
    } else if (count < 0) {
      socket.destroy(uvError(count, 'read'));
    }
  }

  #hold(chunk: Buffer): void {
    (this.#held ??= []).push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= HIGH_WATER_MARK_BYTES) this.#stopReading();
  }

  #emitEnd(): void {
    if (this.#isEndEmitted || this.destroyed) return;
    this.#isEndEmitted = true;
    this.emitOne('end');
    if (!this.allowHalfOpen) this.end();
    if (this.#isShutDown) this.destroy();
  }

  #stopReading(): void {
    if (!this.#isReading) return;
    this.#isReading = false;
    this.#handle.readStop();
  }

  #startReading(): void {
    if (this.#isReading || this.destroyed || this.#isInputEnded) return;
    this.#isReading = true;
    const status = this.#handle.readStart();
    if (status !== 0) this.destroy(uvError(status, 'read'));
  }

  /**
   * Hands `chunk` to the kernel now; when the kernel's buffer is full, to libuv, which writes it when the socket can
   * take more. While such a write is in flight, later chunks wait here and leave together (as net.Socket does).
   */
  write(chunk: Buffer): boolean {
    if (this.destroyed || this.#isOutputEnded) return false;
    if (this.#writesInFlight === 0) {
      this.#dispatch(chunk);
    } else {
      (this.#waiting ??= []).push(chunk);
      this.#waitingBytes += chunk.length;
    }
    if (this.writableLength < HIGH_WATER_MARK_BYTES) return true;
    this.#isDrainDue = true;
    return false;
  }

  #dispatch(bytes: Buffer | Buffer[]): void {
    const req = new this.#binding.WriteWrap();
    req.handle = this.#handle;
    req.oncomplete = RawSocket.#onWriteDone;
    const status = Buffer.isBuffer(bytes) ? this.#handle.writeBuffer(req, bytes) : this.#handle.writev(req, bytes, true);
    if (status !== 0) {
      this.destroy(uvError(status, 'write'));
      return;
    }
    if (this.#binding.streamBaseState[this.#binding.kLastWriteWasAsync] !== 0) {
      req.buffer = bytes;
      this.#writesInFlight++;
    }
  }

  #dispatchWaiting(): void {
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    this.#waitingBytes = 0;
    this.#dispatch(waiting.length === 1 ? waiting[0]! : waiting);
  }

  static #onWriteDone(this: Request, status: number): void {
    const socket = this.handle[SOCKET]!;
    if (socket.destroyed) return; // Closed with writes queued: libuv cancels them.
    if (status < 0) {
      socket.destroy(uvError(status, 'write'));
      return;
    }
    if (--socket.#writesInFlight === 0) socket.#dispatchWaiting();
    // As on a net.Socket, no 'drain' after end(): nothing more may be written.
    if (socket.#isDrainDue && socket.#writesInFlight === 0 && !socket.destroyed && !socket.#isOutputEnded) {
      socket.#isDrainDue = false;
      socket.emitOne('drain');
    }
  }

  /** Bytes written but not taken by the kernel yet (waiting here or in libuv's queue). */
  get writableLength(): number {
    return this.destroyed ? 0 : this.#handle.writeQueueSize + this.#waitingBytes;
  }

  /** A write returned false and `drain` has not come since. */
  get writableNeedDrain(): boolean {
    return this.#isDrainDue;
  }

  /** Ends the output once the queued writes have left (shutdown(2)); closes when the peer has ended too. */
  end(): void {
    if (this.destroyed || this.#isOutputEnded) return;
    this.#isOutputEnded = true;
    this.#isDrainDue = false;
    // libuv ends the output after the writes it holds: the waiting ones go to it first.
    this.#dispatchWaiting();
    if (this.destroyed) return;
    const req = new this.#binding.ShutdownWrap();
    req.handle = this.#handle;
    req.oncomplete = RawSocket.#onShutDown;
    if (this.#handle.shutdown(req) !== 0) this.destroy(); // Not connected any more: nothing to end.
  }

  static #onShutDown(this: Request, status: number): void {
    const socket = this.handle[SOCKET]!;
    socket.#isShutDown = true;
    if (status < 0 || socket.#isEndEmitted) socket.destroy();
  }

  /** Closes the handle now (queued writes are dropped); `error` first when given, then `close`. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#isReading = false;
    this.#isDrainDue = false;
    this.#held = undefined;
    this.#waiting = undefined;
    this.#waitingBytes = 0;
    this.#handle.close(RawSocket.#onClosed);
    if (error !== undefined) process.nextTick(RawSocket.#emitError, this, error);
    return this;
  }

  static #emitError(socket: RawSocket, error: Error): void {
    if (socket.listenerCount('error') > 0) socket.emit('error', error);
  }

  static #onClosed(this: StreamHandle): void {
    this[SOCKET]!.emitOne('close');
  }

  /** Stops handing bytes over; reading goes on until the high-water mark (or the peer's end). */
  pause(): this {
    this.#isFlowing = false;
    return this;
  }

  /** Hands bytes over again: first, on the next tick, what was read while paused (and then the end, if it came). */
  resume(): this {
    if (this.#isFlowing || this.destroyed) return this;
    this.#isFlowing = true;
    if (this.#held !== undefined || (this.#isInputEnded && !this.#isEndEmitted)) {
      if (!this.#isHandOverScheduled) {
        this.#isHandOverScheduled = true;
        process.nextTick(RawSocket.#handOverHeld, this);
      }
      return this;
    }
    this.#startReading();
    return this;
  }

  static #handOverHeld(socket: RawSocket): void {
    socket.#isHandOverScheduled = false;
    while (socket.#isFlowing && socket.#held !== undefined) {
      const chunk = socket.#held.shift()!;
      socket.#heldBytes -= chunk.length;
      if (socket.#held.length === 0) socket.#held = undefined;
      socket.emitOne('data', chunk);
    }
    if (socket.destroyed) return;
    if (socket.#held === undefined && socket.#isInputEnded) {
      if (socket.#isFlowing) socket.#emitEnd();
    } else if (socket.#heldBytes < HIGH_WATER_MARK_BYTES) {
      // Paused again with little held: reading goes on, so the peer's end is still seen.
      socket.#startReading();
    }
  }

  setNoDelay(isEnabled = true): this {
    this.#handle.setNoDelay?.(isEnabled);
    return this;
  }

  /** The peer's address (TCP only; asked of the kernel once, when first read). */
  get remoteAddress(): string | undefined {
    return this.#peerName().address;
  }

  get remotePort(): number | undefined {
    return this.#peerName().port;
  }

  #peerName(): { address?: string; port?: number } {
    if (this.#peer === undefined) {
      const peer: { address?: string; port?: number } = {};
      if (!this.destroyed && this.#handle.getpeername?.(peer) !== 0) peer.address = undefined;
      this.#peer = peer;
    }
    return this.#peer;
  }
}

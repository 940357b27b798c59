/**
 * A raw MQTT test client over node:net: send exact bytes (see packets.ts), receive parsed packets.
 *
 * Every wait is event-driven and bounded by a timeout (default 2000 ms); a timeout rejects with what was received
 * so far, so a failing test says what the broker did instead. The only fixed wait is `expectNothing(ms)`, which is
 * by nature "nothing arrived for ms".
 */
import net from 'node:net';
import {
  Framer,
  connect as connectPacket,
  describe,
  pingreq,
  puback,
  pubcomp,
  pubrec,
  pubrel,
  publish,
  subscribe,
  unsubscribe,
  type Connack,
  type ConnectOptions,
  type Parsed,
  type Publish,
  type PublishOptions,
} from './packets.js';

export const DEFAULT_TIMEOUT_MS = 2000;

type OfType<T extends Parsed['type']> = Parsed & { type: T };

/** The part of node:test's TestContext the helpers need. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export class RawClient {
  readonly socket: net.Socket;
  /** Every packet received on this connection, in order (including ones already taken by next()). */
  readonly received: Parsed[] = [];
  #queue: Parsed[] = [];
  #waiters = new Set<() => void>();
  #framer: Framer;
  #isClosed = false;
  #packetId = 0;
  #error: Error | undefined;
  readonly #isV5: boolean;

  private constructor(socket: net.Socket, protocolVersion: 3 | 4 | 5) {
    this.socket = socket;
    this.#isV5 = protocolVersion === 5;
    this.#framer = new Framer(protocolVersion);
    socket.on('data', (chunk: Buffer) => {
      let packets: Parsed[];
      try {
        packets = this.#framer.push(chunk);
      } catch (err) {
        this.#error = err as Error;
        socket.destroy();
        return;
      }
      for (const p of packets) {
        this.received.push(p);
        this.#queue.push(p);
      }
      if (packets.length > 0) this.#notify();
    });
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => {
      this.#isClosed = true;
      this.#notify();
    });
  }

  /** Opens a TCP connection to 127.0.0.1:port. `protocolVersion` only tells the parser how to read packets. */
  static connect(port: number, options: { protocolVersion?: 3 | 4 | 5 } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.setNoDelay(true);
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RawClient(socket, options.protocolVersion ?? 4));
      });
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Writes bytes (one or several packets, or any fragment) to the broker. Ignored once closed. */
  send(...buffers: Buffer[]): void {
    if (this.#isClosed || this.socket.destroyed) return;
    for (const b of buffers) this.socket.write(b);
  }

  /** The next packet from the broker. Rejects on timeout or if the connection closes first. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Parsed> {
    const ok = await this.#waitFor(() => this.#queue.length > 0 || this.#isClosed, timeoutMs);
    const p = this.#queue.shift();
    if (p) return p;
    throw new Error(
      ok
        ? `connection closed while waiting for a packet; ${this.#history()}`
        : `no packet within ${timeoutMs} ms; ${this.#history()}`,
    );
  }

  /** The next packet, which must be of `type`. */
  async expect<T extends Parsed['type']>(type: T, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<OfType<T>> {
    const p = await this.next(timeoutMs);
    if (p.type !== type) throw new Error(`expected ${type.toUpperCase()}, got ${describe(p)}; ${this.#history()}`);
    return p as OfType<T>;
  }

  /** The next `count` packets. */
  async take(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Parsed[]> {
    const out: Parsed[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) out.push(await this.next(Math.max(1, deadline - Date.now())));
    return out;
  }

  /**
   * The first packet of `type` (and matching `predicate`) in arrival order, leaving any other packets queued for
   * next(). Use it where the spec does not fix the order (e.g. retained PUBLISHes around a SUBACK).
   */
  async nextOf<T extends Parsed['type']>(
    type: T,
    predicate: (p: OfType<T>) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<OfType<T>> {
    const find = (): number => this.#queue.findIndex((p) => p.type === type && predicate(p as OfType<T>));
    const ok = await this.#waitFor(() => find() >= 0 || this.#isClosed, timeoutMs);
    const i = find();
    if (i >= 0) return this.#queue.splice(i, 1)[0] as OfType<T>;
    const why = ok ? 'connection closed while waiting' : `none within ${timeoutMs} ms`;
    throw new Error(`expected ${type.toUpperCase()}: ${why}; ${this.#history()}`);
  }

  /** Packets received but not yet taken. */
  get pending(): readonly Parsed[] {
    return this.#queue;
  }

  /** A fresh packet identifier (1, 2, ...) for this connection. */
  nextPacketId(): number {
    this.#packetId = (this.#packetId % 65535) + 1;
    return this.#packetId;
  }

  /** SUBSCRIBE and wait for its SUBACK (which must carry the same packet id); returns the return codes. */
  async subscribe(filters: ReadonlyArray<readonly [string, number]>, packetId = this.nextPacketId()): Promise<number[]> {
    // MQTT 5 packets carry a properties field (empty here).
    this.send(subscribe(packetId, filters, this.#isV5 ? Buffer.alloc(0) : undefined));
    const suback = await this.nextOf('suback');
    if (suback.packetId !== packetId) throw new Error(`SUBACK for packet id ${suback.packetId}, sent ${packetId}`);
    return suback.codes;
  }

  /** UNSUBSCRIBE and wait for its UNSUBACK. */
  async unsubscribe(filters: readonly string[], packetId = this.nextPacketId()): Promise<void> {
    this.send(unsubscribe(packetId, filters, this.#isV5 ? Buffer.alloc(0) : undefined));
    const unsuback = await this.nextOf('unsuback');
    if (unsuback.packetId !== packetId) throw new Error(`UNSUBACK for packet id ${unsuback.packetId}, sent ${packetId}`);
  }

  /**
   * PUBLISH and complete its flow: nothing to wait for at QoS 0, PUBACK at QoS 1, PUBREC/PUBREL/PUBCOMP at QoS 2.
   * A packet id is allocated when none is given.
   */
  async publish(options: PublishOptions): Promise<void> {
    const qos = options.qos ?? 0;
    if (qos === 0) {
      this.send(publish(options));
      return;
    }
    const packetId = options.packetId ?? this.nextPacketId();
    this.send(publish({ ...options, packetId }));
    if (qos === 1) {
      await this.nextOf('puback', (p) => p.packetId === packetId);
      return;
    }
    await this.nextOf('pubrec', (p) => p.packetId === packetId);
    this.send(pubrel(packetId));
    await this.nextOf('pubcomp', (p) => p.packetId === packetId);
  }

  /** Acknowledges a received PUBLISH as a subscriber: PUBACK at QoS 1, PUBREC/PUBREL/PUBCOMP at QoS 2. */
  async acknowledge(p: Publish): Promise<void> {
    if (p.qos === 0 || p.packetId === undefined) return;
    const packetId = p.packetId;
    if (p.qos === 1) {
      this.send(puback(packetId));
      return;
    }
    this.send(pubrec(packetId));
    await this.nextOf('pubrel', (r) => r.packetId === packetId);
    this.send(pubcomp(packetId));
  }

  /** PINGREQ, then wait for PINGRESP. */
  async ping(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    this.send(pingreq());
    await this.nextOf('pingresp', () => true, timeoutMs);
  }

  /** Resolves when the broker closes the connection (packets arriving meanwhile are kept for next()). */
  async expectClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const ok = await this.#waitFor(() => this.#isClosed, timeoutMs);
    if (!ok) throw new Error(`connection still open after ${timeoutMs} ms; ${this.#history()}`);
  }

  /** Resolves if no packet arrives within `ms`; rejects with the packet if one does. */
  async expectNothing(ms = 200): Promise<void> {
    await this.#waitFor(() => this.#queue.length > 0, ms);
    const p = this.#queue[0];
    if (p) throw new Error(`expected no packet within ${ms} ms, got ${describe(p)}; ${this.#history()}`);
  }

  /** Sends CONNECT and returns the CONNACK. Does not check the return code. */
  async connect(options: ConnectOptions = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Connack> {
    this.send(connectPacket(options));
    return this.expect('connack', timeoutMs);
  }

  /** Stops reading from the socket (a slow consumer); the broker's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #history(): string {
    const got = this.received.map(describe);
    const shown = got.length > 12 ? [`...${got.length - 12} earlier`, ...got.slice(-12)] : got;
    const state = this.#isClosed ? 'connection closed' : 'connection open';
    const err = this.#error ? `, socket error: ${this.#error.message}` : '';
    return `received so far: [${shown.join(', ')}] (${state}${err})`;
  }

  #notify(): void {
    // A waiter may delete itself while we iterate; Set iteration allows that.
    for (const w of this.#waiters) w();
  }

  /** Waits until `condition()` holds (true) or `timeoutMs` passes (false). */
  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      this.#waiters.add(check);
    });
  }
}

/** Opens a raw connection closed automatically after the test. */
export async function openRaw(t: Cleanup, port: number, options: { protocolVersion?: 3 | 4 | 5 } = {}): Promise<RawClient> {
  const c = await RawClient.connect(port, options);
  t.after(() => c.destroy());
  return c;
}

/** Opens a connection, sends CONNECT and checks for CONNACK return code 0; closed automatically after the test. */
export async function openClient(t: Cleanup, port: number, options: ConnectOptions = {}): Promise<RawClient> {
  const c = await openRaw(t, port, options.protocolVersion ? { protocolVersion: options.protocolVersion } : {});
  const connack = await c.connect(options);
  if (connack.returnCode !== 0) {
    throw new Error(`CONNECT ${JSON.stringify(options.clientId ?? '')} refused: ${describe(connack)}`);
  }
  return c;
}

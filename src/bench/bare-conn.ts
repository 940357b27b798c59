/**
 * The `conn` scenario's connections over plain TCP, made as cheaply as Node allows: per connection a socket, a CONNECT
 * written at once and a check of the 4-byte CONNACK, with three listeners and nothing else (no decoder, no promise, no
 * timer of its own; one sweep timer for every pending connection). A connection costs a Node generator about as much
 * CPU as it costs a broker, so whatever the generator spends beyond Node's own socket is CPU the broker's measured
 * connect rate loses on a machine where both share the cores. TLS and WebSocket connections go through MqttSocket.
 *
 * CONNACK for MQTT 3.1.1 is always 0x20 0x02 <session present> <return code> [MQTT-3.2.2-1]; anything else, or a
 * return code other than 0, fails the connection.
 */
import net from 'node:net';
import { encode } from '../protocol/encoder.js';

export interface BareConnTarget {
  readonly host: string;
  readonly port: number;
  /** Source addresses to spread over (connection i uses localAddresses[i % length]); empty = the default. */
  readonly localAddresses: readonly string[];
  readonly clientPrefix: string;
  readonly connectTimeoutMs: number;
}

export interface BareConnEvents {
  readonly onConnected: () => void;
  readonly onFailed: (index: number, reason: string) => void;
  /** An established connection closed by the broker or the network (not by `closeAll`). */
  readonly onDropped: (index: number, reason: string) => void;
}

interface Pending {
  readonly deadline: number;
  readonly fail: (reason: string) => void;
}

const SWEEP_MS = 250;

export class BareConnections {
  readonly #target: BareConnTarget;
  readonly #events: BareConnEvents;
  readonly #open: net.Socket[] = [];
  readonly #pending = new Set<Pending>();
  #isClosing = false;

  constructor(target: BareConnTarget, events: BareConnEvents) {
    this.#target = target;
    this.#events = events;
  }

  /**
   * Opens connections first..first+count-1, at most `concurrency` waiting for their CONNACK at once, started no
   * faster than one per `intervalMs` when it is above 0. Resolves when every one has connected or failed.
   */
  open(first: number, count: number, concurrency: number, intervalMs: number): Promise<void> {
    return new Promise((resolve) => {
      const started = performance.now();
      let next = 0;
      let settled = 0;
      let paceTimer: NodeJS.Timeout | undefined;
      const sweep = setInterval(() => this.#sweep(), SWEEP_MS);
      const done = (): void => {
        settled++;
        if (settled === count) {
          clearInterval(sweep);
          resolve();
          return;
        }
        startMore();
      };
      const startMore = (): void => {
        while (next < count && next - settled < concurrency) {
          if (intervalMs > 0) {
            const wait = started + next * intervalMs - performance.now();
            if (wait > 0) {
              if (paceTimer === undefined) {
                paceTimer = setTimeout(() => {
                  paceTimer = undefined;
                  startMore();
                }, wait);
              }
              return;
            }
          }
          this.#dial(first + next, done);
          next++;
        }
      };
      if (count === 0) {
        clearInterval(sweep);
        resolve();
        return;
      }
      startMore();
    });
  }

  /** Sends DISCONNECT on every open connection and closes it. */
  closeAll(): void {
    this.#isClosing = true;
    const disconnect = Buffer.from([0xe0, 0]);
    for (const socket of this.#open) if (!socket.destroyed) socket.end(disconnect);
    setTimeout(() => {
      for (const socket of this.#open) socket.destroy();
    }, 1000).unref();
  }

  #dial(index: number, settle: () => void): void {
    const t = this.#target;
    const addresses = t.localAddresses;
    const localAddress = addresses.length > 0 ? addresses[index % addresses.length] : undefined;
    const socket = net.connect({ host: t.host, port: t.port, localAddress, noDelay: true });
    let isConnected = false;
    let isSettled = false;
    /** The first bytes from the broker while fewer than a CONNACK's 4 have arrived. */
    let head: Buffer | undefined;
    const fail = (reason: string): void => {
      if (isSettled) return;
      isSettled = true;
      this.#pending.delete(pending);
      socket.destroy();
      this.#events.onFailed(index, reason);
      settle();
    };
    const pending: Pending = { deadline: performance.now() + t.connectTimeoutMs, fail };
    this.#pending.add(pending);
    socket.on('data', (data: Buffer) => {
      if (isConnected) return;
      const chunk = head === undefined ? data : Buffer.concat([head, data]);
      if (chunk.length < 4) {
        head = chunk;
        return;
      }
      head = undefined;
      if (chunk[0] !== 0x20 || chunk[1] !== 2) {
        fail(`expected CONNACK, got ${chunk.subarray(0, 4).toString('hex')}`);
        return;
      }
      if (chunk[3] !== 0) {
        fail(`CONNACK refused with code ${chunk[3]}`);
        return;
      }
      isConnected = true;
      isSettled = true;
      this.#pending.delete(pending);
      this.#open.push(socket);
      this.#events.onConnected();
      settle();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.on('close', () => {
      if (!isConnected) {
        fail('closed by peer');
        return;
      }
      if (!this.#isClosing) this.#events.onDropped(index, 'closed by peer');
    });
    socket.write(encode({
      type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 0, clientId: `${t.clientPrefix}-conn${index}`,
    }, 4));
  }

  #sweep(): void {
    const now = performance.now();
    for (const p of this.#pending) {
      if (p.deadline <= now) p.fail(`no CONNACK within ${this.#target.connectTimeoutMs} ms`);
    }
  }
}

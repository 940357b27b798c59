/**
 * Client keepalive: send PINGREQ when nothing has been sent for the keepalive interval [MQTT-3.1.2-23], and close
 * the connection when its PINGRESP does not come back within the ping timeout.
 *
 * Design note: one timer at a time, always re-armed from the clock rather than at a fixed period, so a late timer
 * never accumulates drift: each check measures the real time since the last packet sent, sends a ping only if the
 * interval has really elapsed, and otherwise sleeps for the remainder. Before declaring the server dead the check
 * yields one event-loop turn (`defer`, i.e. setImmediate): when the process was stalled (a long synchronous task,
 * a suspended laptop, a debugger) the timer and the PINGRESP sitting in the socket buffer are both due, and timers
 * run before I/O callbacks, so without that turn a healthy connection would be closed. The clock is injected so
 * tests drive it without real sleeps.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` after pending I/O callbacks (setImmediate). */
  defer(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (fn) => {
    setImmediate(fn);
  },
};

/** What keepalive needs from a connection: nothing more. */
export interface KeepaliveLink {
  sendPing(): void;
  /** No PINGRESP in time: close the connection. */
  timedOut(): void;
}

export class Keepalive {
  readonly #link: KeepaliveLink;
  readonly #clock: Clock;
  #intervalMs: number;
  #timeoutMs: number;
  #lastSentAt = 0;
  /** When the outstanding PINGREQ was sent; undefined when none is outstanding. */
  #pingSentAt: number | undefined;
  #timer: unknown;
  #isRunning = false;

  /** `intervalMs` 0 disables pings. `timeoutMs` defaults to the interval. */
  constructor(link: KeepaliveLink, intervalMs: number, clock: Clock = systemClock, timeoutMs = intervalMs) {
    this.#link = link;
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
  }

  get isPingOutstanding(): boolean {
    return this.#pingSentAt !== undefined;
  }

  start(): void {
    this.#isRunning = true;
    this.#lastSentAt = this.#clock.now();
    this.#arm(this.#intervalMs);
  }

  stop(): void {
    this.#isRunning = false;
    this.#disarm();
    this.#pingSentAt = undefined;
  }

  /** A new interval (e.g. the MQTT 5 Server Keep Alive); the timeout follows it. */
  setInterval(intervalMs: number): void {
    this.#intervalMs = intervalMs;
    this.#timeoutMs = intervalMs;
    if (this.#isRunning) {
      this.#disarm();
      this.#arm(this.#pingSentAt === undefined ? this.#remainingIdleMs() : this.#remainingPingMs());
    }
  }

  /** Call for every packet written. */
  packetSent(): void {
    this.#lastSentAt = this.#clock.now();
  }

  /** Call for every PINGRESP. */
  pingResponse(): void {
    if (this.#pingSentAt === undefined) return;
    this.#pingSentAt = undefined;
    if (this.#isRunning) {
      this.#disarm();
      this.#arm(this.#remainingIdleMs());
    }
  }

  #remainingIdleMs(): number {
    return Math.max(0, this.#lastSentAt + this.#intervalMs - this.#clock.now());
  }

  #remainingPingMs(): number {
    return Math.max(0, (this.#pingSentAt ?? 0) + this.#timeoutMs - this.#clock.now());
  }

  #arm(ms: number): void {
    if (this.#intervalMs <= 0 || !this.#isRunning) return;
    this.#timer = this.#clock.setTimeout(() => this.#check(), ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#isRunning) return;
    if (this.#pingSentAt !== undefined) {
      const left = this.#remainingPingMs();
      if (left > 0) {
        this.#arm(left);
        return;
      }
      // Let pending I/O (a PINGRESP already received) run first: see the design note.
      this.#clock.defer(() => {
        if (!this.#isRunning || this.#pingSentAt === undefined || this.#timer !== undefined) return;
        const stillLeft = this.#remainingPingMs();
        if (stillLeft > 0) this.#arm(stillLeft);
        else this.#link.timedOut();
      });
      return;
    }
    const idleLeft = this.#remainingIdleMs();
    if (idleLeft > 0) {
      this.#arm(idleLeft);
      return;
    }
    this.#pingSentAt = this.#clock.now();
    this.#link.sendPing();
    this.#arm(this.#timeoutMs);
  }
}

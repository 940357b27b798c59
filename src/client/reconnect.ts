/**
 * Reconnection delays: exponential backoff with jitter. Attempt n (from 0) waits a random time between half and all
 * of min(maxDelayMs, initialDelayMs * 2^n) ("equal jitter"): the exponential part spreads retries out when the
 * server is down, the random half stops a fleet of clients that lost the same server from reconnecting in lockstep,
 * and the fixed half keeps a floor so no client retries in a tight loop. A successful CONNACK resets the count.
 */

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, or undefined when `maxAttempts` is used up. Counts the attempt. */
  next(): number | undefined {
    if (this.#attempt >= this.#options.maxAttempts) return undefined;
    const exponent = Math.min(this.#attempt, 30);
    const cap = Math.min(this.#options.maxDelayMs, this.#options.initialDelayMs * 2 ** exponent);
    this.#attempt++;
    return Math.round(cap / 2 + (this.#random() * cap) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

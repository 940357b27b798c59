/**
 * Login back-off: after a failed login from an address, that address's next logins are checked no sooner than a
 * delay that doubles with each failure (initialDelayMs, 2×, 4×… up to maxDelayMs). Attempts are spaced, not just
 * delayed: each one reserves the next free slot, so opening many connections in parallel does not raise the rate
 * above one check per delay. An attempt whose slot would be more than maxDelayMs away is refused at once (Server
 * busy) without checking its password. Failures are forgotten after forgetAfterMs without a new one; a success does
 * not reset them (a valid account must not unlock guessing another one).
 *
 * Cost: one Map entry per address with recent failures, capped at maxAddresses (the least recently failed address
 * is forgotten first).
 */
import { ConfigError } from './config.js';

export interface LoginBackoffOptions {
  /** Delay after the first failure. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest delay. Default 8,000 ms. */
  maxDelayMs?: number;
  /** Failures are forgotten after this long without another. Default 60,000 ms. */
  forgetAfterMs?: number;
  /** Addresses remembered at once. Default 10,000. */
  maxAddresses?: number;
}

interface Entry {
  failures: number;
  lastFailureMs: number;
  nextSlotMs: number;
}

/** What `reserve` says: wait this long, or refuse now (too many attempts queued). */
export type Reservation = { readonly waitMs: number } | 'refuse';

export class LoginBackoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly forgetAfterMs: number;
  readonly maxAddresses: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginBackoffOptions = {}) {
    this.initialDelayMs = positive(options.initialDelayMs, 250, 'initialDelayMs');
    this.maxDelayMs = Math.max(this.initialDelayMs, positive(options.maxDelayMs, 8000, 'maxDelayMs'));
    this.forgetAfterMs = positive(options.forgetAfterMs, 60_000, 'forgetAfterMs');
    this.maxAddresses = positive(options.maxAddresses, 10_000, 'maxAddresses');
  }

  /** Delay that follows `failures` failures. */
  delayFor(failures: number): number {
    if (failures <= 0) return 0;
    return Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(failures - 1, 30));
  }

  /** Called before checking a login from `address`. */
  reserve(address: string, nowMs: number): Reservation {
    const entry = this.#current(address, nowMs);
    if (entry === undefined) return { waitMs: 0 };
    const startMs = Math.max(nowMs, entry.nextSlotMs);
    if (startMs - nowMs > this.maxDelayMs) return 'refuse';
    entry.nextSlotMs = startMs + this.delayFor(entry.failures);
    return { waitMs: startMs - nowMs };
  }

  /** Called when a login from `address` was refused. */
  failed(address: string, nowMs: number): void {
    const entry = this.#current(address, nowMs) ?? { failures: 0, lastFailureMs: nowMs, nextSlotMs: nowMs };
    entry.failures++;
    entry.lastFailureMs = nowMs;
    entry.nextSlotMs = Math.max(entry.nextSlotMs, nowMs + this.delayFor(entry.failures));
    this.#entries.delete(address);
    this.#entries.set(address, entry);
    if (this.#entries.size > this.maxAddresses) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Failures remembered for `address` (0 once forgotten). */
  failures(address: string, nowMs: number): number {
    return this.#current(address, nowMs)?.failures ?? 0;
  }

  #current(address: string, nowMs: number): Entry | undefined {
    const entry = this.#entries.get(address);
    if (entry !== undefined && nowMs - entry.lastFailureMs > this.forgetAfterMs) {
      this.#entries.delete(address);
      return undefined;
    }
    return entry;
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`loginBackoff.${name} must be a positive number`);
  return value;
}

/** The host part of a `host:port` remote address (IPv6 hosts contain colons too). */
export function hostOf(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return colon === -1 ? remoteAddress : remoteAddress.slice(0, colon);
}

/**
 * Will messages: the message a will becomes, and the MQTT 5 Will Delay Interval (section 3.1.3.2.2).
 *
 * Design note: a delayed will waits in a Map keyed by client id, each with one unref'd timer: there is at most one
 * per client and they are rare, so a timer each costs less than a sweep over every session. It leaves the Map in
 * one of three ways: the delay passes (published), the session ends first (published now, by `publishNow` from the
 * broker's session end), or the client connects again to the same session (cancelled [MQTT-3.1.3-9]).
 */
import type { Properties, Will } from '../protocol/types.js';
import { Message } from './message.js';

/**
 * The PUBLISH a will becomes [MQTT-3.1.2-8]: the will's own properties are forwarded, except the Will Delay
 * Interval, which is no PUBLISH property; a Message Expiry Interval starts counting at publication.
 */
export function willMessage(will: Will, clientId: string, nowMs: number): Message {
  let properties: Properties | undefined;
  if (will.properties !== undefined) {
    const { willDelayInterval: _delay, ...rest } = will.properties;
    properties = rest;
  }
  const expiry = properties?.messageExpiryInterval;
  return new Message(will.topic, will.payload, will.qos, will.retain, properties, clientId,
    expiry === undefined ? undefined : nowMs + expiry * 1000);
}

interface PendingWill {
  readonly will: Will;
  readonly dueAtMs: number;
  readonly timer: NodeJS.Timeout;
}

/** Wills waiting out their Will Delay Interval, by client id. */
export class DelayedWills {
  readonly #pending = new Map<string, PendingWill>();
  readonly #publish: (clientId: string, will: Will) => void;

  /** `publish` sends a will whose time has come (retain, route). */
  constructor(publish: (clientId: string, will: Will) => void) {
    this.#publish = publish;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** When the will of `clientId` is due (ms since the epoch), or undefined when none waits. */
  dueAt(clientId: string): number | undefined {
    return this.#pending.get(clientId)?.dueAtMs;
  }

  /** Holds `will` for `delayMs`; a will already waiting for the same client is replaced. */
  schedule(clientId: string, will: Will, delayMs: number, nowMs = Date.now()): void {
    this.cancel(clientId);
    const held: Will = { ...will, payload: Buffer.from(will.payload) };
    const timer = setTimeout(() => this.publishNow(clientId), delayMs);
    timer.unref();
    this.#pending.set(clientId, { will: held, dueAtMs: nowMs + delayMs, timer });
  }

  /** [MQTT-3.1.3-9]: the client is back on its session before the delay passed; the will is not sent. */
  cancel(clientId: string): boolean {
    const pending = this.#pending.get(clientId);
    if (pending === undefined) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(clientId);
    return true;
  }

  /** Publishes the waiting will of `clientId` now (its delay passed, or its session ended first). */
  publishNow(clientId: string): boolean {
    const pending = this.#pending.get(clientId);
    if (pending === undefined) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(clientId);
    this.#publish(clientId, pending.will);
    return true;
  }

  /** Drops every waiting will without publishing (broker shutdown). */
  clear(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
  }
}

/**
 * Will messages: the message a will becomes, and the MQTT 5 Will Delay Interval (section 3.1.3.2.2).
 *
 * Design note: a delayed will waits in a Map keyed by client id, each with one unref'd timer: there is at most one
 * per client and they are rare, so a timer each costs less than a sweep over every session. It leaves the Map in
 * one of three ways: the delay passes (published), the session ends first (published now, by `publishNow` from the
 * broker's session end), or the client connects again to the same session (cancelled [MQTT-3.1.3-9]). Every
 * change is written to the store, so a broker restarted within the delay still publishes the will on time.
 */
import type { Properties, Will } from '../protocol/types.js';
import type { Persistence, StoredDelayedWill, StoredMessage } from '../persistence/persistence.js';
import { Message } from './message.js';

/**
 * The message a will becomes [MQTT-3.1.2-8], before publication: the will's own properties are kept except the Will
 * Delay Interval, which is no PUBLISH property. Its payload is copied (it may be a view of a socket chunk).
 */
export function willToStored(will: Will): StoredMessage {
  let properties: Properties | undefined;
  if (will.properties !== undefined) {
    const { willDelayInterval: _delay, ...rest } = will.properties;
    properties = rest;
  }
  const base = { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain };
  return properties === undefined ? base : { ...base, properties };
}

/** The message published for a will now: its Message Expiry Interval starts counting at publication. */
export function willMessage(stored: StoredMessage, clientId: string, nowMs: number): Message {
  const expiry = stored.properties?.messageExpiryInterval;
  return new Message(stored.topic, stored.payload, stored.qos, stored.retain, stored.properties, clientId,
    expiry === undefined ? undefined : nowMs + expiry * 1000);
}

interface PendingWill {
  readonly message: StoredMessage;
  readonly dueAtMs: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Wills waiting out their Will Delay Interval, by client id, written through to the store (`putDelayedWill`) so
 * that a restarted broker still publishes them (`restore`).
 */
export class DelayedWills {
  readonly #pending = new Map<string, PendingWill>();
  readonly #store: Persistence;
  readonly #publish: (clientId: string, message: StoredMessage) => void;

  /** `publish` sends a will whose time has come (retain, route). */
  constructor(store: Persistence, publish: (clientId: string, message: StoredMessage) => void) {
    this.#store = store;
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
    const message = willToStored(will);
    this.#hold(clientId, message, nowMs + delayMs, delayMs);
    this.#store.putDelayedWill(clientId, { message, fireAtMs: nowMs + delayMs });
  }

  /** Re-arms the wills a store kept over a restart; one already due is published at once. */
  restore(wills: readonly StoredDelayedWill[], nowMs = Date.now()): void {
    for (const will of wills) {
      this.#hold(will.clientId, will.message, will.fireAtMs, Math.max(0, will.fireAtMs - nowMs));
    }
  }

  #hold(clientId: string, message: StoredMessage, dueAtMs: number, delayMs: number): void {
    const earlier = this.#pending.get(clientId);
    if (earlier !== undefined) clearTimeout(earlier.timer);
    const timer = setTimeout(() => this.publishNow(clientId), delayMs);
    timer.unref();
    this.#pending.set(clientId, { message, dueAtMs, timer });
  }

  /** [MQTT-3.1.3-9]: the client is back on its session before the delay passed; the will is not sent. */
  cancel(clientId: string): boolean {
    const pending = this.#pending.get(clientId);
    if (pending === undefined) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(clientId);
    this.#store.deleteDelayedWill(clientId);
    return true;
  }

  /** Publishes the waiting will of `clientId` now (its delay passed, or its session ended first). */
  publishNow(clientId: string): boolean {
    const pending = this.#pending.get(clientId);
    if (pending === undefined) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(clientId);
    this.#store.deleteDelayedWill(clientId);
    this.#publish(clientId, pending.message);
    return true;
  }

  /** Stops every timer without publishing (broker shutdown); the store keeps the wills for the next start. */
  stop(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
  }
}

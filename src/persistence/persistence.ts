/**
 * The storage interface behind the broker: sessions, their queued and in-flight outbound messages, inbound QoS 2
 * packet identifiers, retained messages, and delayed wills (MQTT 5 Will Delay Interval).
 *
 * Design note: the broker keeps the live state of every session in memory and writes through to the store. Writes
 * are submitted synchronously (`save*`, `delete*`, `put*` return nothing) so that a store can group every write of
 * one event-loop turn into one transaction (group commit); `flush()` resolves once everything submitted before it is
 * durable, and the broker waits on it before acknowledging a QoS 1/2 PUBLISH when `isDurable` is true. `open()`
 * returns everything to restore at start-up. A store that fails a write reports it through `flush()` rejecting;
 * the broker answers the affected client with an error reason code and keeps running.
 */
import type { Properties, QoS, RetainHandling } from '../protocol/types.js';

export interface StoredMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties?: Properties;
  /** Wall-clock time (ms since the epoch) after which the message must not be delivered (MQTT 5 expiry). */
  readonly expiresAtMs?: number;
}

export interface StoredSubscription {
  readonly topicFilter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: RetainHandling;
  readonly subscriptionIdentifier?: number;
}

export interface StoredSession {
  readonly clientId: string;
  /** Seconds the session outlives its connection; 0xFFFFFFFF never expires. */
  readonly expiryIntervalSeconds: number;
  /** When the last connection ended (ms since the epoch), or undefined while connected. */
  readonly disconnectedAtMs?: number;
  readonly subscriptions: readonly StoredSubscription[];
}

/**
 * One outbound QoS 1/2 message of a session. `seq` orders the session's queue and identifies the entry.
 * `state` is 'queued' (not yet sent), 'publish' (sent, awaiting PUBACK/PUBREC) or 'pubrel' (PUBREC received,
 * PUBREL sent, awaiting PUBCOMP).
 */
export interface StoredOutgoing {
  readonly seq: number;
  readonly qos: 1 | 2;
  readonly state: 'queued' | 'publish' | 'pubrel';
  readonly packetId: number;
  readonly message: StoredMessage;
  /** MQTT 5 Subscription Identifiers to send with the message, when the matching subscriptions had any. */
  readonly subscriptionIdentifiers?: readonly number[];
  /** The `$share/{ShareName}/{filter}` whose group chose this session, so the message can move on if it leaves. */
  readonly sharedSubscription?: string;
}

/**
 * A will whose publication waits for its Will Delay Interval (MQTT 5 section 3.1.3.2.2) after its connection closed.
 * The broker publishes it at `fireAtMs` (or when the session ends first) unless the client reconnects.
 */
export interface StoredDelayedWill {
  readonly clientId: string;
  readonly message: StoredMessage;
  /** Wall-clock time (ms since the epoch) at which the will is due. */
  readonly fireAtMs: number;
}

export interface RestoredState {
  readonly sessions: readonly StoredSession[];
  /** Outbound entries by client id, in `seq` order. */
  readonly outgoing: ReadonlyMap<string, readonly StoredOutgoing[]>;
  /** Inbound QoS 2 packet identifiers awaiting PUBREL, by client id. */
  readonly incomingQos2: ReadonlyMap<string, readonly number[]>;
  readonly retained: readonly StoredMessage[];
  /** Delayed wills not yet published or cancelled, one per client id at most. */
  readonly delayedWills: readonly StoredDelayedWill[];
}

export interface Persistence {
  /** A short name for logs ("memory", "lmdb"). */
  readonly name: string;
  /** True when `flush()` means "on disk": the broker then acknowledges QoS 1/2 only after it. */
  readonly isDurable: boolean;
  open(): Promise<RestoredState>;
  close(): Promise<void>;
  saveSession(session: StoredSession): void;
  /** Removes the session with its outbound entries and inbound QoS 2 identifiers (not its delayed will). */
  deleteSession(clientId: string): void;
  putOutgoing(clientId: string, entry: StoredOutgoing): void;
  deleteOutgoing(clientId: string, seq: number): void;
  putIncomingQos2(clientId: string, packetId: number): void;
  deleteIncomingQos2(clientId: string, packetId: number): void;
  /** Stores the retained message of `topic`, or removes it when `message` is undefined. */
  putRetained(topic: string, message: StoredMessage | undefined): void;
  /**
   * Stores the delayed will of `clientId`, replacing any earlier one. A will is independent of the session record:
   * `deleteSession` leaves it, because a session that ends publishes its pending will (MQTT 5 section 3.1.3.2.2).
   */
  putDelayedWill(clientId: string, will: { readonly message: StoredMessage; readonly fireAtMs: number }): void;
  /** Removes the delayed will of `clientId` (published, or cancelled by a reconnect); unknown ids are a no-op. */
  deleteDelayedWill(clientId: string): void;
  /** Resolves when every write submitted before the call is durable; rejects if one of them failed. */
  flush(): Promise<void>;
}

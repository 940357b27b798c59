/**
 * The storage interface behind the broker: sessions, their queued and in-flight outbound messages, inbound QoS 2
 * packet identifiers, and retained messages.
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
}

export interface RestoredState {
  readonly sessions: readonly StoredSession[];
  /** Outbound entries by client id, in `seq` order. */
  readonly outgoing: ReadonlyMap<string, readonly StoredOutgoing[]>;
  /** Inbound QoS 2 packet identifiers awaiting PUBREL, by client id. */
  readonly incomingQos2: ReadonlyMap<string, readonly number[]>;
  readonly retained: readonly StoredMessage[];
}

export interface Persistence {
  /** A short name for logs ("memory", "lmdb"). */
  readonly name: string;
  /** True when `flush()` means "on disk": the broker then acknowledges QoS 1/2 only after it. */
  readonly isDurable: boolean;
  open(): Promise<RestoredState>;
  close(): Promise<void>;
  saveSession(session: StoredSession): void;
  /** Removes the session with its outbound entries and inbound QoS 2 identifiers. */
  deleteSession(clientId: string): void;
  putOutgoing(clientId: string, entry: StoredOutgoing): void;
  deleteOutgoing(clientId: string, seq: number): void;
  putIncomingQos2(clientId: string, packetId: number): void;
  deleteIncomingQos2(clientId: string, packetId: number): void;
  /** Stores the retained message of `topic`, or removes it when `message` is undefined. */
  putRetained(topic: string, message: StoredMessage | undefined): void;
  /** Resolves when every write submitted before the call is durable; rejects if one of them failed. */
  flush(): Promise<void>;
}

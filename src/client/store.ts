/**
 * The in-flight store: the client's side of the session for outbound QoS 1 and 2 messages, plus publishes queued
 * while offline. Every QoS 1/2 `publish()` is written here before it is sent, updated when its packet identifier or
 * state changes, and deleted when its flow completes. On start the client loads the store and sends what it holds,
 * so with a durable store (FileStore) publishes survive a process restart.
 *
 * The interface is async and narrow (load / put / delete / close) so a database can implement it. Implementations
 * must pass the conformance suite in test/client/store-conformance.ts.
 */
import type { Properties } from '../protocol/types.js';

export interface StoredPublish {
  /** Order of the `publish()` calls; the key. */
  seq: number;
  topic: string;
  payload: Buffer;
  qos: 1 | 2;
  retain: boolean;
  properties?: Properties;
  /** Assigned when stored and kept for the life of the message, as resending requires [MQTT-4.4.0-1]. */
  packetId: number;
  /** Sent at least once: a resend carries DUP 1 [MQTT-3.3.1-1]. Written lazily, so after a crash it may lag. */
  isSent: boolean;
  /** 'publish': awaiting PUBACK / PUBREC. 'pubrel': PUBREC received, PUBREL sent, awaiting PUBCOMP. */
  state: 'publish' | 'pubrel';
}

export interface InflightStore {
  /** Every stored entry, ordered by `seq`. Called once, before the first connection. */
  load(): Promise<StoredPublish[]>;
  /** Inserts or replaces the entry with this `seq`. Resolves once it is durable (for a durable store). */
  put(entry: StoredPublish): Promise<void>;
  /** Removes the entry with this `seq`; no error if absent. */
  delete(seq: number): Promise<void>;
  close(): Promise<void>;
}

function copy(entry: StoredPublish): StoredPublish {
  return { ...entry, payload: Buffer.from(entry.payload) };
}

/** The default store: a Map, lost when the process ends. */
export class MemoryStore implements InflightStore {
  readonly #entries = new Map<number, StoredPublish>();

  async load(): Promise<StoredPublish[]> {
    return [...this.#entries.values()].toSorted((a, b) => a.seq - b.seq).map(copy);
  }

  async put(entry: StoredPublish): Promise<void> {
    this.#entries.set(entry.seq, copy(entry));
  }

  async delete(seq: number): Promise<void> {
    this.#entries.delete(seq);
  }

  async close(): Promise<void> {}
}

/**
 * The in-memory store: state survives a broker restart inside one process (the same instance passed to a new
 * broker) but not the process. Not durable, so the broker does not wait on `flush()`.
 */
import type {
  Persistence, RestoredState, StoredDelayedWill, StoredMessage, StoredOutgoing, StoredSession,
} from '../persistence.js';

export class MemoryPersistence implements Persistence {
  readonly name = 'memory';
  readonly isDurable = false;
  readonly #sessions = new Map<string, StoredSession>();
  readonly #outgoing = new Map<string, Map<number, StoredOutgoing>>();
  readonly #incoming = new Map<string, Set<number>>();
  readonly #retained = new Map<string, StoredMessage>();
  readonly #wills = new Map<string, StoredDelayedWill>();
  #isOpen = false;

  async open(): Promise<RestoredState> {
    this.#isOpen = true;
    const outgoing = new Map<string, StoredOutgoing[]>();
    for (const [id, entries] of this.#outgoing) {
      outgoing.set(id, [...entries.values()].toSorted((a, b) => a.seq - b.seq));
    }
    const incomingQos2 = new Map<string, number[]>();
    for (const [id, ids] of this.#incoming) incomingQos2.set(id, [...ids]);
    return {
      sessions: [...this.#sessions.values()],
      outgoing,
      incomingQos2,
      retained: [...this.#retained.values()],
      delayedWills: [...this.#wills.values()],
    };
  }

  async close(): Promise<void> {
    this.#isOpen = false;
  }

  saveSession(session: StoredSession): void {
    this.#sessions.set(session.clientId, session);
  }

  deleteSession(clientId: string): void {
    this.#sessions.delete(clientId);
    this.#outgoing.delete(clientId);
    this.#incoming.delete(clientId);
  }

  putOutgoing(clientId: string, entry: StoredOutgoing): void {
    let entries = this.#outgoing.get(clientId);
    if (entries === undefined) {
      entries = new Map();
      this.#outgoing.set(clientId, entries);
    }
    entries.set(entry.seq, entry);
  }

  deleteOutgoing(clientId: string, seq: number): void {
    const entries = this.#outgoing.get(clientId);
    if (entries === undefined) return;
    entries.delete(seq);
    if (entries.size === 0) this.#outgoing.delete(clientId);
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    let ids = this.#incoming.get(clientId);
    if (ids === undefined) {
      ids = new Set();
      this.#incoming.set(clientId, ids);
    }
    ids.add(packetId);
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    const ids = this.#incoming.get(clientId);
    if (ids === undefined) return;
    ids.delete(packetId);
    if (ids.size === 0) this.#incoming.delete(clientId);
  }

  putRetained(topic: string, message: StoredMessage | undefined): void {
    if (message === undefined) this.#retained.delete(topic);
    else this.#retained.set(topic, message);
  }

  putDelayedWill(clientId: string, will: { readonly message: StoredMessage; readonly fireAtMs: number }): void {
    this.#wills.set(clientId, { clientId, message: will.message, fireAtMs: will.fireAtMs });
  }

  deleteDelayedWill(clientId: string): void {
    this.#wills.delete(clientId);
  }

  async flush(): Promise<void> {
    if (!this.#isOpen) throw new Error('MemoryPersistence: flush() before open()');
  }
}

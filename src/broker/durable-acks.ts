/**
 * Acknowledgements that wait for the store: a QoS 1/2 PUBLISH is answered (PUBACK/PUBREC) once `flush()` says the
 * message and its queue entries are durable.
 *
 * Design note: a store's `flush()` returns one promise for all the writes of a commit, so every acknowledgement
 * that waits on that promise goes into one batch with one continuation, in order, instead of a continuation (two
 * closures and a promise) per PUBLISH. A store whose `flush()` returns a new promise per call simply gets batches of
 * one.
 */
import type { Persistence } from '../persistence/persistence.js';

/** Sends one acknowledgement; `isStoreFailed` when the store reported an error instead. */
export type SendDurableAck<C, P> = (conn: C, packet: P, reasonCode: number, isStoreFailed: boolean, err?: Error) => void;

interface Batch<C, P> {
  conns: C[];
  packets: P[];
  reasonCodes: number[];
}

export class DurableAcks<C, P> {
  readonly #persistence: Persistence;
  readonly #send: SendDurableAck<C, P>;
  #promise: Promise<void> | undefined;
  #batch: Batch<C, P> | undefined;

  constructor(persistence: Persistence, send: SendDurableAck<C, P>) {
    this.#persistence = persistence;
    this.#send = send;
  }

  /** Answers `packet` once everything submitted to the store so far is durable. */
  add(conn: C, packet: P, reasonCode: number): void {
    const promise = this.#persistence.flush();
    let batch = this.#batch;
    if (promise !== this.#promise || batch === undefined) {
      this.#promise = promise;
      const created: Batch<C, P> = { conns: [], packets: [], reasonCodes: [] };
      batch = this.#batch = created;
      promise.then(() => this.#settle(created, undefined), (err: unknown) => this.#settle(created, err as Error));
    }
    batch.conns.push(conn);
    batch.packets.push(packet);
    batch.reasonCodes.push(reasonCode);
  }

  #settle(batch: Batch<C, P>, err: Error | undefined): void {
    if (this.#batch === batch) {
      this.#batch = undefined;
      this.#promise = undefined;
    }
    const { conns, packets, reasonCodes } = batch;
    for (let i = 0; i < conns.length; i++) this.#send(conns[i]!, packets[i]!, reasonCodes[i]!, err !== undefined, err);
  }
}

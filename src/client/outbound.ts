/**
 * The outbound publish flow: the offline queue, the in-flight window and the QoS 1/2 handshakes.
 *
 * Design note: every publish is an Item in one of two places. `#queue` holds items waiting to be sent, in publish
 * order (while offline, or beyond the in-flight window); `#inflight` holds QoS 1/2 items sent and awaiting
 * PUBACK / PUBREC / PUBCOMP, by packet id. A QoS 1/2 item is written to the store before it may leave the queue
 * (head-of-line: a later item never overtakes an earlier one still being stored), so what was promised to the caller
 * is durable before the server sees it. When the connection drops the in-flight items go back to the front of the
 * queue in publish order; on reconnection they are resent with DUP 1 if the session was present [MQTT-4.4.0-1],
 * while in a new session an item whose PUBREC arrived is complete (the server already owns it) and the others are
 * sent again as new messages. The window is the smaller of our `maxInflight` and the server's Receive Maximum
 * [MQTT-3.3.4-7]. Each item settles exactly once: acknowledged, refused (PublishError), or failed by `failAll`
 * when the client closes, so no caller waits forever. Publishes made before the store has been loaded wait for it
 * (`#early`), then take their place behind the stored messages.
 */
import { InflightTable, type InflightKeys } from '../common/inflight-table.js';
import type { Properties, QoS } from '../protocol/types.js';
import { MqttClientError, PublishError } from './errors.js';
import type { PacketIds } from './packet-ids.js';
import type { InflightStore, StoredPublish } from './store.js';

/** A message to send: a StoredPublish, or the same shape at QoS 0 (packetId 0, never stored). */
export type OutMessage = Omit<StoredPublish, 'qos'> & { qos: QoS };

interface Settle {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A `publish()` made before the store was loaded: it is made for real once `restore()` is done. */
interface EarlyPublish {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties: Properties | undefined;
  readonly settle: Settle;
}

interface Item {
  message: OutMessage;
  isStored: boolean;
  /** Absent for messages restored from the store (their caller is gone). */
  settle: Settle | undefined;
}

export interface OutboundLink {
  /** An error to fail the message with instead of sending it (too large for the server, QoS not supported, …). */
  check(message: OutMessage): MqttClientError | undefined;
  sendPublish(message: OutMessage, dup: boolean): void;
  sendPubrel(packetId: number): void;
  /** A store write failed after the caller's promise settled: report it. */
  storeFailed(err: unknown): void;
}

export interface OutboundLimits {
  maxQueued: number;
  maxInflight: number;
}

const ITEM_KEYS: InflightKeys<Item> = { packetId: (i) => i.message.packetId, seq: (i) => i.message.seq };

export class Outbound {
  readonly #store: InflightStore;
  readonly #ids: PacketIds;
  readonly #link: OutboundLink;
  readonly #limits: OutboundLimits;
  #queue: Item[] = [];
  /** By packet id (a slot table, not a Map: see common/inflight-table.ts). */
  readonly #inflight = new InflightTable<Item>(ITEM_KEYS);
  #isOnline = false;
  #window = 0;
  #nextSeq = 1;
  #drainWaiters: Array<() => void> = [];
  /**
   * Publishes made before `restore()` has loaded the store; undefined once it has. They wait, because a message may
   * not take a sequence number or packet id that a stored one holds (it would overwrite it in the store), nor touch
   * the store while it is being read (FileStore's load removes the temporary files of unfinished writes), nor leave
   * before the older stored messages.
   */
  #early: EarlyPublish[] | undefined = [];

  constructor(store: InflightStore, ids: PacketIds, link: OutboundLink, limits: OutboundLimits) {
    this.#store = store;
    this.#ids = ids;
    this.#link = link;
    this.#limits = limits;
  }

  /** Messages not yet complete: queued plus in flight (plus those waiting for the store to be loaded). */
  get pendingCount(): number {
    return this.#queue.length + this.#inflight.size + (this.#early?.length ?? 0);
  }

  get inflightCount(): number {
    return this.#inflight.size;
  }

  /**
   * Loads what a previous run left in the store; it is sent on the first connection, before the publishes made in
   * the meantime. When loading fails the client closes, and `failAll` rejects those.
   */
  async restore(): Promise<number> {
    const entries = await this.#store.load();
    for (const entry of entries) {
      this.#ids.claim(entry.packetId);
      this.#queue.push({ message: entry, isStored: true, settle: undefined });
      this.#nextSeq = Math.max(this.#nextSeq, entry.seq + 1);
    }
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const p of early) this.publish(p.topic, p.payload, p.qos, p.retain, p.properties).then(p.settle.resolve, p.settle.reject);
    return entries.length;
  }

  publish(topic: string, payload: Buffer, qos: QoS, retain: boolean, properties?: Properties): Promise<void> {
    const waiting = this.#early?.length ?? this.#queue.length;
    if (waiting >= this.#limits.maxQueued && !(qos === 0 && this.#canSendNow())) {
      return Promise.reject(new MqttClientError('MQTT_ERR_QUEUE_FULL',
        `${waiting} messages are already waiting to be sent (maxQueuedMessages)`));
    }
    if (this.#early !== undefined) {
      const early = this.#early;
      return new Promise((resolve, reject) => early.push({ topic, payload, qos, retain, properties, settle: { resolve, reject } }));
    }
    const message: OutMessage = {
      seq: this.#nextSeq++, topic, payload, qos, retain, packetId: 0, state: 'publish', isSent: false,
    };
    if (properties !== undefined) message.properties = properties;
    if (qos === 0 && this.#canSendNow()) {
      const error = this.#link.check(message);
      if (error !== undefined) return Promise.reject(error);
      this.#link.sendPublish(message, false);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const item: Item = { message, isStored: qos === 0, settle: { resolve, reject } };
      if (qos > 0) {
        try {
          message.packetId = this.#ids.allocate();
        } catch (cause) {
          reject(new MqttClientError('MQTT_ERR_QUEUE_FULL', 'no free packet identifier', { cause }));
          return;
        }
      }
      this.#queue.push(item);
      if (qos === 0) {
        this.#pump();
        return;
      }
      this.#store.put(message as StoredPublish).then(() => {
        item.isStored = true;
        this.#pump();
      }, (cause: unknown) => {
        const at = this.#queue.indexOf(item);
        if (at >= 0) this.#queue.splice(at, 1);
        this.#ids.release(message.packetId);
        reject(new MqttClientError('MQTT_ERR_STORE', 'the in-flight store refused the message', { cause }));
        this.#pump();
      });
    });
  }

  #canSendNow(): boolean {
    return this.#isOnline && this.#queue.length === 0;
  }

  /** A connection is up: settle what the new session makes complete, then send. */
  online(sessionPresent: boolean, serverReceiveMaximum: number): void {
    if (!sessionPresent) {
      const keep: Item[] = [];
      for (const item of this.#queue) {
        if (item.message.state === 'pubrel') {
          this.#finish(item);
        } else {
          item.message.isSent = false;
          keep.push(item);
        }
      }
      this.#queue = keep;
    }
    this.#window = Math.min(this.#limits.maxInflight, serverReceiveMaximum);
    this.#isOnline = true;
    this.#pump();
  }

  /** The connection is gone: in-flight messages wait at the front of the queue, in publish order. */
  offline(): void {
    this.#isOnline = false;
    if (this.#inflight.size === 0) return;
    const back = this.#inflight.values();
    this.#inflight.clear();
    this.#queue = [...back, ...this.#queue];
  }

  /** The client is closing for good: every unsettled publish rejects with `error`. The store keeps its entries. */
  failAll(error: Error): void {
    this.#isOnline = false;
    const items = [...this.#inflight.values(), ...this.#queue];
    this.#inflight.clear();
    this.#queue = [];
    for (const item of items) item.settle?.reject(error);
    if (this.#early !== undefined) {
      const early = this.#early;
      this.#early = [];
      for (const p of early) p.settle.reject(error);
    }
    this.#notifyDrained();
  }

  /** Resolves when nothing is queued or in flight. */
  whenDrained(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  onPuback(packetId: number, reasonCode: number, reasonString?: string): void {
    const item = this.#inflight.get(packetId);
    if (item === undefined || item.message.qos !== 1) return;
    this.#finish(item, reasonCode >= 0x80 ? new PublishError(reasonCode, reasonString) : undefined);
    this.#pump();
  }

  /** False when the packet id is unknown (the caller answers PUBREL with Packet Identifier Not Found). */
  onPubrec(packetId: number, reasonCode: number, reasonString?: string): boolean {
    const item = this.#inflight.get(packetId);
    if (item === undefined || item.message.qos !== 2) return false;
    if (reasonCode >= 0x80) {
      // A failed PUBREC ends the flow: no PUBREL follows (MQTT 5 section 4.3.3).
      this.#finish(item, new PublishError(reasonCode, reasonString));
      this.#pump();
      return true;
    }
    if (item.message.state !== 'pubrel') {
      item.message.state = 'pubrel';
      this.#store.put(item.message as StoredPublish).catch((err: unknown) => this.#link.storeFailed(err));
    }
    this.#link.sendPubrel(packetId);
    return true;
  }

  onPubcomp(packetId: number): void {
    const item = this.#inflight.get(packetId);
    if (item === undefined || item.message.state !== 'pubrel') return;
    // Even Packet Identifier Not Found completes it: the server took the message over at PUBREC.
    this.#finish(item);
    this.#pump();
  }

  #pump(): void {
    while (this.#isOnline && this.#queue.length > 0) {
      const item = this.#queue[0]!;
      if (!item.isStored) return;
      const message = item.message;
      if (message.qos > 0 && this.#inflight.size >= this.#window) return;
      this.#queue.shift();
      const error = message.state === 'pubrel' ? undefined : this.#link.check(message);
      if (error !== undefined) {
        this.#finish(item, error);
        continue;
      }
      if (message.qos === 0) {
        this.#link.sendPublish(message, false);
        item.settle?.resolve();
        continue;
      }
      this.#inflight.set(item);
      if (message.state === 'pubrel') {
        this.#link.sendPubrel(message.packetId);
      } else {
        this.#link.sendPublish(message, message.isSent);
        if (!message.isSent) {
          message.isSent = true;
          this.#store.put(message as StoredPublish).catch((err: unknown) => this.#link.storeFailed(err));
        }
      }
    }
    this.#notifyDrained();
  }

  #finish(item: Item, error?: Error): void {
    const message = item.message;
    if (message.qos > 0) {
      this.#inflight.delete(message.packetId);
      this.#ids.release(message.packetId);
      this.#store.delete(message.seq).catch((err: unknown) => this.#link.storeFailed(err));
    }
    if (error === undefined) item.settle?.resolve();
    else item.settle?.reject(error);
    this.#notifyDrained();
  }

  #notifyDrained(): void {
    if (this.pendingCount > 0 || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}

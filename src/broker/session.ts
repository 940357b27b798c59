/**
 * A client session: its subscriptions, its outbound QoS 1/2 messages (in flight and queued), and the inbound QoS 2
 * packet identifiers awaiting PUBREL. A session outlives its connections unless it is clean.
 *
 * Design note: in-flight messages live in a table keyed by packet identifier (common/inflight-table.ts: slots, not
 * a Map, for the garbage collector's sake), bounded by the in-flight window; the rest wait in a FIFO queue (an array
 * with a moving head, compacted now and then) bounded by count and bytes. Packet identifiers come from a rolling
 * counter that skips identifiers still in flight [MQTT-2.2.1-3] (and any whose slot in the table is taken).
 * Every change of a persistent session is written through to the store.
 */
import type { QoS } from '../protocol/types.js';
import type { Persistence, StoredOutgoing, StoredSubscription } from '../persistence/persistence.js';
import type { ClientInfo } from './hooks.js';
import type { Message } from './message.js';
import type { SharedGroup } from './shared.js';
import { InflightTable, type InflightKeys } from '../common/inflight-table.js';

/** What a session needs from its live connection. */
export interface SessionLink {
  /** False when the message could not be sent to this client and is dropped for it (e.g. over its maximum size). */
  sendPublish(message: Message, qos: QoS, packetId: number, retain: boolean, dup: boolean,
    subscriptionIds: readonly number[] | undefined): boolean;
  sendPubrel(packetId: number): void;
  /** The client's own limit on unacknowledged QoS 1/2 messages (MQTT 5 Receive Maximum; 65,535 otherwise). */
  readonly receiveMaximum: number;
}

export interface OutEntry {
  seq: number;
  /** QoS 0 entries exist only in the queue of a connected client, behind QoS 1/2 messages waiting for the window. */
  qos: QoS;
  state: 'queued' | 'publish' | 'pubrel';
  packetId: number;
  message: Message;
  retain: boolean;
  /** MQTT 5 Subscription Identifiers of the subscriptions that matched, sent with the message [MQTT-3.3.4-3]. */
  subscriptionIds: readonly number[] | undefined;
  /** The shared subscription group that chose this session, so the message can move on if the session leaves. */
  group: SharedGroup | undefined;
}

/** An entry of a shared group taken from a session to go to another member. */
export interface SharedEntry extends OutEntry {
  group: SharedGroup;
}

const OUT_ENTRY_KEYS: InflightKeys<OutEntry> = { packetId: (e) => e.packetId, seq: (e) => e.seq };

export interface SessionLimits {
  readonly maxInflight: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
}

export interface SessionCounters {
  messagesDropped: number;
  /**
   * When (Date.now()) a connected session with a small in-flight window (at most WAITING_WINDOW) last had an
   * acknowledgement while messages waited in its queue: its delivery rate is one window per round trip, and the
   * round trip includes the broker's turn. Connections then take fewer PUBLISH packets per turn (connection.ts).
   */
  windowWaitAtMs: number;
  /** Told of a session's 1st drop and every 1,000th after, so drops are logged without flooding the log. */
  onDrop?: (clientId: string, droppedTotal: number, reason: string) => void;
}

/** In-flight windows up to this size count as small for `SessionCounters.windowWaitAtMs`. */
const WAITING_WINDOW = 1024;

export class Session {
  readonly clientId: string;
  link: SessionLink | null = null;
  /**
   * The client that last held this session, for delivery-time read checks while it is offline too; undefined for
   * a session restored from the store whose client has not reconnected yet.
   */
  client: ClientInfo | undefined;
  /** Clean sessions (3.1.1 clean session, or MQTT 5 expiry 0) are neither persisted nor kept after the connection. */
  isClean: boolean;
  expiryIntervalSeconds: number;
  disconnectedAtMs: number | undefined;
  // Created on first use: most idle sessions never need all of them (memory per idle connection matters).
  #subscriptions: Map<string, StoredSubscription> | undefined;
  #inflight: InflightTable<OutEntry> | undefined;
  #incomingQos2: Set<number> | undefined;
  #queue: OutEntry[] = [];
  #queueHead = 0;
  #queuedBytes = 0;

  get subscriptions(): Map<string, StoredSubscription> {
    return this.#subscriptions ??= new Map();
  }

  /** Outbound QoS 1/2 messages sent and not yet acknowledged, by packet id. */
  get inflight(): InflightTable<OutEntry> {
    return this.#inflight ??= new InflightTable(OUT_ENTRY_KEYS);
  }

  /** How many messages are in flight, without creating the map. */
  get inflightCount(): number {
    return this.#inflight?.size ?? 0;
  }

  /** How many inbound QoS 2 packet ids await PUBREL, without creating the set. */
  get incomingQos2Count(): number {
    return this.#incomingQos2?.size ?? 0;
  }

  /** Inbound QoS 2 packet ids received and not yet released by PUBREL. */
  get incomingQos2(): Set<number> {
    return this.#incomingQos2 ??= new Set();
  }
  #nextPacketId = 1;
  #nextSeq = 1;
  readonly #limits: SessionLimits;
  readonly #store: Persistence;
  readonly #counters: SessionCounters;
  /** Per-publish scratch used by the router to deliver once per session [MQTT-3.3.5-1]. */
  routeStamp = 0;
  routeQos: QoS = 0;
  routeIds: number[] | undefined = undefined;
  /** Messages this session lost: queue full, or too large for the client. */
  droppedCount = 0;

  constructor(clientId: string, isClean: boolean, expiryIntervalSeconds: number, limits: SessionLimits,
    store: Persistence, counters: SessionCounters) {
    this.clientId = clientId;
    this.isClean = isClean;
    this.expiryIntervalSeconds = expiryIntervalSeconds;
    this.#limits = limits;
    this.#store = store;
    this.#counters = counters;
  }

  get queuedCount(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Saves the session record (subscriptions, expiry) when it is persistent. */
  persist(): void {
    if (this.isClean) return;
    this.#store.saveSession({
      clientId: this.clientId,
      expiryIntervalSeconds: this.expiryIntervalSeconds,
      disconnectedAtMs: this.disconnectedAtMs,
      subscriptions: this.#subscriptions === undefined ? [] : [...this.#subscriptions.values()],
    });
  }

  /**
   * Delivers a message at `qos` (already the minimum of published and granted). QoS 0 goes out now or not at all;
   * QoS 1/2 goes in flight when the window has room and the queue is empty, else waits in the queue.
   * `isExemptFromLimit` is for retained messages sent on SUBSCRIBE: they are paced by the window but never dropped.
   * `subscriptionIds` go out with the message (MQTT 5); `group` is the shared subscription group that chose us.
   * Returns false only when the queue limit made the session drop the message (a quota, for PUBACK 0x97).
   */
  deliver(message: Message, qos: QoS, retain: boolean, isExemptFromLimit = false,
    subscriptionIds: readonly number[] | undefined = undefined, group: SharedGroup | undefined = undefined): boolean {
    if (qos === 0) {
      // Sent now, unless messages wait ahead of it: then it queues too, so the client sees one order across
      // QoS levels (stronger than [MQTT-4.6.0-6], which orders per topic and QoS). Offline sessions drop QoS 0.
      if (this.link === null) return true;
      if (this.queuedCount === 0) {
        this.link.sendPublish(message, 0, 0, retain, false, subscriptionIds);
        return true;
      }
    }
    const entry: OutEntry = {
      seq: this.#nextSeq++, qos, state: 'queued', packetId: 0, message, retain, subscriptionIds, group,
    };
    if (this.link !== null && this.queuedCount === 0 && this.inflightCount < this.#window()) {
      if (this.#send(entry)) this.#save(entry);
      return true;
    }
    if (!isExemptFromLimit && this.#isQueueFull(message)) {
      this.#drop('queue full');
      return false;
    }
    message.detach();
    this.#queue.push(entry);
    this.#queuedBytes += message.payload.length;
    this.#save(entry);
    return true;
  }

  #drop(reason: string): void {
    this.#counters.messagesDropped++;
    this.droppedCount++;
    if (this.droppedCount === 1 || this.droppedCount % 1000 === 0) {
      this.#counters.onDrop?.(this.clientId, this.droppedCount, reason);
    }
  }

  #window(): number {
    const clientMax = this.link === null ? this.#limits.maxInflight : this.link.receiveMaximum;
    return clientMax < this.#limits.maxInflight ? clientMax : this.#limits.maxInflight;
  }

  #isQueueFull(message: Message): boolean {
    const { maxQueuedMessages, maxQueuedBytes } = this.#limits;
    if (maxQueuedMessages > 0 && this.queuedCount >= maxQueuedMessages) return true;
    return maxQueuedBytes > 0 && this.#queuedBytes + message.payload.length > maxQueuedBytes;
  }

  /** Puts an entry in flight; false when the link dropped it (then it is gone, never in flight). */
  #send(entry: OutEntry): boolean {
    if (entry.qos === 0) {
      this.link!.sendPublish(entry.message, 0, 0, entry.retain, false, entry.subscriptionIds);
      return false;
    }
    entry.packetId = this.#allocatePacketId();
    if (!this.link!.sendPublish(entry.message, entry.qos as 1 | 2, entry.packetId, entry.retain, false,
      entry.subscriptionIds)) {
      this.#drop('larger than the client accepts');
      return false;
    }
    entry.state = 'publish';
    this.inflight.set(entry);
    return true;
  }

  #allocatePacketId(): number {
    const id = this.inflight.freeId(this.#nextPacketId);
    this.#nextPacketId = id === 65_535 ? 1 : id + 1;
    return id;
  }

  #save(entry: OutEntry): void {
    if (this.isClean || entry.qos === 0) return;
    const record: { -readonly [K in keyof StoredOutgoing]: StoredOutgoing[K] } = {
      seq: entry.seq, qos: entry.qos, state: entry.state, packetId: entry.packetId, message: entry.message,
    };
    if (entry.subscriptionIds !== undefined) record.subscriptionIdentifiers = entry.subscriptionIds;
    if (entry.group !== undefined) record.sharedSubscription = entry.group.subscriptionFilter;
    this.#store.putOutgoing(this.clientId, record);
  }

  #remove(entry: OutEntry): void {
    this.inflight.delete(entry.packetId);
    if (!this.isClean) this.#store.deleteOutgoing(this.clientId, entry.seq);
  }

  /** PUBACK: ends a QoS 1 flow. Returns false when no QoS 1 message was in flight under that identifier. */
  acknowledge(packetId: number): boolean {
    const entry = this.inflight.get(packetId);
    if (entry === undefined || entry.qos !== 1) return false;
    this.#noteWindowWait();
    this.#remove(entry);
    this.fillWindow();
    return true;
  }

  /** PUBREC: moves a QoS 2 flow to PUBREL (or ends it on a failure reason code). Returns false when unknown. */
  received(packetId: number, isFailure: boolean): boolean {
    const entry = this.inflight.get(packetId);
    if (entry === undefined || entry.qos !== 2 || entry.state === 'queued') return false;
    if (isFailure) {
      this.#remove(entry);
      this.fillWindow();
      return true;
    }
    entry.state = 'pubrel';
    this.#save(entry);
    return true;
  }

  /** PUBCOMP: ends a QoS 2 flow. Returns false when no message awaited it. */
  complete(packetId: number): boolean {
    const entry = this.inflight.get(packetId);
    if (entry === undefined || entry.state !== 'pubrel') return false;
    this.#noteWindowWait();
    this.#remove(entry);
    this.fillWindow();
    return true;
  }

  /** An acknowledgement came while messages wait behind a small window (see SessionCounters.windowWaitAtMs). */
  #noteWindowWait(): void {
    if (this.queuedCount > 0 && this.link !== null && this.#window() <= WAITING_WINDOW) {
      this.#counters.windowWaitAtMs = Date.now();
    }
  }

  /** Moves queued messages into the window while it has room and a connection is attached. */
  fillWindow(nowMs = Date.now()): void {
    while (this.link !== null && this.inflightCount < this.#window() && this.queuedCount > 0) {
      const entry = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead] = undefined as unknown as OutEntry;
      this.#queueHead++;
      this.#queuedBytes -= entry.message.payload.length;
      if (entry.message.isExpired(nowMs) || !this.#send(entry)) {
        if (!this.isClean && entry.qos > 0) this.#store.deleteOutgoing(this.clientId, entry.seq);
        continue;
      }
      this.#save(entry);
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /**
   * A connection takes the session over: resend what was in flight, in order — PUBLISH with DUP=1, or PUBREL for
   * those past PUBREC [MQTT-4.4.0-1] — then fill the window from the queue.
   */
  attach(link: SessionLink): void {
    this.link = link;
    this.disconnectedAtMs = undefined;
    for (const entry of this.#inflight?.values() ?? []) {
      if (entry.state === 'pubrel') link.sendPubrel(entry.packetId);
      else link.sendPublish(entry.message, entry.qos, entry.packetId, entry.retain, true, entry.subscriptionIds);
    }
    this.fillWindow();
  }

  detach(nowMs: number): void {
    this.link = null;
    this.disconnectedAtMs = nowMs;
  }

  /** Restores an outbound entry read from the store at start-up (`group`: the shared group that chose it). */
  restoreOutgoing(record: StoredOutgoing, message: Message, group?: SharedGroup): void {
    const entry: OutEntry = {
      seq: record.seq, qos: record.qos, state: record.state, packetId: record.packetId, message, retain: message.retain,
      subscriptionIds: record.subscriptionIdentifiers, group,
    };
    if (record.seq >= this.#nextSeq) this.#nextSeq = record.seq + 1;
    if (record.state === 'queued') {
      this.#queue.push(entry);
      this.#queuedBytes += message.payload.length;
    } else {
      this.inflight.set(entry);
    }
  }

  /**
   * Removes and returns the entries that shared groups gave this session and that `isMovable(group)` lets go:
   * queued ones, and with `includeInflight` the QoS 1 ones sent but unacknowledged. A QoS 2 message already sent
   * stays: its delivery must complete with this session [MQTT-4.8.2-4/5].
   */
  takeSharedEntries(includeInflight: boolean, isMovable: (group: SharedGroup) => boolean): SharedEntry[] {
    const taken: SharedEntry[] = [];
    const take = (e: OutEntry): boolean => {
      if (e.group === undefined || !isMovable(e.group)) return false;
      taken.push(e as SharedEntry);
      if (!this.isClean && e.qos > 0) this.#store.deleteOutgoing(this.clientId, e.seq);
      return true;
    };
    if (includeInflight && this.#inflight !== undefined) {
      for (const e of this.#inflight.values()) {
        if (e.qos === 1 && e.state === 'publish' && take(e)) this.inflight.delete(e.packetId);
      }
    }
    if (this.queuedCount > 0) {
      const kept: OutEntry[] = [];
      for (let i = this.#queueHead; i < this.#queue.length; i++) {
        const e = this.#queue[i]!;
        if (take(e)) this.#queuedBytes -= e.message.payload.length;
        else kept.push(e);
      }
      this.#queue = kept;
      this.#queueHead = 0;
    }
    taken.sort((a, b) => a.seq - b.seq);
    return taken;
  }

  /** Drops all outbound state (clean start on a resumed id, or session end). */
  clearMessages(): void {
    this.#inflight?.clear();
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    this.#incomingQos2?.clear();
  }
}

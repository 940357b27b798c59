/**
 * One publishing connection. Every PUBLISH is a copy of one template encoded once by our encoder; per message only
 * the payload header (send time, publisher id, sequence number) and the packet id are patched, and a whole batch
 * goes out in one socket write.
 *
 * Payload layout (little-endian): bytes 0-7 send time in ns (process.hrtime, comparable between processes on one
 * host), 8-11 publisher id, 12-15 sequence number from 0; the rest is zeros. Hence payloads are at least 16 bytes.
 *
 * Pacing: flat out (rate 0) sends a batch, then the next on setImmediate or 'drain', bounded at QoS 1/2 by the
 * in-flight window; with a rate, a shared ticker calls `tick` and the publisher catches up to rate x elapsed
 * (open loop: a stalled broker gets a burst, it does not slow the schedule).
 */
import { encodePublish } from '../protocol/encoder.js';
import type { PublisherPlan } from './messages.js';
import type { InboundHandler, MqttSocket } from './mqtt-socket.js';
import { SeqSet } from './seq-set.js';

export const PAYLOAD_HEADER_BYTES = 16;
const BATCH_BYTES = 64 * 1024;
const MAX_BATCH = 256;
/** A rate-paced publisher skips a tick while this much is still unsent in its socket. */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

export class Publisher implements InboundHandler {
  readonly plan: PublisherPlan;
  sent = 0;
  acked = 0;
  readonly ackedSeqs: SeqSet | undefined;
  /** Called once when `maxCount` messages are sent and (QoS 1/2) acknowledged. */
  onDone: () => void = () => undefined;

  readonly conn: MqttSocket;
  /** One encoded PUBLISH per topic, back to back, all `#templateBytes` long. */
  readonly #templates: Buffer;
  readonly #templateBytes: number;
  readonly #topicCount: number;
  readonly #payloadOffset: number;
  readonly #packetIdOffset: number;
  readonly #batchLimit: number;
  /** Packet id -> sequence number of the unacknowledged message, or -1. */
  readonly #pending = new Int32Array(65_536).fill(-1);
  #inflight = 0;
  #nextPacketId = 1;
  #startNs = 0;
  #isRunning = false;
  #isScheduled = false;
  #isWaitingDrain = false;
  /** Closed loop: held while too many deliveries are outstanding (flat out only). */
  #isThrottled = false;
  #isDone = false;

  constructor(plan: PublisherPlan, conn: MqttSocket) {
    this.plan = plan;
    this.conn = conn;
    const payloadBytes = Math.max(PAYLOAD_HEADER_BYTES, plan.payloadBytes);
    const topics = plan.topics ?? [plan.topic];
    const encoded = topics.map((topic) => encodePublish({
      type: 3, topic, payload: Buffer.alloc(payloadBytes), qos: plan.qos, retain: false, dup: false,
      ...(plan.qos > 0 ? { packetId: 1 } : {}),
    }, 4));
    const e = encoded[0]!;
    if (encoded.some((x) => x.bytes.length !== e.bytes.length)) throw new Error(`publisher ${plan.id}: topics differ in length`);
    this.#templates = Buffer.concat(encoded.map((x) => x.bytes));
    this.#templateBytes = e.bytes.length;
    this.#topicCount = topics.length;
    this.#payloadOffset = e.bytes.length - payloadBytes;
    this.#packetIdOffset = e.packetIdOffset;
    this.#batchLimit = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / e.bytes.length)));
    this.ackedSeqs = plan.qos > 0 ? new SeqSet() : undefined;
    conn.handler = this;
    conn.socket.on('drain', () => {
      if (!this.#isWaitingDrain) return;
      this.#isWaitingDrain = false;
      this.#schedule();
    });
  }

  get isPaced(): boolean {
    return this.plan.ratePerSecond > 0;
  }

  start(nowNs: number): void {
    this.#startNs = nowNs;
    this.#isRunning = true;
    if (!this.isPaced) this.#schedule();
  }

  stop(): void {
    this.#isRunning = false;
  }

  /** Closed loop (see coordinator.ts): a flat-out publisher sends nothing while throttled. */
  setThrottled(isOn: boolean): void {
    this.#isThrottled = isOn;
    if (!isOn && !this.isPaced) this.#schedule();
  }

  /** Paced publishers: send what is due by now. */
  tick(nowNs: number): void {
    if (!this.#isRunning || this.conn.socket.writableLength > MAX_BACKLOG_BYTES) return;
    const due = Math.floor((this.plan.ratePerSecond * (nowNs - this.#startNs)) / 1e9) - this.sent;
    if (due > 0) this.#sendUpTo(due, nowNs);
  }

  #schedule(): void {
    if (this.#isScheduled || this.#isWaitingDrain || this.#isThrottled || !this.#isRunning) return;
    this.#isScheduled = true;
    setImmediate(() => {
      this.#isScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (!this.#isRunning || this.#isThrottled || this.conn.socket.destroyed) return;
    const isWritable = this.#sendUpTo(this.#batchLimit, Number(process.hrtime.bigint()));
    if (!isWritable) this.#isWaitingDrain = true;
    else if (this.plan.qos === 0 || this.#inflight < this.plan.inflight) this.#schedule();
    // Otherwise an acknowledgement reschedules.
  }

  /** Sends up to `wanted` messages in one write; returns the socket's write result (false = buffer full). */
  #sendUpTo(wanted: number, nowNs: number): boolean {
    let n = Math.min(wanted, this.#batchLimit * 16);
    if (this.plan.qos > 0) n = Math.min(n, this.plan.inflight - this.#inflight);
    if (this.plan.maxCount > 0) n = Math.min(n, this.plan.maxCount - this.sent);
    if (n <= 0) {
      this.#checkDone();
      return true;
    }
    const len = this.#templateBytes;
    const batch = Buffer.allocUnsafe(n * len);
    let count = 0;
    for (; count < n; count++) {
      const at = count * len;
      if (this.plan.qos > 0) {
        const packetId = this.#takePacketId();
        if (packetId === 0) break;
        this.#pending[packetId] = this.sent;
        this.#inflight++;
        this.#copyTemplate(batch, at);
        batch[at + this.#packetIdOffset] = packetId >>> 8;
        batch[at + this.#packetIdOffset + 1] = packetId & 0xff;
      } else {
        this.#copyTemplate(batch, at);
      }
      const p = at + this.#payloadOffset;
      batch.writeDoubleLE(nowNs, p);
      batch.writeUInt32LE(this.plan.id, p + 8);
      batch.writeUInt32LE(this.sent, p + 12);
      this.sent++;
    }
    if (count === 0) return true;
    const isWritable = this.conn.socket.write(count === n ? batch : batch.subarray(0, count * len));
    this.#checkDone();
    return isWritable;
  }

  /** The PUBLISH for the next sequence number's topic. */
  #copyTemplate(batch: Buffer, at: number): void {
    const from = this.#topicCount === 1 ? 0 : (this.sent % this.#topicCount) * this.#templateBytes;
    this.#templates.copy(batch, at, from, from + this.#templateBytes);
  }

  /** The next free packet id, or 0 if the next one in turn is still unacknowledged. */
  #takePacketId(): number {
    const id = this.#nextPacketId;
    if (this.#pending[id] !== -1) return 0;
    this.#nextPacketId = id === 65_535 ? 1 : id + 1;
    return id;
  }

  /** Publishers subscribe to nothing. */
  onPublish(): void {
    // Nothing to count.
  }

  onAck(type: number, packetId: number): void {
    if (type === 4 || type === 5) {
      const seq = this.#pending[packetId]!;
      if (seq < 0) return;
      if (this.ackedSeqs!.add(seq)) this.acked++;
      if (type === 5) {
        // QoS 2: the broker owns the message from PUBREC on; the packet id stays taken until PUBCOMP.
        this.conn.ack(0x62, packetId);
        return;
      }
      this.#release(packetId);
    } else if (type === 7) {
      this.#release(packetId);
    }
  }

  #release(packetId: number): void {
    if (this.#pending[packetId]! < 0) return;
    this.#pending[packetId] = -1;
    this.#inflight--;
    this.#checkDone();
    if (!this.isPaced) this.#schedule();
  }

  #checkDone(): void {
    if (this.#isDone || this.plan.maxCount === 0 || this.sent < this.plan.maxCount) return;
    if (this.plan.qos > 0 && this.#inflight > 0) return;
    this.#isDone = true;
    this.#isRunning = false;
    this.onDone();
  }
}

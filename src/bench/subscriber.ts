/**
 * One subscribing connection: counts messages, records latency from the send time in the payload, tracks which
 * sequence numbers arrived from which publisher (for lost and duplicate counts), and acknowledges QoS 1/2.
 */
import type { QoS } from '../protocol/types.js';
import { Histogram } from './histogram.js';
import type { SubscriberPlan, SubscriberResult } from './messages.js';
import type { InboundHandler, MqttSocket } from './mqtt-socket.js';
import { PAYLOAD_HEADER_BYTES } from './publisher.js';
import { SeqSet } from './seq-set.js';

/** Totals shared by the subscribers of one group in one worker. */
export class GroupStats {
  received = 0;
  duplicates = 0;
  readonly latency = new Histogram();
  /** Latency is recorded only after the warm-up mark. */
  isMeasuring = false;
}

export class Subscriber implements InboundHandler {
  readonly plan: SubscriberPlan;
  received = 0;
  duplicates = 0;
  readonly #bySender: (SeqSet | undefined)[] = [];
  readonly #group: GroupStats;
  readonly #conn: MqttSocket;
  /** A view of the last chunk a PUBLISH came in, to read payload headers with. */
  #viewOf: Buffer | undefined;
  #view: DataView | undefined;

  constructor(plan: SubscriberPlan, conn: MqttSocket, group: GroupStats) {
    this.plan = plan;
    this.#group = group;
    this.#conn = conn;
    conn.handler = this;
  }

  onAck(type: number, packetId: number): void {
    if (type === 6) this.#conn.ack(0x70, packetId);
  }

  onPublish(buf: Buffer, payloadStart: number, payloadEnd: number, qos: QoS, packetId: number, nowNs: number): void {
    this.received++;
    const group = this.#group;
    group.received++;
    if (qos === 1) this.#conn.ack(0x40, packetId);
    else if (qos === 2) this.#conn.ack(0x50, packetId);
    if (payloadEnd - payloadStart < PAYLOAD_HEADER_BYTES) return;
    // Many packets share a chunk: one DataView per chunk reads their headers (Buffer's readDoubleLE, a byte-by-byte
    // copy in JavaScript, was 8 % of a worker's time in fanout at QoS 0).
    if (buf !== this.#viewOf) {
      this.#viewOf = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    const view = this.#view!;
    const sender = view.getUint32(payloadStart + 8, true);
    const seq = view.getUint32(payloadStart + 12, true);
    let seqs = this.#bySender[sender];
    if (seqs === undefined) {
      seqs = new SeqSet();
      this.#bySender[sender] = seqs;
    }
    if (!seqs.add(seq)) {
      this.duplicates++;
      group.duplicates++;
    }
    if (group.isMeasuring) group.latency.record((nowNs - view.getFloat64(payloadStart, true)) / 1000);
  }

  /** Stops reading from the socket for `ms`, so the broker has to hold a backlog for this subscriber. */
  pauseReading(ms: number): void {
    this.#conn.socket.pause();
    setTimeout(() => this.#conn.socket.resume(), ms);
  }

  result(): SubscriberResult {
    const seqs: Record<string, string> = {};
    this.#bySender.forEach((set, sender) => {
      if (set !== undefined) seqs[String(sender)] = set.toBase64();
    });
    return {
      id: this.plan.id, filter: this.plan.filter, qos: this.plan.qos, group: this.plan.group,
      received: this.received, duplicates: this.duplicates, seqs,
    };
  }
}

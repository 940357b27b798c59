/**
 * One subscribing connection: counts messages, records latency from the send time in the payload, tracks which
 * sequence numbers arrived from which publisher (for lost and duplicate counts), and acknowledges QoS 1/2.
 */
import type { Packet } from '../protocol/types.js';
import { Histogram } from './histogram.js';
import type { SubscriberPlan, SubscriberResult } from './messages.js';
import type { MqttSocket } from './mqtt-socket.js';
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

export class Subscriber {
  readonly plan: SubscriberPlan;
  received = 0;
  duplicates = 0;
  readonly #bySender: (SeqSet | undefined)[] = [];
  readonly #group: GroupStats;
  readonly #conn: MqttSocket;

  constructor(plan: SubscriberPlan, conn: MqttSocket, group: GroupStats) {
    this.plan = plan;
    this.#group = group;
    this.#conn = conn;
    conn.handler = (packet, nowNs) => this.#onPacket(packet, nowNs);
  }

  #onPacket(packet: Packet, nowNs: number): void {
    if (packet.type === 6) {
      this.#conn.ack(0x70, packet.packetId);
      return;
    }
    if (packet.type !== 3) return;
    this.received++;
    const group = this.#group;
    group.received++;
    if (packet.qos === 1) this.#conn.ack(0x40, packet.packetId!);
    else if (packet.qos === 2) this.#conn.ack(0x50, packet.packetId!);
    const payload = packet.payload;
    if (payload.length < PAYLOAD_HEADER_BYTES) return;
    const sentNs = payload.readDoubleLE(0);
    const sender = payload.readUInt32LE(8);
    const seq = payload.readUInt32LE(12);
    let seqs = this.#bySender[sender];
    if (seqs === undefined) {
      seqs = new SeqSet();
      this.#bySender[sender] = seqs;
    }
    if (!seqs.add(seq)) {
      this.duplicates++;
      group.duplicates++;
    }
    if (group.isMeasuring) group.latency.record((nowNs - sentNs) / 1000);
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

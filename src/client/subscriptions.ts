/**
 * SUBSCRIBE / UNSUBSCRIBE requests and the set of active subscriptions.
 *
 * A request waits for its SUBACK / UNSUBACK by packet id; one made while offline, or lost with the connection, is
 * sent (again) on the next connection. Granted filters are remembered so that a reconnection whose CONNACK says
 * Session Present 0 can subscribe to them again (the server forgot them); with Session Present 1 the server still
 * has them and nothing is resent. Every request settles: acknowledged, or rejected by `failAll` when the client
 * closes.
 */
import type { Properties, ProtocolVersion, QoS, SubscribePacket, Subscription, UnsubscribePacket } from '../protocol/types.js';
import type { PacketIds } from './packet-ids.js';

/** One filter's outcome: the granted QoS, or a failure reason code (0x80 and above). */
export interface SubscribeGrant {
  topicFilter: string;
  /** Granted QoS (0–2) or, for a refused filter, the reason code (0x80 in 3.1.1; any SUBACK code in 5). */
  reasonCode: number;
  /** The granted QoS; absent when refused. */
  qos?: QoS;
}

export interface UnsubscribeResult {
  topicFilter: string;
  /** MQTT 5 reason code (0 Success, 0x11 No subscription existed, …); always 0 before MQTT 5. */
  reasonCode: number;
}

interface Request {
  packet: SubscribePacket | UnsubscribePacket;
  /** Absent for the automatic resubscription. */
  resolve?: (codes: number[]) => void;
  reject?: (err: Error) => void;
}

export interface SubscriptionsLink {
  send(packet: SubscribePacket | UnsubscribePacket): boolean;
  warn(err: Error): void;
}

export class Subscriptions {
  readonly #ids: PacketIds;
  readonly #link: SubscriptionsLink;
  readonly #version: ProtocolVersion;
  readonly #active = new Map<string, { subscription: Subscription; properties: Properties | undefined }>();
  readonly #pending = new Map<number, Request>();

  constructor(ids: PacketIds, link: SubscriptionsLink, version: ProtocolVersion) {
    this.#ids = ids;
    this.#link = link;
    this.#version = version;
  }

  /** Filters the server has granted (as far as this client knows). */
  get activeFilters(): string[] {
    return [...this.#active.keys()];
  }

  subscribe(subscriptions: Subscription[], properties: Properties | undefined): Promise<SubscribeGrant[]> {
    const packet: SubscribePacket = { type: 8, packetId: this.#ids.allocate(), subscriptions };
    if (this.#version === 5) packet.properties = properties ?? {};
    return this.#request(packet).then((codes) => subscriptions.map((s, i) => {
      const reasonCode = codes[i] ?? 0x80;
      if (reasonCode < 0x80) {
        this.#active.set(s.topicFilter, { subscription: s, properties });
        return { topicFilter: s.topicFilter, reasonCode, qos: reasonCode as QoS };
      }
      return { topicFilter: s.topicFilter, reasonCode };
    }));
  }

  unsubscribe(topicFilters: string[], properties: Properties | undefined): Promise<UnsubscribeResult[]> {
    const packet: UnsubscribePacket = { type: 10, packetId: this.#ids.allocate(), topicFilters };
    if (this.#version === 5) packet.properties = properties ?? {};
    return this.#request(packet).then((codes) => topicFilters.map((topicFilter, i) => {
      this.#active.delete(topicFilter);
      return { topicFilter, reasonCode: codes[i] ?? 0 };
    }));
  }

  #request(packet: SubscribePacket | UnsubscribePacket): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.#pending.set(packet.packetId, { packet, resolve, reject });
      this.#link.send(packet);
    });
  }

  /** A connection is up: resubscribe if the server forgot us, then (re)send what is waiting. */
  online(sessionPresent: boolean): void {
    const waiting = [...this.#pending.values()];
    if (!sessionPresent && this.#active.size > 0) this.#resubscribe();
    for (const request of waiting) this.#link.send(request.packet);
  }

  #resubscribe(): void {
    // One SUBSCRIBE per distinct properties object (an MQTT 5 Subscription Identifier applies to a whole packet).
    const groups = new Map<Properties | undefined, Subscription[]>();
    for (const { subscription, properties } of this.#active.values()) {
      const group = groups.get(properties) ?? [];
      group.push(subscription);
      groups.set(properties, group);
    }
    for (const [properties, subscriptions] of groups) {
      const packet: SubscribePacket = { type: 8, packetId: this.#ids.allocate(), subscriptions };
      if (this.#version === 5) packet.properties = properties ?? {};
      this.#pending.set(packet.packetId, { packet });
      this.#link.send(packet);
    }
  }

  onSuback(packetId: number, reasonCodes: number[]): void {
    const request = this.#take(packetId, 8);
    if (request === undefined) return;
    if (request.resolve !== undefined) {
      request.resolve(reasonCodes);
      return;
    }
    (request.packet as SubscribePacket).subscriptions.forEach((s, i) => {
      const code = reasonCodes[i] ?? 0x80;
      if (code >= 0x80) {
        this.#active.delete(s.topicFilter);
        this.#link.warn(new Error(`resubscription to ${s.topicFilter} refused with reason code 0x${code.toString(16)}`));
      }
    });
  }

  onUnsuback(packetId: number, reasonCodes: number[]): void {
    this.#take(packetId, 10)?.resolve?.(reasonCodes);
  }

  #take(packetId: number, type: 8 | 10): Request | undefined {
    const request = this.#pending.get(packetId);
    if (request === undefined || request.packet.type !== type) return undefined;
    this.#pending.delete(packetId);
    this.#ids.release(packetId);
    return request;
  }

  failAll(error: Error): void {
    const requests = [...this.#pending.values()];
    this.#pending.clear();
    for (const r of requests) {
      this.#ids.release(r.packet.packetId);
      r.reject?.(error);
    }
  }
}

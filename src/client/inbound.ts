/**
 * Inbound PUBLISH and PUBREL: topic alias resolution (MQTT 5), acknowledgements, and exactly-once delivery of
 * QoS 2 messages. A QoS 2 message is delivered when its PUBLISH first arrives and its packet id is remembered until
 * PUBREL, so a resent PUBLISH (DUP) with that id is acknowledged again but not delivered twice (method B of the
 * spec's figure 4.3). The remembered ids are session state: kept across a reconnection when the session was present.
 */
import { ProtocolError } from '../protocol/errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Packet, ProtocolVersion, PublishPacket, PubrelPacket } from '../protocol/types.js';
import type { ReceivedMessage } from './message-stream.js';

export interface InboundLink {
  send(packet: Packet): void;
  deliver(message: ReceivedMessage): void;
}

export class Inbound {
  readonly #link: InboundLink;
  readonly #version: ProtocolVersion;
  /** Our Topic Alias Maximum (sent in CONNECT); 0 means the server must not use aliases. */
  readonly #aliasMaximum: number;
  readonly #aliases = new Map<number, string>();
  readonly #awaitingRelease = new Set<number>();

  constructor(link: InboundLink, version: ProtocolVersion, aliasMaximum: number) {
    this.#link = link;
    this.#version = version;
    this.#aliasMaximum = aliasMaximum;
  }

  /** A new network connection: aliases start over [MQTT-3.3.2-7]; QoS 2 state only survives a present session. */
  newConnection(sessionPresent: boolean): void {
    this.#aliases.clear();
    if (!sessionPresent) this.#awaitingRelease.clear();
  }

  /** Throws ProtocolError for a bad topic alias. */
  onPublish(p: PublishPacket): void {
    const topic = this.#resolveTopic(p);
    let properties = p.properties;
    if (properties?.topicAlias !== undefined) {
      properties = { ...properties };
      delete properties.topicAlias;
    }
    const message: ReceivedMessage = {
      topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, dup: p.dup,
    };
    if (properties !== undefined) message.properties = properties;
    const id = p.packetId ?? 0;
    if (p.qos === 0) {
      this.#link.deliver(message);
    } else if (p.qos === 1) {
      this.#link.deliver(message);
      this.#link.send(this.#ack(4, id, 0));
    } else {
      if (!this.#awaitingRelease.has(id)) {
        this.#awaitingRelease.add(id);
        this.#link.deliver(message);
      }
      this.#link.send(this.#ack(5, id, 0));
    }
  }

  onPubrel(p: PubrelPacket): void {
    const had = this.#awaitingRelease.delete(p.packetId);
    this.#link.send(this.#ack(7, p.packetId, had ? 0 : ReasonCode.PacketIdentifierNotFound));
  }

  #ack(type: 4 | 5 | 7, packetId: number, reasonCode: number): Packet {
    const packet = { type, packetId, reasonCode } as Packet;
    if (this.#version === 5) (packet as { properties?: object }).properties = {};
    return packet;
  }

  #resolveTopic(p: PublishPacket): string {
    const alias = p.properties?.topicAlias;
    if (this.#version !== 5 || alias === undefined) {
      if (p.topic === '') throw new ProtocolError(ReasonCode.ProtocolError, 'PUBLISH with an empty topic name and no alias');
      return p.topic;
    }
    if (alias === 0 || alias > this.#aliasMaximum) {
      throw new ProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} is above our maximum of ${this.#aliasMaximum}`,
        'MQTT-3.3.2-11');
    }
    if (p.topic !== '') {
      this.#aliases.set(alias, p.topic);
      return p.topic;
    }
    const known = this.#aliases.get(alias);
    if (known === undefined) throw new ProtocolError(ReasonCode.ProtocolError, `unknown topic alias ${alias}`);
    return known;
  }
}

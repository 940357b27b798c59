/**
 * A message being routed: one object per inbound PUBLISH, shared by every recipient.
 *
 * Design note: the bytes sent to subscribers are encoded once per variant and cached on the message: (MQTT 5 or
 * not) × (QoS 0, or QoS 1/2 with the packet identifier patched per recipient) × (RETAIN 0 or 1) — at most eight
 * encodings however many subscribers there are. QoS 0 recipients share one Buffer; QoS 1/2 recipients get a copy of
 * it with their packet identifier, QoS and DUP patched (`publishForRecipient`), a memcpy instead of an encode.
 */
import { encodePublish, type EncodedPublish } from '../protocol/encoder.js';
import type { ProtocolVersion, PublishPacket, Properties, QoS } from '../protocol/types.js';
import type { StoredMessage } from '../persistence/persistence.js';

export class Message implements StoredMessage {
  readonly topic: string;
  payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties: Properties | undefined;
  readonly expiresAtMs: number | undefined;
  /** Client id of the publisher, or undefined for the broker's own messages ($SYS, wills keep the owner's id). */
  readonly publisherId: string | undefined;
  #isDetached = false;
  /** The variant (see `encoded`) of `#first`, or -1; the first encoding needs no array (most messages have one). */
  #firstIndex = -1;
  #first: EncodedPublish | undefined;
  /** True when `#first` holds the bytes as received (`adoptWire`), a view valid this turn only. */
  #isFirstWire = false;
  /** One slot per variant, created when a second variant is needed. */
  #encodings: (EncodedPublish | undefined)[] | undefined;

  constructor(
    topic: string, payload: Buffer, qos: QoS, retain: boolean, properties: Properties | undefined,
    publisherId: string | undefined, expiresAtMs?: number,
  ) {
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
    this.publisherId = publisherId;
    this.expiresAtMs = expiresAtMs;
  }

  static fromStored(stored: StoredMessage, publisherId?: string): Message {
    const m = new Message(stored.topic, stored.payload, stored.qos, stored.retain, stored.properties, publisherId,
      stored.expiresAtMs);
    m.#isDetached = true;
    return m;
  }

  /**
   * The payload arrives as a view into a socket chunk. A message kept beyond this turn (retained, queued) copies it
   * once, so that a 16-byte message does not pin a 64 KiB chunk.
   */
  detach(): void {
    if (this.#isDetached) return;
    this.payload = Buffer.from(this.payload);
    this.#isDetached = true;
    if (this.#isFirstWire) {
      this.#first = undefined;
      this.#firstIndex = -1;
      this.#isFirstWire = false;
    }
  }

  /**
   * Takes the PUBLISH as it was received from a 3.1/3.1.1 client (a view of the socket chunk, valid this turn) as
   * the 3.1/3.1.1 encoding of its own variant: at QoS 0 it is what QoS 0 subscribers get, at QoS 1/2 the template
   * whose packet id, QoS and DUP `publishForRecipient` patches. Dropped by `detach()`, which ends the turn's view.
   */
  adoptWire(bytes: Buffer): void {
    // Only as the first encoding of a message still in its turn.
    if (bytes.length < 4 || bytes[0]! >> 4 !== 3 || this.#isDetached || this.#firstIndex !== -1) return;
    let header = 1;
    while ((bytes[header]! & 0x80) !== 0) header++;
    header++;
    const isQos0 = this.qos === 0;
    const index = (isQos0 ? 0 : 2) + (this.retain ? 1 : 0);
    this.#first = { bytes, qos: this.qos, packetIdOffset: isQos0 ? -1 : header + 2 + bytes.readUInt16BE(header) };
    this.#firstIndex = index;
    this.#isFirstWire = true;
  }

  isExpired(nowMs: number): boolean {
    return this.expiresAtMs !== undefined && nowMs >= this.expiresAtMs;
  }

  /** The cached encoding for one variant. For QoS 1/2 the packet identifier is a placeholder to patch. */
  encoded(version: ProtocolVersion, isQos0: boolean, retain: boolean): EncodedPublish {
    const index = (version === 5 ? 4 : 0) + (isQos0 ? 0 : 2) + (retain ? 1 : 0);
    if (index === this.#firstIndex) return this.#first!;
    let e = this.#encodings?.[index];
    if (e !== undefined) return e;
    e = encodePublish(this.#packetFor(version, isQos0, retain), version);
    if (this.#firstIndex === -1) {
      this.#first = e;
      this.#firstIndex = index;
    } else {
      (this.#encodings ??= newSlots())[index] = e;
    }
    return e;
  }

  #packetFor(version: ProtocolVersion, isQos0: boolean, retain: boolean): PublishPacket {
    const packet: PublishPacket = {
      type: 3, topic: this.topic, payload: this.payload, qos: isQos0 ? 0 : 1, retain, dup: false,
    };
    if (!isQos0) packet.packetId = 1;
    if (version === 5) packet.properties = this.#forwardedProperties();
    return packet;
  }

  /**
   * The PUBLISH for one MQTT 5 recipient that needs its own encoding: a broker-assigned Topic Alias, its
   * Subscription Identifiers [MQTT-3.3.4-3], the remaining Message Expiry Interval [MQTT-3.3.2-6]. Every other
   * property is forwarded unchanged, User Properties in order [MQTT-3.3.2-17/18].
   */
  packetFor(qos: QoS, packetId: number, retain: boolean, dup: boolean, alias: { topic: string; alias: number } | undefined,
    subscriptionIds: readonly number[] | undefined, expirySeconds: number | undefined): PublishPacket {
    const properties = this.#forwardedProperties();
    if (alias !== undefined) properties.topicAlias = alias.alias;
    if (subscriptionIds !== undefined) properties.subscriptionIdentifiers = subscriptionIds as number[];
    if (expirySeconds !== undefined) properties.messageExpiryInterval = expirySeconds;
    const packet: PublishPacket = {
      type: 3, topic: alias === undefined ? this.topic : alias.topic, payload: this.payload, qos, retain, dup,
      properties,
    };
    if (qos > 0) packet.packetId = packetId;
    return packet;
  }

  /** Properties as forwarded: all but the Topic Alias, which is per connection [MQTT-3.3.2-7]. */
  #forwardedProperties(): Properties {
    if (this.properties === undefined) return {};
    const { topicAlias: _alias, subscriptionIdentifiers: _ids, ...rest } = this.properties;
    return rest;
  }
}

/** One slot per variant: (MQTT 5 or not) x (QoS 0 or 1/2) x (RETAIN 0 or 1). */
function newSlots(): (EncodedPublish | undefined)[] {
  return [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
}

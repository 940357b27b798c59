/**
 * Packet model shared by the decoder, the encoder, the broker and the client.
 *
 * Design note: a packet is a plain object, a discriminated union on `type`. The decoder produces exactly these
 * shapes and the encoder accepts them, so `decode(encode(p))` is structurally equal to `p` (the property tests rely
 * on it). Optional fields are absent (not `undefined`) when the wire did not carry them. Two rules keep shapes
 * canonical: PUBLISH carries `packetId` only at QoS 1 and 2, and acknowledgements, DISCONNECT and AUTH always carry
 * `reasonCode` (0 when the wire omitted it). `properties` is present on MQTT 5 packets that have a properties field,
 * even when empty ({}), and absent on 3.1/3.1.1 packets.
 */

export const PacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
  Auth: 15,
} as const;
export type PacketTypeValue = (typeof PacketType)[keyof typeof PacketType];

export const PacketTypeName: Readonly<Record<number, string>> = {
  1: 'CONNECT', 2: 'CONNACK', 3: 'PUBLISH', 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP', 8: 'SUBSCRIBE',
  9: 'SUBACK', 10: 'UNSUBSCRIBE', 11: 'UNSUBACK', 12: 'PINGREQ', 13: 'PINGRESP', 14: 'DISCONNECT', 15: 'AUTH',
};

/** Protocol level byte of CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
export type ProtocolVersion = 3 | 4 | 5;
export type QoS = 0 | 1 | 2;
export type RetainHandling = 0 | 1 | 2;
export type UserProperty = readonly [name: string, value: string];

/**
 * MQTT 5 properties by name. Each field is absent when the property is absent. `subscriptionIdentifiers` is an array
 * because PUBLISH may carry several; in SUBSCRIBE it holds at most one. `userProperties` keeps wire order
 * [MQTT-3.3.2-18].
 */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  userProperties?: UserProperty[];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 only. */
  properties?: Properties;
}

export interface ConnectPacket {
  type: 1;
  /** 'MQIsdp' for level 3, 'MQTT' for levels 4 and 5. */
  protocolName: string;
  protocolVersion: ProtocolVersion;
  /** Clean Session (3.1/3.1.1) or Clean Start (5). */
  clean: boolean;
  keepaliveSeconds: number;
  clientId: string;
  username?: string;
  password?: Buffer;
  will?: Will;
  properties?: Properties;
}

export interface ConnackPacket {
  type: 2;
  sessionPresent: boolean;
  /** MQTT 5 reason code, or the 3.1/3.1.1 return code (0–5). */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: 3;
  topic: string;
  /** A view into the decoder's input where that is safe: do not mutate. */
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present (1–65535) at QoS 1 and 2; absent at QoS 0. */
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. */
export interface AckPacket<T extends 4 | 5 | 6 | 7> {
  type: T;
  packetId: number;
  /** 0 (Success) when the wire omitted it. */
  reasonCode: number;
  properties?: Properties;
}
export type PubackPacket = AckPacket<4>;
export type PubrecPacket = AckPacket<5>;
export type PubrelPacket = AckPacket<6>;
export type PubcompPacket = AckPacket<7>;

export interface Subscription {
  topicFilter: string;
  qos: QoS;
  /** MQTT 5 subscription options; false/false/0 for earlier versions. */
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: RetainHandling;
}

export interface SubscribePacket {
  type: 8;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  type: 9;
  packetId: number;
  /** One per filter: granted QoS (0–2) or a failure code (0x80 in 3.1.1, any SUBACK reason code in 5). */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: 10;
  packetId: number;
  topicFilters: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: 11;
  packetId: number;
  /** MQTT 5 only: one per filter. Empty for 3.1/3.1.1, whose UNSUBACK has no payload. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingreqPacket { type: 12 }
export interface PingrespPacket { type: 13 }

export interface DisconnectPacket {
  type: 14;
  /** 0 (Normal disconnection) when the wire omitted it, and always 0 before MQTT 5. */
  reasonCode: number;
  properties?: Properties;
}

export interface AuthPacket {
  type: 15;
  /** 0 (Success) when the wire omitted it. */
  reasonCode: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

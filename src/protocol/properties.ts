/**
 * The MQTT 5 property table (section 2.2.2.2): each identifier, its name in `Properties`, its wire type, the
 * packets it may appear in, and whether it may repeat. The decoder and the encoder both read this one table.
 */
import type { Properties } from './types.js';

export type PropertyWireType = 'byte' | 'uint16' | 'uint32' | 'varint' | 'utf8' | 'binary' | 'pair';

/** Where a property may appear: a packet type number (1–15), or 'will' for the Will Properties of CONNECT. */
export type PropertyPlace = number | 'will';

export interface PropertyDefinition {
  readonly id: number;
  readonly name: keyof Properties;
  readonly wireType: PropertyWireType;
  readonly places: ReadonlySet<PropertyPlace>;
  /** May appear more than once (User Property anywhere; Subscription Identifier in PUBLISH only). */
  readonly isRepeatable: boolean;
  /** Values allowed for a byte property with a fixed set (0/1 flags), or undefined. */
  readonly allowedValues?: ReadonlySet<number>;
  /** Zero is a Protocol Error (Receive Maximum, Maximum Packet Size, Subscription Identifier, Topic Alias). */
  readonly isZeroForbidden?: boolean;
}

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7, SUBSCRIBE = 8,
  SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, DISCONNECT = 14, AUTH = 15;
const ZERO_ONE: ReadonlySet<number> = new Set([0, 1]);

function def(
  id: number,
  name: keyof Properties,
  wireType: PropertyWireType,
  places: PropertyPlace[],
  extra: { isRepeatable?: boolean; allowedValues?: ReadonlySet<number>; isZeroForbidden?: boolean } = {},
): PropertyDefinition {
  return { id, name, wireType, places: new Set(places), isRepeatable: extra.isRepeatable ?? false, ...extra };
}

export const propertyDefinitions: readonly PropertyDefinition[] = [
  def(0x01, 'payloadFormatIndicator', 'byte', [PUBLISH, 'will'], { allowedValues: ZERO_ONE }),
  def(0x02, 'messageExpiryInterval', 'uint32', [PUBLISH, 'will']),
  def(0x03, 'contentType', 'utf8', [PUBLISH, 'will']),
  def(0x08, 'responseTopic', 'utf8', [PUBLISH, 'will']),
  def(0x09, 'correlationData', 'binary', [PUBLISH, 'will']),
  def(0x0b, 'subscriptionIdentifiers', 'varint', [PUBLISH, SUBSCRIBE], { isRepeatable: true, isZeroForbidden: true }),
  def(0x11, 'sessionExpiryInterval', 'uint32', [CONNECT, CONNACK, DISCONNECT]),
  def(0x12, 'assignedClientIdentifier', 'utf8', [CONNACK]),
  def(0x13, 'serverKeepAlive', 'uint16', [CONNACK]),
  def(0x15, 'authenticationMethod', 'utf8', [CONNECT, CONNACK, AUTH]),
  def(0x16, 'authenticationData', 'binary', [CONNECT, CONNACK, AUTH]),
  def(0x17, 'requestProblemInformation', 'byte', [CONNECT], { allowedValues: ZERO_ONE }),
  def(0x18, 'willDelayInterval', 'uint32', ['will']),
  def(0x19, 'requestResponseInformation', 'byte', [CONNECT], { allowedValues: ZERO_ONE }),
  def(0x1a, 'responseInformation', 'utf8', [CONNACK]),
  def(0x1c, 'serverReference', 'utf8', [CONNACK, DISCONNECT]),
  def(0x1f, 'reasonString', 'utf8', [CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH]),
  def(0x21, 'receiveMaximum', 'uint16', [CONNECT, CONNACK], { isZeroForbidden: true }),
  def(0x22, 'topicAliasMaximum', 'uint16', [CONNECT, CONNACK]),
  def(0x23, 'topicAlias', 'uint16', [PUBLISH], { isZeroForbidden: true }),
  def(0x24, 'maximumQoS', 'byte', [CONNACK], { allowedValues: ZERO_ONE }),
  def(0x25, 'retainAvailable', 'byte', [CONNACK], { allowedValues: ZERO_ONE }),
  def(0x26, 'userProperties', 'pair', [CONNECT, CONNACK, PUBLISH, 'will', PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE,
    SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH], { isRepeatable: true }),
  def(0x27, 'maximumPacketSize', 'uint32', [CONNECT, CONNACK], { isZeroForbidden: true }),
  def(0x28, 'wildcardSubscriptionAvailable', 'byte', [CONNACK], { allowedValues: ZERO_ONE }),
  def(0x29, 'subscriptionIdentifiersAvailable', 'byte', [CONNACK], { allowedValues: ZERO_ONE }),
  def(0x2a, 'sharedSubscriptionAvailable', 'byte', [CONNACK], { allowedValues: ZERO_ONE }),
];

/** Definitions indexed by identifier (sparse array; undefined for an unknown identifier). */
export const propertyById: readonly (PropertyDefinition | undefined)[] = (() => {
  const byId: (PropertyDefinition | undefined)[] = Array.from({ length: 0x2b }, () => undefined);
  for (const d of propertyDefinitions) byId[d.id] = d;
  return byId;
})();

export const propertyByName: ReadonlyMap<keyof Properties, PropertyDefinition> = new Map(
  propertyDefinitions.map((d) => [d.name, d]),
);

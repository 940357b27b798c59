/**
 * Outbound PUBLISH packets: the checks against the server's limits made just before sending (Maximum QoS, Retain
 * Available, Maximum Packet Size, what the encoder can carry) and the packet itself, with its Topic Alias.
 */
import { encodedLength } from '../protocol/encoder.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Properties, ProtocolVersion, PublishPacket, QoS } from '../protocol/types.js';
import { MqttClientError } from './errors.js';
import type { OutMessage } from './outbound.js';
import type { AliasChoice } from './topic-aliases.js';

/** What the server's CONNACK allows on this connection. */
export interface ServerLimits {
  maximumQoS: QoS;
  isRetainAvailable: boolean;
  serverMaxPacketBytes: number;
}

/** An error to fail the message with instead of sending it, or undefined. */
export function checkOutMessage(m: OutMessage, limits: ServerLimits, version: ProtocolVersion): MqttClientError | undefined {
  if (m.qos > limits.maximumQoS) {
    return new MqttClientError('MQTT_ERR_PUBLISH_REFUSED', `the server's Maximum QoS is ${limits.maximumQoS}`,
      { reasonCode: ReasonCode.QoSNotSupported });
  }
  if (m.retain && !limits.isRetainAvailable) {
    return new MqttClientError('MQTT_ERR_PUBLISH_REFUSED', 'the server does not support retained messages',
      { reasonCode: ReasonCode.RetainNotSupported });
  }
  let size: number;
  try {
    size = encodedLength(buildPublish(m, false, undefined, version), version);
  } catch (cause) {
    // The encoder refuses what the wire cannot carry: a property PUBLISH may not have, a packet over 256 MiB.
    const isTooLarge = /remaining length/.test((cause as Error).message);
    return new MqttClientError(isTooLarge ? 'MQTT_ERR_PACKET_TOO_LARGE' : 'MQTT_ERR_INVALID_ARGUMENT',
      `cannot encode this PUBLISH: ${(cause as Error).message}`, { cause });
  }
  if (size > limits.serverMaxPacketBytes) {
    return new MqttClientError('MQTT_ERR_PACKET_TOO_LARGE', `a ${size}-byte PUBLISH exceeds the server's Maximum `
      + `Packet Size of ${limits.serverMaxPacketBytes} bytes [MQTT-3.1.2-24]`, { reasonCode: ReasonCode.PacketTooLarge });
  }
  return undefined;
}

/** The PUBLISH for a message; with a known alias the topic name is left empty (MQTT 5 section 3.3.2.3.4). */
export function buildPublish(m: OutMessage, dup: boolean, alias: AliasChoice | undefined, version: ProtocolVersion):
PublishPacket {
  const packet: PublishPacket = {
    type: 3, topic: alias?.isNew === false ? '' : m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup,
  };
  if (m.qos > 0) packet.packetId = m.packetId;
  if (version === 5) {
    const properties: Properties = { ...m.properties };
    delete properties.topicAlias;
    if (alias !== undefined) properties.topicAlias = alias.alias;
    packet.properties = properties;
  }
  return packet;
}

/** Builds the CONNECT packet from resolved options (MQTT 3.1 'MQIsdp', 3.1.1 and 5 'MQTT'). */
import type { ConnectPacket, Properties } from '../protocol/types.js';
import type { ResolvedOptions } from './options.js';

export function buildConnect(o: ResolvedOptions, clientId: string): ConnectPacket {
  const packet: ConnectPacket = {
    type: 1,
    protocolName: o.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: o.protocolVersion,
    clean: o.clean,
    keepaliveSeconds: o.keepaliveSeconds,
    clientId,
  };
  if (o.username !== undefined) packet.username = o.username;
  if (o.password !== undefined) packet.password = o.password;
  if (o.will !== undefined) {
    const w = o.will;
    packet.will = {
      topic: w.topic,
      payload: typeof w.payload === 'string' ? Buffer.from(w.payload, 'utf8') : w.payload ?? Buffer.alloc(0),
      qos: w.qos ?? 0,
      retain: w.retain ?? false,
    };
    if (o.protocolVersion === 5) packet.will.properties = w.properties ?? {};
  }
  if (o.protocolVersion === 5) {
    const properties: Properties = { ...o.properties };
    if (o.sessionExpiryIntervalSeconds !== undefined) properties.sessionExpiryInterval = o.sessionExpiryIntervalSeconds;
    if (o.authenticationMethod !== undefined) {
      properties.authenticationMethod = o.authenticationMethod;
      if (o.authenticationData !== undefined) properties.authenticationData = o.authenticationData;
    }
    packet.properties = properties;
  }
  return packet;
}

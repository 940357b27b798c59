/**
 * Mosquitto's `-v` packet lines: "Received PUBLISH from c1 (d0, q1, r0, m3, 'a/b', ... (5 bytes))" and
 * "Sending PUBACK to c1 (m3, rc0)". Only called when verbose logging is on.
 */

/** "Received X from client (details)" / "Sending X to client (details)". */
export function packetLine(direction: 'in' | 'out', client: string, description: string): string {
  const space = description.indexOf(' ');
  const name = space === -1 ? description : description.slice(0, space);
  const details = space === -1 ? '' : description.slice(space);
  return direction === 'in' ? `Received ${name} from ${client}${details}` : `Sending ${name} to ${client}${details}`;
}
import type { Packet } from '../protocol/types.js';
import { PacketTypeName } from '../protocol/types.js';

export function describePacket(packet: Packet): string {
  const name = PacketTypeName[packet.type] ?? `type ${packet.type}`;
  switch (packet.type) {
    case 1:
      return `${name} (p${packet.protocolVersion === 3 ? 1 : packet.protocolVersion === 4 ? 2 : 5}, `
        + `c${packet.clean ? 1 : 0}, k${packet.keepaliveSeconds}`
        + `${packet.username === undefined ? '' : `, u'${packet.username}'`})`;
    case 2:
      return `${name} (a${packet.sessionPresent ? 1 : 0}, rc${packet.reasonCode})`;
    case 3:
      return `${name} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId ?? 0}, `
        + `'${packet.topic}', ... (${packet.payload.length} bytes))`;
    case 4: case 5: case 6: case 7:
      return `${name} (m${packet.packetId}, rc${packet.reasonCode})`;
    case 8:
    case 9:
    case 10:
    case 11:
      return `${name} (m${packet.packetId})`;
    case 14:
    case 15:
      return `${name} (rc${packet.reasonCode})`;
    default:
      return name;
  }
}

export function describePublish(
  dup: boolean, qos: number, retain: boolean, packetId: number, topic: string, payloadBytes: number,
): string {
  return `PUBLISH (d${dup ? 1 : 0}, q${qos}, r${retain ? 1 : 0}, m${packetId}, '${topic}', ... (${payloadBytes} bytes))`;
}

/** PUBREC from a subscriber: a QoS 2 delivery moves on to PUBREL [MQTT-4.3.3-4]. */
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { PubrecPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { sendAck } from './acks.js';

export function handlePubrec(conn: Connection, packet: PubrecPacket): void {
  const isFailure = packet.reasonCode >= 0x80;
  const isKnown = conn.session!.received(packet.packetId, isFailure);
  if (isFailure) return;
  sendAck(conn, 6, packet.packetId, isKnown ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound);
}

/**
 * PUBREL from a publisher: the QoS 2 packet identifier is released [MQTT-4.3.3-11]; PUBCOMP goes back even for a
 * resent PUBREL, so the publisher can finish.
 */
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { PubrelPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { sendAck } from './acks.js';

export function handlePubrel(conn: Connection, packet: PubrelPacket): void {
  const session = conn.session!;
  const isKnown = session.incomingQos2.delete(packet.packetId);
  if (isKnown && !session.isClean) conn.broker.persistence.deleteIncomingQos2(conn.clientId, packet.packetId);
  sendAck(conn, 7, packet.packetId, isKnown ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound);
}

/** PUBACK from a subscriber: ends a QoS 1 delivery and frees a slot of the in-flight window. */
import type { PubackPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';

export function handlePuback(conn: Connection, packet: PubackPacket): void {
  // An unknown identifier is ignored: it can be an ack of a message the client already had (a resend after takeover).
  conn.session!.acknowledge(packet.packetId);
}

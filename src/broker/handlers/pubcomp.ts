/** PUBCOMP from a subscriber: ends a QoS 2 delivery and frees a slot of the in-flight window. */
import type { PubcompPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';

export function handlePubcomp(conn: Connection, packet: PubcompPacket): void {
  conn.session!.complete(packet.packetId);
}

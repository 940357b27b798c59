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
  const reasonCode = isKnown ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound;
  const { persistence } = conn.broker;
  if (!isKnown || session.isClean) {
    sendAck(conn, 7, packet.packetId, reasonCode);
    return;
  }
  persistence.deleteIncomingQos2(conn.clientId, packet.packetId);
  if (!persistence.isDurable) {
    sendAck(conn, 7, packet.packetId, reasonCode);
    return;
  }
  // A durable store: PUBCOMP once the release is on disk. Otherwise a crash could restore the identifier, and the
  // client's next QoS 2 message reusing it would be taken for a resend and dropped [MQTT-4.3.3-9].
  const send = (): void => {
    if (conn.state !== 'closed') sendAck(conn, 7, packet.packetId, reasonCode);
  };
  persistence.flush().then(send, (err: unknown) => {
    conn.broker.logger.error(`store failed while releasing a QoS 2 id of ${conn.clientId}: ${(err as Error).message}`);
    send();
  });
}

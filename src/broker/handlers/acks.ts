/** Shared shape of the acknowledgement packets the broker sends. */
import type { Connection } from '../connection.js';

/**
 * `reasonString` (MQTT 5) goes out unless the client set Request Problem Information to 0 [MQTT-3.1.2-29]. A
 * success without properties is the 4-byte form, written straight into the connection's output: 3.1.1 has nothing
 * else, and MQTT 5 may omit the Reason Code 0x00 and the Property Length (sections 3.4.2.1, 3.5.2.1, 3.6.2.1,
 * 3.7.2.1).
 */
export function sendAck(conn: Connection, type: 4 | 5 | 6 | 7, packetId: number, reasonCode: number,
  reasonString?: string): void {
  if ((conn.protocolVersion !== 5 || (reasonCode === 0 && reasonString === undefined)) && !conn.broker.options.isVerbose) {
    conn.writeAck(type, packetId);
  } else if (conn.protocolVersion === 5) {
    conn.sendPacket({ type, packetId, reasonCode, properties: reasonString === undefined ? {} : { reasonString } });
  } else {
    conn.sendPacket({ type, packetId, reasonCode: 0 });
  }
}

/** Shared shape of the acknowledgement packets the broker sends. */
import type { Connection } from '../connection.js';

/** `reasonString` (MQTT 5) goes out unless the client set Request Problem Information to 0 [MQTT-3.1.2-29]. */
export function sendAck(conn: Connection, type: 4 | 5 | 6 | 7, packetId: number, reasonCode: number,
  reasonString?: string): void {
  if (conn.protocolVersion === 5) {
    conn.sendPacket({ type, packetId, reasonCode, properties: reasonString === undefined ? {} : { reasonString } });
  } else {
    conn.sendPacket({ type, packetId, reasonCode: 0 });
  }
}

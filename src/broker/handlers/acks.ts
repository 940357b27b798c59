/** Shared shape of the acknowledgement packets the broker sends. */
import type { Connection } from '../connection.js';

export function sendAck(conn: Connection, type: 4 | 5 | 6 | 7, packetId: number, reasonCode: number): void {
  if (conn.protocolVersion === 5) conn.sendPacket({ type, packetId, reasonCode, properties: {} });
  else conn.sendPacket({ type, packetId, reasonCode: 0 });
}

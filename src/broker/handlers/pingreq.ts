/** PINGREQ gets PINGRESP [MQTT-3.12.4-1]. Any packet, this one included, already counted as activity. */
import type { Connection } from '../connection.js';

export function handlePingreq(conn: Connection): void {
  conn.sendPacket({ type: 13 });
}

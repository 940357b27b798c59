/**
 * The `-d` lines: libmosquitto's log lines for each packet sent and received, word for word, e.g.
 * `Client (null) sending PUBLISH (d0, q1, r0, m1, 'a/b', ... (5 bytes))`. The client id is the one the client
 * connected with, "(null)" when it sent none, or the broker's Assigned Client Identifier once CONNACK carries one.
 * A SUBSCRIBE or UNSUBSCRIBE prints one line per filter, with the QoS and the other subscription option bits
 * separately, as libmosquitto does.
 */
import type { Packet } from '../../protocol/types.js';

export type Direction = 'sending' | 'received';

function publishFlags(p: Extract<Packet, { type: 3 }>, mid: number): string {
  return `d${p.dup ? 1 : 0}, q${p.qos}, r${p.retain ? 1 : 0}, m${p.packetId ?? mid}, '${p.topic}', ... (${p.payload.length} bytes)`;
}

/**
 * The lines for one packet (usually one; SUBSCRIBE/UNSUBSCRIBE one per filter; none for packets not logged).
 * `mid` is the message id libmosquitto would show for a QoS 0 PUBLISH, which has no packet identifier: its own
 * counter when sending, 0 when receiving.
 */
export function debugLines(direction: Direction, clientId: string | undefined, packet: Packet, mid = 0): string[] {
  const who = `Client ${clientId === undefined || clientId === '' ? '(null)' : clientId} ${direction}`;
  switch (packet.type) {
    case 1: return direction === 'sending' ? [`${who} CONNECT`] : [];
    case 2: return [`${who} CONNACK (${packet.reasonCode})`];
    case 3: return [`${who} PUBLISH (${publishFlags(packet, mid)})`];
    case 4:
    case 7: {
      const name = packet.type === 4 ? 'PUBACK' : 'PUBCOMP';
      if (direction === 'received') return [`${who} ${name} (Mid: ${packet.packetId}, RC:${packet.reasonCode})`];
      return [packet.type === 4 ? `${who} PUBACK (m${packet.packetId}, rc${packet.reasonCode})` : `${who} PUBCOMP (m${packet.packetId})`];
    }
    case 5:
      return [direction === 'received' ? `${who} PUBREC (Mid: ${packet.packetId})` : `${who} PUBREC (m${packet.packetId}, rc${packet.reasonCode})`];
    case 6:
      return [direction === 'received' ? `${who} PUBREL (Mid: ${packet.packetId})` : `${who} PUBREL (m${packet.packetId})`];
    case 8:
      return packet.subscriptions.map((s) => {
        const options = (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (s.retainHandling << 4);
        const hex = options.toString(16).padStart(2, '0');
        return `${who} SUBSCRIBE (Mid: ${packet.packetId}, Topic: ${s.topicFilter}, QoS: ${s.qos}, Options: 0x${hex})`;
      });
    case 9: return [`${who} SUBACK`];
    case 10: return packet.topicFilters.map((f) => `${who} UNSUBSCRIBE (Mid: ${packet.packetId}, Topic: ${f})`);
    case 11: return [`${who} UNSUBACK`];
    case 12: return [`${who} PINGREQ`];
    case 13: return [`${who} PINGRESP`];
    case 14: return direction === 'sending' ? [`${who} DISCONNECT`] : [];
    case 15: return direction === 'received' ? [`${who} AUTH`] : [];
  }
}

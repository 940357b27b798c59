/**
 * UNSUBSCRIBE: removes each filter and answers UNSUBACK [MQTT-3.10.4-4]; MQTT 5 gets one reason code per filter,
 * 0x11 where no such subscription existed.
 */
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { UnsubscribePacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';

export function handleUnsubscribe(conn: Connection, packet: UnsubscribePacket): void {
  const session = conn.session!;
  const codes: number[] = [];
  for (const filter of packet.topicFilters) {
    const existed = session.subscriptions.delete(filter);
    // Leaving a shared group hands this session's queued messages from it to another member.
    if (existed) conn.broker.removeSubscription(session, filter);
    codes.push(existed ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted);
  }
  session.persist();
  conn.sendPacket(conn.protocolVersion === 5
    ? { type: 11, packetId: packet.packetId, reasonCodes: codes, properties: {} }
    : { type: 11, packetId: packet.packetId, reasonCodes: [] });
  conn.broker.emitEvent('unsubscribed', conn.info, packet.topicFilters);
}

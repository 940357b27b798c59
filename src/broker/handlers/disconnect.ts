/**
 * DISCONNECT from the client: the will is discarded [MQTT-3.14.4-3] unless an MQTT 5 client asks for it with
 * reason 0x04; an MQTT 5 client may change the Session Expiry Interval, but not from 0 [MQTT-3.14.2-2].
 */
import { protocolError } from '../../protocol/errors.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { DisconnectPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';

export function handleDisconnect(conn: Connection, packet: DisconnectPacket): void {
  const session = conn.session!;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    if (session.expiryIntervalSeconds === 0 && expiry !== 0) {
      throw protocolError('Session Expiry Interval changed from 0 at DISCONNECT', 'MQTT-3.14.2-2');
    }
    session.expiryIntervalSeconds = expiry;
    if (expiry === 0) session.isClean = true;
    else session.persist();
  }
  if (packet.reasonCode === ReasonCode.DisconnectWithWillMessage) {
    conn.close('disconnectWithWill');
    return;
  }
  conn.will = undefined;
  conn.close('disconnect');
}

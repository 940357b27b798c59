/**
 * AUTH from the client (MQTT 5 sections 3.15 and 4.12): the next step of the exchange started at CONNECT (0x18
 * Continue authentication, state `authenticating`), or a re-authentication on a live connection (0x19, then 0x18
 * steps). Everything else is a Protocol Error.
 */
import { protocolError } from '../../protocol/errors.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { AuthPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { beginReauthentication, runAuthStep } from './auth-exchange.js';
import { acceptConnect } from './connect.js';

export function handleAuth(conn: Connection, packet: AuthPacket): Promise<void> {
  if (conn.authMethod === undefined) {
    throw protocolError('AUTH without an Authentication Method in CONNECT', 'MQTT-4.12.0-7');
  }
  if (packet.properties?.authenticationMethod !== conn.authMethod) {
    throw protocolError('AUTH with another Authentication Method than CONNECT', 'MQTT-4.12.0-5');
  }
  const data = packet.properties.authenticationData;
  if (packet.reasonCode === ReasonCode.ContinueAuthentication) {
    if (conn.authExchange === undefined) {
      throw protocolError('AUTH Continue authentication with no exchange in progress', 'MQTT-4.12.0-3');
    }
    return runAuthStep(conn, data, conn.state === 'authenticating' ? acceptConnect : undefined);
  }
  if (packet.reasonCode === ReasonCode.ReAuthenticate) {
    if (conn.state !== 'connected' || conn.authExchange !== undefined) {
      throw protocolError('Re-authenticate before CONNACK or during an exchange', 'MQTT-4.12.1-1');
    }
    return beginReauthentication(conn, data);
  }
  throw protocolError(`AUTH with reason code 0x${packet.reasonCode.toString(16)} from a client`, 'MQTT-3.15.2-1');
}

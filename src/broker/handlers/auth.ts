/**
 * AUTH: enhanced authentication is not supported yet, and CONNECT with an Authentication Method is refused, so an
 * AUTH packet can only be a Protocol Error (MQTT 5 section 4.12: AUTH without a method in CONNECT).
 */
import { protocolError } from '../../protocol/errors.js';
import type { AuthPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';

export function handleAuth(_conn: Connection, _packet: AuthPacket): void {
  throw protocolError('AUTH without an Authentication Method in CONNECT', 'MQTT-4.12.0-1');
}

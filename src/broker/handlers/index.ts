/**
 * Routes each inbound packet to its handler, after the checks that depend only on connection state:
 * nothing but CONNECT before CONNECT [MQTT-3.1.0-1], no second CONNECT [MQTT-3.1.0-2], and no packet a client
 * never sends (CONNACK, SUBACK, UNSUBACK, PINGRESP).
 */
import { protocolError } from '../../protocol/errors.js';
import type { Packet } from '../../protocol/types.js';
import { PacketTypeName } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { handleAuth } from './auth.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq } from './pingreq.js';
import { handlePuback } from './puback.js';
import { handlePubcomp } from './pubcomp.js';
import { handlePublish } from './publish.js';
import { handlePubrec } from './pubrec.js';
import { handlePubrel } from './pubrel.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

export function dispatch(conn: Connection, packet: Packet): void | Promise<void> {
  if (packet.type === 1) {
    if (conn.state !== 'awaitingConnect') throw protocolError('second CONNECT on a connection', 'MQTT-3.1.0-2');
    return handleConnect(conn, packet);
  }
  if (conn.state !== 'connected') {
    // Between CONNECT and CONNACK only the AUTH of an enhanced authentication exchange may come (section 4.12).
    if (packet.type === 15 && conn.state === 'authenticating') return handleAuth(conn, packet);
    throw protocolError(`${PacketTypeName[packet.type]} before CONNECT`, 'MQTT-3.1.0-1');
  }
  switch (packet.type) {
    case 3: return handlePublish(conn, packet);
    case 4: return handlePuback(conn, packet);
    case 5: return handlePubrec(conn, packet);
    case 6: return handlePubrel(conn, packet);
    case 7: return handlePubcomp(conn, packet);
    case 8: return handleSubscribe(conn, packet);
    case 10: return handleUnsubscribe(conn, packet);
    case 12: return handlePingreq(conn);
    case 14: return handleDisconnect(conn, packet);
    case 15: return handleAuth(conn, packet);
    default:
      throw protocolError(`a client may not send ${PacketTypeName[packet.type]}`);
  }
}

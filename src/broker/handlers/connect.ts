/**
 * CONNECT, as an ordered list of steps (MQTT 3.1.1 section 3.1.4, MQTT 5 section 3.1.4):
 * wait for the store, validate, check capacity, authenticate, take over an existing connection, restore or start
 * the session, keep the will, send CONNACK, then hand the session its connection (resends and queue).
 */
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnackPacket, ConnectPacket, Properties } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { isPromise } from '../hooks.js';

/** MQTT 3.1 (section 3.1) limits client identifiers to 23 characters. */
const MQTT31_MAX_CLIENT_ID = 23;
const NEVER_EXPIRES = 0xffff_ffff;

export async function handleConnect(conn: Connection, packet: ConnectPacket): Promise<void> {
  conn.state = 'connecting';
  conn.protocolVersion = packet.protocolVersion;
  conn.stream.pause();
  try {
    await conn.broker.ready;
    if (!validate(conn, packet)) return;
    if (!checkCapacity(conn)) return;
    if (!(await authenticate(conn, packet))) return;
    if (conn.isClosed) return;
    takeOver(conn);
    const isSessionPresent = startSession(conn, packet);
    conn.will = packet.will;
    sendConnack(conn, packet, isSessionPresent);
    conn.state = 'connected';
    conn.broker.clients.set(conn.clientId, conn);
    conn.session!.attach(conn);
    conn.broker.stats.clientsTotalEver++;
    conn.broker.stats.clientsMaximum = Math.max(conn.broker.stats.clientsMaximum, conn.broker.clients.size);
    conn.broker.logger.info(`New client connected from ${conn.remoteAddress ?? 'unknown'} as ${conn.clientId} `
      + `(p${packet.protocolVersion === 3 ? 1 : packet.protocolVersion === 4 ? 2 : 5}, c${packet.clean ? 1 : 0}, `
      + `k${packet.keepaliveSeconds}${conn.username === undefined ? '' : `, u'${conn.username}'`}).`);
    conn.broker.emitEvent('clientConnected', conn.info);
  } finally {
    if (!conn.isClosed) conn.stream.resume();
  }
}

/** Client identifier and keepalive rules. Returns false when the connection was refused. */
function validate(conn: Connection, packet: ConnectPacket): boolean {
  const { options } = conn.broker;
  let clientId = packet.clientId;
  if (packet.protocolVersion === 3 && (clientId.length === 0 || clientId.length > MQTT31_MAX_CLIENT_ID)) {
    conn.refuse(ReasonCode.ClientIdentifierNotValid, 'refused');
    return false;
  }
  if (clientId.length === 0) {
    // [MQTT-3.1.3-8]: a 3.1.1 client with a zero-length id must ask for a clean session; MQTT 5 assigns one anyway.
    if (packet.protocolVersion === 4 && !packet.clean) {
      conn.refuse(ReasonCode.ClientIdentifierNotValid, 'refused');
      return false;
    }
    clientId = conn.broker.generateClientId();
    conn.assignedClientId = clientId;
  }
  if (Buffer.byteLength(clientId) > options.maxClientIdBytes) {
    conn.refuse(ReasonCode.ClientIdentifierNotValid, 'refused');
    return false;
  }
  conn.clientId = clientId;
  conn.username = packet.username;
  conn.keepaliveSeconds = packet.keepaliveSeconds;
  const props = packet.properties;
  if (props !== undefined) {
    if (props.maximumPacketSize !== undefined) conn.maxOutboundPacketBytes = props.maximumPacketSize;
    if (props.receiveMaximum !== undefined) conn.receiveMaximum = props.receiveMaximum;
    if (props.authenticationMethod !== undefined) {
      // Enhanced authentication is not supported yet: refuse as MQTT 5 section 4.12 allows.
      conn.refuse(ReasonCode.BadAuthenticationMethod, 'refused');
      return false;
    }
  }
  return true;
}

function checkCapacity(conn: Connection): boolean {
  const { clients, options } = conn.broker;
  if (clients.size >= options.maxConnections && !clients.has(conn.clientId)) {
    conn.broker.stats.connectionsRefused++;
    conn.broker.logger.warn(`Refused client ${conn.clientId}: max_connections (${options.maxConnections}) reached.`);
    conn.refuse(ReasonCode.ServerUnavailable, 'refused');
    return false;
  }
  return true;
}

async function authenticate(conn: Connection, packet: ConnectPacket): Promise<boolean> {
  const hook = conn.broker.hooks.authenticate;
  if (hook === undefined) return true;
  let isAllowed = false;
  try {
    const answer = hook({
      clientId: conn.clientId, username: packet.username, password: packet.password,
      remoteAddress: conn.remoteAddress, protocolVersion: packet.protocolVersion,
    });
    isAllowed = (isPromise(answer) ? await answer : answer) === true;
  } catch (err) {
    conn.broker.logger.error(`authenticate hook failed for ${conn.clientId}: ${(err as Error).message}`);
  }
  if (conn.isClosed) return false;
  if (!isAllowed) {
    conn.broker.logger.info(`Client ${conn.clientId} not authorised.`);
    conn.refuse(ReasonCode.NotAuthorized, 'notAuthorized');
  }
  return isAllowed;
}

/** [MQTT-3.1.4-2]: a client id already connected: the existing connection is closed (its will goes out). */
function takeOver(conn: Connection): void {
  const existing = conn.broker.clients.get(conn.clientId);
  if (existing === undefined || existing === conn) return;
  conn.broker.logger.info(`Client ${conn.clientId} already connected, closing old connection.`);
  existing.disconnect(ReasonCode.SessionTakenOver, 'takenOver');
}

/**
 * Clean session / clean start discards any previous session [MQTT-3.1.2-6]; otherwise the session is resumed.
 * Returns the Session Present flag [MQTT-3.2.2-1..3].
 */
function startSession(conn: Connection, packet: ConnectPacket): boolean {
  const { broker } = conn;
  const expiry = sessionExpiry(packet);
  const existing = broker.sessions.get(conn.clientId);
  if (existing !== undefined && (packet.clean || isExpired(existing, Date.now()))) {
    broker.endSession(existing);
  }
  const resumed = packet.clean ? undefined : broker.sessions.get(conn.clientId);
  if (resumed !== undefined) {
    resumed.expiryIntervalSeconds = expiry;
    resumed.isClean = expiry === 0 && packet.protocolVersion === 5;
    conn.session = resumed;
    resumed.persist();
    return true;
  }
  const isClean = packet.protocolVersion === 5 ? expiry === 0 : packet.clean;
  const session = broker.createSession(conn.clientId, isClean, expiry);
  broker.sessions.set(conn.clientId, session);
  conn.session = session;
  session.persist();
  return false;
}

/** 3.1.1 persistent sessions never expire; MQTT 5 uses the Session Expiry Interval (absent = 0). */
function sessionExpiry(packet: ConnectPacket): number {
  if (packet.protocolVersion !== 5) return packet.clean ? 0 : NEVER_EXPIRES;
  return packet.properties?.sessionExpiryInterval ?? 0;
}

function isExpired(session: { expiryIntervalSeconds: number; disconnectedAtMs: number | undefined }, nowMs: number) {
  if (session.disconnectedAtMs === undefined || session.expiryIntervalSeconds === NEVER_EXPIRES) return false;
  return nowMs - session.disconnectedAtMs >= session.expiryIntervalSeconds * 1000;
}

function sendConnack(conn: Connection, packet: ConnectPacket, isSessionPresent: boolean): void {
  if (packet.protocolVersion !== 5) {
    const connack: ConnackPacket = { type: 2, sessionPresent: isSessionPresent, reasonCode: 0 };
    conn.sendPacket(connack);
    return;
  }
  const properties: Properties = {
    topicAliasMaximum: conn.broker.options.topicAliasMaximum,
    sharedSubscriptionAvailable: 0,
  };
  if (conn.assignedClientId !== undefined) properties.assignedClientIdentifier = conn.assignedClientId;
  if (conn.broker.options.maxPacketBytes < 268_435_460) properties.maximumPacketSize = conn.broker.options.maxPacketBytes;
  conn.sendPacket({ type: 2, sessionPresent: isSessionPresent, reasonCode: 0, properties });
}

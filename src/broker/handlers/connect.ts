/**
 * CONNECT, as an ordered list of steps (MQTT 3.1.1 section 3.1.4, MQTT 5 section 3.1.4):
 * wait for the store, validate, check capacity and capabilities, redirect, authenticate (the `authenticate` hook,
 * or an MQTT 5 enhanced authentication exchange, which may span AUTH packets), then accept: take over, start the
 * session, keep the will, send CONNACK, hand the session its connection.
 */
import { ReasonCode } from '../../protocol/reason-codes.js';
import type { ConnackPacket, ConnectPacket, Properties } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { isPromise, type AuthChecks } from '../hooks.js';
import { beginConnectAuth } from './auth-exchange.js';
import { hostOf } from '../login-backoff.js';

/** MQTT 3.1 (section 3.1) limits client identifiers to 23 characters. */
const MQTT31_MAX_CLIENT_ID = 23;

/**
 * Synchronous when it can be (the store is open, no enhanced authentication, and the `authenticate` hook, if any,
 * answers at once): then no promise is made and the client's next packets are read on. Otherwise it returns a
 * promise, the connection's pump waits for it, and the socket is paused meanwhile.
 */
export function handleConnect(conn: Connection, packet: ConnectPacket): Promise<void> | void {
  conn.state = 'connecting';
  conn.protocolVersion = packet.protocolVersion;
  if (!conn.broker.isReady || packet.properties?.authenticationMethod !== undefined) {
    return whilePaused(conn, connectWhenReady(conn, packet));
  }
  if (!checkConnect(conn, packet)) return;
  const verdict = authenticate(conn, packet);
  if (verdict === true) {
    acceptConnect(conn, packet, undefined);
    return;
  }
  if (verdict === false) return;
  return whilePaused(conn, verdict.then((isAllowed) => {
    if (isAllowed && !conn.isClosed) acceptConnect(conn, packet, undefined);
  }));
}

/** Stops reading the socket until `work` is done (the pump waits for it too). */
async function whilePaused(conn: Connection, work: Promise<void>): Promise<void> {
  conn.stream.pause();
  try {
    await work;
  } finally {
    if (!conn.isClosed) conn.stream.resume();
  }
}

async function connectWhenReady(conn: Connection, packet: ConnectPacket): Promise<void> {
  await conn.broker.ready;
  if (!checkConnect(conn, packet)) return;
  if (packet.properties?.authenticationMethod !== undefined) {
    // MQTT 5 section 4.12: the method alone decides; it may answer AUTH 0x18 and wait for the client's AUTH.
    await beginConnectAuth(conn, packet, acceptConnect);
    return;
  }
  if (!(await authenticate(conn, packet))) return;
  if (conn.isClosed) return;
  acceptConnect(conn, packet, undefined);
}

/** The checks before authentication; false when the connection was refused. */
function checkConnect(conn: Connection, packet: ConnectPacket): boolean {
  return validate(conn, packet) && checkCapacity(conn) && checkCapabilities(conn, packet) && redirect(conn);
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
  // use_identity_as_username / use_subject_as_username: the verified certificate names the user.
  conn.username = conn.transport?.certificateUsername ?? packet.username;
  conn.keepaliveSeconds = packet.keepaliveSeconds;
  const props = packet.properties;
  if (props !== undefined) {
    if (props.maximumPacketSize !== undefined) conn.maxOutboundPacketBytes = props.maximumPacketSize;
    if (props.receiveMaximum !== undefined) conn.receiveMaximum = props.receiveMaximum;
    conn.isProblemInfoRequested = props.requestProblemInformation !== 0;
    if (props.topicAliasMaximum !== undefined) conn.enableOutboundAliases(props.topicAliasMaximum);
  }
  return true;
}

/**
 * What this broker supports: the will's QoS [MQTT-3.2.2-12] and retain flag [MQTT-3.2.2-13], and the keepalive
 * cap (`maxKeepaliveSeconds`): an MQTT 5 client above it (or at 0) is told the Server Keep Alive [MQTT-3.2.2-21]; a
 * 3.1/3.1.1 client above it cannot be told and is refused as Mosquitto refuses it (Identifier rejected).
 */
function checkCapabilities(conn: Connection, packet: ConnectPacket): boolean {
  const { options } = conn.broker;
  const will = packet.will;
  if (will !== undefined && will.qos > options.maximumQoS) {
    conn.refuse(ReasonCode.QoSNotSupported, 'refused', { reasonString: `QoS above ${options.maximumQoS} not supported` });
    return false;
  }
  if (will !== undefined && will.retain && !options.isRetainAvailable) {
    conn.refuse(ReasonCode.RetainNotSupported, 'refused', { reasonString: 'retained messages are not supported' });
    return false;
  }
  const max = options.maxKeepaliveSeconds;
  if (max > 0 && packet.protocolVersion !== 5 && packet.keepaliveSeconds > max) {
    conn.broker.logger.info(`Client ${conn.clientId} refused: keepalive ${packet.keepaliveSeconds} above ${max}.`);
    conn.refuse(ReasonCode.ClientIdentifierNotValid, 'refused');
    return false;
  }
  if (max > 0 && packet.protocolVersion === 5 && (packet.keepaliveSeconds === 0 || packet.keepaliveSeconds > max)) {
    conn.keepaliveSeconds = max;
  }
  return true;
}

/** MQTT 5 section 4.11: a configured redirect refuses the CONNECT with 0x9C/0x9D and a Server Reference. */
function redirect(conn: Connection): boolean {
  const decide = conn.broker.options.redirect;
  if (decide === undefined) return true;
  let target;
  try {
    target = decide(conn.info);
  } catch (err) {
    conn.broker.logger.error(`redirect hook failed for ${conn.clientId}: ${(err as Error).message}`);
    return true;
  }
  if (target === undefined) return true;
  conn.broker.logger.info(`Client ${conn.clientId} redirected to ${target.serverReference}.`);
  conn.refuse(target.isPermanent === true ? ReasonCode.ServerMoved : ReasonCode.UseAnotherServer, 'redirected',
    { serverReference: target.serverReference });
  return false;
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

/**
 * Runs the authentication chain (hooks.ts), after the failed-login back-off for the client's address has spaced
 * this attempt (login-backoff.ts). A refusal is CONNACK 5 / 0x87, as Mosquitto answers a bad password. A promise
 * only when the back-off makes the attempt wait or the chain answers with one.
 */
function authenticate(conn: Connection, packet: ConnectPacket): boolean | Promise<boolean> {
  const hook = conn.broker.hooks.authenticate;
  if (hook === undefined) return true;
  const backoff = conn.broker.loginBackoff;
  const address = conn.remoteAddress === undefined ? undefined : hostOf(conn.remoteAddress);
  if (backoff !== undefined && address !== undefined) {
    const slot = backoff.reserve(address, Date.now());
    if (slot === 'refuse') {
      conn.broker.logger.info(`Client ${conn.clientId} refused: too many failed logins from ${address}.`);
      conn.refuse(ReasonCode.ServerBusy, 'refused');
      return false;
    }
    if (slot.waitMs > 0) {
      return new Promise<void>((resolve) => setTimeout(resolve, slot.waitMs).unref())
        .then(() => (conn.isClosed ? false : askHook(conn, packet, hook, address)));
    }
  }
  return askHook(conn, packet, hook, address);
}

function askHook(conn: Connection, packet: ConnectPacket, hook: NonNullable<AuthChecks['authenticate']>,
  address: string | undefined): boolean | Promise<boolean> {
  const onError = (err: unknown): boolean => {
    conn.broker.logger.error(`authenticate hook failed for ${conn.clientId}: ${(err as Error).message}`);
    return settleAuthentication(conn, false, address);
  };
  let answer;
  try {
    answer = hook({
      clientId: conn.clientId, username: conn.username, password: packet.password,
      remoteAddress: conn.remoteAddress, protocolVersion: packet.protocolVersion, transport: conn.transport, auth: conn.auth,
      userProperties: packet.properties?.userProperties ?? [],
    });
  } catch (err) {
    return onError(err);
  }
  if (isPromise(answer)) return answer.then((isAllowed) => settleAuthentication(conn, isAllowed === true, address), onError);
  return settleAuthentication(conn, answer === true, address);
}

function settleAuthentication(conn: Connection, isAllowed: boolean, address: string | undefined): boolean {
  const backoff = conn.broker.loginBackoff;
  if (!isAllowed && backoff !== undefined && address !== undefined) backoff.failed(address, Date.now());
  if (conn.isClosed) return false;
  if (!isAllowed) {
    conn.broker.logger.info(`Client ${conn.clientId} not authorised.`);
    conn.refuse(ReasonCode.NotAuthorized, 'notAuthorized');
  }
  return isAllowed;
}

const NEVER_EXPIRES = 0xffff_ffff;

/** `authProperties`: the Authentication Method and final Authentication Data for CONNACK [MQTT-4.12.0-5]. */
export function acceptConnect(conn: Connection, packet: ConnectPacket, authProperties: Properties | undefined): void {
  if (conn.hasInputEnded && isSupersededBy(conn, conn.broker.clients.get(conn.clientId))) {
    // The client gave up on this connection (ended it while authentication waited) and has connected again since:
    // the newer connection stays, and this one is not accepted late over it.
    conn.broker.logger.info(`Client ${conn.clientId} connected again before its earlier connection was `
      + 'authenticated; the earlier one is closed.');
    conn.close('socketClosed');
    return;
  }
  takeOver(conn);
  const isSessionPresent = startSession(conn, packet);
  conn.will = packet.will;
  sendConnack(conn, packet, isSessionPresent, authProperties);
  conn.state = 'connected';
  conn.broker.clients.set(conn.clientId, conn);
  conn.session!.client = conn.info;
  conn.session!.attach(conn);
  conn.broker.stats.clientsTotalEver++;
  conn.broker.stats.clientsMaximum = Math.max(conn.broker.stats.clientsMaximum, conn.broker.clients.size);
  conn.broker.logger.info(`New client connected from ${conn.remoteAddress ?? 'unknown'} as ${conn.clientId} `
    + `(p${packet.protocolVersion === 3 ? 1 : packet.protocolVersion === 4 ? 2 : 5}, c${packet.clean ? 1 : 0}, `
    + `k${packet.keepaliveSeconds}${conn.username === undefined ? '' : `, u'${conn.username}'`}).`);
  conn.broker.emitEvent('clientConnected', conn.info);
}

function isSupersededBy(conn: Connection, other: Connection | undefined): boolean {
  return other !== undefined && other !== conn && other.createdAtMs >= conn.createdAtMs;
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
    // [MQTT-3.1.3-9]: back on its session within the Will Delay Interval: the will is not sent.
    broker.delayedWills.cancel(conn.clientId);
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

/** CONNACK; for MQTT 5 with what this broker supports and allows (section 3.2.2.3). */
function sendConnack(conn: Connection, packet: ConnectPacket, isSessionPresent: boolean,
  authProperties: Properties | undefined): void {
  if (packet.protocolVersion !== 5) {
    const connack: ConnackPacket = { type: 2, sessionPresent: isSessionPresent, reasonCode: 0 };
    conn.sendPacket(connack);
    return;
  }
  const { options } = conn.broker;
  const properties: Properties = {
    topicAliasMaximum: options.topicAliasMaximum,
    subscriptionIdentifiersAvailable: 1,
    sharedSubscriptionAvailable: 1,
  };
  // Our Receive Maximum; absent means 65,535 (MQTT 5 section 3.2.2.3.3).
  if (options.receiveMaximum < 65_535) properties.receiveMaximum = options.receiveMaximum;
  // [MQTT-3.1.3-7]: the identifier assigned to a client that sent an empty one.
  if (conn.assignedClientId !== undefined) properties.assignedClientIdentifier = conn.assignedClientId;
  if (options.maxPacketBytes < 268_435_460) properties.maximumPacketSize = options.maxPacketBytes;
  // [MQTT-3.2.2-21]: the keepalive the client must use instead of its own.
  if (conn.keepaliveSeconds !== packet.keepaliveSeconds) properties.serverKeepAlive = conn.keepaliveSeconds;
  // [MQTT-3.2.2-9]: a broker short of QoS 2 says which is its highest.
  if (options.maximumQoS < 2) properties.maximumQoS = options.maximumQoS;
  if (!options.isRetainAvailable) properties.retainAvailable = 0;
  if (!options.isWildcardSubscriptionAvailable) properties.wildcardSubscriptionAvailable = 0;
  // [MQTT-3.1.2-28]: Response Information only to a client that asked for it.
  if (packet.properties?.requestResponseInformation === 1 && options.responseInformation !== undefined) {
    try {
      const info = options.responseInformation(conn.info);
      if (info !== undefined) properties.responseInformation = info;
    } catch (err) {
      conn.broker.logger.error(`responseInformation hook failed for ${conn.clientId}: ${(err as Error).message}`);
    }
  }
  if (authProperties !== undefined) Object.assign(properties, authProperties);
  conn.sendPacket({ type: 2, sessionPresent: isSessionPresent, reasonCode: 0, properties });
}

/**
 * MQTT 5 enhanced authentication (section 4.12): running an exchange with a configured method, step by step.
 *
 * At CONNECT the exchange decides the connection: `continue` sends AUTH 0x18 and the connection waits in state
 * `authenticating` for the client's AUTH (handlers/auth.ts), `success` accepts it with a CONNACK carrying the method
 * and the final data, `failure` refuses it. When re-authenticating (AUTH 0x19 on a live connection, section 4.12.1)
 * the same steps end in AUTH 0x00 or in DISCONNECT. Every step is awaited, so the connection's packet pump pauses
 * while a method thinks, and a method that throws or rejects counts as a failure.
 */
import { ReasonCode, validReasonCodes } from '../../protocol/reason-codes.js';
import type { ConnectPacket, Properties } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { isPromise, type EnhancedAuthStep } from '../hooks.js';
import { hostOf } from '../login-backoff.js';

/** Accepts an authenticated CONNECT (handlers/connect.ts), passed in so that this module imports no handler. */
export type AcceptConnect = (conn: Connection, packet: ConnectPacket, authProperties: Properties) => void;

/** CONNECT with an Authentication Method: find the method and run its first step. */
export async function beginConnectAuth(conn: Connection, packet: ConnectPacket, accept: AcceptConnect): Promise<void> {
  const name = packet.properties!.authenticationMethod!;
  const method = conn.broker.options.enhancedAuthMethods.get(name);
  if (method === undefined) {
    // [MQTT-4.12.0-1]: an unsupported method is refused and the connection closed.
    conn.broker.logger.info(`Client ${conn.clientId} refused: unsupported authentication method '${name}'.`);
    conn.refuse(ReasonCode.BadAuthenticationMethod, 'notAuthorized',
      { reasonString: `authentication method '${name}' is not supported` });
    return;
  }
  if (!(await waitForLoginSlot(conn))) return;
  conn.authMethod = name;
  conn.pendingConnect = packet;
  try {
    conn.authExchange = method.begin({
      clientId: conn.clientId, username: packet.username, remoteAddress: conn.remoteAddress,
      userProperties: packet.properties?.userProperties ?? [], isReauthentication: false,
    });
  } catch (err) {
    conn.broker.logger.error(`authentication method ${name} failed for ${conn.clientId}: ${(err as Error).message}`);
    conn.refuse(ReasonCode.NotAuthorized, 'notAuthorized');
    return;
  }
  await runAuthStep(conn, packet.properties?.authenticationData, accept);
}

/** AUTH 0x19 on a live connection: a new exchange with the method of CONNECT [MQTT-4.12.1-1]. */
export async function beginReauthentication(conn: Connection, data: Buffer | undefined): Promise<void> {
  const method = conn.broker.options.enhancedAuthMethods.get(conn.authMethod!);
  if (method === undefined) return; // unreachable: the method was found at CONNECT
  try {
    conn.authExchange = method.begin({
      clientId: conn.clientId, username: conn.username, remoteAddress: conn.remoteAddress, userProperties: [],
      isReauthentication: true,
    });
  } catch (err) {
    conn.broker.logger.error(`authentication method ${method.name} failed for ${conn.clientId}: ${(err as Error).message}`);
    conn.disconnect(ReasonCode.NotAuthorized, 'notAuthorized');
    return;
  }
  await runAuthStep(conn, data, undefined);
}

/** Runs one step of the exchange in progress and acts on its answer. `accept` is undefined when re-authenticating. */
export async function runAuthStep(conn: Connection, data: Buffer | undefined, accept: AcceptConnect | undefined):
  Promise<void> {
  const exchange = conn.authExchange!;
  let step: EnhancedAuthStep;
  try {
    const answer = exchange.step(data);
    step = isPromise(answer) ? await answer : answer;
  } catch (err) {
    conn.broker.logger.error(`authentication method ${conn.authMethod} failed for ${conn.clientId}: `
      + (err as Error).message);
    step = { outcome: 'failure' };
  }
  if (conn.isClosed) return;
  const method = conn.authMethod!;
  if (step.outcome === 'continue') {
    // [MQTT-4.12.0-2, MQTT-4.12.0-5]: AUTH 0x18 with the method of CONNECT.
    if (accept !== undefined) conn.state = 'authenticating';
    conn.sendPacket({ type: 15, reasonCode: ReasonCode.ContinueAuthentication,
      properties: { authenticationMethod: method, authenticationData: step.data } });
    return;
  }
  conn.authExchange = undefined;
  if (step.outcome === 'success' && step.username !== undefined && accept === undefined
    && step.username !== conn.username) {
    step = { outcome: 'failure', reasonString: 're-authenticated as another user' };
  }
  if (step.outcome === 'success') {
    if (step.username !== undefined) conn.setUsername(step.username);
    const properties: Properties = { authenticationMethod: method };
    if (step.data !== undefined) properties.authenticationData = step.data;
    if (accept === undefined) {
      conn.broker.logger.info(`Client ${conn.clientId} re-authenticated (${method}).`);
      conn.sendPacket({ type: 15, reasonCode: ReasonCode.Success, properties });
      return;
    }
    const packet = conn.pendingConnect!;
    conn.pendingConnect = undefined;
    conn.state = 'connecting';
    accept(conn, packet, properties);
    return;
  }
  const isReauthentication = accept === undefined;
  const reasonCode = failureCode(step.reasonCode, isReauthentication ? 14 : 2);
  const properties: Properties = step.reasonString === undefined ? {} : { reasonString: step.reasonString };
  conn.broker.logger.info(`Client ${conn.clientId} ${isReauthentication ? 're-' : ''}authentication failed `
    + `(${method}, reason 0x${reasonCode.toString(16)}).`);
  const address = conn.remoteAddress === undefined ? undefined : hostOf(conn.remoteAddress);
  if (address !== undefined) conn.broker.loginBackoff?.failed(address, Date.now());
  // [MQTT-4.12.0-4]: CONNACK with the failure, then close; [MQTT-4.12.1-2]: DISCONNECT when re-authenticating.
  if (isReauthentication) conn.disconnect(reasonCode, 'notAuthorized', properties);
  else conn.refuse(reasonCode, 'notAuthorized', properties);
}

/**
 * The failed-login back-off (login-backoff.ts) spaces enhanced authentication attempts from one address as it spaces
 * password checks; false when the attempt was refused (Server busy) or the client left while waiting.
 */
async function waitForLoginSlot(conn: Connection): Promise<boolean> {
  const backoff = conn.broker.loginBackoff;
  const address = conn.remoteAddress === undefined ? undefined : hostOf(conn.remoteAddress);
  if (backoff === undefined || address === undefined) return true;
  const slot = backoff.reserve(address, Date.now());
  if (slot === 'refuse') {
    conn.broker.logger.info(`Client ${conn.clientId} refused: too many failed logins from ${address}.`);
    conn.refuse(ReasonCode.ServerBusy, 'refused');
    return false;
  }
  if (slot.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, slot.waitMs).unref());
  return !conn.isClosed;
}

/** The method's failure code if the packet may carry it, else 0x87 Not authorized. */
function failureCode(code: number | undefined, packetType: 2 | 14): number {
  if (code === undefined || code < 0x80 || validReasonCodes[packetType]?.has(code) !== true) {
    return ReasonCode.NotAuthorized;
  }
  return code;
}

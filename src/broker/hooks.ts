/**
 * Embedding hooks. Each may answer synchronously or with a promise; a synchronous answer keeps the per-message path
 * free of promises. A hook that throws or rejects counts as a denial and is logged.
 */
import type { QoS, UserProperty } from '../protocol/types.js';
import type { TransportInfo } from './transport-info.js';

export interface ClientInfo {
  readonly id: string;
  readonly username: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: 3 | 4 | 5;
  /** The listener and TLS facts of the connection; undefined for a stream given to `broker.handle()` without them. */
  readonly transport?: TransportInfo;
}

export interface AuthenticateRequest {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: 3 | 4 | 5;
  /** MQTT 5: the User Properties of CONNECT, in wire order (empty otherwise). */
  readonly userProperties?: readonly UserProperty[];
  /** The listener and TLS facts; `transport.certificateUsername` set means `username` came from the certificate. */
  readonly transport?: TransportInfo;
}

export interface PublishRequest {
  readonly topic: string;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly payload: Buffer;
}

export interface SubscribeRequest {
  readonly topicFilter: string;
  readonly qos: QoS;
}

export type MaybePromise<T> = T | Promise<T>;

export interface Hooks {
  /** true accepts the connection; false refuses it (CONNACK Not authorized). */
  authenticate(request: AuthenticateRequest): MaybePromise<boolean>;
  /** true lets the message through; false drops it (3.1.1) — the publisher still gets its acknowledgement. */
  authorizePublish(client: ClientInfo, request: PublishRequest): MaybePromise<boolean>;
  /** true grants the requested QoS; a QoS number grants at most that; false refuses the filter (0x80). */
  authorizeSubscribe(client: ClientInfo, request: SubscribeRequest): MaybePromise<boolean | QoS>;
}

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as Promise<T>).then === 'function';
}

// ---------------------------------------------------------------------------------------------------------------
// Enhanced authentication (MQTT 5 section 4.12): a hook of its own, separate from `authenticate`. A client that puts
// an Authentication Method in CONNECT is authenticated by the method of that name alone; `authenticate` is not asked.

/** Who is authenticating, given to a method when an exchange begins. */
export interface EnhancedAuthContext {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string | undefined;
  /** The User Properties of CONNECT, in wire order. */
  readonly userProperties: readonly UserProperty[];
  /** true when the client re-authenticates on a live connection (AUTH 0x19, section 4.12.1). */
  readonly isReauthentication: boolean;
}

/** A method's answer to one step of the exchange. */
export type EnhancedAuthStep =
  /** Send AUTH 0x18 Continue authentication with `data`; the client answers with another AUTH. */
  | { readonly outcome: 'continue'; readonly data: Buffer }
  /**
   * Accept: CONNACK 0x00 (or AUTH 0x00 when re-authenticating) carrying `data` when given. `username`: the identity
   * the method proved; it becomes the client's user name (`ClientInfo.username`, seen by the authorization hooks),
   * and a re-authentication that proves another identity is refused.
   */
  | { readonly outcome: 'success'; readonly data?: Buffer; readonly username?: string }
  /** Refuse: CONNACK (or, when re-authenticating, DISCONNECT) with `reasonCode`, 0x87 Not authorized by default. */
  | { readonly outcome: 'failure'; readonly reasonCode?: number; readonly reasonString?: string };

/** One exchange: a stateful conversation of one client with one method. */
export interface EnhancedAuthExchange {
  /** Called with the Authentication Data of CONNECT (or of AUTH 0x19), then of each AUTH 0x18. */
  step(data: Buffer | undefined): MaybePromise<EnhancedAuthStep>;
}

/**
 * An enhanced authentication method, named as clients name it in the Authentication Method property.
 *
 * @example
 * const broker = createBroker({ enhancedAuthMethods: [scramSha256({ credentials: new Map([['alice', 'secret']]) })] });
 */
export interface EnhancedAuthMethod {
  readonly name: string;
  begin(context: EnhancedAuthContext): EnhancedAuthExchange;
}

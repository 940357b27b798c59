/**
 * Authentication and authorization as a chain of links, like Mosquitto's plugins: each link answers `allow`,
 * `deny` or `next` (no opinion: ask the next link). The first `allow` or `deny` decides. Built-in links (password
 * file, ACL file, JWT; see src/auth/) and the embedder's own links are all the same `AuthLink`; the original
 * boolean `Hooks` options still work and become the first link.
 *
 * When every link says `next`: a client without a username is accepted only if `allowAnonymous` (default: true
 * when no link authenticates, false otherwise, as Mosquitto 2.0 with a password file); a client with a username is
 * accepted only if no link authenticates at all and `allowAnonymous` holds (Mosquitto refuses a named client when
 * `allow_anonymous false` and nothing checks passwords); publish, subscribe and delivery are allowed.
 *
 * Design note: a link may answer synchronously or with a promise. The chain walks links synchronously and becomes
 * asynchronous only from the first promise on, so a chain of synchronous links keeps the per-message path free of
 * promises. Delivery checks (`authorizeRead`) run inside the fan-out loop and must be synchronous. A link that
 * throws or rejects counts as `deny` and is logged.
 */
import type { QoS, UserProperty } from '../protocol/types.js';
import type { TransportInfo } from './transport-info.js';
import type { Logger } from './logger.js';

/** Per-connection state that links fill in during authentication and read during later checks. */
export interface AuthState {
  /** When set, the broker disconnects the client at this time (MQTT 5: 0xA0 Maximum connect time), e.g. JWT exp. */
  expiresAtMs: number | undefined;
  /** What a link keeps about this client for its later checks, under the link's name. */
  readonly data: Map<string, unknown>;
}

export function newAuthState(): AuthState {
  return new ConnectionAuthState();
}

/** The map is made on first use: most connections' links keep nothing (memory per idle connection matters). */
class ConnectionAuthState implements AuthState {
  expiresAtMs: number | undefined = undefined;
  #data: Map<string, unknown> | undefined;

  get data(): Map<string, unknown> {
    return this.#data ??= new Map();
  }
}

export interface ClientInfo {
  readonly id: string;
  readonly username: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: 3 | 4 | 5;
  /** The listener and TLS facts of the connection; undefined for a stream given to `broker.handle()` without them. */
  readonly transport?: TransportInfo;
  /** What authentication recorded about this client (empty for links that keep nothing). */
  readonly auth?: AuthState;
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
  /** The connection's auth state: a link may set `expiresAtMs` or keep data for its later checks. */
  readonly auth?: AuthState;
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

/** A link's answer: decide, or pass to the next link. */
export type Verdict = 'allow' | 'deny' | 'next';

/**
 * One link of the chain. Every method is optional; a missing method is `next`.
 * @example
 * const onlyAlice: AuthLink = {
 *   name: 'only-alice',
 *   authenticate: ({ username }) => (username === 'alice' ? 'next' : 'deny'),
 * };
 * createBroker({ authLinks: [onlyAlice, passwordFileLink] });
 */
export interface AuthLink {
  readonly name: string;
  authenticate?(request: AuthenticateRequest): MaybePromise<Verdict>;
  authorizePublish?(client: ClientInfo, request: PublishRequest): MaybePromise<Verdict>;
  /** A QoS number allows with at most that QoS. */
  authorizeSubscribe?(client: ClientInfo, request: SubscribeRequest): MaybePromise<Verdict | QoS>;
  /** Checked for every message about to be delivered to `client` (Mosquitto's read check); synchronous. */
  authorizeRead?(client: ClientInfo, topic: string): Verdict;
}

/** The original boolean hooks; still accepted as broker options (they form the first link). */
export interface Hooks {
  /** true accepts the connection; false refuses it (CONNACK Not authorized). */
  authenticate(request: AuthenticateRequest): MaybePromise<boolean>;
  /** true lets the message through; false drops it (3.1.1) or answers 0x87 (MQTT 5). */
  authorizePublish(client: ClientInfo, request: PublishRequest): MaybePromise<boolean>;
  /** true grants the requested QoS; a QoS number grants at most that; false refuses the filter (0x80 / 0x87). */
  authorizeSubscribe(client: ClientInfo, request: SubscribeRequest): MaybePromise<boolean | QoS>;
}

/** What the handlers call: each present only when some link answers it, so "no hooks" costs nothing. */
export interface AuthChecks extends Partial<Hooks> {
  /** Present only when some link checks reads; false drops the message for that client. */
  authorizeRead?: (client: ClientInfo, topic: string) => boolean;
}

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as Promise<T>).then === 'function';
}

/** The boolean hooks as a link: they always decide, never `next`. */
export function hooksLink(hooks: Partial<Hooks>): AuthLink {
  const link: { -readonly [K in keyof AuthLink]: AuthLink[K] } = { name: 'hooks' };
  const { authenticate, authorizePublish, authorizeSubscribe } = hooks;
  if (authenticate !== undefined) {
    link.authenticate = (request) => mapMaybe(authenticate(request), toVerdict);
  }
  if (authorizePublish !== undefined) {
    link.authorizePublish = (client, request) => mapMaybe(authorizePublish(client, request), toVerdict);
  }
  if (authorizeSubscribe !== undefined) {
    link.authorizeSubscribe = (client, request) => mapMaybe(authorizeSubscribe(client, request),
      (v) => (typeof v === 'number' ? v : toVerdict(v)));
  }
  return link;
}

function toVerdict(value: boolean): Verdict {
  return value === true ? 'allow' : 'deny';
}

function mapMaybe<T, R>(value: MaybePromise<T>, map: (v: T) => R): MaybePromise<R> {
  return isPromise(value) ? value.then(map) : map(value);
}

type Answer = Verdict | QoS;

/** Walks `links` from `start`; synchronous until a link returns a promise. A throw or rejection is `deny`. */
function walk<L>(links: readonly L[], start: number, ask: (link: L) => MaybePromise<Answer> | undefined,
  onError: (link: L, err: unknown) => void): MaybePromise<Answer> {
  for (let i = start; i < links.length; i++) {
    const link = links[i]!;
    let answer: MaybePromise<Answer> | undefined;
    try {
      answer = ask(link);
    } catch (err) {
      onError(link, err);
      return 'deny';
    }
    if (answer === undefined || answer === 'next') continue;
    if (!isPromise(answer)) return answer;
    return answer.then(
      (a) => (a === 'next' ? walk(links, i + 1, ask, onError) : a),
      (err: unknown) => {
        onError(link, err);
        return 'deny' as const;
      },
    );
  }
  return 'next';
}

export interface AuthChainOptions {
  readonly allowAnonymous?: boolean;
  readonly logger: Logger;
}

/** Builds the checks the handlers call from the boolean hooks and the links, in that order. */
export function buildAuthChecks(hooks: Partial<Hooks>, authLinks: readonly AuthLink[], options: AuthChainOptions):
AuthChecks {
  const links = [hooksLink(hooks), ...authLinks];
  const { logger } = options;
  const onError = (link: AuthLink, err: unknown): void => {
    logger.error(`auth link '${link.name}' failed: ${(err as Error)?.message ?? String(err)}`);
  };
  const checks: AuthChecks = {};
  const authenticators = links.filter((l) => l.authenticate !== undefined);
  if (authenticators.length > 0 || options.allowAnonymous === false) {
    const allowAnonymous = options.allowAnonymous ?? authenticators.length === 0;
    const decide = (answer: Answer, request: AuthenticateRequest): boolean => (answer === 'next'
      ? allowAnonymous && (request.username === undefined || authenticators.length === 0)
      : answer === 'allow');
    checks.authenticate = (request) => mapMaybe(walk(authenticators, 0, (l) => l.authenticate!(request), onError),
      (answer) => decide(answer, request));
  }
  const publishers = links.filter((l) => l.authorizePublish !== undefined);
  if (publishers.length > 0) {
    checks.authorizePublish = (client, request) => mapMaybe(
      walk(publishers, 0, (l) => l.authorizePublish!(client, request), onError), (a) => a !== 'deny');
  }
  const subscribers = links.filter((l) => l.authorizeSubscribe !== undefined);
  if (subscribers.length > 0) {
    checks.authorizeSubscribe = (client, request) => mapMaybe(
      walk(subscribers, 0, (l) => l.authorizeSubscribe!(client, request), onError),
      (a) => (typeof a === 'number' ? a : a !== 'deny'));
  }
  const readers = links.filter((l) => l.authorizeRead !== undefined);
  if (readers.length > 0) {
    checks.authorizeRead = (client, topic) => {
      for (const link of readers) {
        let answer: Verdict;
        try {
          answer = link.authorizeRead!(client, topic);
        } catch (err) {
          onError(link, err);
          return false;
        }
        if (answer !== 'next') return answer === 'allow';
      }
      return true;
    };
  }
  return checks;
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

/**
 * Broker options, their defaults and validation. Every limit has a safe default; `resolveOptions` turns the user's
 * partial options into a complete, checked set so the hot path never tests for `undefined`.
 */
import type { AuthLink, ClientInfo, EnhancedAuthMethod, Hooks } from './hooks.js';
import type { LoginBackoffOptions } from './login-backoff.js';
import type { Logger } from './logger.js';
import type { Persistence } from '../persistence/persistence.js';
import type { SharedSubscriptionStrategy } from './shared.js';
import type { OutboundTopicAliasPolicy } from './topic-aliases.js';

export interface BrokerOptions extends Partial<Hooks> {
  /** Largest inbound packet in bytes (whole packet); a larger one closes the connection. Default 1 MiB. */
  maxPacketBytes?: number;
  /** Connections at once; beyond it a CONNECT is refused with Server unavailable. Default unlimited. */
  maxConnections?: number;
  /** Longest topic name or filter in bytes. Default 65,535 (the protocol's own limit). */
  maxTopicBytes?: number;
  /** Most levels in a topic name or filter. Default 128. */
  maxTopicLevels?: number;
  /** Longest client identifier in bytes (MQTT 3.1 clients are held to 23 as that spec says). Default 65,535. */
  maxClientIdBytes?: number;
  /** Subscriptions per client; beyond it a filter is refused in SUBACK. Default unlimited. */
  maxSubscriptionsPerClient?: number;
  /** Outbound QoS 1/2 messages awaiting acknowledgement per client; the rest wait in the session queue. Default 20. */
  maxInflight?: number;
  /** Messages queued per session behind the in-flight window (or while offline). Default 1,000; 0 = unlimited. */
  maxQueuedMessages?: number;
  /** Payload bytes queued per session. Default 0 = no byte limit. */
  maxQueuedBytes?: number;
  /** Bytes waiting in one socket's write buffer beyond which QoS 0 messages to it are dropped. Default 8 MiB. */
  maxWriteBufferBytes?: number;
  /**
   * Backpressure: when a subscriber's socket is backed up, the connections publishing to it stop being read until it
   * drains, for at most this long per episode; after that the subscriber counts as slow (its QoS 0 messages are
   * dropped past `maxWriteBufferBytes`, QoS 1/2 queue in its session) and holds no publisher until it drains.
   * 0 turns backpressure off. Default 500 ms.
   */
  publisherHoldMs?: number;
  /** A connection that sends no CONNECT within this time is closed. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** A connection whose socket stays backed up this long is closed as a slow consumer. Default 30,000 ms. */
  drainTimeoutMs?: number;
  /** MQTT 5: Topic Aliases a client may set on its PUBLISH packets (0 disables them). Default 10. */
  topicAliasMaximum?: number;
  /**
   * MQTT 5: Topic Aliases the broker assigns on PUBLISH packets it sends, per connection, capped by the client's
   * own Topic Alias Maximum (a client that sends none gets no aliases). 0 disables them. Default 65,535.
   */
  outboundTopicAliasMaximum?: number;
  /** MQTT 5: when every outbound alias is taken, `'lru'` reassigns the least recently used one, `'fill'` sends
   * full topic names. Default `'lru'`. */
  outboundTopicAliasPolicy?: OutboundTopicAliasPolicy;
  /** MQTT 5 Receive Maximum: inbound QoS 1/2 PUBLISH packets a client may have unacknowledged. Default 65,535. */
  receiveMaximum?: number;
  /** What a client exceeding our Receive Maximum gets: `'disconnect'` (0x93, the spec's answer) or `'log'`
   * (a warning, and the message is processed). Default `'disconnect'`. */
  receiveMaximumExceeded?: 'disconnect' | 'log';
  /** How a shared subscription group picks the member that gets a message. Default `'roundRobin'`. */
  sharedSubscriptionStrategy?: SharedSubscriptionStrategy;
  /** Interval of `$SYS` updates in seconds; 0 disables them. Default 10. */
  sysIntervalSeconds?: number;
  /**
   * Largest keepalive a client may use (Mosquitto's `max_keepalive`); 0 = no maximum. An MQTT 5 client asking for
   * more, or for 0, gets this as its Server Keep Alive [MQTT-3.2.2-21]; a 3.1/3.1.1 client asking for more is
   * refused with 0x02 (Identifier rejected), as Mosquitto does, having no way to be told. Default 0 (Mosquitto's
   * default is 65,535).
   */
  maxKeepaliveSeconds?: number;
  /** Highest QoS the broker accepts in PUBLISH and grants in SUBSCRIBE (MQTT 5 Maximum QoS). Default 2. */
  maximumQoS?: 0 | 1 | 2;
  /** Whether retained messages are supported (MQTT 5 Retain Available; Mosquitto's `retain_available`). Default true. */
  isRetainAvailable?: boolean;
  /** Whether filters with `+` or `#` are accepted (MQTT 5 Wildcard Subscription Available). Default true. */
  isWildcardSubscriptionAvailable?: boolean;
  /**
   * MQTT 5 Response Information sent in CONNACK to a client that sets Request Response Information to 1 (the
   * basis of its response topics). A string for everyone, or a function of the client. Default: none is sent.
   */
  responseInformation?: string | ((client: ClientInfo) => string | undefined);
  /**
   * MQTT 5 server redirection (section 4.11): a CONNECT is refused with 0x9C Use another server (or 0x9D Server
   * moved when `isPermanent`) carrying the Server Reference. A 3.1/3.1.1 client gets CONNACK 0x03 (Server
   * unavailable). A fixed redirect for everyone, or a function of the client (undefined = accept). Default: none.
   */
  redirect?: ServerRedirect | ((client: ClientInfo) => ServerRedirect | undefined);
  /** MQTT 5 enhanced authentication methods (section 4.12), by name; e.g. `[scramSha256({ credentials })]`. */
  enhancedAuthMethods?: readonly EnhancedAuthMethod[];
  /** Log every packet in and out (Mosquitto's `-v`). Default false. */
  isVerbose?: boolean;
  /** Where log lines go. Default: nothing is logged. */
  logger?: Logger;
  /** Session and retained message store. Default: a new in-memory store. */
  persistence?: Persistence;
  /** Version string published in `$SYS/broker/version`. */
  version?: string;
  /**
   * Authentication/authorization links after the boolean hooks, in order (see `AuthLink`): e.g. the built-in
   * `PasswordFileAuth`, `AclFileAuth`, `JwtAuth`, or your own. Default none.
   */
  authLinks?: readonly AuthLink[];
  /**
   * Accept a client without a username when no link decides. Default: true when nothing authenticates, false as
   * soon as a hook or link does (Mosquitto 2.0 with a password file).
   */
  allowAnonymous?: boolean;
  /** Slow down repeated failed logins from one address; `false` turns it off. Default on (see LoginBackoffOptions). */
  loginBackoff?: LoginBackoffOptions | false;
}

/** Where to send a client instead (MQTT 5 Server Reference, section 4.11). */
export interface ServerRedirect {
  readonly serverReference: string;
  /** true: 0x9D Server moved (use it from now on); false: 0x9C Use another server (this time). */
  readonly isPermanent?: boolean;
}

export interface ResolvedOptions {
  readonly maxPacketBytes: number;
  readonly maxConnections: number;
  readonly maxTopicBytes: number;
  readonly maxTopicLevels: number;
  readonly maxClientIdBytes: number;
  readonly maxSubscriptionsPerClient: number;
  readonly maxInflight: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly maxWriteBufferBytes: number;
  readonly publisherHoldMs: number;
  readonly connectTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly sysIntervalSeconds: number;
  readonly topicAliasMaximum: number;
  readonly outboundTopicAliasMaximum: number;
  readonly outboundTopicAliasPolicy: OutboundTopicAliasPolicy;
  readonly receiveMaximum: number;
  readonly receiveMaximumExceeded: 'disconnect' | 'log';
  readonly sharedSubscriptionStrategy: SharedSubscriptionStrategy;
  readonly isVerbose: boolean;
  readonly version: string;
  readonly maxKeepaliveSeconds: number;
  readonly maximumQoS: 0 | 1 | 2;
  readonly isRetainAvailable: boolean;
  readonly isWildcardSubscriptionAvailable: boolean;
  readonly responseInformation: ((client: ClientInfo) => string | undefined) | undefined;
  readonly redirect: ((client: ClientInfo) => ServerRedirect | undefined) | undefined;
  readonly enhancedAuthMethods: ReadonlyMap<string, EnhancedAuthMethod>;
}

export const defaultOptions: ResolvedOptions = {
  maxPacketBytes: 1024 * 1024,
  maxConnections: Infinity,
  maxTopicBytes: 65_535,
  maxTopicLevels: 128,
  maxClientIdBytes: 65_535,
  maxSubscriptionsPerClient: Infinity,
  maxInflight: 20,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 0,
  maxWriteBufferBytes: 8 * 1024 * 1024,
  publisherHoldMs: 500,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  sysIntervalSeconds: 10,
  topicAliasMaximum: 10,
  outboundTopicAliasMaximum: 65_535,
  outboundTopicAliasPolicy: 'lru',
  receiveMaximum: 65_535,
  receiveMaximumExceeded: 'disconnect',
  sharedSubscriptionStrategy: 'roundRobin',
  isVerbose: false,
  version: 'culex',
  maxKeepaliveSeconds: 0,
  maximumQoS: 2,
  isRetainAvailable: true,
  isWildcardSubscriptionAvailable: true,
  responseInformation: undefined,
  redirect: undefined,
  enhancedAuthMethods: new Map(),
};

export class ConfigError extends Error {
  readonly code = 'CULEX_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const positiveLimits = [
  'maxPacketBytes', 'maxConnections', 'maxTopicBytes', 'maxTopicLevels', 'maxClientIdBytes',
  'maxSubscriptionsPerClient', 'maxInflight', 'maxWriteBufferBytes', 'connectTimeoutMs', 'drainTimeoutMs',
] as const;
const nonNegativeLimits = [
  'publisherHoldMs', 'maxQueuedMessages', 'maxQueuedBytes', 'sysIntervalSeconds', 'topicAliasMaximum',
  'maxKeepaliveSeconds', 'outboundTopicAliasMaximum',
] as const;

/** Fills in defaults and checks every value; throws ConfigError naming the option. */
export function resolveOptions(options: BrokerOptions): ResolvedOptions {
  const out: Record<string, unknown> = { ...defaultOptions };
  for (const key of positiveLimits) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (v !== Infinity && !Number.isInteger(v))) {
      throw new ConfigError(`${key} must be a positive integer (or Infinity), got ${String(v)}`);
    }
    out[key] = v;
  }
  for (const key of nonNegativeLimits) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`${key} must be a number >= 0, got ${String(v)}`);
    }
    out[key] = v;
  }
  if (options.maxPacketBytes !== undefined && options.maxPacketBytes > 268_435_460) {
    throw new ConfigError('maxPacketBytes must be at most 268,435,460 (the protocol maximum)');
  }
  if (options.maxTopicBytes !== undefined && options.maxTopicBytes > 65_535) {
    throw new ConfigError('maxTopicBytes must be at most 65,535');
  }
  if (options.topicAliasMaximum !== undefined && options.topicAliasMaximum > 65_535) {
    throw new ConfigError('topicAliasMaximum must be at most 65,535');
  }
  if (options.maxInflight !== undefined && options.maxInflight > 65_535) {
    throw new ConfigError('maxInflight must be at most 65,535 (the packet identifier space)');
  }
  out['isVerbose'] = options.isVerbose === true;
  if (options.version !== undefined) out['version'] = options.version;
  resolveMqtt5Options(options, out);
  resolveRoutingOptions(options, out);
  return out as unknown as ResolvedOptions;
}

/** The MQTT 5 capability and connection options (CONNACK properties, redirection, enhanced authentication). */
function resolveMqtt5Options(options: BrokerOptions, out: Record<string, unknown>): void {
  if (options.maxKeepaliveSeconds !== undefined
    && (!Number.isInteger(options.maxKeepaliveSeconds) || options.maxKeepaliveSeconds > 65_535)) {
    throw new ConfigError('maxKeepaliveSeconds must be an integer from 0 to 65,535');
  }
  if (options.maximumQoS !== undefined) {
    if (options.maximumQoS !== 0 && options.maximumQoS !== 1 && options.maximumQoS !== 2) {
      throw new ConfigError(`maximumQoS must be 0, 1 or 2, got ${String(options.maximumQoS)}`);
    }
    out['maximumQoS'] = options.maximumQoS;
  }
  out['isRetainAvailable'] = options.isRetainAvailable !== false;
  out['isWildcardSubscriptionAvailable'] = options.isWildcardSubscriptionAvailable !== false;
  const info = options.responseInformation;
  out['responseInformation'] = typeof info === 'string' ? () => info : info;
  const redirect = options.redirect;
  if (redirect !== undefined && typeof redirect !== 'function' && typeof redirect.serverReference !== 'string') {
    throw new ConfigError('redirect.serverReference must be a string');
  }
  out['redirect'] = typeof redirect === 'object' ? () => redirect : redirect;
  const methods = new Map<string, EnhancedAuthMethod>();
  for (const method of options.enhancedAuthMethods ?? []) {
    if (methods.has(method.name)) throw new ConfigError(`enhanced authentication method ${method.name} given twice`);
    methods.set(method.name, method);
  }
  out['enhancedAuthMethods'] = methods;
}

/** The MQTT 5 message-routing options (outbound aliases, Receive Maximum, shared subscriptions). */
function resolveRoutingOptions(options: BrokerOptions, out: Record<string, unknown>): void {
  if (options.outboundTopicAliasMaximum !== undefined && options.outboundTopicAliasMaximum > 65_535) {
    throw new ConfigError('outboundTopicAliasMaximum must be at most 65,535');
  }
  const rm = options.receiveMaximum;
  if (rm !== undefined) {
    if (typeof rm !== 'number' || !Number.isInteger(rm) || rm < 1 || rm > 65_535) {
      throw new ConfigError(`receiveMaximum must be an integer in 1..65,535, got ${String(rm)}`);
    }
    out['receiveMaximum'] = rm;
  }
  out['outboundTopicAliasPolicy'] = oneOf('outboundTopicAliasPolicy', options.outboundTopicAliasPolicy, ['lru', 'fill'],
    defaultOptions.outboundTopicAliasPolicy);
  out['receiveMaximumExceeded'] = oneOf('receiveMaximumExceeded', options.receiveMaximumExceeded,
    ['disconnect', 'log'], defaultOptions.receiveMaximumExceeded);
  const strategy = options.sharedSubscriptionStrategy;
  if (strategy !== undefined && typeof strategy !== 'function') {
    out['sharedSubscriptionStrategy'] = oneOf('sharedSubscriptionStrategy', strategy as unknown,
      ['roundRobin', 'random', 'leastBusy'], 'roundRobin');
  } else if (strategy !== undefined) {
    out['sharedSubscriptionStrategy'] = strategy;
  }
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/**
 * Client options, their defaults, and URL parsing (`mqtt://user:password@host:port`, `mqtts://`, `ws://`, `wss://`).
 * `resolveOptions` returns a complete, checked set so the rest of the client never tests for `undefined` defaults.
 */
import type { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import type { Properties, ProtocolVersion, QoS, UserProperty } from '../protocol/types.js';
import type { InflightStore } from './store.js';
import { MqttClientError } from './errors.js';

export type Scheme = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** TLS settings for `mqtts://` and `wss://` (passed to `tls.connect`). */
export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Default true: refuse a server certificate that does not verify. */
  rejectUnauthorized?: boolean;
  /** SNI and certificate host name; default the host. */
  servername?: string;
  /** ALPN protocol names offered, e.g. ['mqtt'] (AWS IoT uses 'x-amzn-mqtt-ca'). */
  ALPNProtocols?: string[];
  /** Replaces the host name check (e.g. `() => undefined` for mosquitto_pub's `--insecure`). */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface WillOptions {
  topic: string;
  payload?: string | Buffer;
  qos?: QoS;
  retain?: boolean;
  /** MQTT 5 will properties (Will Delay Interval, Message Expiry, Content Type, …). */
  properties?: Properties;
}

/** A server AUTH challenge (MQTT 5 enhanced authentication, section 4.12). */
export interface AuthChallenge {
  /** 0x18 Continue authentication (during CONNECT or re-authentication). */
  reasonCode: number;
  method: string;
  data: Buffer | undefined;
  properties: Properties;
}

/** The client's answer to a challenge: the next Authentication Data, and optional extra properties. */
export interface AuthResponse {
  data?: Buffer;
  userProperties?: UserProperty[];
}

export interface ClientOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL; user, password, host, port and (ws) path are read from it. */
  url?: string;
  protocol?: Scheme;
  /** Default 'localhost'. */
  host?: string;
  /** Default 1883 (mqtt), 8883 (mqtts), 80 (ws), 443 (wss). */
  port?: number;
  /** WebSocket path. Default '/mqtt' (Mosquitto accepts any path). */
  path?: string;
  /** `mqtt` over a Unix socket at this path instead of TCP (mosquitto_pub's `--unix`). */
  socketPath?: string;
  /** Local address to bind the connection to (mosquitto_pub's `-A`). */
  localAddress?: string;
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1, 5 = MQTT 5.0. Default 4. */
  protocolVersion?: ProtocolVersion;
  /**
   * Default: a random `culex-…` id; with MQTT 5 and `clean: true` an empty id, so the server assigns one
   * (Assigned Client Identifier), which is then used on every reconnection.
   */
  clientId?: string;
  username?: string;
  password?: string | Buffer;
  /** Clean Session (3.1/3.1.1) or Clean Start (5). Default true. */
  clean?: boolean;
  /** Default 60; 0 disables keepalive. An MQTT 5 Server Keep Alive replaces it [MQTT-3.1.2-21]. */
  keepaliveSeconds?: number;
  /** MQTT 5 Session Expiry Interval sent in CONNECT. Default: absent (0, the session ends with the connection). */
  sessionExpiryIntervalSeconds?: number;
  will?: WillOptions;
  /** Extra MQTT 5 CONNECT properties: receiveMaximum, maximumPacketSize, topicAliasMaximum, userProperties, … */
  properties?: Properties;
  /** Time from dialling to CONNACK. Default 30,000 ms. */
  connectTimeoutMs?: number;
  /** Reconnection after a lost connection; `false` disables it. */
  reconnect?: false | ReconnectOptions;
  /** Outbound QoS 1/2 state; use a FileStore so unacknowledged and offline publishes survive a restart. */
  store?: InflightStore;
  /** Publishes waiting to be sent (offline, or beyond the in-flight window); more are refused. Default 1,000. */
  maxQueuedMessages?: number;
  /** Our own cap on QoS 1/2 publishes in flight; the server's Receive Maximum also applies. Default 65,535. */
  maxInflight?: number;
  /** MQTT 5: give topics automatic Topic Aliases up to the server's Topic Alias Maximum. Default true. */
  useTopicAliases?: boolean;
  /** MQTT 5: on CONNACK/DISCONNECT "Use another server" / "Server moved", reconnect to the Server Reference. */
  followServerReference?: boolean;
  /** MQTT 5 enhanced authentication method (sent in CONNECT). */
  authenticationMethod?: string;
  authenticationData?: Buffer;
  /** Answers the server's AUTH challenges; required when the server continues authentication. */
  onAuth?: (challenge: AuthChallenge) => AuthResponse | Promise<AuthResponse>;
  tls?: TlsOptions;
  /** Extra HTTP headers for the WebSocket upgrade. */
  wsHeaders?: Record<string, string>;
  /** Replaces the built-in dialler, e.g. to run over any Duplex. */
  dial?: (target: DialTarget) => Promise<Duplex>;
  /** How long `end()` waits for in-flight publishes before disconnecting. Default 10,000 ms. */
  endTimeoutMs?: number;
}

export interface ReconnectOptions {
  /** Delay before the first retry. Default 500 ms. */
  initialDelayMs?: number;
  /** Cap on the delay. Default 30,000 ms. */
  maxDelayMs?: number;
  /** Failed attempts in a row before giving up (the client then closes). Default Infinity. */
  maxAttempts?: number;
}

/** Where to connect: what the dialler needs. */
export interface DialTarget {
  protocol: Scheme;
  host: string;
  port: number;
  path: string;
  socketPath: string | undefined;
  localAddress: string | undefined;
  tls: TlsOptions;
  wsHeaders: Record<string, string>;
}

export interface ResolvedOptions {
  target: DialTarget;
  protocolVersion: ProtocolVersion;
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  clean: boolean;
  keepaliveSeconds: number;
  sessionExpiryIntervalSeconds: number | undefined;
  will: WillOptions | undefined;
  properties: Properties;
  connectTimeoutMs: number;
  reconnect: Required<ReconnectOptions> | false;
  maxQueuedMessages: number;
  maxInflight: number;
  useTopicAliases: boolean;
  followServerReference: boolean;
  authenticationMethod: string | undefined;
  authenticationData: Buffer | undefined;
  onAuth: ClientOptions['onAuth'];
  dial: ClientOptions['dial'];
  store: InflightStore | undefined;
  endTimeoutMs: number;
}

const defaultPorts: Record<Scheme, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };
const schemeAliases: Record<string, Scheme> = {
  mqtt: 'mqtt', tcp: 'mqtt', mqtts: 'mqtts', ssl: 'mqtts', tls: 'mqtts', ws: 'ws', wss: 'wss',
};

function invalid(message: string): MqttClientError {
  return new MqttClientError('MQTT_ERR_INVALID_ARGUMENT', message);
}

function parseUrl(url: string): Partial<ClientOptions> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new MqttClientError('MQTT_ERR_INVALID_ARGUMENT', `invalid URL: ${url}`, { cause });
  }
  const protocol = schemeAliases[parsed.protocol.replace(/:$/, '')];
  if (protocol === undefined) throw invalid(`unsupported URL scheme ${parsed.protocol} (mqtt, mqtts, ws or wss)`);
  const out: Partial<ClientOptions> = { protocol, host: parsed.hostname.replace(/^\[|\]$/g, '') };
  if (parsed.port !== '') out.port = Number(parsed.port);
  if (parsed.username !== '') out.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') out.password = decodeURIComponent(parsed.password);
  if (parsed.pathname !== '' && parsed.pathname !== '/') out.path = parsed.pathname + parsed.search;
  return out;
}

function randomClientId(): string {
  return `culex-${Math.random().toString(16).slice(2, 10)}`;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Merges URL and options (explicit options win), fills defaults and checks values. */
export function resolveOptions(input: string | ClientOptions, extra: ClientOptions = {}): ResolvedOptions {
  const given: ClientOptions = typeof input === 'string' ? { ...extra, url: input } : { ...input, ...extra };
  const fromUrl = given.url === undefined ? {} : parseUrl(given.url);
  const o: ClientOptions = { ...fromUrl, ...stripUndefined(given) };
  const protocol = o.protocol ?? 'mqtt';
  if (defaultPorts[protocol] === undefined) throw invalid(`unsupported protocol ${String(protocol)}`);
  const protocolVersion = o.protocolVersion ?? 4;
  if (protocolVersion !== 3 && protocolVersion !== 4 && protocolVersion !== 5) {
    throw invalid(`protocolVersion must be 3, 4 or 5, got ${String(protocolVersion)}`);
  }
  const clean = o.clean ?? true;
  const clientId = o.clientId ?? (protocolVersion === 5 && clean ? '' : randomClientId());
  if (clientId === '' && !clean) throw invalid('an empty clientId needs clean: true [MQTT-3.1.3-7]');
  if (clientId === '' && protocolVersion === 3) throw invalid('MQTT 3.1 does not allow an empty clientId');
  const keepaliveSeconds = checkInteger('keepaliveSeconds', o.keepaliveSeconds ?? 60, 0, 65_535);
  const reconnect = o.reconnect === false ? false : {
    initialDelayMs: o.reconnect?.initialDelayMs ?? 500,
    maxDelayMs: o.reconnect?.maxDelayMs ?? 30_000,
    maxAttempts: o.reconnect?.maxAttempts ?? Infinity,
  };
  if (o.authenticationMethod !== undefined && protocolVersion !== 5) {
    throw invalid('authenticationMethod needs protocolVersion 5');
  }
  return {
    target: {
      protocol,
      host: o.host ?? 'localhost',
      port: checkInteger('port', o.port ?? defaultPorts[protocol], 0, 65_535),
      path: o.path ?? '/mqtt',
      socketPath: o.socketPath,
      localAddress: o.localAddress,
      tls: o.tls ?? {},
      wsHeaders: o.wsHeaders ?? {},
    },
    protocolVersion,
    clientId,
    username: o.username,
    password: typeof o.password === 'string' ? Buffer.from(o.password, 'utf8') : o.password,
    clean,
    keepaliveSeconds,
    sessionExpiryIntervalSeconds: o.sessionExpiryIntervalSeconds,
    will: o.will,
    properties: o.properties ?? {},
    connectTimeoutMs: checkInteger('connectTimeoutMs', o.connectTimeoutMs ?? 30_000, 1, 2 ** 31 - 1),
    reconnect,
    maxQueuedMessages: checkInteger('maxQueuedMessages', o.maxQueuedMessages ?? 1000, 0, 2 ** 31 - 1),
    maxInflight: checkInteger('maxInflight', o.maxInflight ?? 65_535, 1, 65_535),
    useTopicAliases: o.useTopicAliases ?? true,
    followServerReference: o.followServerReference ?? false,
    authenticationMethod: o.authenticationMethod,
    authenticationData: o.authenticationData,
    onAuth: o.onAuth,
    dial: o.dial,
    store: o.store,
    endTimeoutMs: o.endTimeoutMs ?? 10_000,
  };
}

function stripUndefined(o: ClientOptions): ClientOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'url') out[k] = v;
  return out as ClientOptions;
}

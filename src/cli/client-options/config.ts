/**
 * The settings of `culex pub`, `culex sub` and `culex rr`, as parsed from Mosquitto's command line. One shape for
 * the three tools, like Mosquitto's `struct mosq_config`: which fields a tool reads is decided by the tool, which
 * flags it accepts by the parser (see parse.ts).
 */
import type { Properties, ProtocolVersion, QoS } from '../../protocol/types.js';

export type ClientTool = 'pub' | 'sub' | 'rr';

/** How `culex pub` / `culex rr` get their payload: -m, -f, -l, -s, -n, or none given yet. */
export type PublishMode = 'none' | 'message' | 'file' | 'stdin-line' | 'stdin-file' | 'null';

export type Transport = 'tcp' | 'ws';

/** The packets whose properties -D can set (Mosquitto's `mosquitto_string_to_command` names). */
export type PropertyCommand = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will';

export interface WillOptions {
  topic: string | undefined;
  payload: Buffer | undefined;
  qos: QoS;
  isRetained: boolean;
}

export interface TlsOptions {
  cafile: string | undefined;
  capath: string | undefined;
  certfile: string | undefined;
  keyfile: string | undefined;
  keyform: string | undefined;
  ciphers: string | undefined;
  tlsVersion: string | undefined;
  alpn: string | undefined;
  isInsecure: boolean;
  useOsCerts: boolean;
  /** Set by -L mqtts:// or wss://. */
  isUrlTls: boolean;
  engine: string | undefined;
  engineKpassSha1: string | undefined;
  psk: string | undefined;
  pskIdentity: string | undefined;
}

export interface ClientConfig {
  tool: ClientTool;
  host: string;
  /** undefined until -p or -L sets it: then 1883, or 8883 with --cafile/--capath (Mosquitto's PORT_UNDEFINED). */
  port: number | undefined;
  unixPath: string | undefined;
  bindAddress: string | undefined;
  transport: Transport;
  username: string | undefined;
  password: string | undefined;
  id: string | undefined;
  idPrefix: string | undefined;
  keepaliveSeconds: number;
  isClean: boolean;
  protocolVersion: ProtocolVersion;
  /** -x; undefined when not given (Mosquitto's -1 "unset"). 4294967295 means "never expires". */
  sessionExpirySeconds: number | undefined;
  qos: QoS;
  isRetained: boolean;
  isDebug: boolean;
  isQuiet: boolean;
  maxInflight: number;
  isNoDelay: boolean;
  proxy: string | undefined;
  /** pub and rr: the topic to publish to. */
  topic: string | undefined;
  /** sub: the filters to subscribe to, in order. */
  topics: string[];
  /** rr -e. */
  responseTopic: string | undefined;
  /** sub -T. */
  filterOuts: string[];
  /** sub -U. */
  unsubscribeTopics: string[];
  publishMode: PublishMode;
  message: Buffer | undefined;
  file: string | undefined;
  repeatCount: number;
  repeatDelayMs: number;
  /** -F. */
  format: string | undefined;
  isVerbose: boolean;
  /** Print an end of line after each message (cleared by -N). */
  hasEol: boolean;
  /** -R: do not print retained ("stale") messages; MQTT 5 subscriptions also ask for Retain Handling 2. */
  isNoRetain: boolean;
  isRetainedOnly: boolean;
  isRemoveRetained: boolean;
  isRetainAsPublished: boolean;
  /** -E. */
  isExitAfterSubscribe: boolean;
  /** -C; 0 when unlimited (rr defaults to 1). */
  messageCount: number;
  /** -W; 0 when not given. */
  timeoutSeconds: number;
  isPretty: boolean;
  /** --random-filter in hundredths of a percent (10000 = print all). */
  randomFilter: number;
  /** --json (Culex only): print each message as one JSON object per line. */
  isJson: boolean;
  will: WillOptions;
  tls: TlsOptions;
  properties: Record<PropertyCommand, Properties>;
  /** Packets for which -D set a non-repeatable property twice (reported after parsing, as Mosquitto does). */
  duplicatedProperties: Set<PropertyCommand>;
}

export function defaultConfig(tool: ClientTool): ClientConfig {
  return {
    tool,
    host: 'localhost',
    port: undefined,
    unixPath: undefined,
    bindAddress: undefined,
    transport: 'tcp',
    username: undefined,
    password: undefined,
    id: undefined,
    idPrefix: undefined,
    keepaliveSeconds: 60,
    isClean: true,
    protocolVersion: tool === 'rr' ? 5 : 4,
    sessionExpirySeconds: undefined,
    qos: 0,
    isRetained: false,
    isDebug: false,
    isQuiet: false,
    maxInflight: 20,
    isNoDelay: false,
    proxy: undefined,
    topic: undefined,
    topics: [],
    responseTopic: undefined,
    filterOuts: [],
    unsubscribeTopics: [],
    publishMode: 'none',
    message: undefined,
    file: undefined,
    repeatCount: 1,
    repeatDelayMs: 0,
    format: undefined,
    isVerbose: false,
    hasEol: true,
    isNoRetain: false,
    isRetainedOnly: false,
    isRemoveRetained: false,
    isRetainAsPublished: false,
    isExitAfterSubscribe: false,
    messageCount: tool === 'rr' ? 1 : 0,
    timeoutSeconds: 0,
    isPretty: false,
    randomFilter: 10000,
    isJson: false,
    will: { topic: undefined, payload: undefined, qos: 0, isRetained: false },
    tls: {
      cafile: undefined, capath: undefined, certfile: undefined, keyfile: undefined, keyform: undefined,
      ciphers: undefined, tlsVersion: undefined, alpn: undefined, isInsecure: false, useOsCerts: false,
      isUrlTls: false, engine: undefined, engineKpassSha1: undefined, psk: undefined, pskIdentity: undefined,
    },
    properties: { connect: {}, publish: {}, subscribe: {}, unsubscribe: {}, disconnect: {}, will: {} },
    duplicatedProperties: new Set(),
  };
}

/** The port to dial: the one given, else 8883 when TLS was asked for with a CA, else 1883 (as Mosquitto). */
export function effectivePort(config: ClientConfig): number {
  if (config.port !== undefined) return config.port;
  return config.tls.cafile !== undefined || config.tls.capath !== undefined || config.tls.psk !== undefined
    ? 8883 : 1883;
}

/** TLS is used when a CA is given, when -L said mqtts:// or wss://, or on port 8883 (OS certificates). */
export function usesTls(config: ClientConfig): boolean {
  const t = config.tls;
  return t.cafile !== undefined || t.capath !== undefined || t.isUrlTls || t.useOsCerts || effectivePort(config) === 8883;
}

/**
 * Broker options, their defaults and validation. Every limit has a safe default; `resolveOptions` turns the user's
 * partial options into a complete, checked set so the hot path never tests for `undefined`.
 */
import type { Hooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Persistence } from '../persistence/persistence.js';

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
  /** A connection that sends no CONNECT within this time is closed. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** A connection whose socket stays backed up this long is closed as a slow consumer. Default 30,000 ms. */
  drainTimeoutMs?: number;
  /** MQTT 5: Topic Aliases a client may set on its PUBLISH packets (0 disables them). Default 10. */
  topicAliasMaximum?: number;
  /** Interval of `$SYS` updates in seconds; 0 disables them. Default 10. */
  sysIntervalSeconds?: number;
  /** Log every packet in and out (Mosquitto's `-v`). Default false. */
  isVerbose?: boolean;
  /** Where log lines go. Default: nothing is logged. */
  logger?: Logger;
  /** Session and retained message store. Default: a new in-memory store. */
  persistence?: Persistence;
  /** Version string published in `$SYS/broker/version`. */
  version?: string;
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
  readonly connectTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly sysIntervalSeconds: number;
  readonly topicAliasMaximum: number;
  readonly isVerbose: boolean;
  readonly version: string;
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
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  sysIntervalSeconds: 10,
  topicAliasMaximum: 10,
  isVerbose: false,
  version: 'culex',
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
const nonNegativeLimits = ['maxQueuedMessages', 'maxQueuedBytes', 'sysIntervalSeconds', 'topicAliasMaximum'] as const;

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
  return out as unknown as ResolvedOptions;
}

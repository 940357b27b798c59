/**
 * A parser for the subset of Mosquitto's configuration file (mosquitto.conf(5)) that Culex supports. Pure: text in,
 * options out; the CLI reads the file.
 *
 * Syntax as in Mosquitto: one `directive value...` per line, separated by whitespace; a line whose first non-blank
 * character is `#` is a comment (a `#` later on a line is not, as in Mosquitto, so `port 1883 # x` is an error about
 * an extra value rather than a silently different setting). Every directive Culex does not implement, including
 * real Mosquitto ones such as `password_file`, is an error naming the file and line: a setting that looks applied
 * but is not would be worse than refusing to start.
 *
 * Where Culex's model differs from Mosquitto's it says so here and in README.md:
 * - `max_connections` is one limit for the whole broker, not per listener.
 * - `message_size_limit` limits the payload in Mosquitto; Culex limits whole packets, so it becomes `maxPacketBytes`
 *   = limit + an allowance for the header, topic and properties (MESSAGE_OVERHEAD_BYTES + the topic limit). A payload
 *   slightly over the limit may therefore pass; one well over it is refused.
 * - Port 0 picks a free port (Mosquitto refuses it); used by tests.
 */
import { ConfigError, resolveOptions, type BrokerOptions } from '../broker/config.js';
import { allLevels, type LogLevel } from './log.js';

export interface ListenerSpec {
  readonly port: number;
  /** Address to bind; undefined = all interfaces. */
  readonly host?: string;
}

export type LogDestination = 'stderr' | 'stdout';

export interface LoggingConfig {
  /** From `log_type` lines (they accumulate, as in Mosquitto); undefined = none given, use the default. */
  levels: Set<LogLevel> | undefined;
  /** From `log_dest` lines; undefined = none given (standard error). Empty = `log_dest none`. */
  destinations: LogDestination[] | undefined;
  isTimestamped: boolean;
  hasConnectionMessages: boolean;
}

export interface BrokerConfig {
  options: BrokerOptions;
  /** Mosquitto's "default listener", set by `port` and `bind_address`; undefined when neither is given. */
  defaultListener: { port?: number; host?: string } | undefined;
  /** One per `listener` line, in file order. */
  listeners: ListenerSpec[];
  logging: LoggingConfig;
}

/** A configuration error located in a file (line 0 = the file as a whole). */
export class ConfigFileError extends ConfigError {
  readonly fileName: string;
  readonly line: number;
  constructor(message: string, fileName: string, line: number, options?: { cause?: unknown }) {
    super(message);
    this.name = 'ConfigFileError';
    this.fileName = fileName;
    this.line = line;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export const DEFAULT_PORT = 1883;
const PROTOCOL_MAX_PACKET_BYTES = 268_435_460;
const PROTOCOL_MAX_REMAINING_LENGTH = 268_435_455;
/** Fixed header (5) + topic length (2) + packet identifier (2) + room for MQTT 5 properties (1,024). */
const MESSAGE_OVERHEAD_BYTES = 5 + 2 + 2 + 1024;
/** Largest delay Node's timers accept, in ms. */
const MAX_TIMER_MS = 2_147_483_647;

export function emptyConfig(): BrokerConfig {
  return {
    options: {},
    defaultListener: undefined,
    listeners: [],
    logging: { levels: undefined, destinations: undefined, isTimestamped: true, hasConnectionMessages: true },
  };
}

interface Line {
  readonly directive: string;
  readonly args: readonly string[];
  fail(problem: string): never;
}

interface ParseState {
  readonly config: BrokerConfig;
  messageSizeLimit: number | undefined;
  maxPacketSize: number | undefined;
}

type Handler = (line: Line, state: ParseState) => void;

function one(line: Line): string {
  if (line.args.length === 0) line.fail(`Missing value for "${line.directive}"`);
  if (line.args.length > 1) line.fail(`Unexpected extra value "${line.args[1]}" for "${line.directive}"`);
  return line.args[0]!;
}

function integer(line: Line, value: string, min: number, max: number, expected: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    line.fail(`Bad value "${value}" for "${line.directive}" (expected ${expected})`);
  }
  return n;
}

function int(line: Line, min: number, max: number, expected: string): number {
  return integer(line, one(line), min, max, expected);
}

/** -1 (Mosquitto's spelling of "no limit") or a positive integer. */
function limitOrUnlimited(line: Line): number {
  const n = int(line, -1, Number.MAX_SAFE_INTEGER, '-1 for unlimited, or a positive integer');
  if (n === 0) line.fail(`Bad value "0" for "${line.directive}" (expected -1 for unlimited, or a positive integer)`);
  return n === -1 ? Infinity : n;
}

function bool(line: Line): boolean {
  const v = one(line);
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return line.fail(`Bad value "${v}" for "${line.directive}" (expected true or false)`);
}

function port(line: Line, value: string): number {
  return integer(line, value, 0, 65_535, 'a port from 1 to 65535, or 0 for any free port');
}

/** Mosquitto's log_type values and the Culex levels they enable. */
const logTypes: ReadonlyMap<string, readonly LogLevel[]> = new Map<string, readonly LogLevel[]>([
  ['debug', ['debug']],
  ['error', ['error']],
  ['warning', ['warn']],
  ['notice', ['info']],
  ['information', ['info']],
  ['all', [...allLevels]],
  ['none', []],
  // Mosquitto has separate categories for these; Culex logs subscriptions as debug lines (with -v), so they are
  // accepted but add nothing.
  ['subscribe', []],
  ['unsubscribe', []],
]);

const handlers: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['port', (line, { config }) => {
    config.defaultListener = { ...config.defaultListener, port: port(line, one(line)) };
  }],
  ['bind_address', (line, { config }) => {
    config.defaultListener = { ...config.defaultListener, host: one(line) };
  }],
  ['listener', (line, { config }) => {
    if (line.args.length === 0) line.fail('Missing port for "listener"');
    if (line.args.length > 2) line.fail(`Unexpected extra value "${line.args[2]}" for "listener"`);
    const p = port(line, line.args[0]!);
    const host = line.args[1];
    if (host?.startsWith('/') === true) line.fail('Unix socket listeners are not supported yet');
    config.listeners.push(host === undefined ? { port: p } : { port: p, host });
  }],
  ['max_connections', (line, { config }) => {
    config.options.maxConnections = limitOrUnlimited(line);
  }],
  ['max_inflight_messages', (line, { config }) => {
    const n = int(line, 0, 65_535, 'an integer from 0 (unlimited) to 65535');
    config.options.maxInflight = n === 0 ? 65_535 : n;
  }],
  ['max_queued_messages', (line, { config }) => {
    config.options.maxQueuedMessages = int(line, 0, Number.MAX_SAFE_INTEGER, 'an integer >= 0 (0 = unlimited)');
  }],
  ['max_queued_bytes', (line, { config }) => {
    config.options.maxQueuedBytes = int(line, 0, Number.MAX_SAFE_INTEGER, 'an integer >= 0 (0 = unlimited)');
  }],
  ['message_size_limit', (line, state) => {
    state.messageSizeLimit = int(line, 0, PROTOCOL_MAX_REMAINING_LENGTH, 'an integer from 0 (unlimited) to 268435455');
  }],
  ['max_packet_size', (line, state) => {
    const n = int(line, 0, PROTOCOL_MAX_PACKET_BYTES, 'an integer from 20 to 268435460, or 0 for unlimited');
    if (n > 0 && n < 20) line.fail(`Bad value "${n}" for "max_packet_size" (expected at least 20, or 0 for unlimited)`);
    state.maxPacketSize = n;
  }],
  ['sys_interval', (line, { config }) => {
    config.options.sysIntervalSeconds = int(line, 0, Math.floor(MAX_TIMER_MS / 1000), 'seconds >= 0 (0 disables)');
  }],
  ['persistence', (line) => {
    if (bool(line)) line.fail('"persistence true" is not supported yet: this version keeps sessions in memory only');
  }],
  ['allow_anonymous', (line) => {
    if (!bool(line)) {
      line.fail('"allow_anonymous false" is not supported yet: password files arrive in a later version, and without '
        + 'one no client could connect');
    }
  }],
  ['connection_messages', (line, { config }) => {
    config.logging.hasConnectionMessages = bool(line);
  }],
  ['log_timestamp', (line, { config }) => {
    config.logging.isTimestamped = bool(line);
  }],
  ['log_type', (line, { config }) => {
    const v = one(line);
    const levels = logTypes.get(v);
    if (levels === undefined) {
      return line.fail(`Bad value "${v}" for "log_type" (supported: ${[...logTypes.keys()].join(', ')})`);
    }
    config.logging.levels ??= new Set();
    for (const level of levels) config.logging.levels.add(level);
  }],
  ['log_dest', (line, { config }) => {
    const v = line.args[0];
    if (v === undefined) return line.fail('Missing value for "log_dest"');
    if (v !== 'stderr' && v !== 'stdout' && v !== 'none') {
      return line.fail(`"log_dest ${v}" is not supported yet (supported: stderr, stdout, none)`);
    }
    one(line);
    config.logging.destinations ??= [];
    if (v !== 'none' && !config.logging.destinations.includes(v)) config.logging.destinations.push(v);
  }],
  ['culex_connect_timeout_ms', (line, { config }) => {
    config.options.connectTimeoutMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }],
  ['culex_drain_timeout_ms', (line, { config }) => {
    config.options.drainTimeoutMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }],
  ['culex_max_topic_bytes', (line, { config }) => {
    config.options.maxTopicBytes = int(line, 1, 65_535, 'an integer from 1 to 65535');
  }],
  ['culex_max_topic_levels', (line, { config }) => {
    config.options.maxTopicLevels = int(line, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  }],
  ['culex_max_client_id_bytes', (line, { config }) => {
    config.options.maxClientIdBytes = int(line, 1, 65_535, 'an integer from 1 to 65535');
  }],
  ['culex_max_subscriptions_per_client', (line, { config }) => {
    config.options.maxSubscriptionsPerClient = limitOrUnlimited(line);
  }],
  ['culex_max_write_buffer_bytes', (line, { config }) => {
    config.options.maxWriteBufferBytes = int(line, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  }],
]);

/** The directives `parseBrokerConfig` accepts, in the order README.md lists them. */
export const supportedDirectives: readonly string[] = [...handlers.keys()];

/**
 * Parses mosquitto.conf text. Throws ConfigFileError naming `fileName`, the line and the directive.
 * @example
 * const config = parseBrokerConfig('listener 1883 127.0.0.1\nmax_connections -1\n', 'culex.conf');
 */
export function parseBrokerConfig(text: string, fileName: string): BrokerConfig {
  const state: ParseState = { config: emptyConfig(), messageSizeLimit: undefined, maxPacketSize: undefined };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const [directive, ...args] = raw.split(/[ \t]+/) as [string, ...string[]];
    const lineNumber = i + 1;
    const line: Line = {
      directive,
      args,
      fail(problem: string): never {
        throw new ConfigFileError(`${problem} in ${fileName}:${lineNumber}.`, fileName, lineNumber);
      },
    };
    const handler = handlers.get(directive);
    if (handler === undefined) line.fail(`Unknown or unsupported configuration directive "${directive}"`);
    handler(line, state);
  }
  applyPacketLimits(state);
  try {
    resolveOptions(state.config.options);
  } catch (err) {
    // Each directive checks its own range, so this is a safety net for combinations.
    throw new ConfigFileError(`${(err as Error).message} (in ${fileName}).`, fileName, 0, { cause: err });
  }
  return state.config;
}

/** `message_size_limit` and `max_packet_size` both bound `maxPacketBytes`; the tighter one wins. */
function applyPacketLimits(state: ParseState): void {
  const bounds: number[] = [];
  if (state.messageSizeLimit !== undefined) {
    const topicBytes = state.config.options.maxTopicBytes ?? 65_535;
    bounds.push(state.messageSizeLimit === 0
      ? PROTOCOL_MAX_PACKET_BYTES
      : Math.min(PROTOCOL_MAX_PACKET_BYTES, state.messageSizeLimit + MESSAGE_OVERHEAD_BYTES + topicBytes));
  }
  if (state.maxPacketSize !== undefined) {
    bounds.push(state.maxPacketSize === 0 ? PROTOCOL_MAX_PACKET_BYTES : state.maxPacketSize);
  }
  if (bounds.length > 0) state.config.options.maxPacketBytes = Math.min(...bounds);
}

/**
 * The listeners to open, as Mosquitto decides them: ports from `-p` take the default listener's place (and its
 * `bind_address`); the default listener exists when `port` or `bind_address` is set or when no `listener` is; the
 * `listener` lines follow.
 */
export function resolveListeners(config: BrokerConfig, commandLinePorts: readonly number[]): ListenerSpec[] {
  const host = config.defaultListener?.host;
  const withHost = (p: number): ListenerSpec => (host === undefined ? { port: p } : { port: p, host });
  if (commandLinePorts.length > 0) return [...commandLinePorts.map(withHost), ...config.listeners];
  if (config.defaultListener !== undefined || config.listeners.length === 0) {
    return [withHost(config.defaultListener?.port ?? DEFAULT_PORT), ...config.listeners];
  }
  return [...config.listeners];
}

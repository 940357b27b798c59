/**
 * A Logger writing Mosquitto-style lines, `1700000000: message`, to one or more streams. Levels are a set rather than
 * a threshold because Mosquitto's `log_type` is a set (one may log errors and debug but not information).
 */
import type { Logger } from '../broker/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const allLevels: ReadonlySet<LogLevel> = new Set<LogLevel>(['debug', 'info', 'warn', 'error']);
/** Mosquitto's default `log_type`: error, warning, notice and information, i.e. everything but debug. */
export const defaultLevels: ReadonlySet<LogLevel> = new Set<LogLevel>(['info', 'warn', 'error']);

export interface StreamLoggerOptions {
  /** Where lines go. Default: standard error. */
  readonly streams?: readonly NodeJS.WritableStream[];
  /** Levels written; others are dropped. Default `defaultLevels`. */
  readonly levels?: ReadonlySet<LogLevel>;
  /** Prefix each line with the Unix time in seconds and ": " (Mosquitto's `log_timestamp`). Default true. */
  readonly isTimestamped?: boolean;
  /** A line for which this returns false is dropped (used for `connection_messages false`). */
  readonly accept?: (level: LogLevel, message: string) => boolean;
  /** Clock in milliseconds; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Creates a Logger that writes one line per message.
 * @example
 * const logger = createStreamLogger({ levels: allLevels });
 * logger.info('culex version 0.1.0 starting'); // 1700000000: culex version 0.1.0 starting
 */
// A disabled level gets a no-op so that hot-path debug calls cost only the call.
const noop = (): void => {};

export function createStreamLogger(options: StreamLoggerOptions = {}): Logger {
  const streams = options.streams ?? [process.stderr];
  const levels = options.levels ?? defaultLevels;
  const isTimestamped = options.isTimestamped ?? true;
  const accept = options.accept;
  const now = options.now ?? Date.now;
  const write = (level: LogLevel, message: string): void => {
    if (!levels.has(level)) return;
    if (accept !== undefined && !accept(level, message)) return;
    const line = isTimestamped ? `${Math.floor(now() / 1000)}: ${message}\n` : `${message}\n`;
    for (const stream of streams) stream.write(line);
  };
  return {
    debug: levels.has('debug') ? (m) => write('debug', m) : noop,
    info: levels.has('info') ? (m) => write('info', m) : noop,
    warn: levels.has('warn') ? (m) => write('warn', m) : noop,
    error: levels.has('error') ? (m) => write('error', m) : noop,
  };
}

/**
 * True for the broker's connect and disconnect notices, which Mosquitto's `connection_messages false` hides. The
 * broker has no option for them, so the CLI filters its lines; the patterns match the texts in broker/connect.ts and
 * broker/broker.ts.
 */
export function isConnectionMessage(message: string): boolean {
  return message.startsWith('New client connected from ')
    || (message.startsWith('Client ') && (message.endsWith(' disconnected.') || message.includes(' closed its connection (')));
}

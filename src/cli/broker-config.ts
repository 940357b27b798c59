/**
 * A parser for Mosquitto's configuration file (mosquitto.conf(5)) as far as Culex supports it. Text in, a
 * `BrokerConfig` out; the only I/O is `include_dir`, through an injected reader.
 *
 * Syntax as in Mosquitto: one `directive value...` per line, separated by whitespace; a line whose first non-blank
 * character is `#` is a comment (a `#` later on a line is not, as in Mosquitto, so `port 1883 # x` is an error about
 * an extra value rather than a silently different setting). Every directive Culex does not implement is an error
 * naming the file and line; the few whose absence changes nothing a client can see are accepted with a logged
 * warning (`config/ignored.ts`). A setting that looks applied but is not would be worse than refusing to start.
 *
 * The directives live in tables, one per area (`config/general.ts`, `listeners.ts`, `tls.ts`, `logging.ts`,
 * `ignored.ts`); a new area adds a table to `directiveTables`. A directive's scope says where it writes: `global`,
 * `listener` (the current `listener` block, or the default listener before the first one), or `security` (the
 * current listener with `per_listener_settings true`, else broker-wide: use `securityOf(state)`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, resolveOptions } from '../broker/config.js';
import { authDirectives } from './config/auth.js';
import { applyPacketLimits, generalDirectives } from './config/general.js';
import { ignoredDirectives } from './config/ignored.js';
import { storeDirectives } from './config/store.js';
import { listenerDirectives, newListener } from './config/listeners.js';
import { loggingDirectives } from './config/logging.js';
import { tlsDirectives, tlsProblem } from './config/tls.js';
import type {
  BrokerConfig, Directive, IncludeDirReader, Line, ListenerConfig, ParseState,
} from './config/types.js';

export type {
  BrokerConfig, ConfigWarning, Directive, JwtConfig, ListenerConfig, ListenerProtocol, LogDestination, LoggingConfig,
  SecurityConfig, StoreConfig, TlsConfig,
} from './config/types.js';
export { isTls } from './config/tls.js';

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

/** Every directive table, in the order README.md lists them. */
const directiveTables: readonly (readonly Directive[])[] = [
  listenerDirectives, tlsDirectives, generalDirectives, storeDirectives, authDirectives, loggingDirectives,
  ignoredDirectives,
];

function buildIndex(): ReadonlyMap<string, Directive> {
  const index = new Map<string, Directive>();
  for (const table of directiveTables) {
    for (const directive of table) {
      if (index.has(directive.name)) throw new Error(`directive ${directive.name} is defined twice`);
      index.set(directive.name, directive);
    }
  }
  return index;
}

const directives = buildIndex();

/** The directives `parseBrokerConfig` applies (not those it accepts only with a warning). */
export const supportedDirectives: readonly string[] = directiveTables
  .filter((table) => table !== ignoredDirectives).flatMap((table) => table.map((d) => d.name));

/** The Mosquitto directives accepted with a warning that they are ignored. */
export const ignoredDirectiveNames: readonly string[] = ignoredDirectives.map((d) => d.name);

export function emptyConfig(): BrokerConfig {
  return {
    options: {},
    store: { isEnabled: undefined, location: undefined, durability: undefined, batchWindowMs: undefined, onCorruption: undefined },
    defaultListener: newListener(DEFAULT_PORT, 'default listener'),
    hasDefaultListener: false,
    defaultListenerSettings: [],
    listeners: [],
    isPerListenerSettings: false,
    security: {},
    logging: { levels: undefined, destinations: undefined, isTimestamped: true, hasConnectionMessages: true },
    pidFile: undefined,
    includedFiles: [],
    warnings: [],
  };
}

/**
 * `include_dir` order: case-sensitive alphabetical, each upper-case letter before the lower case of the same letter
 * (00.conf, 01.conf, A.conf, a.conf, B.conf, b.conf), as Mosquitto documents.
 */
export function compareIncludeNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const lx = x.toLowerCase();
    const ly = y.toLowerCase();
    if (lx !== ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Reads the `*.conf` files of a directory in Mosquitto's order (synchronous: start-up only). */
export const readIncludeDirFromDisk: IncludeDirReader = (dir) => readdirSync(dir)
  .filter((name) => name.endsWith('.conf'))
  .toSorted(compareIncludeNames)
  .map((name) => ({ fileName: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));

class Parser implements ParseState {
  readonly config = emptyConfig();
  readonly pending = new Map<string, number>();
  readonly readIncludeDir: IncludeDirReader | undefined;
  currentListener: ListenerConfig;
  isMainFile = true;
  seenSecurity = false;

  constructor(readIncludeDir: IncludeDirReader | undefined) {
    this.readIncludeDir = readIncludeDir;
    this.currentListener = this.config.defaultListener;
  }

  startListener(listener: ListenerConfig): void {
    this.config.listeners.push(listener);
    this.currentListener = listener;
  }

  parseIncluded(text: string, fileName: string): void {
    const wasMain = this.isMainFile;
    this.isMainFile = false;
    this.config.includedFiles.push(fileName);
    try {
      this.parseText(text, fileName);
    } finally {
      this.isMainFile = wasMain;
    }
  }

  parseText(text: string, fileName: string): void {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.replace(/\r$/, '').trim();
      if (raw === '' || raw.startsWith('#')) continue;
      const [directive, ...args] = raw.split(/[ \t]+/) as [string, ...string[]];
      const lineNumber = i + 1;
      const warnings = this.config.warnings;
      const line: Line = {
        directive, args, fileName, lineNumber,
        fail(problem: string): never {
          throw new ConfigFileError(`${problem} in ${fileName}:${lineNumber}.`, fileName, lineNumber);
        },
        warn(message: string): void {
          warnings.push({ fileName, line: lineNumber, message: `${message} (${fileName}:${lineNumber}).` });
        },
      };
      this.apply(line);
    }
  }

  apply(line: Line): void {
    if (line.directive === 'include_dir') {
      this.includeDir(line);
      return;
    }
    const directive = directives.get(line.directive);
    if (directive === undefined) line.fail(`Unknown or unsupported configuration directive "${line.directive}"`);
    if (directive.scope === 'listener' && this.currentListener === this.config.defaultListener) {
      this.config.defaultListenerSettings.push(`${line.fileName}:${line.lineNumber}`);
    }
    directive.apply(line, this);
    if (directive.scope === 'security') this.seenSecurity = true;
  }

  includeDir(line: Line): void {
    if (!this.isMainFile) line.fail('"include_dir" is only allowed in the main configuration file');
    const dir = line.args.join(' ');
    if (dir === '') line.fail('Missing value for "include_dir"');
    if (this.readIncludeDir === undefined) line.fail('"include_dir" cannot be used here (no file system access)');
    let files: { fileName: string; text: string }[];
    try {
      files = this.readIncludeDir(dir);
    } catch (err) {
      return line.fail(`Unable to read include_dir "${dir}": ${(err as Error).message}`);
    }
    for (const file of files) this.parseIncluded(file.text, file.fileName);
  }

  finish(fileName: string): BrokerConfig {
    applyPacketLimits(this);
    for (const listener of [this.config.defaultListener, ...this.config.listeners]) {
      const problem = tlsProblem(listener);
      if (problem !== undefined) {
        const [file, line] = splitOrigin(listener.origin, fileName);
        throw new ConfigFileError(`Listener at ${listener.origin}: ${problem}.`, file, line);
      }
    }
    try {
      resolveOptions(this.config.options);
    } catch (err) {
      // Each directive checks its own range, so this is a safety net for combinations.
      throw new ConfigFileError(`${(err as Error).message} (in ${fileName}).`, fileName, 0, { cause: err });
    }
    return this.config;
  }
}

function splitOrigin(origin: string, fallbackFile: string): [string, number] {
  const match = /^(.*):(\d+)$/.exec(origin);
  return match === null ? [fallbackFile, 0] : [match[1]!, Number(match[2])];
}

export interface ParseOptions {
  /** Reader for `include_dir`; default none (the directive is then an error). The CLI passes `readIncludeDirFromDisk`. */
  readonly readIncludeDir?: IncludeDirReader;
}

/**
 * Parses mosquitto.conf text. Throws ConfigFileError naming `fileName`, the line and the directive.
 * @example
 * const config = parseBrokerConfig('listener 1883 127.0.0.1\nmax_connections -1\n', 'culex.conf');
 */
export function parseBrokerConfig(text: string, fileName: string, options: ParseOptions = {}): BrokerConfig {
  const parser = new Parser(options.readIncludeDir);
  parser.parseText(text, fileName);
  return parser.finish(fileName);
}

/**
 * The listeners to open, as Mosquitto decides them: ports from `-p` take the default listener's place (with its
 * other settings); the default listener exists when `port` or `bind_address` is set or when no `listener` is; the
 * `listener` blocks follow.
 */
export function resolveListeners(config: BrokerConfig, commandLinePorts: readonly number[]): ListenerConfig[] {
  const base = config.defaultListener;
  if (commandLinePorts.length > 0) {
    return [...commandLinePorts.map((p) => ({ ...base, port: p, origin: `-p ${p}` })), ...config.listeners];
  }
  if (config.hasDefaultListener || config.listeners.length === 0) return [base, ...config.listeners];
  return [...config.listeners];
}

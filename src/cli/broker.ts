/**
 * `culex broker`: Mosquitto's command line (-c, -p, -v) in front of `createBroker`. This is a composition root: it
 * reads the config file, picks the logger and the listeners, and runs until SIGINT or SIGTERM, then closes the broker
 * and returns 0. Failures are one `culex: Error: ...` line on stderr and exit status 1, never a stack trace.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../broker/config.js';
import type { Logger } from '../broker/logger.js';
import { createBroker, type CulexBroker } from '../create-broker.js';
import {
  emptyConfig, parseBrokerConfig, readIncludeDirFromDisk, resolveListeners, type BrokerConfig,
} from './broker-config.js';
import { openConfiguredListener, openingLines, reloadCertificates, type OpenedListener } from './broker-listeners.js';
import { createBrokerAuth, type BrokerAuth } from './broker-auth.js';
import type { CliIo } from './index.js';
import { allLevels, createStreamLogger, defaultLevels, isConnectionMessage } from './log.js';
import { openLogDestinations, type LogStreams } from './log-destinations.js';
import { createStore, parseDurability, type StoreArgs } from './store.js';

interface BrokerArgs {
  readonly configFile: string | undefined;
  readonly ports: readonly number[];
  readonly isVerbose: boolean;
  readonly isHelp: boolean;
  readonly store: StoreArgs;
}

class UsageError extends Error {}

const USAGE_HINT = "Run 'culex broker --help' for usage.";

export async function run(argv: string[], io: CliIo): Promise<number> {
  let args: BrokerArgs;
  try {
    args = parseBrokerArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`culex: Error: ${err.message}\n${USAGE_HINT}\n`);
    return 1;
  }
  if (args.isHelp) {
    io.stdout.write(readFileSync(new URL('../../src/cli/help/broker.txt', import.meta.url), 'utf8'));
    return 0;
  }
  const config = await loadConfig(args.configFile, io);
  if (config === undefined) return 1;
  return serve(args, config, io);
}

/** Mosquitto's flags, parsed with tokens so that every mistake gets a message naming the flag. */
export function parseBrokerArgs(argv: string[]): BrokerArgs {
  const { tokens } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      'config-file': { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
      memory: { type: 'boolean' },
      'refuse-corrupt-store': { type: 'boolean' },
      'persistence-location': { type: 'string' },
      durability: { type: 'string' },
    },
  });
  const store = { isMemory: false, location: undefined as string | undefined,
    durability: undefined as StoreArgs['durability'], isCorruptionRefused: false };
  let configFile: string | undefined;
  const ports: number[] = [];
  let isVerbose = false;
  let isHelp = false;
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`Unexpected argument '${token.value}'.`);
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value } = token;
    if (name === 'verbose' || name === 'help' || name === 'memory' || name === 'refuse-corrupt-store') {
      if (value !== undefined) throw new UsageError(`Option '${rawName}' takes no value.`);
      if (name === 'verbose') isVerbose = true;
      else if (name === 'help') isHelp = true;
      else if (name === 'memory') store.isMemory = true;
      else store.isCorruptionRefused = true;
    } else if (name === 'persistence-location' || name === 'durability') {
      if (value === undefined || value === '') throw new UsageError(`Option '${rawName}' needs a value.`);
      if (name === 'persistence-location') store.location = value;
      else store.durability = parseDurability(value);
      if (store.durability === undefined && name === 'durability') {
        throw new UsageError(`Invalid durability '${value}' for '${rawName}' (expected sync, batched, batched:MS or none).`);
      }
    } else if (name === 'config-file' || name === 'port') {
      if (value === undefined || value === '') throw new UsageError(`Option '${rawName}' needs a value.`);
      if (name === 'port') ports.push(parsePort(value, rawName));
      else if (configFile !== undefined) throw new UsageError(`Option '${rawName}' given twice.`);
      else configFile = value;
    } else {
      throw new UsageError(`Unknown option '${rawName}'.`);
    }
  }
  if (store.isMemory && store.location !== undefined) {
    throw new UsageError("Options '--memory' and '--persistence-location' exclude each other.");
  }
  return { configFile, ports, isVerbose, isHelp, store };
}

function parsePort(value: string, rawName: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new UsageError(`Invalid port '${value}' for '${rawName}' (expected 1 to 65535, or 0 for any free port).`);
  }
  return port;
}

async function loadConfig(configFile: string | undefined, io: CliIo): Promise<BrokerConfig | undefined> {
  if (configFile === undefined) return emptyConfig();
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (err) {
    io.stderr.write(`culex: Error: Unable to open config file ${configFile}: ${(err as Error).message}.\n`);
    return undefined;
  }
  try {
    return parseBrokerConfig(text, configFile, { readIncludeDir: readIncludeDirFromDisk });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`culex: Error: ${err.message}\n`);
    return undefined;
  }
}

function createLogger(args: BrokerArgs, config: BrokerConfig, streams: LogStreams): Logger {
  const { logging } = config;
  return createStreamLogger({
    streams: streams.streams,
    // -v overrides log_type, as in Mosquitto.
    levels: args.isVerbose ? allLevels : logging.levels ?? defaultLevels,
    isTimestamped: logging.isTimestamped,
    accept: logging.hasConnectionMessages ? undefined : (_level, message) => !isConnectionMessage(message),
  });
}

async function serve(args: BrokerArgs, config: BrokerConfig, io: CliIo): Promise<number> {
  const version = readPackageVersion();
  let logStreams: LogStreams;
  try {
    logStreams = await openLogDestinations(config.logging.destinations, io);
  } catch (err) {
    io.stderr.write(`culex: Error: ${(err as Error).message}\n`);
    return 1;
  }
  const logger = createLogger(args, config, logStreams);
  const isDebug = args.isVerbose || config.logging.levels?.has('debug') === true;
  let auth: BrokerAuth;
  try {
    auth = await createBrokerAuth(config, resolveListeners(config, args.ports), logger);
  } catch (err) {
    await logStreams.close();
    io.stderr.write(`culex: Error: ${(err as Error).message}\n`);
    return 1;
  }
  let broker: CulexBroker;
  try {
    const persistence = await createStore(config.store, args.store, logger);
    broker = createBroker({ ...config.options, ...auth.options, isVerbose: isDebug, logger, version, persistence });
  } catch (err) {
    await logStreams.close();
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`culex: Error: ${err.message}\n`);
    return 1;
  }
  const signal = waitForSignal();
  const opened: OpenedListener[] = [];
  // SIGHUP re-reads the password, ACL and JWT key files (as Mosquitto does), reopens log files, reloads certificates.
  const onHangup = (): void => {
    logger.info('Reloading config.');
    logStreams.reopen();
    void reloadCertificates(opened, logger);
    void auth.reload();
  };
  process.on('SIGHUP', onHangup);
  try {
    logger.info(`culex version ${version} starting`);
    logger.info(args.configFile === undefined ? 'Using default config.' : `Config loaded from ${args.configFile}.`);
    for (const warning of config.warnings) logger.warn(`Warning: ${warning.message}`);
    try {
      await broker.ready;
    } catch (err) {
      io.stderr.write(`culex: Error: Unable to open the store: ${(err as Error).message}.\n`);
      await broker.close().catch(() => {});
      return 1;
    }
    const listeners = resolveListeners(config, args.ports);
    if (!listeners.includes(config.defaultListener) && args.ports.length === 0
      && config.defaultListenerSettings.length > 0) {
      logger.warn(`Warning: the settings at ${config.defaultListenerSettings.join(', ')} come before any "listener" `
        + 'line, so they belong to the default listener, which is not opened (no "port" or "bind_address").');
    }
    for (const listenerConfig of listeners) {
      try {
        const listener = await openConfiguredListener(broker, listenerConfig);
        opened.push({ config: listenerConfig, listener });
        for (const line of openingLines(listenerConfig, listener.address)) logger.info(line);
      } catch (err) {
        io.stderr.write(`culex: Error: ${(err as Error).message}\n`);
        await broker.close();
        return 1;
      }
    }
    if (config.pidFile !== undefined && !(await writePidFile(config.pidFile, io))) {
      await broker.close();
      return 1;
    }
    logger.info(`culex version ${version} running`);
    await signal.received;
    logger.info(`culex version ${version} terminating`);
    await broker.close();
    if (config.pidFile !== undefined) await rm(config.pidFile, { force: true });
    return 0;
  } finally {
    process.off('SIGHUP', onHangup);
    signal.dispose();
    await logStreams.close();
  }
}

async function writePidFile(path: string, io: CliIo): Promise<boolean> {
  try {
    await writeFile(path, `${process.pid}\n`);
    return true;
  } catch (err) {
    io.stderr.write(`culex: Error: Unable to write pid file ${path}: ${(err as Error).message}.\n`);
    return false;
  }
}

/** Resolves on the first SIGINT or SIGTERM; `dispose` removes the handlers again. */
function waitForSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let remove: (() => void) | undefined;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    remove = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  });
  return { received, dispose: () => remove?.() };
}

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

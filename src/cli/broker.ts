/**
 * `culex broker`: Mosquitto's command line (-c, -p, -v) in front of `createBroker`. This is a composition root: it
 * reads the config file, picks the logger and the listeners, and runs until SIGINT or SIGTERM, then closes the broker
 * and returns 0. Failures are one `culex: Error: ...` line on stderr and exit status 1, never a stack trace.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError } from '../broker/config.js';
import type { Logger } from '../broker/logger.js';
import { createBroker, type CulexBroker } from '../create-broker.js';
import { emptyConfig, parseBrokerConfig, resolveListeners, type BrokerConfig, type ListenerSpec } from './broker-config.js';
import type { CliIo } from './index.js';
import { allLevels, createStreamLogger, defaultLevels, isConnectionMessage } from './log.js';

interface BrokerArgs {
  readonly configFile: string | undefined;
  readonly ports: readonly number[];
  readonly isVerbose: boolean;
  readonly isHelp: boolean;
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
    },
  });
  let configFile: string | undefined;
  const ports: number[] = [];
  let isVerbose = false;
  let isHelp = false;
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`Unexpected argument '${token.value}'.`);
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value } = token;
    if (name === 'verbose' || name === 'help') {
      if (value !== undefined) throw new UsageError(`Option '${rawName}' takes no value.`);
      if (name === 'verbose') isVerbose = true;
      else isHelp = true;
    } else if (name === 'config-file' || name === 'port') {
      if (value === undefined || value === '') throw new UsageError(`Option '${rawName}' needs a value.`);
      if (name === 'port') ports.push(parsePort(value, rawName));
      else if (configFile !== undefined) throw new UsageError(`Option '${rawName}' given twice.`);
      else configFile = value;
    } else {
      throw new UsageError(`Unknown option '${rawName}'.`);
    }
  }
  return { configFile, ports, isVerbose, isHelp };
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
    return parseBrokerConfig(text, configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`culex: Error: ${err.message}\n`);
    return undefined;
  }
}

function createLogger(args: BrokerArgs, config: BrokerConfig, io: CliIo): Logger {
  const { logging } = config;
  const streams = (logging.destinations ?? ['stderr']).map((d) => (d === 'stdout' ? io.stdout : io.stderr));
  return createStreamLogger({
    streams,
    // -v overrides log_type, as in Mosquitto.
    levels: args.isVerbose ? allLevels : logging.levels ?? defaultLevels,
    isTimestamped: logging.isTimestamped,
    accept: logging.hasConnectionMessages ? undefined : (_level, message) => !isConnectionMessage(message),
  });
}

async function serve(args: BrokerArgs, config: BrokerConfig, io: CliIo): Promise<number> {
  const version = readPackageVersion();
  const logger = createLogger(args, config, io);
  const isDebug = args.isVerbose || config.logging.levels?.has('debug') === true;
  let broker: CulexBroker;
  try {
    broker = createBroker({ ...config.options, isVerbose: isDebug, logger, version });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`culex: Error: ${err.message}\n`);
    return 1;
  }
  const signal = waitForSignal();
  try {
    logger.info(`culex version ${version} starting`);
    logger.info(args.configFile === undefined ? 'Using default config.' : `Config loaded from ${args.configFile}.`);
    for (const listener of resolveListeners(config, args.ports)) {
      if (!(await openListener(broker, listener, logger, io))) {
        await broker.close();
        return 1;
      }
    }
    logger.info(`culex version ${version} running`);
    await signal.received;
    logger.info(`culex version ${version} terminating`);
    await broker.close();
    return 0;
  } finally {
    signal.dispose();
  }
}

async function openListener(broker: CulexBroker, listener: ListenerSpec, logger: Logger, io: CliIo): Promise<boolean> {
  let address: AddressInfo;
  try {
    address = await broker.listen(listener);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EADDRINUSE' ? 'Address already in use' : e.message;
    const where = listener.host === undefined ? `port ${listener.port}` : `${listener.host} port ${listener.port}`;
    io.stderr.write(`culex: Error: Unable to open listen socket on ${where}: ${reason}.\n`);
    return false;
  }
  // Unbound IPv6 `::` is dual-stack in Node, so it serves IPv4 too; say so the way Mosquitto does.
  if (listener.host === undefined && address.family === 'IPv6' && address.address === '::') {
    logger.info(`Opening ipv4 listen socket on port ${address.port}.`);
  }
  logger.info(`Opening ${address.family === 'IPv6' ? 'ipv6' : 'ipv4'} listen socket on port ${address.port}.`);
  return true;
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

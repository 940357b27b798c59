/**
 * Parses the command line of `culex pub|sub|rr` the way Mosquitto's client_config_load does: each argument is
 * compared whole against the option names (so `-p1883` and `-rd` are unknown options, as in Mosquitto, and a value
 * may start with '-', as in `-m -x-`), values are converted with C's atoi semantics, and the same checks run after
 * all flags are read, in the same order, with the same messages.
 *
 * The result is a config, a request for help or version, or an error: the stderr text to print and whether the
 * "Use '... --help' to see usage." hint follows it (Mosquitto prints it for every error found while loading).
 */
import { defaultConfig, type ClientConfig, type ClientTool } from './config.js';
import { optionSpecs, type OptionSpec } from './options.js';
import { checkProperties, parsePropertyOption } from './properties.js';

export type ParseResult =
  | { kind: 'config'; config: ClientConfig }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

const byName: ReadonlyMap<string, OptionSpec> = new Map(optionSpecs.flatMap((s) => s.names.map((n) => [n, s])));

export function parseClientArgs(tool: ClientTool, argv: readonly string[]): ParseResult {
  const config = defaultConfig(tool);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (arg === '-D' || arg === '--property') {
      const next = parsePropertyOption(config, argv, i + 1);
      if (typeof next === 'string') return { kind: 'error', message: next };
      i = next;
      config.protocolVersion = 5;
      continue;
    }
    const spec = byName.get(arg);
    if (spec === undefined || !spec.tools.has(tool)) {
      return { kind: 'error', message: `Error: Unknown option '${arg}'.\n` };
    }
    const early = spec.before?.(config);
    if (early !== undefined) return { kind: 'error', message: early };
    let value = '';
    if (spec.missing !== undefined) {
      if (i === argv.length - 1) return { kind: 'error', message: spec.missing };
      value = argv[++i]!;
    }
    const problem = spec.apply(config, value);
    if (problem !== undefined) return { kind: 'error', message: problem };
  }
  const problem = checkLoaded(config);
  return problem === undefined ? { kind: 'config', config } : { kind: 'error', message: problem };
}

/** The checks client_config_load makes once every flag is read. */
function checkLoaded(c: ClientConfig): string | undefined {
  if (c.will.payload !== undefined && c.will.topic === undefined) {
    return 'Error: Will payload given, but no will topic given.\n';
  }
  if (c.will.isRetained && c.will.topic === undefined) return 'Error: Will retain given, but no will topic given.\n';
  const tls = c.tls;
  if ((tls.certfile !== undefined) !== (tls.keyfile !== undefined)) {
    return 'Error: Both certfile and keyfile must be provided if one of them is set.\n';
  }
  if (tls.keyform !== undefined && tls.keyfile === undefined) {
    return 'Error: If keyform is set, keyfile must be also specified.\n';
  }
  if (tls.engineKpassSha1 !== undefined && (tls.keyform === undefined || tls.engine === undefined)) {
    return 'Error: when using tls-engine-kpass-sha1, both tls-engine and keyform must also be provided.\n';
  }
  if ((tls.cafile !== undefined || tls.capath !== undefined) && tls.psk !== undefined) {
    return 'Error: Only one of --psk or --cafile/--capath may be used at once.\n';
  }
  if (tls.psk !== undefined && tls.pskIdentity === undefined) return 'Error: --psk-identity required if --psk used.\n';
  const sessionProblem = checkSession(c);
  if (sessionProblem !== undefined) return sessionProblem;
  if (c.tool === 'sub' && c.topics.length === 0) return 'Error: You must specify a topic to subscribe to.\n';
  return checkProperties(c);
}

/** -c and -x: MQTT 5 turns them into the Session Expiry Interval property of CONNECT. */
function checkSession(c: ClientConfig): string | undefined {
  const hasOwnId = c.id !== undefined && c.idPrefix === undefined;
  if (c.protocolVersion === 5) {
    if (!c.isClean && c.sessionExpirySeconds === undefined) c.sessionExpirySeconds = 0xffffffff;
    if (c.sessionExpirySeconds !== undefined && c.sessionExpirySeconds > 0) {
      if (c.sessionExpirySeconds === 0xffffffff && !hasOwnId) {
        return 'Error: You must provide a client id if you are using an infinite session expiry interval.\n';
      }
      c.properties.connect.sessionExpiryInterval = c.sessionExpirySeconds;
    }
    return undefined;
  }
  if (!c.isClean && !hasOwnId) return 'Error: You must provide a client id if you are using the -c option.\n';
  return undefined;
}

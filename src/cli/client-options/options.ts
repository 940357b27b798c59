/**
 * The flags of mosquitto_pub / mosquitto_sub / mosquitto_rr 2.0, one table row each: which tools accept it (any
 * other tool reports it as an unknown option, as Mosquitto does), the message when its value is missing, and how it
 * sets the config. A handler returns an error message (stderr text, newlines as Mosquitto prints them) or undefined.
 */
import { validateTopicFilter } from '../../protocol/topic.js';
import type { QoS } from '../../protocol/types.js';
import { checkFormat } from '../output/format.js';
import type { ClientConfig, ClientTool, PublishMode } from './config.js';
import { cInteger } from './properties.js';
import { applyUrl } from './url.js';

export interface OptionSpec {
  readonly names: readonly string[];
  readonly tools: ReadonlySet<ClientTool>;
  /** Checked before the value is looked at (e.g. "Only one type of message"). */
  readonly before?: (c: ClientConfig) => string | undefined;
  /** The error when the value is missing; absent for flags without a value. */
  readonly missing?: string;
  readonly apply: (c: ClientConfig, value: string) => string | undefined;
}

const ALL: ReadonlySet<ClientTool> = new Set(['pub', 'sub', 'rr']);
const PUB: ReadonlySet<ClientTool> = new Set(['pub']);
const SUB: ReadonlySet<ClientTool> = new Set(['sub']);
const RR: ReadonlySet<ClientTool> = new Set(['rr']);
const NOT_PUB: ReadonlySet<ClientTool> = new Set(['sub', 'rr']);
const NOT_SUB: ReadonlySet<ClientTool> = new Set(['pub', 'rr']);

const missing = (option: string, what: string): string => `Error: ${option} argument given but no ${what} specified.\n\n`;

/** C's atof. */
function cFloat(text: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text);
  return m === null ? 0 : Number(m[0]);
}

/** Adds a -t / -L topic: a topic name for pub and rr, a filter for sub (Mosquitto's cfg_add_topic). */
export function addTopic(c: ClientConfig, topic: string): string | undefined {
  if (c.tool === 'sub') {
    if (validateTopicFilter(topic) !== undefined) {
      return `Error: Invalid subscription topic '${topic}', are all '+' and '#' wildcards correct?\n`;
    }
    c.topics.push(topic);
    return undefined;
  }
  if (topic.includes('+') || topic.includes('#')) {
    return `Error: Invalid publish topic '${topic}', does it contain '+' or '#'?\n`;
  }
  c.topic = topic;
  return undefined;
}

function onlyOneMode(c: ClientConfig): string | undefined {
  return c.publishMode === 'none' ? undefined : 'Error: Only one type of message can be sent at once.\n\n';
}

function setMode(mode: PublishMode): (c: ClientConfig) => undefined {
  return (c) => {
    c.publishMode = mode;
    return undefined;
  };
}

function flag(names: string[], tools: ReadonlySet<ClientTool>, set: (c: ClientConfig) => void): OptionSpec {
  return { names, tools, apply: (c) => { set(c); return undefined; } };
}

function value(
  names: string[], tools: ReadonlySet<ClientTool>, missingText: string,
  apply: (c: ClientConfig, v: string) => string | undefined,
): OptionSpec {
  return { names, tools, missing: missingText, apply };
}

function qosValue(n: number): QoS | undefined {
  return n === 0 || n === 1 || n === 2 ? n : undefined;
}

export const optionSpecs: readonly OptionSpec[] = [
  value(['-A'], ALL, 'Error: -A argument given but no address specified.\n\n', (c, v) => { c.bindAddress = v; return undefined; }),
  value(['--cafile'], ALL, missing('--cafile', 'file'), (c, v) => { c.tls.cafile = v; return undefined; }),
  value(['--capath'], ALL, missing('--capath', 'directory'), (c, v) => { c.tls.capath = v; return undefined; }),
  value(['--cert'], ALL, missing('--cert', 'file'), (c, v) => { c.tls.certfile = v; return undefined; }),
  value(['--ciphers'], ALL, missing('--ciphers', 'ciphers'), (c, v) => { c.tls.ciphers = v; return undefined; }),
  value(['-C'], SUB, missing('-C', 'count'), (c, v) => {
    c.messageCount = cInteger(v);
    return c.messageCount < 1 ? `Error: Invalid message count "${c.messageCount}".\n\n` : undefined;
  }),
  flag(['-c', '--disable-clean-session'], ALL, (c) => { c.isClean = false; }),
  flag(['-d', '--debug'], ALL, (c) => { c.isDebug = true; }),
  value(['-e'], RR, missing('-e', 'response topic'), (c, v) => {
    if (v.includes('+') || v.includes('#')) return `Error: Invalid response topic '${v}', does it contain '+' or '#'?\n`;
    c.responseTopic = v;
    return undefined;
  }),
  flag(['-E'], SUB, (c) => { c.isExitAfterSubscribe = true; }),
  { names: ['-f', '--file'], tools: NOT_SUB, before: onlyOneMode, missing: missing('-f', 'file'),
    apply: (c, v) => { c.publishMode = 'file'; c.file = v; return undefined; } },
  value(['-F'], NOT_PUB, missing('-F', 'format'), (c, v) => { c.format = v; return checkFormat(v); }),
  value(['-h', '--host'], ALL, missing('-h', 'host'), (c, v) => { c.host = v; return undefined; }),
  flag(['--insecure'], ALL, (c) => { c.tls.isInsecure = true; }),
  { names: ['-i', '--id'], tools: ALL, missing: missing('-i', 'id'),
    before: (c) => (c.idPrefix !== undefined ? 'Error: -i and -I argument cannot be used together.\n\n' : undefined),
    apply: (c, v) => { c.id = v; return undefined; } },
  { names: ['-I', '--id-prefix'], tools: ALL, missing: missing('-I', 'id prefix'),
    before: (c) => (c.id !== undefined ? 'Error: -i and -I argument cannot be used together.\n\n' : undefined),
    apply: (c, v) => { c.idPrefix = v; return undefined; } },
  flag(['--json'], NOT_PUB, (c) => { c.isJson = true; }),
  value(['-k', '--keepalive'], ALL, missing('-k', 'keepalive'), (c, v) => {
    c.keepaliveSeconds = cInteger(v);
    return c.keepaliveSeconds < 5 || c.keepaliveSeconds > 65535
      ? 'Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n' : undefined;
  }),
  value(['--key'], ALL, missing('--key', 'file'), (c, v) => { c.tls.keyfile = v; return undefined; }),
  value(['--keyform'], ALL, missing('--keyform', 'keyform'), (c, v) => { c.tls.keyform = v; return undefined; }),
  value(['-L', '--url'], ALL, missing('-L', 'URL'), (c, v) => {
    const r = applyUrl(c, v);
    return 'error' in r ? r.error : addTopic(c, r.topic);
  }),
  { names: ['-l', '--stdin-line'], tools: PUB, before: onlyOneMode, apply: setMode('stdin-line') },
  { names: ['-m', '--message'], tools: NOT_SUB, before: onlyOneMode, missing: missing('-m', 'message'),
    apply: (c, v) => {
      c.message = Buffer.from(v);
      if (c.message.length > 268_435_455) return 'Error: Message length must be less than 268435455 bytes.\n\n';
      c.publishMode = 'message';
      return undefined;
    } },
  value(['-M'], ALL, 'Error: -M argument given but max_inflight not specified.\n\n', (c, v) => {
    c.maxInflight = cInteger(v);
    return c.maxInflight < 1 ? 'Error: Maximum inflight messages must be greater than 0.\n\n' : undefined;
  }),
  flag(['--nodelay'], ALL, (c) => { c.isNoDelay = true; }),
  { names: ['-n', '--null-message'], tools: NOT_SUB, before: onlyOneMode, apply: setMode('null') },
  flag(['-N'], NOT_PUB, (c) => { c.hasEol = false; }),
  value(['-p', '--port'], ALL, missing('-p', 'port'), (c, v) => {
    c.port = cInteger(v);
    return c.port < 0 || c.port > 65535 ? `Error: Invalid port given: ${c.port}\n` : undefined;
  }),
  flag(['--pretty'], NOT_PUB, (c) => { c.isPretty = true; }),
  value(['-P', '--pw'], ALL, missing('-P', 'password'), (c, v) => { c.password = v; return undefined; }),
  value(['--proxy'], ALL, missing('--proxy', 'proxy url'), (c, v) => { c.proxy = v; return undefined; }),
  value(['--psk'], ALL, missing('--psk', 'key'), (c, v) => { c.tls.psk = v; return undefined; }),
  value(['--psk-identity'], ALL, missing('--psk-identity', 'identity'), (c, v) => { c.tls.pskIdentity = v; return undefined; }),
  value(['-q', '--qos'], ALL, missing('-q', 'QoS'), (c, v) => {
    const n = cInteger(v);
    const qos = qosValue(n);
    if (qos === undefined) return `Error: Invalid QoS given: ${n}\n`;
    c.qos = qos;
    return undefined;
  }),
  flag(['--quiet'], ALL, (c) => { c.isQuiet = true; }),
  flag(['-r', '--retain'], PUB, (c) => { c.isRetained = true; }),
  flag(['-R'], NOT_PUB, (c) => { c.isNoRetain = true; }),
  value(['--random-filter'], SUB, missing('--random-filter', 'chance'), (c, v) => {
    c.randomFilter = Math.trunc(100 * cFloat(v));
    return c.randomFilter > 10000 || c.randomFilter < 1
      ? 'Error: --random-filter chance must be between 0.1-100.0\n\n' : undefined;
  }),
  flag(['--remove-retained'], SUB, (c) => { c.isRemoveRetained = true; }),
  value(['--repeat'], PUB, missing('--repeat', 'count'), (c, v) => {
    c.repeatCount = cInteger(v);
    return c.repeatCount < 1 ? 'Error: --repeat argument must be >0.\n\n' : undefined;
  }),
  value(['--repeat-delay'], PUB, missing('--repeat-delay', 'time'), (c, v) => {
    const seconds = cFloat(v);
    if (seconds < 0) return 'Error: --repeat-delay argument must be >=0.0.\n\n';
    c.repeatDelayMs = seconds * 1000;
    return undefined;
  }),
  flag(['--retain-as-published'], NOT_PUB, (c) => { c.isRetainAsPublished = true; }),
  flag(['--retained-only'], SUB, (c) => { c.isRetainedOnly = true; }),
  { names: ['-s', '--stdin-file'], tools: NOT_SUB, before: onlyOneMode, apply: setMode('stdin-file') },
  value(['-t', '--topic'], ALL, missing('-t', 'topic'), addTopic),
  value(['-T', '--filter-out'], SUB, missing('-T', 'topic filter'), (c, v) => {
    if (validateTopicFilter(v) !== undefined) {
      return `Error: Invalid filter topic '${v}', are all '+' and '#' wildcards correct?\n`;
    }
    c.filterOuts.push(v);
    return undefined;
  }),
  value(['--tls-alpn'], ALL, missing('--tls-alpn', 'protocol'), (c, v) => { c.tls.alpn = v; return undefined; }),
  value(['--tls-engine'], ALL, missing('--tls-engine', 'engine_id'), (c, v) => { c.tls.engine = v; return undefined; }),
  value(['--tls-engine-kpass-sha1'], ALL, missing('--tls-engine-kpass-sha1', 'kpass sha1'),
    (c, v) => { c.tls.engineKpassSha1 = v; return undefined; }),
  flag(['--tls-use-os-certs'], ALL, (c) => { c.tls.useOsCerts = true; }),
  value(['--tls-version'], ALL, missing('--tls-version', 'version'), (c, v) => { c.tls.tlsVersion = v; return undefined; }),
  value(['-U', '--unsubscribe'], SUB, missing('-U', 'unsubscribe topic'), (c, v) => {
    if (validateTopicFilter(v) !== undefined) {
      return `Error: Invalid unsubscribe topic '${v}', are all '+' and '#' wildcards correct?\n`;
    }
    c.unsubscribeTopics.push(v);
    return undefined;
  }),
  value(['-u', '--username'], ALL, missing('-u', 'username'), (c, v) => { c.username = v; return undefined; }),
  value(['--unix'], ALL, missing('--unix', 'socket path'), (c, v) => { c.unixPath = v; c.port = 0; return undefined; }),
  value(['-V', '--protocol-version'], ALL, missing('--protocol-version', 'version'), (c, v) => {
    if (v === 'mqttv31' || v === '31') c.protocolVersion = 3;
    else if (v === 'mqttv311' || v === '311') c.protocolVersion = 4;
    else if (v === 'mqttv5' || v === '5') c.protocolVersion = 5;
    else return 'Error: Invalid protocol version argument given.\n\n';
    return undefined;
  }),
  flag(['-v', '--verbose'], NOT_PUB, (c) => { c.isVerbose = true; }),
  value(['-W'], NOT_PUB, missing('-W', 'timeout'), (c, v) => {
    c.timeoutSeconds = cInteger(v);
    return c.timeoutSeconds < 1 ? `Error: Invalid timeout "${c.timeoutSeconds}".\n\n` : undefined;
  }),
  value(['--will-payload'], ALL, missing('--will-payload', 'will payload'), (c, v) => {
    c.will.payload = Buffer.from(v);
    return undefined;
  }),
  value(['--will-qos'], ALL, missing('--will-qos', 'will QoS'), (c, v) => {
    const n = cInteger(v);
    const qos = qosValue(n);
    if (qos === undefined) return `Error: Invalid will QoS ${n}.\n\n`;
    c.will.qos = qos;
    return undefined;
  }),
  flag(['--will-retain'], ALL, (c) => { c.will.isRetained = true; }),
  value(['--will-topic'], ALL, missing('--will-topic', 'will topic'), (c, v) => {
    if (v.includes('+') || v.includes('#')) {
      return `Error: Invalid will topic '${v}', does it contain '+' or '#'?\n`;
    }
    c.will.topic = v;
    return undefined;
  }),
  value(['-x'], ALL, missing('-x', 'session expiry interval'), (c, v) => {
    if (v === '∞') {
      c.sessionExpirySeconds = 0xffffffff;
      return undefined;
    }
    const n = cStrtol(v);
    if (n === undefined) return 'Error: session-expiry-interval not a number.\n\n';
    if (n > 0xffffffff || n < -1) return 'Error: session-expiry-interval out of range.\n\n';
    c.sessionExpirySeconds = n === -1 ? 0xffffffff : n;
    return undefined;
  }),
];

/** C's strtol(text, &end, 0) that must consume the whole text: decimal, 0x hex or 0 octal; undefined otherwise. */
function cStrtol(text: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (m === null) return undefined;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  return m[1] === '-' ? -n : n;
}

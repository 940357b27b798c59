/**
 * Broker-wide directives: limits, `$SYS`, the store switch, the process (`pid_file`, `user`) and Culex's own
 * `culex_*` options.
 *
 * `message_size_limit` limits the payload in Mosquitto; Culex limits whole packets, so it becomes `maxPacketBytes`
 * = limit + an allowance for the header, topic and properties (MESSAGE_OVERHEAD_BYTES + the topic limit). A payload
 * slightly over the limit may therefore pass; one well over it is refused.
 */
import type { BrokerConfig, Directive, Line, ParseState } from './types.js';
import { bool, int, limitOrUnlimited, MAX_TIMER_MS, one, rest } from './values.js';

const PROTOCOL_MAX_PACKET_BYTES = 268_435_460;
const PROTOCOL_MAX_REMAINING_LENGTH = 268_435_455;
/** Fixed header (5) + topic length (2) + packet identifier (2) + room for MQTT 5 properties (1,024). */
const MESSAGE_OVERHEAD_BYTES = 5 + 2 + 2 + 1024;

const global = (name: string, apply: Directive['apply']): Directive => ({ name, scope: 'global', apply });

export const generalDirectives: readonly Directive[] = [
  global('max_inflight_messages', (line, { config }) => {
    const n = int(line, 0, 65_535, 'an integer from 0 (unlimited) to 65535');
    config.options.maxInflight = n === 0 ? 65_535 : n;
  }),
  global('max_queued_messages', (line, { config }) => {
    config.options.maxQueuedMessages = int(line, 0, Number.MAX_SAFE_INTEGER, 'an integer >= 0 (0 = unlimited)');
  }),
  global('max_queued_bytes', (line, { config }) => {
    config.options.maxQueuedBytes = int(line, 0, Number.MAX_SAFE_INTEGER, 'an integer >= 0 (0 = unlimited)');
  }),
  global('message_size_limit', (line, { pending }) => {
    pending.set('message_size_limit',
      int(line, 0, PROTOCOL_MAX_REMAINING_LENGTH, 'an integer from 0 (unlimited) to 268435455'));
  }),
  global('max_packet_size', (line, { pending }) => {
    const n = int(line, 0, PROTOCOL_MAX_PACKET_BYTES, 'an integer from 20 to 268435460, or 0 for unlimited');
    if (n > 0 && n < 20) line.fail(`Bad value "${n}" for "max_packet_size" (expected at least 20, or 0 for unlimited)`);
    pending.set('max_packet_size', n);
  }),
  global('sys_interval', (line, { config }) => {
    config.options.sysIntervalSeconds = int(line, 0, Math.floor(MAX_TIMER_MS / 1000), 'seconds >= 0 (0 disables)');
  }),
  global('max_keepalive', (line, { config }) => {
    config.options.maxKeepaliveSeconds = int(line, 0, 65_535, 'an integer from 0 (no maximum) to 65535');
  }),
  global('max_qos', (line, state) => {
    state.config.options.maximumQoS = int(line, 0, 2, '0, 1 or 2') as 0 | 1 | 2;
    warnIfInListenerBlock(line, state);
  }),
  global('max_topic_alias', (line, state) => {
    state.config.options.topicAliasMaximum = int(line, 0, 65_535, 'an integer from 0 (no aliases) to 65535');
    warnIfInListenerBlock(line, state);
  }),
  global('retain_available', (line, { config }) => {
    config.options.isRetainAvailable = bool(line);
  }),
  global('pid_file', (line, { config }) => {
    config.pidFile = rest(line);
  }),
  global('user', (line) => {
    one(line);
    line.warn('"user" is ignored: Culex does not change user after start; run it as the user it should run as');
  }),
  global('culex_connect_timeout_ms', (line, { config }) => {
    config.options.connectTimeoutMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }),
  global('culex_drain_timeout_ms', (line, { config }) => {
    config.options.drainTimeoutMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }),
  global('culex_max_topic_bytes', (line, { config }) => {
    config.options.maxTopicBytes = int(line, 1, 65_535, 'an integer from 1 to 65535');
  }),
  global('culex_max_topic_levels', (line, { config }) => {
    config.options.maxTopicLevels = int(line, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  }),
  global('culex_max_client_id_bytes', (line, { config }) => {
    config.options.maxClientIdBytes = int(line, 1, 65_535, 'an integer from 1 to 65535');
  }),
  global('culex_max_subscriptions_per_client', (line, { config }) => {
    config.options.maxSubscriptionsPerClient = limitOrUnlimited(line);
  }),
  global('culex_max_write_buffer_bytes', (line, { config }) => {
    config.options.maxWriteBufferBytes = int(line, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
  }),
];

/**
 * Mosquitto sets `max_qos` and `max_topic_alias` per listener; Culex has one value for the broker. Inside a listener
 * block the value still applies to every listener, and the warning says so rather than let it pass silently.
 */
function warnIfInListenerBlock(line: Line, state: ParseState): void {
  if (state.currentListener === state.config.defaultListener) return;
  line.warn(`"${line.directive}" applies to every listener in Culex, not only to the listener at `
    + `${state.currentListener.origin}`);
}

/** `message_size_limit` and `max_packet_size` both bound `maxPacketBytes`; the tighter one wins. */
export function applyPacketLimits(state: ParseState): void {
  const config: BrokerConfig = state.config;
  const bounds: number[] = [];
  const messageSizeLimit = state.pending.get('message_size_limit');
  const maxPacketSize = state.pending.get('max_packet_size');
  if (messageSizeLimit !== undefined) {
    const topicBytes = config.options.maxTopicBytes ?? 65_535;
    bounds.push(messageSizeLimit === 0
      ? PROTOCOL_MAX_PACKET_BYTES
      : Math.min(PROTOCOL_MAX_PACKET_BYTES, messageSizeLimit + MESSAGE_OVERHEAD_BYTES + topicBytes));
  }
  if (maxPacketSize !== undefined) bounds.push(maxPacketSize === 0 ? PROTOCOL_MAX_PACKET_BYTES : maxPacketSize);
  if (bounds.length > 0) config.options.maxPacketBytes = Math.min(...bounds);
}

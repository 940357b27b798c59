/**
 * Mosquitto directives that Culex accepts and ignores because ignoring them changes nothing a client can observe
 * (or only cosmetics); each logs a warning that says so. Everything not in a directive table or here is an error.
 */
import type { Directive } from './types.js';

const reasons: readonly (readonly [string, string])[] = [
  ['set_tcp_nodelay', 'Culex always sets TCP_NODELAY'],
  ['websockets_log_level', 'WebSocket logging is part of log_type debug'],
  ['websockets_headers_size', 'the WebSocket handshake accepts headers up to Node\'s HTTP limit (16 KiB)'],
  ['log_timestamp_format', 'timestamps are Unix seconds'],
  ['log_facility', 'syslog output is absent'],
  ['retry_interval', 'Mosquitto 2.0 removed it too; unacknowledged messages are resent on reconnect, as MQTT requires'],
  ['store_clean_interval', 'Mosquitto 2.0 removed it too; Culex frees messages when the last reference goes'],
  ['allow_duplicate_messages', 'Culex sends one copy per matching session (highest QoS wins)'],
];

export const ignoredDirectives: readonly Directive[] = reasons.map(([name, reason]) => ({
  name,
  scope: 'global' as const,
  apply(line) {
    line.warn(`"${name}" is ignored: ${reason}`);
  },
}));

/**
 * Listener directives. As in Mosquitto, `listener` starts a block: the listener-scoped directives after it (protocol,
 * TLS, `max_connections`, ...) change that listener; before the first `listener` they change the default listener
 * (`port`, `bind_address`).
 *
 * Differences from Mosquitto (README.md says the same):
 * - `max_connections` before any `listener` line limits the whole broker (Mosquitto: the default listener only);
 *   inside a listener block it limits that listener, as in Mosquitto.
 * - Port 0 picks a free port (Mosquitto refuses it); used by tests. `listener 0 /path` is a Unix socket, as in
 *   Mosquitto.
 */
import type { Directive, ListenerConfig, ParseState } from './types.js';
import { bool, limitOrUnlimited, one, port } from './values.js';

export function newListener(portNumber: number, origin: string): ListenerConfig {
  return { port: portNumber, protocol: 'mqtt', tls: {}, security: {}, origin };
}

const listenerScoped = (name: string, apply: Directive['apply']): Directive => ({ name, scope: 'listener', apply });

function isInListenerBlock(state: ParseState): boolean {
  return state.currentListener !== state.config.defaultListener;
}

export const listenerDirectives: readonly Directive[] = [
  {
    name: 'port',
    scope: 'global',
    apply(line, { config }) {
      config.defaultListener.port = port(line, one(line));
      config.hasDefaultListener = true;
    },
  },
  {
    name: 'bind_address',
    scope: 'global',
    apply(line, { config }) {
      config.defaultListener.host = one(line);
      config.hasDefaultListener = true;
    },
  },
  {
    name: 'listener',
    scope: 'global',
    apply(line, state) {
      if (line.args.length === 0) line.fail('Missing port for "listener"');
      if (line.args.length > 2) line.fail(`Unexpected extra value "${line.args[2]}" for "listener"`);
      const p = port(line, line.args[0]!);
      const address = line.args[1];
      const listener = newListener(p, `${line.fileName}:${line.lineNumber}`);
      if (address?.startsWith('/') === true) {
        if (p !== 0) line.fail(`A Unix socket listener needs port 0 ("listener 0 ${address}")`);
        listener.path = address;
      } else if (address !== undefined) {
        listener.host = address;
      }
      state.startListener(listener);
    },
  },
  {
    name: 'per_listener_settings',
    scope: 'global',
    apply(line, state) {
      const value = bool(line);
      if (value !== state.config.isPerListenerSettings && state.seenSecurity) {
        line.fail('"per_listener_settings" must come before every authentication and access control setting');
      }
      state.config.isPerListenerSettings = value;
    },
  },
  listenerScoped('protocol', (line, { currentListener }) => {
    const v = one(line);
    if (v !== 'mqtt' && v !== 'websockets') {
      return line.fail(`Bad value "${v}" for "protocol" (expected mqtt or websockets)`);
    }
    currentListener.protocol = v;
  }),
  listenerScoped('socket_domain', (line, { currentListener }) => {
    const v = one(line);
    if (v !== 'ipv4' && v !== 'ipv6') return line.fail(`Bad value "${v}" for "socket_domain" (expected ipv4 or ipv6)`);
    currentListener.socketDomain = v;
  }),
  listenerScoped('max_connections', (line, state) => {
    const limit = limitOrUnlimited(line);
    if (isInListenerBlock(state)) {
      if (limit === Infinity) delete state.currentListener.maxConnections;
      else state.currentListener.maxConnections = limit;
    } else {
      state.config.options.maxConnections = limit;
    }
  }),
  listenerScoped('enable_proxy_protocol', (line, { currentListener }) => {
    const v = one(line);
    if (v !== '1' && v !== '2') line.fail(`Bad value "${v}" for "enable_proxy_protocol" (expected 1 or 2)`);
    currentListener.proxyProtocol = v === '1' ? 1 : 2;
  }),
];

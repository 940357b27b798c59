/**
 * `-L URL`: `mqtt(s)://[username[:password]@]host[:port]/topic`, split the way Mosquitto splits it (the first '/'
 * after the scheme starts the topic, the first '@' ends the credentials, the first ':' of each part separates).
 * Beyond Mosquitto 2.0: `ws://` and `wss://` connect over WebSocket (path `/mqtt`).
 */
import type { ClientConfig } from './config.js';
import { cInteger } from './properties.js';

interface Scheme {
  readonly prefix: string;
  readonly port: number;
  readonly isTls: boolean;
  readonly isWebSocket: boolean;
}

const schemes: readonly Scheme[] = [
  { prefix: 'mqtt://', port: 1883, isTls: false, isWebSocket: false },
  { prefix: 'mqtts://', port: 8883, isTls: true, isWebSocket: false },
  { prefix: 'ws://', port: 80, isTls: false, isWebSocket: true },
  { prefix: 'wss://', port: 443, isTls: true, isWebSocket: true },
];

/** Applies the URL to the config; returns the topic part, or an error message. */
export function applyUrl(config: ClientConfig, url: string): { topic: string } | { error: string } {
  const scheme = schemes.find((s) => url.toLowerCase().startsWith(s.prefix));
  if (scheme === undefined) return { error: 'Error: unsupported URL scheme.\n\n' };
  let rest = url.slice(scheme.prefix.length);
  const slash = rest.indexOf('/');
  if (slash === -1) return { error: 'Error: Invalid URL for -L argument specified - topic missing.\n' };
  const topic = rest.slice(slash + 1);
  rest = rest.slice(0, slash);
  config.port = scheme.port;
  config.tls.isUrlTls = scheme.isTls;
  config.transport = scheme.isWebSocket ? 'ws' : 'tcp';
  const at = rest.indexOf('@');
  if (at !== -1) {
    const credentials = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = credentials.indexOf(':');
    if (colon !== -1) {
      config.password = credentials.slice(colon + 1);
      config.username = credentials.slice(0, colon);
    } else {
      config.username = credentials;
    }
  }
  const colon = rest.indexOf(':');
  if (colon !== -1) {
    config.port = cInteger(rest.slice(colon + 1));
    rest = rest.slice(0, colon);
  }
  config.host = rest;
  return { topic };
}

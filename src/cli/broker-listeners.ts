/**
 * `culex broker`'s listeners: each `ListenerConfig` from the file becomes a `broker.openListener` call (TLS files
 * read here), logged the way Mosquitto logs it, and SIGHUP re-reads every TLS listener's certificate files and
 * swaps them in for new handshakes without touching connected clients.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from '../broker/logger.js';
import type { CulexBroker } from '../create-broker.js';
import type { Listener, ListenerOptions } from '../transport/listener.js';
import { loadTlsFiles, type TlsFiles } from '../transport/tls.js';
import { isTls, type ListenerConfig } from './broker-config.js';

export interface OpenedListener {
  readonly config: ListenerConfig;
  readonly listener: Listener;
}

/** The file names of a TLS listener, or undefined for a plain one. */
export function tlsFilesOf(config: ListenerConfig): TlsFiles | undefined {
  const { tls } = config;
  if (!isTls(tls)) return undefined;
  return {
    certFile: tls.certFile!, keyFile: tls.keyFile!, caFile: tls.caFile, caPath: tls.caPath, crlFile: tls.crlFile,
    dhparamFile: tls.dhparamFile, minVersion: tls.minVersion, ciphers: tls.ciphers, ciphersTls13: tls.ciphersTls13,
  };
}

/** Transport options for one listener; reads its TLS files. Rejects with a message naming the listener. */
export async function listenerOptions(config: ListenerConfig): Promise<ListenerOptions> {
  const files = tlsFilesOf(config);
  let tls: ListenerOptions['tls'];
  if (files !== undefined) {
    const { tls: t } = config;
    tls = {
      ...(await loadTlsFiles(files)),
      isCertificateRequired: t.isCertificateRequired === true,
      // use_identity_as_username takes priority over use_subject_as_username, as in Mosquitto.
      usernameFrom: t.useIdentityAsUsername === true ? 'identity' : t.useSubjectAsUsername === true ? 'subject' : undefined,
    };
  }
  return {
    port: config.port,
    host: config.host,
    path: config.path,
    socketDomain: config.socketDomain,
    protocol: config.protocol,
    tls,
    proxyProtocol: config.proxyProtocol,
    maxConnections: config.maxConnections,
    name: config.origin,
  };
}

/** Mosquitto's start-up line for a listener, with the address actually bound. */
export function openingLines(config: ListenerConfig, address: AddressInfo | string): string[] {
  if (typeof address === 'string') return [`Opening ${config.protocol === 'websockets' ? 'websockets' : 'unix'} listen socket on ${address}.`];
  const suffix = isTls(config.tls) ? ' (TLS)' : '';
  if (config.protocol === 'websockets') return [`Opening websockets listen socket on port ${address.port}${suffix}.`];
  const family = address.family === 'IPv6' ? 'ipv6' : 'ipv4';
  // Unbound IPv6 `::` is dual-stack in Node, so it serves IPv4 too; say so the way Mosquitto does.
  if (config.host === undefined && config.socketDomain === undefined && family === 'ipv6' && address.address === '::') {
    return [`Opening ipv4 listen socket on port ${address.port}${suffix}.`,
      `Opening ipv6 listen socket on port ${address.port}${suffix}.`];
  }
  return [`Opening ${family} listen socket on port ${address.port}${suffix}.`];
}

/** Describes where a listener was asked to listen, for error messages. */
export function describeListener(config: ListenerConfig): string {
  if (config.path !== undefined) return `unix socket ${config.path}`;
  return config.host === undefined ? `port ${config.port}` : `${config.host} port ${config.port}`;
}

/**
 * Re-reads the certificate files of every TLS listener and swaps them in. A listener whose files cannot be read
 * keeps its current certificates; the error is logged and the others still reload.
 */
export async function reloadCertificates(opened: readonly OpenedListener[], logger: Logger): Promise<void> {
  for (const { config, listener } of opened) {
    const files = tlsFilesOf(config);
    if (files === undefined) continue;
    try {
      listener.setSecureContext(await loadTlsFiles(files));
      logger.info(`Reloaded TLS certificates of listener ${listener.name}.`);
    } catch (err) {
      logger.error(`TLS certificates of listener ${listener.name} not reloaded: ${(err as Error).message}.`);
    }
  }
}

/** Opens one listener; the promise rejects with a one-line reason. */
export async function openConfiguredListener(broker: CulexBroker, config: ListenerConfig): Promise<Listener> {
  let options: ListenerOptions;
  try {
    options = await listenerOptions(config);
  } catch (err) {
    throw new Error(`Listener at ${config.origin}: ${(err as Error).message}.`, { cause: err });
  }
  try {
    return await broker.openListener(options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EADDRINUSE' ? 'Address already in use' : e.message;
    throw new Error(`Unable to open listen socket on ${describeListener(config)}: ${reason}.`, { cause: err });
  }
}

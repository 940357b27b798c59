/**
 * The transport for the CLI tools, given to the client library as its `dial` hook: TCP or a Unix socket (--unix),
 * bound to -A's address, Nagle on unless --nodelay (as libmosquitto), TLS with Mosquitto's options (--cafile,
 * --capath, --cert/--key, --insecure, --tls-version, --ciphers, --tls-alpn, --tls-use-os-certs), and WebSocket for
 * `-L ws://` / `wss://` through the library's own dialler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, rootCertificates, type ConnectionOptions, type SecureVersion } from 'node:tls';
import { dial as libraryDial } from '../../client/dial.js';
import type { DialTarget, TlsOptions } from '../../client/options.js';
import type { ClientConfig } from './config.js';

const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = {
  'tlsv1.3': 'TLSv1.3', 'tlsv1.2': 'TLSv1.2', 'tlsv1.1': 'TLSv1.1',
};

/** A problem with the TLS settings, found before dialling (printed as Mosquitto's "Problem setting TLS" lines). */
export class TlsSettingsError extends Error {}

function caCertificates(config: ClientConfig): string[] | undefined {
  const t = config.tls;
  if (t.cafile === undefined && t.capath === undefined) return t.useOsCerts ? [...rootCertificates] : undefined;
  const certs: string[] = [];
  try {
    if (t.cafile !== undefined) certs.push(readFileSync(t.cafile, 'utf8'));
    if (t.capath !== undefined) {
      for (const name of readdirSync(t.capath)) {
        if (/\.(pem|crt)$|^[0-9a-f]{8}\.\d+$/i.test(name)) certs.push(readFileSync(join(t.capath, name), 'utf8'));
      }
    }
  } catch {
    throw new TlsSettingsError('Error: Problem setting TLS options: File not found.\n');
  }
  if (t.useOsCerts) certs.push(...rootCertificates);
  return certs;
}

/** The TLS options for the library (also used for wss://); throws TlsSettingsError. */
export function tlsOptions(config: ClientConfig): TlsOptions & { ciphers?: string; checkServerIdentity?: () => undefined } {
  const t = config.tls;
  const out: TlsOptions & { ciphers?: string; checkServerIdentity?: () => undefined } = { rejectUnauthorized: true };
  const ca = caCertificates(config);
  if (ca !== undefined) out.ca = ca;
  try {
    if (t.certfile !== undefined) out.cert = readFileSync(t.certfile);
    if (t.keyfile !== undefined) out.key = readFileSync(t.keyfile);
  } catch {
    throw new TlsSettingsError('Error: Problem setting TLS options: File not found.\n');
  }
  // --insecure skips the host name check only; the chain is still verified, as with libmosquitto.
  if (t.isInsecure) out.checkServerIdentity = () => undefined;
  if (t.alpn !== undefined) out.ALPNProtocols = [t.alpn];
  if (t.tlsVersion !== undefined) {
    const v = TLS_VERSIONS[t.tlsVersion];
    if (v === undefined) throw new TlsSettingsError('Error: Problem setting TLS options, check the options are valid.\n');
    (out as { minVersion?: SecureVersion; maxVersion?: SecureVersion }).minVersion = v;
    (out as { minVersion?: SecureVersion; maxVersion?: SecureVersion }).maxVersion = v;
  }
  if (t.ciphers !== undefined) out.ciphers = t.ciphers;
  return out;
}

function connected(socket: Socket, event: 'connect' | 'secureConnect'): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once(event, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Builds the library's `dial` hook for this config. */
export function cliDialer(config: ClientConfig, isTls: boolean): (target: DialTarget) => Promise<Duplex> {
  return (target) => {
    if (target.protocol === 'ws' || target.protocol === 'wss') return libraryDial(target);
    const where = config.unixPath !== undefined
      ? { path: config.unixPath }
      : { host: target.host, port: target.port, ...(config.bindAddress === undefined ? {} : { localAddress: config.bindAddress }) };
    if (!isTls) {
      const socket = netConnect(where);
      socket.setNoDelay(config.isNoDelay);
      return connected(socket, 'connect');
    }
    const options: ConnectionOptions = { ...where, ...(target.tls as ConnectionOptions) };
    if (config.unixPath === undefined && isIP(target.host) === 0) options.servername = target.host;
    const socket = tlsConnect(options);
    socket.setNoDelay(config.isNoDelay);
    return connected(socket, 'secureConnect');
  };
}

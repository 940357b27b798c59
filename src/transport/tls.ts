/**
 * TLS for listeners: Mosquitto's certificate settings (file paths) turned into Node's secure-context options, and
 * the username a client certificate provides. Files are read on every call, so calling `loadTlsFiles` again after
 * the certificates changed on disk and giving the result to `Listener.setSecureContext` is the SIGHUP reload.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerCertificate, SecureContextOptions } from 'node:tls';

/** Certificate settings as file paths (mosquitto.conf's certfile, keyfile, cafile, capath, ...). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
  /** A directory of PEM CA certificates; every `*.pem` and `*.crt` file in it is trusted. */
  readonly caPath?: string;
  readonly crlFile?: string;
  readonly dhparamFile?: string;
  readonly minVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
  readonly ciphersTls13?: string;
}

/** Reads the files named in `files`; rejects with the file name on the first one that cannot be read. */
async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`Unable to load ${what} "${path}": ${(err as Error).message}`, { cause: err });
  }
}

export async function loadTlsFiles(files: TlsFiles): Promise<SecureContextOptions> {
  const ca: Buffer[] = [];
  if (files.caFile !== undefined) ca.push(await read(files.caFile, 'cafile'));
  if (files.caPath !== undefined) {
    let names: string[];
    try {
      names = (await readdir(files.caPath)).filter((n) => n.endsWith('.pem') || n.endsWith('.crt')).toSorted();
    } catch (err) {
      throw new Error(`Unable to load capath "${files.caPath}": ${(err as Error).message}`, { cause: err });
    }
    for (const name of names) ca.push(await read(join(files.caPath, name), 'capath certificate'));
  }
  const options: SecureContextOptions = {
    cert: await read(files.certFile, 'certfile'),
    key: await read(files.keyFile, 'keyfile'),
    minVersion: files.minVersion ?? 'TLSv1.2',
  };
  if (ca.length > 0) options.ca = ca;
  if (files.crlFile !== undefined) options.crl = await read(files.crlFile, 'crlfile');
  if (files.dhparamFile !== undefined) options.dhparam = await read(files.dhparamFile, 'dhparamfile');
  if (files.ciphers !== undefined) options.ciphers = files.ciphers;
  if (files.ciphersTls13 !== undefined) {
    // Node takes TLS 1.3 suites in the same list as the older ciphers.
    options.ciphers = [files.ciphersTls13, options.ciphers].filter((c) => c !== undefined).join(':');
  }
  return options;
}

/** Which part of a verified client certificate becomes the MQTT username. */
export type CertificateUsername = 'identity' | 'subject';

/**
 * The username from a client certificate: its Common Name (`identity`), or its whole subject in RFC 2253 order
 * (`subject`, e.g. `CN=test client,OU=Production,O=Server,C=GB`, as Mosquitto writes it). Undefined when the
 * certificate has no such field.
 */
export function usernameFromCertificate(cert: PeerCertificate, from: CertificateUsername): string | undefined {
  const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
  if (subject === undefined) return undefined;
  if (from === 'identity') {
    const cn = subject['CN'];
    return Array.isArray(cn) ? cn[0] : cn;
  }
  // Node lists the subject in certificate order (C first); RFC 2253 writes it most specific first.
  const parts: string[] = [];
  for (const [key, value] of Object.entries(subject)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key}=${escapeRfc2253(v)}`);
  }
  return parts.length === 0 ? undefined : parts.toReversed().join(',');
}

function escapeRfc2253(value: string): string {
  return value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ');
}

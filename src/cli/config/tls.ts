/**
 * Certificate-based TLS directives; each changes the current listener. Checked together once the file is read
 * (`checkTls`), because Mosquitto allows them in any order inside a block. Files are read when the listener opens,
 * and again on SIGHUP.
 */
import type { Directive, ListenerConfig, TlsConfig, TlsVersion } from './types.js';
import { bool, one, rest } from './values.js';

const tlsVersions: ReadonlyMap<string, TlsVersion> = new Map<string, TlsVersion>([
  ['tlsv1.1', 'TLSv1.1'], ['tlsv1.2', 'TLSv1.2'], ['tlsv1.3', 'TLSv1.3'],
]);

function tlsPath(name: string, key: 'certFile' | 'keyFile' | 'caFile' | 'caPath' | 'crlFile' | 'dhparamFile'): Directive {
  return { name, scope: 'listener', apply: (line, { currentListener }) => { currentListener.tls[key] = rest(line); } };
}

function tlsFlag(name: string, key: 'isCertificateRequired' | 'useIdentityAsUsername' | 'useSubjectAsUsername'): Directive {
  return { name, scope: 'listener', apply: (line, { currentListener }) => { currentListener.tls[key] = bool(line); } };
}

export const tlsDirectives: readonly Directive[] = [
  tlsPath('certfile', 'certFile'),
  tlsPath('keyfile', 'keyFile'),
  tlsPath('cafile', 'caFile'),
  tlsPath('capath', 'caPath'),
  tlsPath('crlfile', 'crlFile'),
  tlsPath('dhparamfile', 'dhparamFile'),
  tlsFlag('require_certificate', 'isCertificateRequired'),
  tlsFlag('use_identity_as_username', 'useIdentityAsUsername'),
  tlsFlag('use_subject_as_username', 'useSubjectAsUsername'),
  {
    name: 'tls_version',
    scope: 'listener',
    apply(line, { currentListener }) {
      const v = one(line);
      const version = tlsVersions.get(v);
      if (version === undefined) line.fail(`Bad value "${v}" for "tls_version" (expected tlsv1.3, tlsv1.2 or tlsv1.1)`);
      currentListener.tls.minVersion = version;
    },
  },
  {
    name: 'ciphers',
    scope: 'listener',
    apply: (line, { currentListener }) => { currentListener.tls.ciphers = one(line); },
  },
  {
    name: 'ciphers_tls1.3',
    scope: 'listener',
    apply: (line, { currentListener }) => { currentListener.tls.ciphersTls13 = one(line); },
  },
  {
    name: 'tls_keyform',
    scope: 'listener',
    apply(line) {
      const v = one(line);
      if (v !== 'pem') line.fail(`"tls_keyform ${v}" is not supported (only pem: OpenSSL engines are absent)`);
    },
  },
];

/** True when the listener serves TLS (both certfile and keyfile given). */
export function isTls(tls: TlsConfig): boolean {
  return tls.certFile !== undefined && tls.keyFile !== undefined;
}

/** The combinations Mosquitto refuses, as one message, or undefined when the listener's TLS settings hold. */
export function tlsProblem(listener: ListenerConfig): string | undefined {
  const { tls } = listener;
  const hasAny = Object.keys(tls).length > 0;
  if (!hasAny) return undefined;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    return 'both "certfile" and "keyfile" must be given for a TLS listener';
  }
  if (!isTls(tls)) return 'TLS settings are given but "certfile" and "keyfile" are not';
  if (tls.isCertificateRequired === true && tls.caFile === undefined && tls.caPath === undefined) {
    return '"require_certificate true" needs "cafile" or "capath" to check client certificates';
  }
  if ((tls.useIdentityAsUsername === true || tls.useSubjectAsUsername === true) && tls.isCertificateRequired !== true) {
    return '"use_identity_as_username" and "use_subject_as_username" need "require_certificate true"';
  }
  return undefined;
}

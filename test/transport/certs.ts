/**
 * Test certificates, generated with the `openssl` command into a temp dir: a CA, two server certificates for
 * 127.0.0.1/localhost signed by it (the second for reload tests), client certificates signed by it (alice, and one
 * without a Common Name, and a revoked one listed in `crl.pem`), and a self-signed "rogue" client certificate. EC P-256 keys keep it fast.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  /** Absolute path of a file in the directory: `ca.crt`, `server.crt`, `server.key`, `alice.crt`... */
  path(name: string): string;
  read(name: string): Buffer;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, name: string): void {
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
}

function signed(dir: string, name: string, subject: string, extensions: string, issuer = 'ca'): void {
  newKey(dir, name);
  openssl(dir, 'req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`,
    '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

/** Revokes a certificate and writes the CA's CRL to `crl.pem`, with `openssl ca` and a minimal config. */
function revoke(dir: string, name: string): void {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\n'
    + 'default_md = sha256\ndefault_crl_days = 2\n');
  const ca = ['-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt'];
  openssl(dir, 'ca', ...ca, '-revoke', `${name}.crt`);
  openssl(dir, 'ca', ...ca, '-gencrl', '-out', 'crl.pem');
}

/** Generates the set (about 0.2 s). Call `remove()` when done. */
export function generateCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'culex-certs-'));
  newKey(dir, 'ca');
  openssl(dir, 'req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Culex Test CA', '-days', '2', '-out', 'ca.crt');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  signed(dir, 'server', '/CN=localhost', serverExt);
  signed(dir, 'server2', '/CN=localhost-reloaded', serverExt);
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  signed(dir, 'alice', '/C=GB/O=Example Org/OU=Sensors/CN=alice', clientExt);
  signed(dir, 'nocn', '/O=Example Org', clientExt);
  signed(dir, 'revoked', '/CN=revoked', clientExt);
  revoke(dir, 'revoked');
  newKey(dir, 'rogue');
  openssl(dir, 'req', '-x509', '-new', '-key', 'rogue.key', '-subj', '/CN=mallory', '-days', '2', '-out', 'rogue.crt');
  return {
    dir,
    path: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Mosquitto's password hashes, as mosquitto_passwd writes them:
 * - `$7$<iterations>$<salt b64>$<hash b64>`: PBKDF2-HMAC-SHA512, 64-byte hash (Mosquitto 2.0's default; Debian's
 *   mosquitto_passwd writes 101 iterations, Culex writes DEFAULT_ITERATIONS). Any iteration count is read.
 * - `$6$<salt b64>$<hash b64>`: one SHA-512 over password then salt (Mosquitto 1.6 and earlier).
 *
 * Hashing runs on libuv's thread pool (async `crypto.pbkdf2`), never on the event loop: a strong iteration count
 * costs ~100 ms of CPU per login, which would otherwise stall every client.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA512. */
export const DEFAULT_ITERATIONS = 210_000;
const SALT_BYTES = 12;
const PBKDF2_HASH_BYTES = 64;
/** Refuse absurd counts from a file: one login must not hold a pool thread for minutes. */
const MAX_ITERATIONS = 10_000_000;

export interface PasswordHash {
  readonly kind: 'sha512' | 'sha512-pbkdf2';
  readonly iterations: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a `$6$`/`$7$` string; returns a problem description instead when it is not one. */
export function parsePasswordHash(text: string): PasswordHash | string {
  const parts = text.split('$');
  if (parts[0] !== '' || (parts[1] !== '6' && parts[1] !== '7')) return 'invalid password hash type';
  const isPbkdf2 = parts[1] === '7';
  if (parts.length !== (isPbkdf2 ? 5 : 4)) return 'malformed password hash';
  let iterations = 1;
  if (isPbkdf2) {
    iterations = /^\d{1,9}$/.test(parts[2]!) ? Number(parts[2]) : 0;
    if (iterations < 1 || iterations > MAX_ITERATIONS) return 'invalid iteration count';
  }
  const saltText = parts[isPbkdf2 ? 3 : 2]!;
  const hashText = parts[isPbkdf2 ? 4 : 3]!;
  if (!BASE64.test(saltText)) return 'unable to decode password salt';
  if (!BASE64.test(hashText)) return 'unable to decode password hash';
  const hash = Buffer.from(hashText, 'base64');
  if (hash.length !== PBKDF2_HASH_BYTES) return 'unable to decode password hash';
  return { kind: isPbkdf2 ? 'sha512-pbkdf2' : 'sha512', iterations, salt: Buffer.from(saltText, 'base64'), hash };
}

function derive(password: Buffer, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, PBKDF2_HASH_BYTES, 'sha512', (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Compares in constant time. `$6$` is one SHA-512, cheap enough to compute inline. */
export async function verifyPassword(password: Buffer, stored: PasswordHash): Promise<boolean> {
  const computed = stored.kind === 'sha512-pbkdf2'
    ? await derive(password, stored.salt, stored.iterations)
    : createHash('sha512').update(password).update(stored.salt).digest();
  return computed.length === stored.hash.length && timingSafeEqual(computed, stored.hash);
}

/**
 * Hashes a password the way mosquitto_passwd does (fresh 12-byte salt).
 * @example await hashPassword(Buffer.from('secret')) // '$7$210000$...$...'
 */
export async function hashPassword(password: Buffer, options: { kind?: PasswordHash['kind']; iterations?: number } = {}):
Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  if (options.kind === 'sha512') {
    const hash = createHash('sha512').update(password).update(salt).digest();
    return `$6$${salt.toString('base64')}$${hash.toString('base64')}`;
  }
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const hash = await derive(password, salt, iterations);
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

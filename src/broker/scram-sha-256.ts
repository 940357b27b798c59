/**
 * SCRAM-SHA-256 (RFC 5802 with the SHA-256 of RFC 7677) as an MQTT 5 enhanced authentication method, the way
 * MQTT 5 section 4.12 shows it: CONNECT carries client-first-message, AUTH 0x18 server-first-message, AUTH 0x18
 * client-final-message, and CONNACK (or AUTH 0x00 when re-authenticating) server-final-message.
 *
 * Design note: the server keeps only StoredKey and ServerKey (RFC 5802 section 3), never the password: a credential
 * source may hand out plain passwords (derived once with PBKDF2 and cached on this method instance) or ready-made
 * `ScramCredential`s (see `scramCredential`). An unknown user gets a made-up salt derived from a per-instance
 * secret, so the exchange does not reveal which users exist; it fails at the proof like a wrong password. The
 * user a client proves becomes its user name for the authorization hooks; a CONNECT User Name, if any, must be that
 * user, and so must the user of a re-authentication.
 * Passwords and user names are prepared with SASLprep (RFC 4013, as RFC 5802 section 5.1 asks; the
 * `@mongodb-js/saslprep` package): a password is prepared as a stored string (no unassigned code points) before
 * PBKDF2, so `I\u00ADX` and `IX` are the same password; a user name from the client is prepared as a query string
 * before the lookup, and one that SASLprep refuses (or that comes out empty) ends the exchange.
 * Not implemented: channel binding (a client asking for it, `p=`, is refused), authorization identities (`a=`).
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { EnhancedAuthContext, EnhancedAuthExchange, EnhancedAuthMethod, EnhancedAuthStep, MaybePromise } from './hooks.js';

const pbkdf2Async = promisify(pbkdf2);
const DEFAULT_ITERATIONS = 4096;

/** What the server stores for one user (RFC 5802 section 3). */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** Where credentials come from: user name → password or credential (undefined: no such user). */
export type ScramCredentials =
  | ReadonlyMap<string, string | ScramCredential>
  | ((username: string) => MaybePromise<string | ScramCredential | undefined>);

export interface ScramOptions {
  readonly credentials: ScramCredentials;
  /** PBKDF2 iterations for plain passwords from `credentials` (RFC 7677 asks for at least 4096). Default 4096. */
  readonly iterations?: number;
}

const hmac = (key: Buffer, text: string | Buffer): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

function keysFrom(saltedPassword: Buffer, salt: Buffer, iterations: number): ScramCredential {
  return {
    salt, iterations,
    storedKey: sha256(hmac(saltedPassword, 'Client Key')),
    serverKey: hmac(saltedPassword, 'Server Key'),
  };
}

/**
 * Derives the stored form of a password, e.g. to keep credentials without the passwords.
 * @example
 * const alice = await scramCredential('secret');
 * scramSha256({ credentials: new Map([['alice', alice]]) });
 */
export async function scramCredential(password: string, options: { salt?: Buffer; iterations?: number } = {}):
  Promise<ScramCredential> {
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  let prepared: string;
  try {
    prepared = saslprep(password);
  } catch (err) {
    throw new RangeError(`the password is not allowed by SASLprep (RFC 4013): ${(err as Error).message}`);
  }
  const saltedPassword = await pbkdf2Async(Buffer.from(prepared, 'utf8'), salt, iterations, 32, 'sha256');
  return keysFrom(saltedPassword, salt, iterations);
}

/**
 * The SCRAM-SHA-256 method for `enhancedAuthMethods`.
 * @example
 * createBroker({ enhancedAuthMethods: [scramSha256({ credentials: new Map([['alice', 'secret']]) })] });
 */
export function scramSha256(options: ScramOptions): EnhancedAuthMethod {
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  const secret = randomBytes(32);
  const derived = new Map<string, Promise<ScramCredential>>();
  const lookup = async (username: string): Promise<ScramCredential | undefined> => {
    const source = options.credentials;
    const found = typeof source === 'function' ? await source(username) : source.get(username);
    if (typeof found !== 'string') return found;
    const key = `${username}\u0000${found}`;
    let credential = derived.get(key);
    if (credential === undefined) {
      credential = scramCredential(found, { salt: hmac(secret, `salt:${username}`).subarray(0, 16), iterations });
      derived.set(key, credential);
    }
    return credential;
  };
  const decoy = (username: string): ScramCredential => ({
    salt: hmac(secret, `salt:${username}`).subarray(0, 16), iterations,
    storedKey: randomBytes(32), serverKey: randomBytes(32),
  });
  return {
    name: 'SCRAM-SHA-256',
    begin: (context) => new ScramExchange(context, lookup, decoy),
  };
}

/** A user name prepared with SASLprep as a query string; undefined when SASLprep refuses it or it comes out empty. */
function prepareName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  try {
    const prepared = saslprep(name, { allowUnassigned: true });
    return prepared === '' ? undefined : prepared;
  } catch {
    return undefined;
  }
}

const fail = (reasonCode: number, reasonString: string): EnhancedAuthStep =>
  ({ outcome: 'failure', reasonCode, reasonString });

/** One client's conversation: client-first, then client-final, then done. */
class ScramExchange implements EnhancedAuthExchange {
  readonly #context: EnhancedAuthContext;
  readonly #lookup: (username: string) => Promise<ScramCredential | undefined>;
  readonly #decoy: (username: string) => ScramCredential;
  #state: 'first' | 'final' | 'done' = 'first';
  #gs2Header = '';
  #clientFirstBare = '';
  #serverFirst = '';
  #nonce = '';
  #credential: ScramCredential | undefined;
  #isKnownUser = false;
  #username = '';

  constructor(context: EnhancedAuthContext, lookup: (username: string) => Promise<ScramCredential | undefined>,
    decoy: (username: string) => ScramCredential) {
    this.#context = context;
    this.#lookup = lookup;
    this.#decoy = decoy;
  }

  async step(data: Buffer | undefined): Promise<EnhancedAuthStep> {
    if (this.#state === 'first') return this.#first(data);
    if (this.#state === 'final') return this.#final(data);
    return fail(ReasonCode.NotAuthorized, 'SCRAM exchange already finished');
  }

  /** client-first-message = gs2-header client-first-message-bare (RFC 5802 section 7). */
  async #first(data: Buffer | undefined): Promise<EnhancedAuthStep> {
    this.#state = 'done';
    const text = data?.toString('utf8') ?? '';
    const match = /^([ny]),(a=[^,]*)?,(.*)$/.exec(text);
    if (match === null) {
      return fail(ReasonCode.NotAuthorized, text.startsWith('p=')
        ? 'SCRAM channel binding is not supported' : 'malformed SCRAM client-first-message');
    }
    if (match[2] !== undefined) return fail(ReasonCode.NotAuthorized, 'SCRAM authorization identity not supported');
    this.#gs2Header = `${match[1]},,`;
    this.#clientFirstBare = match[3]!;
    const attrs = parseAttributes(this.#clientFirstBare);
    const username = attrs === undefined ? undefined : prepareName(decodeSaslName(attrs.get('n')));
    const clientNonce = attrs?.get('r');
    if (attrs === undefined || username === undefined || clientNonce === undefined || clientNonce.length === 0
      || attrs.has('m')) {
      return fail(ReasonCode.NotAuthorized, 'malformed SCRAM client-first-message');
    }
    if (this.#context.username !== undefined && prepareName(this.#context.username) !== username) {
      return fail(ReasonCode.BadUserNameOrPassword, 'SCRAM user is not the User Name of CONNECT');
    }
    this.#username = username;
    const credential = await this.#lookup(username);
    this.#isKnownUser = credential !== undefined;
    this.#credential = credential ?? this.#decoy(username);
    this.#nonce = clientNonce + randomBytes(18).toString('base64');
    this.#serverFirst = `r=${this.#nonce},s=${this.#credential.salt.toString('base64')},i=${this.#credential.iterations}`;
    this.#state = 'final';
    return { outcome: 'continue', data: Buffer.from(this.#serverFirst, 'utf8') };
  }

  /** client-final-message = channel-binding "," nonce ["," extensions] "," proof (RFC 5802 section 7). */
  #final(data: Buffer | undefined): EnhancedAuthStep {
    this.#state = 'done';
    const text = data?.toString('utf8') ?? '';
    const proofAt = text.lastIndexOf(',p=');
    const attrs = parseAttributes(text);
    if (proofAt < 0 || attrs === undefined) return fail(ReasonCode.NotAuthorized, 'malformed SCRAM client-final-message');
    if (attrs.get('c') !== Buffer.from(this.#gs2Header, 'utf8').toString('base64')) {
      return fail(ReasonCode.NotAuthorized, 'SCRAM channel binding data does not match');
    }
    if (attrs.get('r') !== this.#nonce) return fail(ReasonCode.NotAuthorized, 'SCRAM nonce does not match');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const credential = this.#credential!;
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${text.slice(0, proofAt)}`;
    const clientSignature = hmac(credential.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return fail(ReasonCode.BadUserNameOrPassword, 'SCRAM proof refused');
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(sha256(clientKey), credential.storedKey) || !this.#isKnownUser) {
      return fail(ReasonCode.BadUserNameOrPassword, 'SCRAM proof refused');
    }
    const serverSignature = hmac(credential.serverKey, authMessage);
    return { outcome: 'success', data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      username: this.#username };
  }
}

/** `a=1,b=2` → Map; undefined when an attribute is not `letter=value`. */
function parseAttributes(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    if (!/^[A-Za-z]=/.test(part)) return undefined;
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/** saslname: `=2C` is a comma and `=3D` an equals sign; any other `=` is malformed (RFC 5802 section 5.1). */
function decodeSaslName(name: string | undefined): string | undefined {
  if (name === undefined || name.length === 0) return undefined;
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/**
 * The client side of SCRAM-SHA-256, written for the tests straight from RFC 5802 section 3 and RFC 7677, and
 * independent of src/broker/scram-sha-256.ts. It is itself checked against the RFC 7677 test vector
 * (test/broker/scram.test.ts), so a server that completes an exchange with it speaks the RFC.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { saslprep } from '@mongodb-js/saslprep';

export class ScramClient {
  readonly #username: string;
  readonly #password: string;
  readonly #clientNonce: string;
  #clientFirstBare = '';
  #expectedServerSignature = '';

  constructor(username: string, password: string, clientNonce = randomBytes(18).toString('base64')) {
    this.#username = username;
    this.#password = password;
    this.#clientNonce = clientNonce;
  }

  /** client-first-message: gs2 header "n,," (no channel binding, no authzid), then n= and r=. */
  first(): string {
    const name = this.#username.replaceAll('=', '=3D').replaceAll(',', '=2C');
    this.#clientFirstBare = `n=${name},r=${this.#clientNonce}`;
    return `n,,${this.#clientFirstBare}`;
  }

  /** client-final-message for a server-first-message; throws if the server's nonce does not extend ours. */
  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
    const nonce = attrs.get('r') ?? '';
    if (!nonce.startsWith(this.#clientNonce)) throw new Error(`server nonce ${nonce} does not extend ours`);
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    // RFC 5802 section 5.1: Hi(Normalize(password), ...), Normalize being SASLprep.
    const salted = pbkdf2Sync(saslprep(this.#password), salt, iterations, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ clientSignature[i]!));
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    this.#expectedServerSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Whether server-final-message proves the server knows the credential (v= matches). */
  verify(serverFinal: string): boolean {
    return serverFinal === `v=${this.#expectedServerSignature}`;
  }
}

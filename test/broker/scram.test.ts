/**
 * SCRAM-SHA-256 (RFC 5802 / RFC 7677): the test-side client checked against the RFC 7677 test vector, then the
 * broker's method driven step by step by that client (no sockets; the MQTT exchange is in the integration tests).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scramCredential, scramSha256, type EnhancedAuthMethod, type EnhancedAuthStep } from '../../src/index.js';
import { ScramClient } from '../helpers/scram-client.js';

const context = { clientId: 'c', username: undefined, remoteAddress: undefined, userProperties: [], isReauthentication: false };

async function run(method: EnhancedAuthMethod, client: ScramClient, username?: string) {
  const exchange = method.begin({ ...context, username });
  const first = await exchange.step(Buffer.from(client.first()));
  if (first.outcome !== 'continue') return { first, final: undefined };
  const final = await exchange.step(Buffer.from(client.final(first.data.toString())));
  return { first, final };
}

function assertFailure(step: EnhancedAuthStep | undefined, reasonCode: number): void {
  assert.equal(step?.outcome, 'failure');
  assert.equal((step as { reasonCode?: number }).reasonCode, reasonCode);
}

describe('SCRAM-SHA-256', () => {
  test('the test client reproduces the RFC 7677 section 3 example exchange', () => {
    const client = new ScramClient('user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    assert.equal(client.first(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    assert.equal(client.final(serverFirst),
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    assert.ok(client.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
  });

  test('a right password succeeds and the server-final-message proves the server', async () => {
    const method = scramSha256({ credentials: new Map([['alice', 'wonderland']]) });
    const client = new ScramClient('alice', 'wonderland');
    const { first, final } = await run(method, client);
    assert.equal(first.outcome, 'continue');
    assert.match((first as { data: Buffer }).data.toString(), /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    assert.equal(final?.outcome, 'success');
    assert.ok(client.verify((final as { data: Buffer }).data.toString()));
  });

  test('a wrong password fails with 0x86 Bad user name or password', async () => {
    const method = scramSha256({ credentials: new Map([['alice', 'wonderland']]) });
    assertFailure((await run(method, new ScramClient('alice', 'looking-glass'))).final, 0x86);
  });

  test('an unknown user gets a salt like anyone else and fails at the proof', async () => {
    const method = scramSha256({ credentials: new Map([['alice', 'wonderland']]) });
    const { first, final } = await run(method, new ScramClient('mallory', 'x'));
    assert.equal(first.outcome, 'continue');
    assertFailure(final, 0x86);
  });

  test('credentials from an async function and stored (password-less) credentials both work', async () => {
    const stored = await scramCredential('s3cret', { iterations: 5000 });
    const method = scramSha256({ credentials: async (name) => (name === 'bob' ? stored : undefined) });
    const client = new ScramClient('bob', 's3cret');
    const { first, final } = await run(method, client);
    assert.match((first as { data: Buffer }).data.toString(), /,i=5000$/);
    assert.equal(final?.outcome, 'success');
  });

  test('passwords are prepared with SASLprep: the RFC 4013 section 3 examples (RFC 5802 section 5.1)', async () => {
    const salt = Buffer.alloc(16, 7);
    const derive = (password: string) => scramCredential(password, { salt, iterations: 1 });
    assert.deepEqual(await derive('I\u00ADX'), await derive('IX'), 'SOFT HYPHEN mapped to nothing');
    assert.deepEqual(await derive('\u00AA'), await derive('a'), 'no transformation beyond NFKC: ª is a');
    assert.deepEqual(await derive('\u2168'), await derive('IX'), 'ROMAN NUMERAL NINE is IX');
    assert.notDeepEqual(await derive('user'), await derive('USER'), 'case is kept');
    await assert.rejects(derive('\u0007'), /SASLprep.*[Pp]rohibited/);
    await assert.rejects(derive('\u0627\u0031'), /SASLprep.*[Bb]idirectional/);
  });

  test('a password configured unprepared matches a client that prepares it, and the other way round', async () => {
    const method = scramSha256({ credentials: new Map([['alice', 'I\u00ADX'], ['bob', 'IX']]) });
    assert.equal((await run(method, new ScramClient('alice', 'IX'))).final?.outcome, 'success');
    assert.equal((await run(method, new ScramClient('bob', 'I\u00ADX'))).final?.outcome, 'success');
  });

  test('user names are prepared with SASLprep before the lookup; one SASLprep refuses ends the exchange', async () => {
    const method = scramSha256({ credentials: new Map([['IX', 'pw']]) });
    assert.equal((await run(method, new ScramClient('I\u00ADX', 'pw'))).final?.outcome, 'success');
    assert.equal((await run(method, new ScramClient('IX', 'pw'), 'I\u00ADX')).final?.outcome, 'success',
      'a CONNECT User Name is compared prepared');
    assertFailure((await run(method, new ScramClient('\u0007', 'pw'))).first, 0x87);
    assertFailure((await run(method, new ScramClient('\u00AD', 'pw'))).first, 0x87);
  });

  test('user names with , and = are escaped as =2C and =3D (RFC 5802 section 5.1)', async () => {
    const method = scramSha256({ credentials: new Map([['a,b=c', 'pw']]) });
    assert.equal((await run(method, new ScramClient('a,b=c', 'pw'))).final?.outcome, 'success');
  });

  test('malformed messages, channel binding and a CONNECT user name that differs are refused', async () => {
    const method = scramSha256({ credentials: new Map([['alice', 'wonderland']]) });
    for (const bad of ['', 'n,,r=abc', 'p=tls-unique,,n=alice,r=abc', 'n,a=admin,n=alice,r=abc', 'n,,n=al=ice,r=x']) {
      assertFailure(await method.begin(context).step(Buffer.from(bad)), 0x87);
    }
    const client = new ScramClient('alice', 'wonderland');
    assertFailure(await method.begin({ ...context, username: 'bob' }).step(Buffer.from(client.first())), 0x86);
    // A tampered nonce in client-final.
    const exchange = method.begin(context);
    const c2 = new ScramClient('alice', 'wonderland');
    const first = await exchange.step(Buffer.from(c2.first()));
    const final = c2.final((first as { data: Buffer }).data.toString()).replace(',r=', ',r=X');
    assertFailure(await exchange.step(Buffer.from(final)), 0x87);
  });
});

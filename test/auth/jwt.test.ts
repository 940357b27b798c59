/**
 * JWT as the password: shared secret, PEM public key and JWKS keys; exp/nbf/iss/aud/sub; claims as publish and
 * subscribe filters; expiry disconnects a live client; a non-JWT password falls through to the next link.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import mqtt from 'mqtt';
import { JwtAuth } from '../../src/auth/jwt.js';
import type { AuthLink } from '../../src/broker/hooks.js';
import { brokerFor } from '../helpers/broker.js';
import { subscribe } from '../helpers/packets.js';
import { openClient, openRaw, type Cleanup } from '../helpers/raw-client.js';

const SECRET = 'a shared secret of reasonable length!';
const now = (): number => Math.floor(Date.now() / 1000);

function hs256(claims: JWTPayload, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(Buffer.from(secret));
}

async function connackOf(t: Cleanup, port: number, username: string | undefined, password: string,
  protocolVersion: 4 | 5 = 4): Promise<number> {
  const c = await openRaw(t, port, { protocolVersion });
  return (await c.connect({ clientId: `c${Math.random()}`, username, password, protocolVersion })).returnCode;
}

describe('JWT as the password', () => {
  test('HS256/384/512 with a shared secret; a wrong signature, an expired token or nbf in the future are refused',
    async (t) => {
      const jwt = await JwtAuth.create({ secret: SECRET });
      const { port } = await brokerFor(t, { authLinks: [jwt], loginBackoff: false });
      assert.equal(await connackOf(t, port, 'dev', await hs256({ exp: now() + 60 })), 0);
      assert.equal(await connackOf(t, port, 'dev', await hs256({}, SECRET, 'HS512')), 0);
      assert.equal(await connackOf(t, port, 'dev', await hs256({}, `${SECRET}x`)), 5);
      assert.equal(await connackOf(t, port, 'dev', await hs256({ exp: now() - 10 })), 5);
      assert.equal(await connackOf(t, port, 'dev', await hs256({ nbf: now() + 60 })), 5);
      assert.equal(await connackOf(t, port, 'dev', await hs256({ exp: now() - 10 }), 5), 0x87);
      assert.equal(await connackOf(t, port, 'dev', 'not-a-token'), 5, 'no link accepts it');
    });

  test('RS256 with a PEM public key, ES256 from a JWKS picked by kid; alg none and other keys refused', async (t) => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const other = await generateKeyPair('ES256', { extractable: true });
    const pem = await JwtAuth.create({ publicKeyPem: await exportSPKI(rsa.publicKey) });
    assert.ok(pem.algorithms.includes('RS256'));
    const jwks = await JwtAuth.create({
      jwks: { keys: [{ ...await exportJWK(ec.publicKey), kid: 'k1', alg: 'ES256' }] },
    });
    const rsaToken = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const ecToken = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(ec.privateKey);
    const wrongKey = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(other.privateKey);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    const a = await brokerFor(t, { authLinks: [pem], loginBackoff: false });
    assert.equal(await connackOf(t, a.port, 'u', rsaToken), 0);
    assert.equal(await connackOf(t, a.port, 'u', ecToken), 5);
    assert.equal(await connackOf(t, a.port, 'u', none), 5);
    const b = await brokerFor(t, { authLinks: [jwks], loginBackoff: false });
    assert.equal(await connackOf(t, b.port, 'u', ecToken), 0);
    assert.equal(await connackOf(t, b.port, 'u', wrongKey), 5);
    assert.equal(await connackOf(t, b.port, 'u', rsaToken), 5);
  });

  test('issuer and audience when configured; sub must match the username', async (t) => {
    const jwt = await JwtAuth.create({ secret: SECRET, issuer: 'me', audience: 'mqtt' });
    const { port } = await brokerFor(t, { authLinks: [jwt], loginBackoff: false });
    assert.equal(await connackOf(t, port, 'dev1', await hs256({ iss: 'me', aud: 'mqtt', sub: 'dev1' })), 0);
    assert.equal(await connackOf(t, port, 'dev2', await hs256({ iss: 'me', aud: 'mqtt', sub: 'dev1' })), 5);
    assert.equal(await connackOf(t, port, 'dev1', await hs256({ iss: 'you', aud: 'mqtt' })), 5);
    assert.equal(await connackOf(t, port, 'dev1', await hs256({ iss: 'me', aud: 'web' })), 5);
  });

  test('publish and subscribe claims limit the client (PUBACK 0x87, SUBACK 0x87 / 0x80)', async (t) => {
    const jwt = await JwtAuth.create({ secret: SECRET });
    const { port } = await brokerFor(t, { authLinks: [jwt], loginBackoff: false });
    const token = await hs256({ publish: ['sensors/dev1/#'], subscribe: ['cmd/dev1/#', 'broadcast'] });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5, username: 'dev1', password: token, reconnectPeriod: 0,
    });
    t.after(() => client.end(true));
    await client.publishAsync('sensors/dev1/temp', '21', { qos: 1 });
    await assert.rejects(client.publishAsync('sensors/dev2/temp', '21', { qos: 1 }),
      (err: { code?: number }) => err.code === 0x87);
    const v4 = await openClient(t, port, { clientId: 'v4', username: 'dev1', password: token });
    assert.deepEqual(await v4.subscribe([['cmd/dev1/+', 1], ['cmd/#', 1], ['broadcast', 0]]), [1, 0x80, 0]);
    assert.deepEqual(await v4.subscribe([['$share/g/cmd/dev1/x', 1], ['$share/g/cmd/x', 1]]), [1, 0x80],
      'a shared subscription is judged by its filter');
    const v5 = await openClient(t, port, { clientId: 'v5', username: 'dev1', password: token, protocolVersion: 5 });
    v5.send(subscribe(3, [['cmd/dev2/x', 1]], Buffer.alloc(0)));
    assert.deepEqual((await v5.expect('suback')).codes, [0x87]);
    const unlimited = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5, username: 'ops', password: await hs256({}), reconnectPeriod: 0,
    });
    t.after(() => unlimited.end(true));
    await unlimited.publishAsync('anything/at/all', 'x', { qos: 1 });
  });

  test('a client is disconnected when its token expires (MQTT 5: DISCONNECT 0xA0)', async (t) => {
    const jwt = await JwtAuth.create({ secret: SECRET });
    const { port } = await brokerFor(t, { authLinks: [jwt], loginBackoff: false });
    const client = await openClient(t, port, {
      clientId: 'short', username: 'u', password: await hs256({ exp: now() + 2 }), protocolVersion: 5,
    });
    const packet = await client.expect('disconnect', 4000);
    assert.equal(packet.reasonCode, 0xa0);
    await client.expectClosed();
  });

  test('a password that is not a JWT goes on to the next link', async (t) => {
    const jwt = await JwtAuth.create({ secret: SECRET });
    const passwords: AuthLink = {
      name: 'static', authenticate: ({ password }) => (password?.toString() === 'plain' ? 'allow' : 'next'),
    };
    const { port } = await brokerFor(t, { authLinks: [jwt, passwords], loginBackoff: false });
    assert.equal(await connackOf(t, port, 'u', 'plain'), 0);
    assert.equal(await connackOf(t, port, 'u', await hs256({})), 0);
    assert.equal(await connackOf(t, port, 'u', 'other'), 5);
  });

  test('configuration mistakes are refused when the link is created', async () => {
    await assert.rejects(JwtAuth.create({}), /exactly one of a secret, a public key or a JWKS/);
    await assert.rejects(JwtAuth.create({ secret: SECRET, algorithms: ['RS256'] }), /does not use a shared secret/);
    await assert.rejects(JwtAuth.create({ secret: '' }), /empty/);
  });
});

/**
 * MQTT 5 enhanced authentication (sections 3.15 and 4.12) over raw sockets: the AUTH exchange through a method of
 * our own (multi-step, asynchronous), SCRAM-SHA-256 against an independent client (test/helpers/scram-client.ts),
 * re-authentication (AUTH 0x19), and every way an exchange goes wrong.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scramSha256, type EnhancedAuthMethod, type EnhancedAuthStep } from '../../src/index.js';
import { brokerFor } from '../helpers/broker.js';
import * as P from '../helpers/packets.js';
import { ScramClient } from '../helpers/scram-client.js';
import { Prop, V5Client, auth, openV5, prop, props, publishV5 } from '../helpers/v5.js';

const CONNACK = 2, DISCONNECT = 14, AUTH = 15;

/** The string backwards (the answer to a REVERSE challenge). */
function reverse(s: string | undefined): string {
  let out = '';
  for (const ch of s ?? '') out = ch + out;
  return out;
}

/** A two-challenge method: answers must be the challenge reversed; each step waits a little (asynchronous hook). */
function reverseMethod(log: string[] = []): EnhancedAuthMethod {
  return {
    name: 'REVERSE',
    begin: (context) => {
      let expected = '';
      let round = 0;
      return {
        step: async (data): Promise<EnhancedAuthStep> => {
          log.push(`${context.isReauthentication ? 're' : ''}step ${round}: ${data?.toString() ?? '-'}`);
          await new Promise((r) => setTimeout(r, 5));
          if (round > 0 && data?.toString() !== expected) return { outcome: 'failure', reasonString: 'wrong answer' };
          if (round === 2) return { outcome: 'success', data: Buffer.from('welcome') };
          round++;
          const challenge = `challenge-${round}`;
          expected = reverse(challenge);
          return { outcome: 'continue', data: Buffer.from(challenge) };
        },
      };
    },
  };
}

const method = (name: string, data?: string): Buffer =>
  data === undefined ? props([Prop.AuthenticationMethod, name])
    : props([Prop.AuthenticationMethod, name], [Prop.AuthenticationData, data]);

const scram = () => scramSha256({ credentials: new Map([['alice', 'wonderland']]) });

async function scramConnect(t: { after(fn: () => unknown): void }, port: number, password: string, username?: string) {
  const c = await V5Client.open(t, port);
  const client = new ScramClient('alice', password);
  const first = await c.connect({ clientId: 'alice-1', ...(username === undefined ? {} : { username }),
    properties: method('SCRAM-SHA-256', client.first()) });
  assert.equal(first.type, AUTH);
  assert.equal(first.reasonCode, 0x18);
  c.send(auth(0x18, method('SCRAM-SHA-256', client.final(String(prop(first, Prop.AuthenticationData))))));
  return { c, client, connack: await c.expect(CONNACK) };
}

describe('23 MQTT 5 enhanced authentication', () => {
  test('a multi-step exchange: AUTH 0x18 challenges, then CONNACK 0 with the method and final data [MQTT-4.12.0-2, MQTT-4.12.0-3, MQTT-4.12.0-5]', async (t) => {
    const log: string[] = [];
    const { broker, port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod(log)] });
    const c = await V5Client.open(t, port);
    let p = await c.connect({ clientId: 'rev', properties: method('REVERSE', 'hello') });
    for (let round = 1; round <= 2; round++) {
      assert.equal(p.type, AUTH);
      assert.equal(p.reasonCode, 0x18);
      assert.equal(prop(p, Prop.AuthenticationMethod), 'REVERSE');
      assert.equal(String(prop(p, Prop.AuthenticationData)), `challenge-${round}`);
      assert.equal(broker.clients.has('rev'), false, 'not connected before CONNACK');
      c.send(auth(0x18, method('REVERSE', reverse(String(prop(p, Prop.AuthenticationData)))))) ;
      p = await c.next();
    }
    assert.equal(p.type, CONNACK);
    assert.equal(p.reasonCode, 0);
    assert.equal(prop(p, Prop.AuthenticationMethod), 'REVERSE');
    assert.equal(String(prop(p, Prop.AuthenticationData)), 'welcome');
    assert.deepEqual(log, ['step 0: hello', 'step 1: 1-egnellahc', 'step 2: 2-egnellahc']);
    assert.ok(broker.clients.has('rev'));
  });

  test('a failed exchange is CONNACK 0x87 Not authorized with the method\'s Reason String, then close [MQTT-4.12.0-4]', async (t) => {
    const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
    const c = await V5Client.open(t, port);
    await c.connect({ clientId: 'wrong', properties: method('REVERSE') });
    c.send(auth(0x18, method('REVERSE', 'not the answer')));
    const connack = await c.expect(CONNACK);
    assert.equal(connack.reasonCode, 0x87);
    assert.equal(prop(connack, Prop.ReasonString), 'wrong answer');
    await c.expectClosed();
  });

  test('an unknown method is CONNACK 0x8C Bad authentication method [MQTT-4.12.0-1]', async (t) => {
    const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
    const c = await V5Client.open(t, port);
    assert.equal((await c.connect({ clientId: 'unk', properties: method('KERBEROS') })).reasonCode, 0x8c);
    await c.expectClosed();
  });

  test('a method whose re-authentication proves another identity is refused: DISCONNECT 0x87', async (t) => {
    let count = 0;
    const fickle: EnhancedAuthMethod = {
      name: 'FICKLE', begin: () => ({ step: () => ({ outcome: 'success', username: `user-${count++}` }) }),
    };
    const { port } = await brokerFor(t, { enhancedAuthMethods: [fickle] });
    const c = await V5Client.open(t, port);
    assert.equal((await c.connect({ clientId: 'f', properties: method('FICKLE') })).reasonCode, 0);
    c.send(auth(0x19, method('FICKLE')));
    const d = await c.expect(DISCONNECT);
    assert.equal(d.reasonCode, 0x87);
    assert.equal(prop(d, Prop.ReasonString), 're-authenticated as another user');
  });

  test('a method that throws counts as a failure (0x87)', async (t) => {
    const broken: EnhancedAuthMethod = { name: 'BROKEN', begin: () => ({ step: () => { throw new Error('boom'); } }) };
    const { port } = await brokerFor(t, { enhancedAuthMethods: [broken] });
    const c = await V5Client.open(t, port);
    assert.equal((await c.connect({ clientId: 'b', properties: method('BROKEN') })).reasonCode, 0x87);
  });

  describe('protocol errors during the exchange', () => {
    test('AUTH with another method: CONNACK 0x82 [MQTT-4.12.0-5]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
      const c = await V5Client.open(t, port);
      await c.connect({ clientId: 'x', properties: method('REVERSE') });
      c.send(auth(0x18, method('OTHER', '1-egnellahc')));
      assert.equal((await c.expect(CONNACK)).reasonCode, 0x82);
      await c.expectClosed();
    });

    test('a PUBLISH before the exchange ends: CONNACK 0x82 [MQTT-3.1.0-1]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
      const c = await V5Client.open(t, port);
      await c.connect({ clientId: 'x', properties: method('REVERSE') });
      c.send(publishV5({ topic: 'early' }));
      assert.equal((await c.expect(CONNACK)).reasonCode, 0x82);
    });

    test('AUTH from a client whose CONNECT had no method: DISCONNECT 0x82 [MQTT-4.12.0-7]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
      const { c, connack } = await openV5(t, port, { clientId: 'plain' });
      assert.equal(prop(connack, Prop.AuthenticationMethod), undefined, '[MQTT-4.12.0-6]');
      c.send(auth(0x19, method('REVERSE')));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x82);
    });

    test('AUTH with reason 0x00 from a client: 0x82 [MQTT-3.15.2-1]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()] });
      const c = await V5Client.open(t, port);
      await c.connect({ clientId: 'x', properties: method('REVERSE') });
      c.send(auth(0x00, method('REVERSE')));
      assert.equal((await c.expect(CONNACK)).reasonCode, 0x82);
    });

    test('a client that never answers the challenge is closed after connectTimeoutMs', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [reverseMethod()], connectTimeoutMs: 300 });
      const c = await V5Client.open(t, port);
      assert.equal((await c.connect({ clientId: 'slow', properties: method('REVERSE') })).type, AUTH);
      await c.expectClosed(2000);
    });
  });

  describe('SCRAM-SHA-256', () => {
    test('the right password connects; CONNACK carries server-final-message, which proves the server', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram()] });
      const { client, connack } = await scramConnect(t, port, 'wonderland', 'alice');
      assert.equal(connack.reasonCode, 0);
      assert.equal(prop(connack, Prop.AuthenticationMethod), 'SCRAM-SHA-256');
      assert.ok(client.verify(String(prop(connack, Prop.AuthenticationData))));
    });

    test('a wrong password is CONNACK 0x86 Bad user name or password', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram()] });
      const { c, connack } = await scramConnect(t, port, 'looking-glass');
      assert.equal(connack.reasonCode, 0x86);
      await c.expectClosed();
    });

    test('a failed exchange feeds the login back-off: the next attempt from the address waits', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram()], loginBackoff: { initialDelayMs: 400 } });
      assert.equal((await scramConnect(t, port, 'wrong')).connack.reasonCode, 0x86);
      const started = Date.now();
      const { connack } = await scramConnect(t, port, 'wonderland');
      assert.equal(connack.reasonCode, 0);
      assert.ok(Date.now() - started >= 350, `second attempt after ${Date.now() - started} ms`);
    });

    test('re-authentication (AUTH 0x19): AUTH 0x18, then AUTH 0x00 with server-final; the connection stays usable [MQTT-4.12.1-1]', async (t) => {
      const { broker, port } = await brokerFor(t, { enhancedAuthMethods: [scram()] });
      const { c } = await scramConnect(t, port, 'wonderland');
      const again = new ScramClient('alice', 'wonderland');
      c.send(auth(0x19, method('SCRAM-SHA-256', again.first())));
      const challenge = await c.expect(AUTH);
      assert.equal(challenge.reasonCode, 0x18);
      c.send(P.pingreq());
      assert.equal((await c.expect(13)).type, 13, 'other packets flow during re-authentication');
      c.send(auth(0x18, method('SCRAM-SHA-256', again.final(String(prop(challenge, Prop.AuthenticationData))))));
      const done = await c.expect(AUTH);
      assert.equal(done.reasonCode, 0);
      assert.equal(prop(done, Prop.AuthenticationMethod), 'SCRAM-SHA-256');
      assert.ok(again.verify(String(prop(done, Prop.AuthenticationData))));
      assert.ok(broker.clients.has('alice-1'));
    });

    test('a failed re-authentication is DISCONNECT 0x87 and close [MQTT-4.12.1-2]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram()] });
      const { c } = await scramConnect(t, port, 'wonderland');
      const wrong = new ScramClient('alice', 'nope');
      c.send(auth(0x19, method('SCRAM-SHA-256', wrong.first())));
      const challenge = await c.expect(AUTH);
      c.send(auth(0x18, method('SCRAM-SHA-256', wrong.final(String(prop(challenge, Prop.AuthenticationData))))));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x87);
      await c.expectClosed();
    });

    test('the user a client proves becomes its user name for the authorization hooks', async (t) => {
      const seen: (string | undefined)[] = [];
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram()],
        authorizePublish: (client) => { seen.push(client.username); return true; } });
      const { c } = await scramConnect(t, port, 'wonderland');
      c.send(publishV5({ topic: 'who', qos: 1, packetId: 7 }));
      await c.expect(4);
      assert.deepEqual(seen, ['alice']);
    });

    test('re-authenticating as another user is refused: DISCONNECT 0x87', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [
        scramSha256({ credentials: new Map([['alice', 'wonderland'], ['bob', 'builder']]) })] });
      const { c } = await scramConnect(t, port, 'wonderland');
      c.send(auth(0x19, method('SCRAM-SHA-256', new ScramClient('bob', 'builder').first())));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x87);
      await c.expectClosed();
    });

    test('re-authentication with another method is DISCONNECT 0x82 [MQTT-4.12.1-1]', async (t) => {
      const { port } = await brokerFor(t, { enhancedAuthMethods: [scram(), reverseMethod()] });
      const { c } = await scramConnect(t, port, 'wonderland');
      c.send(auth(0x19, method('REVERSE')));
      assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x82);
    });
  });
});

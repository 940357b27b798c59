/**
 * The authentication/authorization chain in a running broker: link order and verdicts, the boolean hooks as the
 * first link, anonymous defaults, and how decisions reach the wire (SUBACK 0x80 / 0x87, PUBACK 0x87, delivery
 * filtering) — raw packets for exact bytes, MQTT.js for MQTT 5 reason codes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclFileAuth } from '../../src/auth/acl-file.js';
import { buildAuthChecks, isPromise, type AuthLink, type ClientInfo } from '../../src/broker/hooks.js';
import type { Logger } from '../../src/broker/logger.js';
import { silentLogger } from '../../src/broker/logger.js';
import { brokerFor } from '../helpers/broker.js';
import { subscribe } from '../helpers/packets.js';
import { openClient, openRaw } from '../helpers/raw-client.js';

const who: ClientInfo = { id: 'c', username: 'u', remoteAddress: undefined, protocolVersion: 4 };
const req = (username: string | undefined) => ({
  clientId: 'c', username, password: Buffer.from('p'), remoteAddress: undefined, protocolVersion: 4 as const,
});

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { ...silentLogger, errors, error: (m: string) => { errors.push(m); } };
}

function auth(links: AuthLink[], allowAnonymous?: boolean) {
  return buildAuthChecks({}, links, { logger: silentLogger, allowAnonymous }).authenticate;
}

describe('buildAuthChecks: the chain', () => {
  test('the first allow or deny decides; next passes on; order is hooks, then links', () => {
    const calls: string[] = [];
    const link = (name: string, verdict: 'allow' | 'deny' | 'next'): AuthLink => ({
      name, authorizePublish: () => { calls.push(name); return verdict; },
    });
    const checks = buildAuthChecks({}, [link('one', 'next'), link('two', 'deny'), link('three', 'allow')],
      { logger: silentLogger });
    assert.equal(checks.authorizePublish!(who, { topic: 't', qos: 0, retain: false, payload: Buffer.alloc(0) }), false);
    assert.deepEqual(calls, ['one', 'two']);
    const withHook = buildAuthChecks({ authorizePublish: () => true }, [link('four', 'deny')], { logger: silentLogger });
    assert.equal(withHook.authorizePublish!(who, { topic: 't', qos: 0, retain: false, payload: Buffer.alloc(0) }), true);
  });

  test('synchronous links give synchronous answers (no promise on the per-message path)', () => {
    const checks = buildAuthChecks({}, [{ name: 's', authorizePublish: () => 'next' }, {
      name: 't', authorizeSubscribe: () => 1, authorizeRead: () => 'deny',
    }], { logger: silentLogger });
    const answer = checks.authorizePublish!(who, { topic: 't', qos: 0, retain: false, payload: Buffer.alloc(0) });
    assert.equal(isPromise(answer), false);
    assert.equal(answer, true);
    assert.equal(checks.authorizeSubscribe!(who, { topicFilter: 'x', qos: 2 }), 1);
    assert.equal(checks.authorizeRead!(who, 'x'), false);
  });

  test('no link answering a check leaves it absent (the handlers skip it)', () => {
    const checks = buildAuthChecks({}, [{ name: 'empty' }], { logger: silentLogger });
    assert.deepEqual(Object.keys(checks), []);
  });

  test('an asynchronous next continues with the following links', async () => {
    const checks = buildAuthChecks({}, [
      { name: 'a', authenticate: async () => 'next' as const },
      { name: 'b', authenticate: (r) => (r.username === 'ok' ? 'allow' : 'next') },
    ], { logger: silentLogger });
    assert.equal(await checks.authenticate!(req('ok')), true);
    assert.equal(await checks.authenticate!(req('other')), false);
  });

  test('a link that throws or rejects counts as deny and is logged', async () => {
    const logger = recordingLogger();
    const checks = buildAuthChecks({}, [
      { name: 'thrower', authorizePublish: () => { throw new Error('boom'); } },
      { name: 'rejecter', authorizeSubscribe: () => Promise.reject(new Error('bang')) },
      { name: 'allower', authorizePublish: () => 'allow', authorizeSubscribe: () => 'allow' },
    ], { logger });
    assert.equal(checks.authorizePublish!(who, { topic: 't', qos: 0, retain: false, payload: Buffer.alloc(0) }), false);
    assert.equal(await checks.authorizeSubscribe!(who, { topicFilter: 't', qos: 0 }), false);
    assert.deepEqual(logger.errors, ["auth link 'thrower' failed: boom", "auth link 'rejecter' failed: bang"]);
  });

  test('when every link says next: anonymous and named clients, with and without authenticating links', () => {
    const passer: AuthLink = { name: 'p', authenticate: () => 'next' };
    assert.equal(auth([]), undefined, 'nothing to check');
    assert.equal(auth([passer])!(req(undefined)), false, 'anonymous refused once a link authenticates');
    assert.equal(auth([passer])!(req('bob')), false, 'unknown user refused');
    assert.equal(auth([passer], true)!(req(undefined)), true, 'allowAnonymous true');
    assert.equal(auth([passer], true)!(req('bob')), false, 'allowAnonymous does not admit unknown users');
    assert.equal(auth([], false)!(req(undefined)), false, 'allow_anonymous false, nothing else');
    assert.equal(auth([], false)!(req('bob')), false, 'Mosquitto refuses named clients too then');
  });
});

describe('authorization on the wire', () => {
  const denyAll: AuthLink = {
    name: 'deny-secret',
    authorizeSubscribe: (_client, { topicFilter }) => (topicFilter.startsWith('secret') ? 'deny' : 'next'),
    authorizePublish: (_c, { topic }) => (topic.startsWith('secret') ? 'deny' : 'next'),
  };

  test('a denied SUBSCRIBE gets 0x80 in MQTT 3.1.1 and 0x87 in MQTT 5, the others their QoS', async (t) => {
    const { port } = await brokerFor(t, { authLinks: [denyAll] });
    const v4 = await openClient(t, port, { clientId: 'v4' });
    assert.deepEqual(await v4.subscribe([['secret/#', 1], ['open/#', 1]]), [0x80, 1]);
    const v5 = await openClient(t, port, { clientId: 'v5', protocolVersion: 5 });
    v5.send(subscribe(7, [['open/#', 2], ['secret/x', 0]], Buffer.alloc(0)));
    assert.deepEqual((await v5.expect('suback')).codes, [2, 0x87]);
  });

  test('a denied PUBLISH: 3.1.1 acknowledged and dropped; MQTT 5 PUBACK and PUBREC 0x87', async (t) => {
    const { port } = await brokerFor(t, { authLinks: [denyAll] });
    const sub = await openClient(t, port, { clientId: 'sub' });
    await sub.subscribe([['#', 2]]);
    const v4 = await openClient(t, port, { clientId: 'pub4' });
    await v4.publish({ topic: 'secret/a', payload: 'x', qos: 1 });
    await v4.publish({ topic: 'secret/b', payload: 'x', qos: 2 });
    await sub.expectNothing(150);
    const v5 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    t.after(() => v5.end(true));
    for (const qos of [1, 2] as const) {
      await assert.rejects(v5.publishAsync('secret/c', 'x', { qos }), (err: { code?: number }) => err.code === 0x87);
    }
    await v5.publishAsync('open/c', 'y', { qos: 1 });
    const got = await sub.expect('publish');
    assert.equal(got.topic, 'open/c');
  });

  test('a will passes the publish check too: a denied will is dropped, as Mosquitto does', async (t) => {
    const { port } = await brokerFor(t, { authLinks: [denyAll] });
    const sub = await openClient(t, port, { clientId: 'watcher' });
    await sub.subscribe([['#', 0]]);
    const denied = await openClient(t, port, { clientId: 'w1', will: { topic: 'secret/w', payload: 'gone' } });
    const allowed = await openClient(t, port, { clientId: 'w2', will: { topic: 'open/w', payload: 'gone' } });
    denied.destroy();
    allowed.destroy();
    const will = await sub.expect('publish');
    assert.equal(will.topic, 'open/w');
    await sub.expectNothing(150);
  });

  test('read access filters delivery through wildcards, retained messages included (acl_file)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-acl-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'acl');
    writeFileSync(file, 'user reader\ntopic read data/#\ntopic deny data/private/#\nuser writer\ntopic write #\n');
    const acl = new AclFileAuth(file);
    await acl.load();
    const { port } = await brokerFor(t, { authLinks: [acl], allowAnonymous: true });
    const writer = await openClient(t, port, { clientId: 'w', username: 'writer' });
    await writer.publish({ topic: 'data/private/r', payload: 'hidden', qos: 1, retain: true });
    await writer.publish({ topic: 'data/public/r', payload: 'shown', qos: 1, retain: true });
    const reader = await openClient(t, port, { clientId: 'r', username: 'reader' });
    assert.deepEqual(await reader.subscribe([['data/#', 1], ['other/#', 1]]), [1, 0x80]);
    const retained = await reader.expect('publish');
    assert.equal(retained.topic, 'data/public/r');
    await reader.acknowledge(retained);
    await writer.publish({ topic: 'data/private/live', payload: 'hidden', qos: 1 });
    await writer.publish({ topic: 'data/public/live', payload: 'shown', qos: 1 });
    const live = await reader.expect('publish');
    assert.equal(live.topic, 'data/public/live');
    await reader.expectNothing(100);
  });

  test('the boolean hooks of earlier versions keep working beside links', async (t) => {
    const { port } = await brokerFor(t, {
      authenticate: ({ username }) => username === 'alice',
      authorizeSubscribe: () => 1,
      authLinks: [denyAll],
    });
    const refused = await openRaw(t, port);
    assert.equal((await refused.connect({ clientId: 'x', username: 'mallory' })).returnCode, 5);
    const alice = await openClient(t, port, { clientId: 'a', username: 'alice' });
    assert.deepEqual(await alice.subscribe([['secret/x', 2]]), [1], 'the hook answers first');
  });
});

/**
 * `culex pub` beside mosquitto_pub with --capath (a hashed CA directory, as c_rehash makes it) and with a client
 * certificate (--cert/--key) against a listener that requires one: the same exit status, and the messages arrive.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { brokerFor } from '../helpers/broker.js';
import { mosquittoSkip } from '../helpers/mosquitto.js';
import { generateCerts, type TestCerts } from '../transport/certs.js';
import { runBoth, runTool } from './sub-helpers.js';

async function received(t: TestContext, port: number, filter: string): Promise<string[]> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  t.after(() => client.end(true));
  const seen: string[] = [];
  client.on('message', (_topic, payload) => seen.push(payload.toString()));
  await client.subscribeAsync(filter, { qos: 1 });
  return seen;
}

function certsFor(t: TestContext): TestCerts {
  const certs = generateCerts();
  t.after(() => certs.remove());
  return certs;
}

describe('culex pub TLS client options beside mosquitto_pub', { skip: mosquittoSkip }, () => {
  test('--capath: a directory holding the CA under its subject hash verifies the broker for both tools', async (t) => {
    const certs = certsFor(t);
    const capath = join(certs.dir, 'capath');
    mkdirSync(capath);
    const hash = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', certs.path('ca.crt')], { encoding: 'utf8' }).trim();
    copyFileSync(certs.path('ca.crt'), join(capath, `${hash}.0`));
    const b = await brokerFor(t);
    const listener = await b.broker.openListener({ port: 0, host: '127.0.0.1', tls: {
      cert: certs.read('server.crt'), key: certs.read('server.key') } });
    const port = (listener.address as { port: number }).port;
    const seen = await received(t, b.port, 'capath/#');
    const r = await runBoth(t, 'pub', ['-h', '127.0.0.1', '-p', String(port), '--capath', capath, '-t', 'capath/x',
      '-m', 'hashed', '-q', '1']);
    assert.equal(r.culex.code, 0, r.culex.stderr);
    assert.equal(r.mosquitto.code, 0, r.mosquitto.stderr);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['hashed', 'hashed']);
  });

  test('--cert/--key: a listener that requires a client certificate takes both tools with one and refuses both without', async (t) => {
    const certs = certsFor(t);
    const b = await brokerFor(t);
    const listener = await b.broker.openListener({ port: 0, host: '127.0.0.1', tls: {
      cert: certs.read('server.crt'), key: certs.read('server.key'), ca: certs.read('ca.crt'),
      isCertificateRequired: true } });
    const port = (listener.address as { port: number }).port;
    const seen = await received(t, b.port, 'mtls/#');
    const base = ['-h', '127.0.0.1', '-p', String(port), '--cafile', certs.path('ca.crt'), '-t', 'mtls/x', '-q', '1'];
    const ok = await runBoth(t, 'pub', [...base, '-m', 'with-cert', '--cert', certs.path('alice.crt'),
      '--key', certs.path('alice.key')]);
    assert.equal(ok.culex.code, 0, ok.culex.stderr);
    assert.equal(ok.mosquitto.code, 0, ok.mosquitto.stderr);
    const refused = await runBoth(t, 'pub', [...base, '-m', 'without']);
    assert.notEqual(refused.culex.code, 0);
    assert.notEqual(refused.mosquitto.code, 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['with-cert', 'with-cert']);
  });

  test('-L wss://host:port/topic with --cafile publishes over TLS WebSocket (beyond Mosquitto 2.0)', async (t) => {
    const certs = certsFor(t);
    const b = await brokerFor(t);
    const wss = await b.broker.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets', tls: {
      cert: certs.read('server.crt'), key: certs.read('server.key') } });
    const seen = await received(t, b.port, 'wss/#');
    const url = `wss://127.0.0.1:${(wss.address as { port: number }).port}/wss/x`;
    const pub = runTool(t, 'culex', 'pub', ['-L', url, '--cafile', certs.path('ca.crt'), '-m', 'over wss', '-q', '1']);
    assert.equal(await pub.exited, 0);
    const wrong = runTool(t, 'culex', 'pub', ['-L', url, '-m', 'unverified']);
    assert.notEqual(await wrong.exited, 0, 'the server certificate is checked (no --cafile: an unknown CA)');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['over wss']);
  });
});

/**
 * `culex pub` against mosquitto_pub on the same Culex broker: the same `-d` packet lines and exit status for each
 * way of giving the payload, and the messages arrive as published (checked with an MQTT.js subscriber). Also the
 * connection failures (refused CONNACK in 3.1.1 and 5, nothing listening) against the same Mosquitto broker.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { brokerFor } from '../helpers/broker.js';
import { freePort, mosquittoFor, mosquittoSkip } from '../helpers/mosquitto.js';
import { runBoth, runTool } from './sub-helpers.js';

interface Seen { topic: string; payload: string; qos: number; retain: boolean; properties?: unknown }

async function listen(t: TestContext, port: number, filter: string): Promise<Seen[]> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => client.end(true));
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => {
    seen.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain,
      ...(packet.properties?.userProperties === undefined ? {} : { properties: packet.properties.userProperties }) });
  });
  await client.subscribeAsync(filter, { qos: 2 });
  return seen;
}

/** -d lines of both tools, each with its own (equal-length) client id replaced by X. */
function sameDebug(c: Buffer, m: Buffer, cId: string, mId: string): void {
  assert.equal(c.toString().replaceAll(cId, 'X'), m.toString().replaceAll(mId, 'X'));
}

describe('culex pub behaves like mosquitto_pub', { concurrency: 2 }, () => {
  for (const [name, args, stdin] of [
    ['-m at QoS 0', ['-m', 'hello'], undefined],
    ['-m at QoS 1, retained', ['-m', 'hello', '-q', '1', '-r'], undefined],
    ['-n at QoS 2', ['-n', '-q', '2'], undefined],
    ['--repeat 3 --repeat-delay 0.05 at QoS 1', ['-m', 'r', '--repeat', '3', '--repeat-delay', '0.05', '-q', '1'], undefined],
    // QoS 0: with -l both tools send lines as they come, so where PUBACKs fall among the -d lines is timing.
    ['-l: one message per line, the last without a newline', ['-l'], 'a\n\nccc'],
    ['-s: all of stdin as one message', ['-s'], 'x\ny\n'],
    ['-D publish properties (MQTT 5)', ['-m', 'p', '-D', 'publish', 'user-property', 'k', 'v', '-D', 'publish', 'content-type', 'c'], undefined],
  ] as [string, string[], string | undefined][]) {
    test(`${name}: same -d lines and exit status`, async (t) => {
      const b = await brokerFor(t);
      const seen = await listen(t, b.port, 'p/#');
      const base = ['-h', '127.0.0.1', '-p', String(b.port), '-t', 'p/t', '-d', ...args];
      const c = runTool(t, 'culex', 'pub', [...base, '-i', 'pub-c'], stdin);
      const m = runTool(t, 'mosquitto', 'pub', [...base, '-i', 'pub-m'], stdin);
      assert.equal(await c.exited, await m.exited);
      sameDebug(c.stdout(), m.stdout(), 'pub-c', 'pub-m');
      assert.equal(c.stderr(), m.stderr());
      // Each message arrives twice (once per tool), in the same form; allow for a slow machine.
      for (let i = 0; i < 100 && (seen.length === 0 || seen.length % 2 === 1); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 100));
      const half = seen.length / 2;
      assert.ok(Number.isInteger(half) && half > 0, `received ${seen.length} messages`);
      assert.deepEqual(new Set(seen.map((s) => JSON.stringify(s))).size <= half, true);
    });
  }

  test('-f sends a file; a missing file is Mosquitto\'s error and exit 1', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-pub-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'payload.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 0xff]));
    const b = await brokerFor(t);
    const seen = await listen(t, b.port, 'f');
    const c = runTool(t, 'culex', 'pub', ['-p', String(b.port), '-t', 'f', '-f', file, '-q', '1']);
    assert.equal(await c.exited, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 1);
    const missing = await runBoth(t, 'pub', ['-p', String(b.port), '-t', 'f', '-f', join(dir, 'nope')]);
    assert.equal(missing.culex.stderr, missing.mosquitto.stderr);
    assert.equal(missing.culex.code, 1);
    assert.equal(missing.mosquitto.code, 1);
  });

  test('--will-topic/--will-payload/--will-qos/--will-retain: the broker publishes the will when the client dies', async (t) => {
    const b = await brokerFor(t);
    const seen = await listen(t, b.port, 'will/#');
    const sub = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'nothing', '--will-topic', 'will/x',
      '--will-payload', 'gone', '--will-qos', '1', '--will-retain', '-i', 'will-client']);
    await new Promise<void>((resolve) => { b.broker.on('subscribed', () => resolve()); });
    sub.child.kill('SIGKILL');
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen.map((s) => [s.topic, s.payload, s.qos, s.retain]), [['will/x', 'gone', 1, false]]);
  });

  test('-L mqtt://user:password@host:port/topic, and -u/-P, reach an authenticating broker', async (t) => {
    const b = await brokerFor(t, { authenticate: (req) => req.username === 'u' && req.password?.toString() === 'pw' });
    const ok = runTool(t, 'culex', 'pub', ['-L', `mqtt://u:pw@127.0.0.1:${b.port}/l/t`, '-m', 'x']);
    assert.equal(await ok.exited, 0);
    const ok2 = runTool(t, 'culex', 'pub', ['-p', String(b.port), '-u', 'u', '-P', 'pw', '-t', 'l/t', '-m', 'x']);
    assert.equal(await ok2.exited, 0);
    const bad = runTool(t, 'culex', 'pub', ['-p', String(b.port), '-u', 'u', '-P', 'no', '-t', 'l/t', '-m', 'x']);
    assert.equal(await bad.exited, 5);
  });
});

/** libmosquitto words a failed handshake two ways, depending on whether it failed inside connect() or later. */
function tlsError(text: string): string {
  return text.replace('Unable to connect (A TLS error occurred.).', 'Error: A TLS error occurred.');
}

describe('TLS options', () => {
  const fixtures = new URL('../bench/fixtures/', import.meta.url).pathname;
  async function tlsBroker(t: TestContext): Promise<{ port: number; b: Awaited<ReturnType<typeof brokerFor>> }> {
    const b = await brokerFor(t);
    const listener = await b.broker.openListener({ port: 0, host: '127.0.0.1', tls: {
      cert: readFileSync(join(fixtures, 'cert.pem')), key: readFileSync(join(fixtures, 'key.pem')) } });
    return { port: (listener.address as { port: number }).port, b };
  }

  test('--cafile: both tools connect and publish; a wrong CA, a host name mismatch or a missing file fail alike', async (t) => {
    const { port, b } = await tlsBroker(t);
    const seen = await listen(t, b.port, 'tls/#');
    const base = ['-p', String(port), '-t', 'tls/x', '-m', 'secret', '-q', '1'];
    for (const [name, extra, code] of [
      ['right CA', ['-h', '127.0.0.1', '--cafile', join(fixtures, 'cert.pem')], 0],
      ['other CA', ['-h', '127.0.0.1', '--cafile', join(fixtures, 'other-ca.pem')], 8],
      ['host name mismatch', ['-h', 'localhost', '--cafile', join(fixtures, 'cert.pem')], 8],
      ['--insecure skips the host name check', ['-h', 'localhost', '--cafile', join(fixtures, 'cert.pem'), '--insecure'], 0],
      ['missing CA file', ['-h', '127.0.0.1', '--cafile', join(fixtures, 'nope.pem')], 1],
      ['bad --tls-version', ['-h', '127.0.0.1', '--cafile', join(fixtures, 'cert.pem'), '--tls-version', 'tlsv9'], 1],
    ] as [string, string[], number][]) {
      const r = await runBoth(t, 'pub', [...base, ...extra]);
      assert.equal(r.culex.stderr, tlsError(r.mosquitto.stderr), name);
      assert.equal(r.culex.code, code, name);
      // ...and exits 1 for the first, 8 (MOSQ_ERR_TLS) for the second.
      assert.ok(code === 8 ? [1, 8].includes(r.mosquitto.code!) : r.mosquitto.code === code, name);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 4);
  });
});

describe('connection failures match mosquitto_pub / mosquitto_sub', { skip: mosquittoSkip, concurrency: 2 }, () => {
  for (const tool of ['pub', 'sub'] as const) {
    for (const version of ['311', '5']) {
      test(`${tool} -V ${version}: a refused CONNACK prints Mosquitto's lines and exits with the reason code`, async (t) => {
        const mosq = await mosquittoFor(t, { config: ['allow_anonymous false'] });
        const args = ['-p', String(mosq.port), '-t', 'a', '-V', version, ...(tool === 'pub' ? ['-m', 'x'] : [])];
        const r = await runBoth(t, tool, args);
        assert.equal(r.culex.stderr, r.mosquitto.stderr);
        assert.equal(r.culex.code, r.mosquitto.code);
        assert.equal(r.culex.code, version === '5' ? 135 : 5);
      });
    }
  }
  test('nothing listening: "Error: Connection refused", exit 1; --quiet silences it', async (t) => {
    const port = String(await freePort());
    const r = await runBoth(t, 'pub', ['-p', port, '-t', 'a', '-m', 'x']);
    assert.equal(r.culex.stderr, 'Error: Connection refused\n');
    assert.equal(r.culex.stderr, r.mosquitto.stderr);
    assert.equal(r.culex.code, r.mosquitto.code);
    const q = await runBoth(t, 'sub', ['-p', port, '-t', 'a', '--quiet']);
    assert.equal(q.culex.stderr, '');
    assert.equal(q.culex.code, q.mosquitto.code);
  });
});

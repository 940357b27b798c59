/**
 * Command-line errors of `culex pub|sub|rr` against the real mosquitto_pub / _sub / _rr 2.0: for each bad command
 * line both tools print the same stderr (but for the program name) and exit with the same status. Culex runs
 * in-process here (the errors come before any connection); Mosquitto runs as a child process.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { run as runPub } from '../../src/cli/pub.js';
import { run as runSub } from '../../src/cli/sub.js';
import { run as runRr } from '../../src/cli/rr.js';
import { parseClientArgs } from '../../src/cli/client-options/parse.js';
import { asCulex } from './sub-helpers.js';

const runners = { pub: runPub, sub: runSub, rr: runRr };

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk); cb(); } });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function culex(tool: 'pub' | 'sub' | 'rr', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await runners[tool](args, { stdout: out.stream, stderr: err.stream, onInterrupt: () => () => undefined });
  return { code, stdout: out.text(), stderr: err.text() };
}

function mosquitto(tool: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  // Point HOME at an empty place so no ~/.config/mosquitto_* options file changes the result.
  const r = spawnSync(`mosquitto_${tool}`, args, { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' }, timeout: 5000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cases: [tool: 'pub' | 'sub' | 'rr', args: string[]][] = [
  ['sub', []],
  ['sub', ['-t']],
  ['sub', ['-t', 'a/+b']],
  ['sub', ['-t', 'a', '-F', '%']],
  ['sub', ['-t', 'a', '-F', '%z']],
  ['sub', ['-t', 'a', '-F', '\\z']],
  ['sub', ['-t', 'a', '-F', '%-05.']],
  ['sub', ['-t', 'a', '-F', '\\']],
  ['sub', ['-t', 'a', '-C', '0']],
  ['sub', ['-t', 'a', '-W', 'x']],
  ['sub', ['-t', 'a', '-T', 'a/#/b']],
  ['sub', ['-t', 'a', '-U', '#/a']],
  ['sub', ['-t', 'a', '-R', '--retained-only']],
  ['sub', ['-t', 'a', '-r']],
  ['sub', ['-t', 'a', '-m', 'x']],
  ['sub', ['-t', 'a', '-p1883']],
  ['sub', ['-t', 'a', '--random-filter', '0']],
  ['pub', ['-t', 'a']],
  ['pub', ['-m', 'x']],
  ['pub', ['-t', 'a/+', '-m', 'x']],
  ['pub', ['-t', 'a', '-m', 'x', '-n']],
  ['pub', ['-t', 'a', '-m']],
  ['pub', ['-t', 'a', '-l', '-s']],
  ['pub', ['-t', 'a', '-f']],
  ['pub', ['-t', 'a', '-m', 'x', '-q', '3']],
  ['pub', ['-t', 'a', '-m', 'x', '-q']],
  ['pub', ['-t', 'a', '-m', 'x', '-p', '70000']],
  ['pub', ['-t', 'a', '-m', 'x', '-k', '2']],
  ['pub', ['-t', 'a', '-m', 'x', '-V', '6']],
  ['pub', ['-t', 'a', '-m', 'x', '-V']],
  ['pub', ['-t', 'a', '-m', 'x', '-c']],
  ['pub', ['-t', 'a', '-m', 'x', '-c', '-V', '5']],
  ['pub', ['-t', 'a', '-m', 'x', '-i', 'a', '-I', 'b']],
  ['pub', ['-t', 'a', '-m', 'x', '-x', 'foo']],
  ['pub', ['-t', 'a', '-m', 'x', '-x', '-2']],
  ['pub', ['-t', 'a', '-m', 'x', '-L', 'foo://x/y']],
  ['pub', ['-m', 'x', '-L', 'mqtt://x']],
  ['pub', ['-m', 'x', '-L', 'mqtt://x/a/#']],
  ['pub', ['-t', 'a', '-m', 'x', '-v']],
  ['pub', ['-t', 'a', '-m', 'x', '-F', '%t']],
  ['pub', ['-p1883', '-t', 'a', '-m', 'x']],
  ['pub', ['-t', 'a', '-m', 'x', '--will-payload', 'p']],
  ['pub', ['-t', 'a', '-m', 'x', '--will-retain']],
  ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w/#']],
  ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w', '--will-qos', '3']],
  ['pub', ['-t', 'a', '-m', 'x', '--cert', 'c']],
  ['pub', ['-t', 'a', '-m', 'x', '--keyform', 'pem']],
  ['pub', ['-t', 'a', '-m', 'x', '--repeat', '0']],
  ['pub', ['-t', 'a', '-m', 'x', '--repeat-delay', '-1']],
  ['pub', ['-t', 'a', '-m', 'x', '-M', '0']],
  ['pub', ['-t', 'a', '-m', 'x', '-D']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'user-property', 'a']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'foo', 'user-property', 'a', 'b']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'foo', 'a']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'session-expiry-interval', '5']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'connect', 'topic-alias', '5']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'topic-alias', '70000']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'subscription-identifier', '3']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'puback', 'reason-string', 'x']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'connect', 'receive-maximum', '0']],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'payload-format-indicator', '2']],
  ['rr', ['-t', 'a', '-m', 'x']],
  ['rr', ['-t', 'a', '-m', 'x', '-e', 'r/+']],
  ['rr', ['-t', 'a', '-m', 'x', '-e']],
  ['rr', ['-t', 'a', '-m', 'x', '-e', 'r', '-E']],
];

describe('culex pub/sub/rr command-line errors match mosquitto_pub/_sub/_rr', () => {
  for (const [tool, args] of cases) {
    test(`${tool} ${args.join(' ') || '(no arguments)'}`, async () => {
      const expected = mosquitto(tool, args);
      const actual = await culex(tool, args);
      assert.equal(actual.stderr, asCulex(expected.stderr));
      assert.equal(actual.code, expected.code);
      // Usage on stdout (pub/rr without topic or message) is our own text; elsewhere stdout stays empty too.
      assert.equal(actual.stdout === '', expected.stdout === '');
    });
  }
});

describe('culex pub/sub/rr option values', () => {
  test('-m takes a value that starts with a dash (-m -x-), as mosquitto_pub does', () => {
    const r = parseClientArgs('pub', ['-t', 'a', '-m', '-x-']);
    assert.equal(r.kind, 'config');
    if (r.kind === 'config') assert.equal(r.config.message?.toString(), '-x-');
  });
  test('numbers are read like C atoi: -p 1883abc is port 1883, -q x is QoS 0', () => {
    const r = parseClientArgs('pub', ['-t', 'a', '-m', 'x', '-p', '1883abc', '-q', 'x']);
    assert.ok(r.kind === 'config');
    assert.equal(r.config.port, 1883);
    assert.equal(r.config.qos, 0);
  });
  test('-L splits user, password, host, port and topic; -D implies MQTT 5; -x -1 means never expires', () => {
    const r = parseClientArgs('sub', ['-L', 'mqtts://u:p:w@h.example:8884/a/#', '-D', 'subscribe', 'user-property', 'k', 'v',
      '-x', '-1', '-i', 'id']);
    assert.ok(r.kind === 'config');
    const c = r.config;
    assert.deepEqual([c.username, c.password, c.host, c.port, c.topics, c.tls.isUrlTls], ['u', 'p:w', 'h.example', 8884, ['a/#'], true]);
    assert.equal(c.protocolVersion, 5);
    assert.deepEqual(c.properties.subscribe.userProperties, [['k', 'v']]);
    assert.equal(c.properties.connect.sessionExpiryInterval, 0xffffffff);
  });
  test('-L ws:// and wss:// (beyond Mosquitto 2.0) select WebSocket', () => {
    const r = parseClientArgs('pub', ['-L', 'wss://h/t', '-m', 'x']);
    assert.ok(r.kind === 'config');
    assert.deepEqual([r.config.transport, r.config.port, r.config.tls.isUrlTls, r.config.topic], ['ws', 443, true, 't']);
  });
  test('--help prints usage and exits 1, like mosquitto_pub --help', async () => {
    const r = await culex('pub', ['--help']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Usage: culex pub/m);
    assert.equal(mosquitto('pub', ['--help']).code, 1);
  });
  test('--version prints the version and exits 1, like mosquitto_sub --version', async () => {
    const r = await culex('sub', ['--version']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^culex sub version \d+\.\d+\.\d+\.\n$/);
  });
});

describe('Mosquitto options Culex does not implement are refused, not ignored', () => {
  for (const args of [['--proxy', 'socks5h://h'], ['--psk', 'ab', '--psk-identity', 'i'], ['--tls-engine', 'e'],
    ['--cafile', 'ca', '--cert', 'c', '--key', 'k', '--keyform', 'engine']]) {
    test(`pub ${args.join(' ')}`, async () => {
      const r = await culex('pub', ['-t', 'a', '-m', 'x', ...args]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: --[a-z-]+( engine)? is not supported by culex pub\.\n$/);
    });
  }
});

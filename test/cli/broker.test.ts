/**
 * `culex broker` as a child process (bin/culex.js runs the compiled dist/: `npm run build` first). Listeners bind
 * 127.0.0.1 on port 0; the test reads the bound port from the "Opening ipv4 listen socket on port N." line.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const WAIT_MS = 5000;

interface Culex {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr (waiting for more output as needed). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function culex(t: TestContext, ...args: string[]): Culex {
  // In a temporary directory: the broker's default store (./data) must not land in the repository.
  const cwd = mkdtempSync(join(tmpdir(), 'culex-cwd-'));
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    });
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  });
  const waitFor = (pattern: RegExp): Promise<RegExpMatchArray> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${err}`)), WAIT_MS);
    const check = (): void => {
      const match = err.match(pattern);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(timer);
        reject(new Error(`culex exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${err}`));
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

function configFile(t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'culex.conf');
  writeFileSync(file, text);
  return file;
}

async function client(t: TestContext, port: number): Promise<MqttClient> {
  const c = await connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 2000 });
  t.after(() => c.endAsync(true));
  return c;
}

function nextMessage(c: MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    c.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() }));
  });
}

async function pubSubRoundTrip(t: TestContext, port: number, topic: string): Promise<void> {
  const sub = await client(t, port);
  await sub.subscribeAsync(topic, { qos: 1 });
  const received = nextMessage(sub);
  const pub = await client(t, port);
  await pub.publishAsync(topic, 'hello', { qos: 1 });
  assert.deepEqual(await received, { topic, payload: 'hello' });
}

describe('culex broker (child process)', { timeout: 60_000 }, () => {
  test('-p 0 -v: serves MQTT.js, logs every packet, exits 0 on SIGTERM', async (t) => {
    const conf = configFile(t, 'bind_address 127.0.0.1\nsys_interval 0\n');
    const broker = culex(t, 'broker', '-c', conf, '-p', '0', '-v');
    const [, port] = await broker.waitFor(/^\d+: Opening ipv4 listen socket on port (\d+)\.$/m);
    await broker.waitFor(/: culex version \S+ running$/m);
    assert.match(broker.stderr(), /^\d+: culex version \S+ starting$/m);
    assert.match(broker.stderr(), new RegExp(`^\\d+: Config loaded from ${conf.replaceAll('.', '\\.')}\\.$`, 'm'));

    await pubSubRoundTrip(t, Number(port), 'cli/test');
    // Mosquitto writes "Received PUBLISH from c1 (d0, ...)"; accept the client id before or after the details.
    await broker.waitFor(/: Received PUBLISH (from \S+ )?\(d0, q1, r0, m\d+, 'cli\/test', \.\.\. \(5 bytes\)\)/);
    assert.match(broker.stderr(), /: New client connected from 127\.0\.0\.1:\d+ as \S+ \(p2, c1, k60\)\./);

    broker.child.kill('SIGTERM');
    assert.deepEqual(await broker.exited, { code: 0, signal: null });
    assert.match(broker.stderr(), /: culex version \S+ terminating$/m);
    assert.doesNotMatch(broker.stderr(), /culex: Error|\n\s+at /);
  });

  test('several -p ports plus a listener line; without -v no packet lines; SIGINT exits 0', async (t) => {
    const conf = configFile(t, 'bind_address 127.0.0.1\nlistener 0 127.0.0.1\nconnection_messages false\n');
    const broker = culex(t, 'broker', '-c', conf, '-p', '0', '--port=0');
    await broker.waitFor(/: culex version \S+ running$/m);
    const ports = [...broker.stderr().matchAll(/Opening ipv4 listen socket on port (\d+)\./g)].map((m) => Number(m[1]));
    assert.equal(ports.length, 3);
    assert.equal(new Set(ports).size, 3);
    for (const port of ports) await pubSubRoundTrip(t, port, `cli/port/${port}`);

    broker.child.kill('SIGINT');
    assert.deepEqual(await broker.exited, { code: 0, signal: null });
    assert.doesNotMatch(broker.stderr(), /Received PUBLISH|New client connected/);
  });

  test('a port in use: a clear error and exit 1', async (t) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.after(() => holder.close());
    const { port } = holder.address() as AddressInfo;
    const conf = configFile(t, 'bind_address 127.0.0.1\n');
    const broker = culex(t, 'broker', '-c', conf, '-p', String(port));
    assert.deepEqual(await broker.exited, { code: 1, signal: null });
    assert.match(broker.stderr(),
      new RegExp(`^culex: Error: Unable to open listen socket on 127\\.0\\.0\\.1 port ${port}: Address already in use\\.$`, 'm'));
    assert.doesNotMatch(broker.stderr(), /\n\s+at /);
  });
});

describe('culex broker: usage and configuration errors', { timeout: 60_000 }, () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', ['-x'], /^culex: Error: Unknown option '-x'\.\nRun 'culex broker --help' for usage\.\n$/],
    ['-p without a value', ['-p'], /^culex: Error: Option '-p' needs a value\.\n/],
    ['a bad port', ['-p', '99999'], /^culex: Error: Invalid port '99999' for '-p' \(expected 1 to 65535, or 0 for any free port\)\.\n/],
    ['a stray argument', ['extra'], /^culex: Error: Unexpected argument 'extra'\.\n/],
    ['a missing config file', ['-c', '/nonexistent/culex.conf'],
      /^culex: Error: Unable to open config file \/nonexistent\/culex\.conf: ENOENT/],
  ];
  for (const [name, args, pattern] of cases) {
    test(`${name}: message on stderr, exit 1`, async (t) => {
      const broker = culex(t, 'broker', ...args);
      assert.deepEqual(await broker.exited, { code: 1, signal: null });
      assert.match(broker.stderr(), pattern);
      assert.equal(broker.stdout(), '');
    });
  }

  test('an unknown directive: exit 1 naming the file and line', async (t) => {
    const conf = configFile(t, '# culex\nport 1883\n\nallow_anonymous true\nauth_plugin /etc/culex/auth.so\n');
    const broker = culex(t, 'broker', '-c', conf);
    assert.deepEqual(await broker.exited, { code: 1, signal: null });
    assert.equal(broker.stderr(),
      `culex: Error: Unknown or unsupported configuration directive "auth_plugin" in ${conf}:5.\n`);
  });

  test('--help prints usage on stdout, exit 0', async (t) => {
    const broker = culex(t, 'broker', '--help');
    assert.deepEqual(await broker.exited, { code: 0, signal: null });
    assert.match(broker.stdout(), /^Usage: culex broker \[-c FILE\] \[-p PORT\]\.\.\. \[-v\] \[-h\]/);
  });
});

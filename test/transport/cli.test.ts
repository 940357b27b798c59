/**
 * `culex broker -c FILE` as a child process (bin/culex.js runs dist/: `npm run build` first) with TLS, mutual TLS,
 * WebSocket and Unix socket listeners from a mosquitto.conf; SIGHUP certificate reload without dropping a client;
 * log_dest file reopened on SIGHUP; start-up errors naming file and line.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect as connectPacket, Framer } from '../helpers/packets.ts';
import { generateCerts, type TestCerts } from './certs.ts';
import { mqttClient, roundTrip, runCommand } from './helpers.ts';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const WAIT_MS = 8000;

let certs: TestCerts;
before(() => { certs = generateCerts(); });
after(() => certs.remove());

interface Culex {
  readonly child: ChildProcess;
  stderr(): string;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function culex(t: TestContext, ...args: string[]): Culex {
  // --memory: the broker's default on-disk store (./data) must not land in the repository.
  const argv = args[0] === 'broker' ? [...args, '--memory'] : args;
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const waiters: (() => void)[] = [];
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      for (const w of waiters.splice(0)) w();
      resolve(code);
    });
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
        reject(new Error(`culex exited before ${pattern}:\n${err}`));
      } else {
        waiters.push(check);
      }
    };
    check();
  });
  return { child, stderr: () => err, waitFor, exited };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-cli-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The Common Name of the certificate a TLS server on `port` presents now. */
function serverCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: certs.read('ca.crt'), servername: 'localhost' }, () => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.destroy();
    });
    s.on('error', reject);
  });
}

describe('culex broker -c with TLS, WebSocket and Unix socket listeners', () => {
  test('every listener serves clients; SIGHUP swaps certificates without dropping a connected client', async (t) => {
    const dir = tempDir(t);
    copyFileSync(certs.path('server.crt'), join(dir, 'server.crt'));
    copyFileSync(certs.path('server.key'), join(dir, 'server.key'));
    const sock = join(dir, 'culex.sock');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, [
      'pid_file ' + join(dir, 'culex.pid'),
      'listener 0 127.0.0.1',
      'certfile ' + join(dir, 'server.crt'),
      'keyfile ' + join(dir, 'server.key'),
      'listener 0 127.0.0.1',
      'protocol websockets',
      'listener 0 127.0.0.1',
      'cafile ' + certs.path('ca.crt'),
      'certfile ' + join(dir, 'server.crt'),
      'keyfile ' + join(dir, 'server.key'),
      'require_certificate true',
      'use_identity_as_username true',
      `listener 0 ${sock}`,
      'set_tcp_nodelay true',
      '',
    ].join('\n'));
    const broker = culex(t, 'broker', '-c', conf);
    const ports = await broker.waitFor(/port (\d+) \(TLS\)\.\n.*websockets listen socket on port (\d+)\.\n.*port (\d+) \(TLS\)\.\n.*Opening unix listen socket on (.+)\.\n/);
    await broker.waitFor(/running/);
    const [tlsPort, wsPort, mtlsPort] = [Number(ports[1]), Number(ports[2]), Number(ports[3])];
    assert.equal(ports[4], sock);
    assert.match(broker.stderr(), /Warning: "set_tcp_nodelay" is ignored: Culex always sets TCP_NODELAY \(.*culex\.conf:14\)\./);
    assert.equal(readFileSync(join(dir, 'culex.pid'), 'utf8'), `${broker.child.pid}\n`);

    const overTls = await mqttClient(t, `mqtts://127.0.0.1:${tlsPort}`, { ca: certs.read('ca.crt'), clientId: 'steady' });
    let isDropped = false;
    overTls.on('close', () => { isDropped = true; });
    await roundTrip(overTls, 'cli/tls', 'tls');
    await roundTrip(await mqttClient(t, `ws://127.0.0.1:${wsPort}/mqtt`), 'cli/ws', 'ws');
    const mutual = await mqttClient(t, `mqtts://127.0.0.1:${mtlsPort}`, {
      ca: certs.read('ca.crt'), cert: certs.read('alice.crt'), key: certs.read('alice.key'), clientId: 'mutual',
    });
    await roundTrip(mutual, 'cli/mtls', 'mtls');
    await broker.waitFor(/New client connected from 127\.0\.0\.1:\d+ as mutual \(p2, c1, k60, u'alice'\)\./);
    const unix = netConnect(sock);
    t.after(() => unix.destroy());
    const framer = new Framer(4);
    const unixConnack = new Promise<string>((resolve) => unix.on('data', (d: Buffer) => resolve(framer.push(d)[0]!.type)));
    unix.write(connectPacket({ clientId: 'over-unix' }));
    assert.equal(await unixConnack, 'connack');
    if (existsSync('/usr/bin/mosquitto_pub')) {
      const pub = await runCommand('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile',
        certs.path('ca.crt'), '-t', 'cli/tls', '-m', 'from mosquitto_pub', '-q', '1']);
      assert.equal(pub.code, 0, pub.stderr);
    }

    assert.equal(await serverCn(tlsPort), 'localhost');
    copyFileSync(certs.path('server2.crt'), join(dir, 'server.crt'));
    copyFileSync(certs.path('server2.key'), join(dir, 'server.key'));
    broker.child.kill('SIGHUP');
    await broker.waitFor(/Reloaded TLS certificates of listener .*culex\.conf:2\.\n/);
    await broker.waitFor(/Reloaded TLS certificates of listener .*culex\.conf:7\.\n/);
    assert.equal(await serverCn(tlsPort), 'localhost-reloaded');
    assert.equal(await serverCn(mtlsPort), 'localhost-reloaded');
    await roundTrip(overTls, 'cli/after-reload', 'still connected');
    assert.equal(isDropped, false);

    broker.child.kill('SIGTERM');
    assert.equal(await broker.exited, 0);
    assert.equal(existsSync(join(dir, 'culex.pid')), false);
  });

  test('SIGHUP with an unreadable certificate keeps the old one and logs why', async (t) => {
    const dir = tempDir(t);
    copyFileSync(certs.path('server.crt'), join(dir, 'server.crt'));
    copyFileSync(certs.path('server.key'), join(dir, 'server.key'));
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `listener 0 127.0.0.1\ncertfile ${join(dir, 'server.crt')}\nkeyfile ${join(dir, 'server.key')}\n`);
    const broker = culex(t, 'broker', '-c', conf);
    const port = Number((await broker.waitFor(/port (\d+) \(TLS\)\./))[1]);
    await broker.waitFor(/running/);
    rmSync(join(dir, 'server.crt'));
    broker.child.kill('SIGHUP');
    await broker.waitFor(/TLS certificates of listener .*culex\.conf:1 not reloaded: Unable to load certfile/);
    assert.equal(await serverCn(port), 'localhost');
  });

  test('log_dest file: lines go to the file, and SIGHUP reopens it after rotation', async (t) => {
    const dir = tempDir(t);
    const logFile = join(dir, 'culex.log');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `listener 0 127.0.0.1\nlog_dest file ${logFile}\nlog_dest stderr\n`);
    const broker = culex(t, 'broker', '-c', conf);
    await broker.waitFor(/running/);
    assert.match(readFileSync(logFile, 'utf8'), /culex version .* running\n/);
    renameSync(logFile, `${logFile}.1`);
    broker.child.kill('SIGHUP');
    await broker.waitFor(/Reloading config\./);
    broker.child.kill('SIGTERM');
    assert.equal(await broker.exited, 0);
    assert.match(readFileSync(`${logFile}.1`, 'utf8'), /running\n/);
    assert.match(readFileSync(logFile, 'utf8'), /terminating\n/);
  });
});

describe('culex broker -c start-up errors', () => {
  test('a missing certfile stops the start, naming the listener line and the file', async (t) => {
    const dir = tempDir(t);
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `# tls\nlistener 0 127.0.0.1\ncertfile ${dir}/missing.crt\nkeyfile ${dir}/missing.key\n`);
    const broker = culex(t, 'broker', '-c', conf);
    assert.equal(await broker.exited, 1);
    assert.match(broker.stderr(), new RegExp(`culex: Error: Listener at ${conf}:2: Unable to load certfile "${dir}/missing.crt": ENOENT`));
  });

  test('an unsupported directive in an include_dir file names that file and line', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'extra.conf'), '# extra\nlistener 0 127.0.0.1\nmount_point tenant/\n');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `include_dir ${join(dir, 'conf.d')}\n`);
    const broker = culex(t, 'broker', '-c', conf);
    assert.equal(await broker.exited, 1);
    assert.equal(broker.stderr(), 'culex: Error: Unknown or unsupported configuration directive "mount_point" in '
      + `${join(dir, 'conf.d', 'extra.conf')}:3.\n`);
  });

  test('require_certificate without a CA stops the start, naming the listener line', async (t) => {
    const dir = tempDir(t);
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, 'listener 8883\ncertfile /c\nkeyfile /k\nrequire_certificate true\n');
    const broker = culex(t, 'broker', '-c', conf);
    assert.equal(await broker.exited, 1);
    assert.equal(broker.stderr(), `culex: Error: Listener at ${conf}:1: "require_certificate true" needs "cafile" or `
      + '"capath" to check client certificates.\n');
  });
});

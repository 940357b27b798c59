/**
 * `culex broker -c` with auth directives, as a child process: password and ACL files loaded at start, re-read on
 * SIGHUP (a broken file keeps the previous one), startup errors with file and line, JWT from a secret file, and
 * per_listener_settings giving each listener its own password file.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import mqtt from 'mqtt';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const WAIT_MS = 15_000;

interface Child {
  stderr(): string;
  waitFor(pattern: RegExp, from?: number): Promise<RegExpMatchArray>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

function startCulex(t: TestContext, ...args: string[]): Child {
  // --memory: the broker's default on-disk store (./data) must not land in the repository.
  const argv = args[0] === 'broker' ? [...args, '--memory'] : args;
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const waiters = new Set<() => void>();
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    for (const w of Array.from(waiters)) w();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    for (const w of Array.from(waiters)) w();
    resolve(code);
  }));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    stderr: () => err,
    signal: (name) => { child.kill(name); },
    exited,
    waitFor: (pattern, from = 0) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${pattern} in:\n${err}`));
      }, WAIT_MS);
      function check(): void {
        const match = err.slice(from).match(pattern);
        if (match !== null || child.exitCode !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          if (match !== null) resolve(match);
          else reject(new Error(`culex exited before ${pattern}:\n${err}`));
        }
      }
      waiters.add(check);
      check();
    }),
  };
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-auth-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function passwd(file: string, ...args: string[]): void {
  execFileSync(process.execPath, [bin, 'passwd', ...args.slice(0, -2), file, ...args.slice(-2)]);
}

async function tryLogin(t: TestContext, port: number, username: string, password: string): Promise<'ok' | number> {
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username, password, reconnectPeriod: 0, connectTimeout: 5000,
    });
    t.after(() => c.end(true));
    return 'ok';
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

async function ports(broker: Child, count = 1): Promise<number[]> {
  await broker.waitFor(/running/);
  return [...broker.stderr().matchAll(/Opening ipv4 listen socket on port (\d+)\./g)].slice(0, count).map((m) => Number(m[1]));
}

describe('culex broker with password_file and acl_file', { timeout: 120_000 }, () => {
  test('loads both at start; SIGHUP re-reads them; a broken file keeps the previous one', async (t) => {
    const dir = tempDir(t);
    const pw = join(dir, 'pw');
    const acl = join(dir, 'acl');
    passwd(pw, '-c', '-b', 'alice', 'alice-pw');
    writeFileSync(acl, 'user alice\ntopic readwrite alice/#\n');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `listener 0 127.0.0.1\npassword_file ${pw}\nacl_file ${acl}\nculex_login_backoff_initial_ms 0\n`);
    const broker = startCulex(t, 'broker', '-c', conf);
    const [port] = await ports(broker);
    assert.equal(await tryLogin(t, port!, 'alice', 'alice-pw'), 'ok');
    assert.equal(await tryLogin(t, port!, 'bob', 'bob-pw'), 5, 'bob is not in the file yet');
    assert.equal(await tryLogin(t, port!, 'anon', ''), 5);

    const alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${port!}`, {
      username: 'alice', password: 'alice-pw', reconnectPeriod: 0, protocolVersion: 5,
    });
    t.after(() => alice.end(true));
    await assert.rejects(alice.publishAsync('shared/x', 'no', { qos: 1 }), (e: { code?: number }) => e.code === 0x87);

    passwd(pw, '-b', 'bob', 'bob-pw');
    writeFileSync(acl, 'user alice\ntopic readwrite alice/#\ntopic readwrite shared/#\n');
    let mark = broker.stderr().length;
    broker.signal('SIGHUP');
    await broker.waitFor(/Reloaded acl_file/, mark);
    assert.equal(await tryLogin(t, port!, 'bob', 'bob-pw'), 'ok', 'the reloaded password file knows bob');
    await alice.publishAsync('shared/x', 'yes', { qos: 1 });

    writeFileSync(acl, 'user alice\nbogus line\n');
    writeFileSync(pw, '');
    rmSync(pw);
    mark = broker.stderr().length;
    broker.signal('SIGHUP');
    const failure = await broker.waitFor(/reloading acl_file .* failed, keeping the previous one: (.*)/, mark);
    assert.match(failure[1]!, /Invalid line in acl_file: bogus line in .*acl:2\./);
    await broker.waitFor(/reloading password file .* failed/, mark);
    await alice.publishAsync('shared/x', 'still', { qos: 1 });
    assert.equal(await tryLogin(t, port!, 'bob', 'bob-pw'), 'ok', 'the previous password table is kept');

    broker.signal('SIGTERM');
    assert.equal(await broker.exited, 0);
  });

  test('startup errors: a missing password file, an ACL error with file and line', async (t) => {
    const dir = tempDir(t);
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `listener 0 127.0.0.1\npassword_file ${join(dir, 'missing')}\n`);
    const missing = startCulex(t, 'broker', '-c', conf);
    assert.equal(await missing.exited, 1);
    assert.match(missing.stderr(), /culex: Error: Unable to open pwfile ".*missing": ENOENT/);
    const acl = join(dir, 'acl');
    writeFileSync(acl, '# ok\ntopic read a/#\ntopic sometimes b\n');
    writeFileSync(conf, `listener 0 127.0.0.1\nacl_file ${acl}\n`);
    const bad = startCulex(t, 'broker', '-c', conf);
    assert.equal(await bad.exited, 1);
    assert.equal(bad.stderr().trim().split('\n').at(-1),
      `culex: Error: Invalid topic access type "sometimes" in acl_file in ${acl}:3.`);
  });

  test('JWT from culex_jwt_secret_file beside a password file', async (t) => {
    const dir = tempDir(t);
    const secret = join(dir, 'jwt.secret');
    writeFileSync(secret, 'a secret for the test token signing\n');
    const pw = join(dir, 'pw');
    passwd(pw, '-c', '-b', 'alice', 'alice-pw');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `listener 0 127.0.0.1\npassword_file ${pw}\nculex_jwt_secret_file ${secret}\n`
      + 'culex_jwt_algorithms HS256\nculex_login_backoff_initial_ms 0\n');
    const broker = startCulex(t, 'broker', '-c', conf);
    const [port] = await ports(broker);
    const token = await new SignJWT({ publish: ['dev/#'] }).setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h').sign(Buffer.from('a secret for the test token signing'));
    assert.equal(await tryLogin(t, port!, 'device', token), 'ok');
    assert.equal(await tryLogin(t, port!, 'alice', 'alice-pw'), 'ok');
    assert.equal(await tryLogin(t, port!, 'device', `${token.slice(0, -2)}xx`), 5);
  });

  test('per_listener_settings: each listener checks its own password file', async (t) => {
    const dir = tempDir(t);
    const pw1 = join(dir, 'pw1');
    const pw2 = join(dir, 'pw2');
    passwd(pw1, '-c', '-b', 'one', 'one-pw');
    passwd(pw2, '-c', '-b', 'two', 'two-pw');
    const conf = join(dir, 'culex.conf');
    writeFileSync(conf, `per_listener_settings true\nculex_login_backoff_initial_ms 0\n`
      + `listener 0 127.0.0.1\npassword_file ${pw1}\n`
      + `listener 0 127.0.0.1\npassword_file ${pw2}\n`
      + 'listener 0 127.0.0.1\nallow_anonymous true\n');
    const broker = startCulex(t, 'broker', '-c', conf);
    const [p1, p2, p3] = await ports(broker, 3);
    assert.equal(await tryLogin(t, p1!, 'one', 'one-pw'), 'ok');
    assert.equal(await tryLogin(t, p1!, 'two', 'two-pw'), 5);
    assert.equal(await tryLogin(t, p2!, 'two', 'two-pw'), 'ok');
    assert.equal(await tryLogin(t, p2!, 'one', 'one-pw'), 5);
    assert.equal(await tryLogin(t, p3!, 'anyone', 'x'), 'ok', 'the third listener checks nothing');
  });
});

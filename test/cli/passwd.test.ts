/**
 * `culex passwd` beside mosquitto_passwd: the same arguments give the same messages and exit codes, files written
 * by either are read by the other (and by both brokers: see test/auth/mosquitto-interop.test.ts).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePasswordFile } from '../../src/auth/password-file.js';
import { verifyPassword } from '../../src/auth/password-hash.js';
import type { Cleanup } from '../helpers/raw-client.js';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const passwdSkip = existsSync(MOSQUITTO_PASSWD) ? false : `${MOSQUITTO_PASSWD} not found`;
const scriptSkip = existsSync('/usr/bin/script') ? false : '/usr/bin/script (util-linux) not found';

interface Result { code: number | null; stdout: string; stderr: string }

function runTool(command: string, args: string[], input = '', cwd?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading its input (EPIPE)
    child.stdin.end(input);
  });
}

const culex = (args: string[], input = '', cwd?: string) => runTool(process.execPath, [bin, 'passwd', ...args], input, cwd);

function tempDir(t: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-passwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function passwordOf(file: string, user: string, password: string): Promise<boolean> {
  const entry = parsePasswordFile(readFileSync(file, 'utf8'), file).users.get(user);
  assert.ok(entry, `${user} in ${file}`);
  return verifyPassword(Buffer.from(password), entry);
}

describe('culex passwd', () => {
  test('-c -b creates, -b adds and updates, -D deletes; other lines are kept', async (t) => {
    const file = join(tempDir(t), 'pw');
    assert.equal((await culex(['-c', '-b', file, 'alice', 'one'])).code, 0);
    assert.match(readFileSync(file, 'utf8'), /^alice:\$7\$210000\$[^$]+\$[^$]+\n$/);
    writeFileSync(file, `# staff\n${readFileSync(file, 'utf8')}`);
    chmodSync(file, 0o640);
    assert.equal((await culex(['-b', file, 'bob', 'two'])).code, 0);
    assert.equal((await culex(['-b', file, 'alice', 'three'])).code, 0);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['# staff', 'alice', 'bob', '']);
    assert.equal(await passwordOf(file, 'alice', 'three'), true);
    assert.equal(await passwordOf(file, 'bob', 'two'), true);
    assert.equal(statSync(file).mode & 0o777, 0o640, 'mode kept');
    assert.deepEqual(await culex(['-D', file, 'alice']), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')[0]), ['# staff', 'bob', '']);
  });

  test('prompts twice on stdout; mismatch exits 2, empty exits 1, as mosquitto_passwd', async (t) => {
    const file = join(tempDir(t), 'pw');
    const ok = await culex(['-c', file, 'carol'], 'pw1\npw1\n');
    assert.deepEqual(ok, { code: 0, stdout: 'Password: \nReenter password: \n', stderr: '' });
    assert.equal(await passwordOf(file, 'carol', 'pw1'), true);
    assert.deepEqual(await culex([file, 'carol'], 'a\nb\n'),
      { code: 2, stdout: 'Password: \nReenter password: \n', stderr: 'Error: Passwords do not match.\n' });
    assert.deepEqual(await culex([file, 'carol'], '\n'),
      { code: 1, stdout: 'Password: ', stderr: 'Error: Empty password.\n' });
    assert.deepEqual(await culex([file, 'carol'], 'only-once\n'),
      { code: 1, stdout: 'Password: \nReenter password: ', stderr: 'Error: Empty password.\n' });
    assert.equal(await passwordOf(file, 'carol', 'pw1'), true, 'unchanged after the failures');
  });

  test('on a terminal the password is not echoed (a pty from util-linux script)', { skip: scriptSkip }, async (t) => {
    const file = join(tempDir(t), 'pw');
    const child = spawn('/usr/bin/script', ['-qec', `${process.execPath} ${bin} passwd -c ${file} tty`, '/dev/null'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const waitFor = (text: string) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${text}' in: ${out}`)), 10_000);
      const check = (): void => {
        if (!out.includes(text)) return;
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      check();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await waitFor('Password: ');
    child.stdin.write('typed-secret\r');
    await waitFor('Reenter password: ');
    child.stdin.write('typed-secret\r');
    assert.equal(await exited, 0, out);
    assert.equal(out.includes('typed-secret'), false, `echoed: ${JSON.stringify(out)}`);
    assert.equal(await passwordOf(file, 'tty', 'typed-secret'), true);
  });

  test('-U hashes a plain-text file in place', async (t) => {
    const file = join(tempDir(t), 'plain');
    writeFileSync(file, 'u1:first\nu2:second:with:colons\n');
    assert.equal((await culex(['-U', file])).code, 0);
    assert.equal(await passwordOf(file, 'u1', 'first'), true);
    assert.equal(await passwordOf(file, 'u2', 'second:with:colons'), true);
  });

  test('-H sha512 writes the $6$ format', async (t) => {
    const file = join(tempDir(t), 'pw');
    assert.equal((await culex(['-H', 'sha512', '-c', '-b', file, 'old', 'pw'])).code, 0);
    assert.match(readFileSync(file, 'utf8'), /^old:\$6\$/);
    assert.equal(await passwordOf(file, 'old', 'pw'), true);
  });

  // Each case runs in a fresh directory holding `pw` (alice) against both tools: same stderr, same exit code.
  const cases: [string, string[]][] = [
    ['no arguments', []],
    ['-c and -D together', ['-c', '-D', 'pw', 'alice']],
    ['-b and -D together', ['-b', '-D', 'pw', 'alice', 'x']],
    ['-c and -U together', ['-c', '-U', 'pw']],
    ['-D and -U together', ['-D', '-U', 'pw']],
    ['-c without a username', ['-c', 'pw']],
    ['-D without a username', ['-D', 'pw']],
    ['-U without a file', ['-U']],
    ['-U with two files', ['-U', 'pw', 'other']],
    ['-H alone', ['-H']],
    ['an unknown hash', ['-H', 'md5', '-b', 'pw', 'u', 'p']],
    ['batch without a password', ['-b', 'pw', 'u']],
    ['a file only', ['pw']],
    ['three arguments without -b', ['pw', 'u', 'extra']],
    ['a username with a colon', ['-b', 'pw', 'a:b', 'x']],
    ['a missing file', ['-b', 'missing', 'u', 'p']],
    ['deleting from a missing file', ['-D', 'missing', 'u']],
    ['deleting an unknown user', ['-D', 'pw', 'nobody']],
    ['an unwritable path', ['-c', '-b', 'no/such/dir/pw', 'u', 'p']],
    ['a username too long', ['-b', 'pw', 'u'.repeat(65_536), 'p']],
    ['a password too long', ['-b', 'pw', 'u', 'p'.repeat(65_536)]],
  ];
  for (const [name, args] of cases) {
    test(`${name}: same message and exit code as mosquitto_passwd`, { skip: passwdSkip }, async (t) => {
      const results: Result[] = [];
      for (const tool of ['mosquitto', 'culex'] as const) {
        const dir = tempDir(t);
        writeFileSync(join(dir, 'pw'), 'alice:$7$101$9pnYrBhQF4H4c/Uj$52k2d+prPYBZ837sLnjUmcXLwfLDvvgiAMJEGSzyJuWI+8qxtBaGzVzbxlP1CdUCE3HBTkb23I2hSnCo8UHXcw==\n');
        results.push(tool === 'mosquitto' ? await runTool(MOSQUITTO_PASSWD, args, '', dir) : await culex(args, '', dir));
      }
      const [m, c] = results as [Result, Result];
      assert.equal(c.code, m.code, `exit code; culex stderr: ${c.stderr}`);
      assert.equal(c.stderr, m.stderr);
      // The usage text names the command, so compare only whether usage was printed.
      assert.equal(c.stdout.includes('Usage: culex passwd'), m.stdout.includes('Usage: mosquitto_passwd'));
    });
  }

  test('a file from mosquitto_passwd is updated by culex passwd and read back by both', { skip: passwdSkip },
    async (t) => {
      const file = join(tempDir(t), 'pw');
      assert.equal((await runTool(MOSQUITTO_PASSWD, ['-c', '-b', file, 'm', 'mosq'])).code, 0);
      assert.equal((await culex(['-b', file, 'c', 'culex'])).code, 0);
      assert.equal((await runTool(MOSQUITTO_PASSWD, ['-b', file, 'm2', 'again'])).code, 0);
      assert.equal(await passwordOf(file, 'm', 'mosq'), true);
      assert.equal(await passwordOf(file, 'c', 'culex'), true);
      assert.equal(await passwordOf(file, 'm2', 'again'), true);
      assert.equal((await runTool(MOSQUITTO_PASSWD, ['-D', file, 'c'])).code, 0, 'mosquitto_passwd reads our lines');
    });
});

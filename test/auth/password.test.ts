import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, parsePasswordHash, verifyPassword, DEFAULT_ITERATIONS } from '../../src/auth/password-hash.js';
import { parsePasswordFile, PasswordFileAuth } from '../../src/auth/password-file.js';
import { silentLogger } from '../../src/broker/logger.js';

const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const passwdSkip = existsSync(MOSQUITTO_PASSWD) ? false : `${MOSQUITTO_PASSWD} not found`;

/** Written by Debian's mosquitto_passwd 2.0.11: carol/c with -H sha512, bob/a with the default (101 iterations). */
const DEBIAN_SHA512 = '$6$SLbEE+tMGgLOsfxl$CSvma/hGOefJIlFW+QUSvpzFIbZan/mCWUrosCirMpZWSpQ2Q/wOiBNtoT180Vc/U0PSxZE3JFBU6WMW0+1ksQ==';
const DEBIAN_PBKDF2 = '$7$101$9pnYrBhQF4H4c/Uj$52k2d+prPYBZ837sLnjUmcXLwfLDvvgiAMJEGSzyJuWI+8qxtBaGzVzbxlP1CdUCE3HBTkb23I2hSnCo8UHXcw==';

function parsed(text: string) {
  const p = parsePasswordHash(text);
  assert.notEqual(typeof p, 'string', String(p));
  return p as Exclude<typeof p, string>;
}

describe('password hashes ($6$ and $7$, as mosquitto_passwd writes them)', () => {
  test('reads a $7$ entry with 101 iterations and a $6$ entry written by Debian mosquitto_passwd', async () => {
    assert.equal(await verifyPassword(Buffer.from('a'), parsed(DEBIAN_PBKDF2)), true);
    assert.equal(await verifyPassword(Buffer.from('b'), parsed(DEBIAN_PBKDF2)), false);
    assert.equal(await verifyPassword(Buffer.from('c'), parsed(DEBIAN_SHA512)), true);
    assert.equal(await verifyPassword(Buffer.from('C'), parsed(DEBIAN_SHA512)), false);
  });

  test(`writes $7$ with ${DEFAULT_ITERATIONS} iterations, a 12-byte salt and a 64-byte hash`, async () => {
    const text = await hashPassword(Buffer.from('pässword'));
    const m = /^\$7\$(\d+)\$([^$]+)\$([^$]+)$/.exec(text);
    assert.ok(m, text);
    assert.equal(Number(m[1]), 210_000);
    assert.equal(Buffer.from(m[2]!, 'base64').length, 12);
    assert.equal(Buffer.from(m[3]!, 'base64').length, 64);
    assert.equal(await verifyPassword(Buffer.from('pässword'), parsed(text)), true);
    assert.equal(await verifyPassword(Buffer.from('password'), parsed(text)), false);
  });

  test('any iteration count is read; a $6$ hash can still be written', async () => {
    const text = await hashPassword(Buffer.from('x'), { iterations: 7 });
    assert.match(text, /^\$7\$7\$/);
    assert.equal(await verifyPassword(Buffer.from('x'), parsed(text)), true);
    const old = await hashPassword(Buffer.from('x'), { kind: 'sha512' });
    assert.match(old, /^\$6\$[^$]+\$[^$]+$/);
    assert.equal(await verifyPassword(Buffer.from('x'), parsed(old)), true);
  });

  test('hashing runs off the event loop: timers keep firing during a 210,000-iteration hash', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    try {
      await hashPassword(Buffer.from('slow'));
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'the event loop was blocked for the whole hash');
  });

  const bad: [string, string][] = [
    ['plain', 'invalid password hash type'],
    ['$5$abc$def', 'invalid password hash type'],
    ['$7$101$abc', 'malformed password hash'],
    ['$7$0$8YeYR1V1yqf6Qhbc$x', 'invalid iteration count'],
    ['$7$x$8YeYR1V1yqf6Qhbc$x', 'invalid iteration count'],
    ['$7$101$!!$' + 'A'.repeat(88), 'unable to decode password salt'],
    ['$7$101$8YeYR1V1yqf6Qhbc$AAAA', 'unable to decode password hash'],
    ['$6$xx$yy', 'unable to decode password hash'],
  ];
  for (const [text, problem] of bad) {
    test(`"${text.slice(0, 30)}" is refused: ${problem}`, () => {
      assert.equal(parsePasswordHash(text), problem);
    });
  }
});

describe('password file', () => {
  test('comments and blank lines are skipped; bad entries are dropped with Mosquitto\'s messages', () => {
    const text = `# users\n\n  alice:${DEBIAN_PBKDF2}  \nbob\n:${DEBIAN_PBKDF2}\ncarol:plain\r\n`;
    const { users, problems } = parsePasswordFile(text, 'pw');
    assert.deepEqual([...users.keys()], ['alice', 'bob', 'carol']);
    assert.equal(users.get('bob'), undefined);
    assert.equal(users.get('carol'), undefined);
    assert.deepEqual(problems, [
      `Warning: Invalid line in password file 'pw': :${DEBIAN_PBKDF2}`,
      'Error: Invalid password hash type for user carol, removing entry.',
    ]);
  });

  test('the link: known user allow/deny, listed user without hash deny, unknown user and no username next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-pw-'));
    try {
      const file = join(dir, 'pw');
      execFileSync('sh', ['-c', `printf '%s\\n' 'alice:${DEBIAN_PBKDF2}' 'bob' > ${file}`]);
      const link = new PasswordFileAuth(file, silentLogger);
      await link.load();
      const ask = (username: string | undefined, password: string | undefined) => link.authenticate({
        clientId: 'c', username, password: password === undefined ? undefined : Buffer.from(password),
        remoteAddress: undefined, protocolVersion: 4,
      });
      assert.equal(await ask('alice', 'a'), 'allow');
      assert.equal(await ask('alice', 'x'), 'deny');
      assert.equal(await ask('alice', undefined), 'deny');
      assert.equal(await ask('bob', 'anything'), 'deny');
      assert.equal(await ask('nobody', 'a'), 'next');
      assert.equal(await ask(undefined, 'a'), 'next');
      await assert.rejects(new PasswordFileAuth(join(dir, 'missing'), silentLogger).load(), /Unable to open pwfile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file written now by mosquitto_passwd (-c, -b, -H sha512) verifies', { skip: passwdSkip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-pw-'));
    try {
      const file = join(dir, 'pw');
      execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', file, 'u1', 'secret one']);
      execFileSync(MOSQUITTO_PASSWD, ['-H', 'sha512', '-b', file, 'u2', 'secret:two']);
      const { users, problems } = parsePasswordFile(readFileSync(file, 'utf8'), file);
      assert.deepEqual(problems, []);
      assert.equal(await verifyPassword(Buffer.from('secret one'), users.get('u1')!), true);
      assert.equal(await verifyPassword(Buffer.from('secret:two'), users.get('u2')!), true);
      assert.equal(await verifyPassword(Buffer.from('secret two'), users.get('u2')!), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

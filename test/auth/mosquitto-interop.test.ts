/**
 * Password and ACL files shared with the real Mosquitto (Debian 2.0): a file written by mosquitto_passwd logs in to
 * Culex, a file written by `culex passwd` logs in to Mosquitto, and the same ACL file gives the same publish results
 * and the same deliveries on both brokers (users × topics × read/write).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { AclFileAuth } from '../../src/auth/acl-file.js';
import { PasswordFileAuth } from '../../src/auth/password-file.js';
import { silentLogger } from '../../src/broker/logger.js';
import { brokerFor } from '../helpers/broker.js';
import { mosquittoFor, mosquittoSkip } from '../helpers/mosquitto.js';
import type { Cleanup } from '../helpers/raw-client.js';

const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';
const skip = mosquittoSkip !== false ? mosquittoSkip
  : existsSync(MOSQUITTO_PASSWD) ? false : `${MOSQUITTO_PASSWD} not found`;
const culexBin = new URL('../../bin/culex.js', import.meta.url).pathname;

/** Refused logins, by protocol: MQTT.js rejects connectAsync with the CONNACK code. */
async function login(t: Cleanup, port: number, username: string, password: string, protocolVersion: 4 | 5 = 4):
Promise<'ok' | number> {
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username, password, protocolVersion, reconnectPeriod: 0, connectTimeout: 3000,
    });
    t.after(() => client.end(true));
    return 'ok';
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** Mosquitto drops root privileges to `mosquitto` and must still read the files in its directory. */
function readableByAll(dir: string, ...files: string[]): void {
  chmodSync(dir, 0o755);
  for (const f of files) chmodSync(f, 0o644);
}

describe('password files shared with Mosquitto', { skip }, () => {
  test('Culex accepts a file written by Debian mosquitto_passwd ($7$ and -H sha512 $6$)', async (t) => {
    const mosquitto = await mosquittoFor(t, {});
    const file = join(mosquitto.dir, 'pw');
    execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', file, 'alice', 'alice-pw']);
    execFileSync(MOSQUITTO_PASSWD, ['-H', 'sha512', '-b', file, 'old', 'old-pw']);
    const link = new PasswordFileAuth(file, silentLogger);
    await link.load();
    const { port } = await brokerFor(t, { authLinks: [link] });
    assert.equal(await login(t, port, 'alice', 'alice-pw'), 'ok');
    assert.equal(await login(t, port, 'old', 'old-pw', 5), 'ok');
    assert.equal(await login(t, port, 'alice', 'wrong'), 5, 'CONNACK 5 Not authorized, as Mosquitto answers');
    assert.equal(await login(t, port, 'alice', 'wrong', 5), 0x87);
    assert.equal(await login(t, port, 'nobody', 'x'), 5);
  });

  test('Mosquitto accepts a file written by culex passwd ($7$, 210,000 iterations)', async (t) => {
    const probe = await mosquittoFor(t, {});
    const file = join(probe.dir, 'culex-pw');
    execFileSync(process.execPath, [culexBin, 'passwd', '-c', '-b', file, 'carol', 'carol-pw']);
    execFileSync(process.execPath, [culexBin, 'passwd', '-b', file, 'dave', 'dave-pw']);
    readableByAll(probe.dir, file);
    const mosquitto = await mosquittoFor(t, { config: [`password_file ${file}`, 'allow_anonymous false'] });
    assert.equal(await login(t, mosquitto.port, 'carol', 'carol-pw'), 'ok', mosquitto.log());
    assert.equal(await login(t, mosquitto.port, 'dave', 'dave-pw', 5), 'ok');
    assert.equal(await login(t, mosquitto.port, 'carol', 'dave-pw'), 5);
  });
});

const ACL = `# anonymous clients
topic read anon/#
topic readwrite shared/#

user admin
topic readwrite #
user alice
topic readwrite a/#
topic read r/#
topic write w/#
topic deny a/secret/#
topic read wild/+/x
topic a/plain
pattern readwrite p/%u/#
pattern read c/%c
pattern write pw/%u
user bob
topic readwrite b/#
`;
const USERS = ['anon', 'alice', 'bob', 'carol'] as const;
const TOPICS = ['anon/x', 'shared/x', 'a/x', 'a/secret/x', 'r/x', 'w/x', 'wild/1/x', 'wild/1/y', 'a/plain',
  'p/alice/x', 'p/bob/x', 'c/r-alice', 'c/r-bob', 'pw/alice', 'pw/carol', 'b/x', 'other', '$SYS/x'];

function options(user: string, clientId: string): mqtt.IClientOptions {
  const o: mqtt.IClientOptions = { protocolVersion: 5, reconnectPeriod: 0, clientId, connectTimeout: 3000 };
  if (user !== 'anon') {
    o.username = user;
    o.password = `${user}-pw`;
  }
  return o;
}

/**
 * Per user: the MQTT 5 PUBACK result of publishing to each topic, and the topics received through a `#` and a
 * `$SYS/#` subscription when `admin` (who may write everything) publishes to every topic.
 */
async function aclMatrix(t: Cleanup, port: number): Promise<Record<string, { publish: string[]; read: string[] }>> {
  const url = `mqtt://127.0.0.1:${port}`;
  const out: Record<string, { publish: string[]; read: string[] }> = {};
  for (const user of USERS) {
    const entry = { publish: [] as string[], read: [] as string[] };
    out[user] = entry;
    const writer = await mqtt.connectAsync(url, options(user, `w-${user}`));
    for (const topic of TOPICS) {
      entry.publish.push(await writer.publishAsync(topic, user, { qos: 1 }).then(() => 'ok',
        (err: { code?: number }) => String(err.code)));
    }
    await writer.endAsync();
  }
  for (const user of USERS) {
    const reader = await mqtt.connectAsync(url, options(user, `r-${user}`));
    t.after(() => reader.end(true));
    reader.on('message', (topic) => { out[user]!.read.push(topic); });
    // Mosquitto grants every filter; Culex refuses one it could never deliver through. Deliveries must agree.
    for (const filter of ['#', '$SYS/#']) await reader.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
  }
  const admin = await mqtt.connectAsync(url, options('admin', 'w-admin'));
  for (const topic of TOPICS) await admin.publishAsync(topic, 'admin', { qos: 1 }).catch(() => undefined);
  await admin.endAsync();
  await new Promise((r) => setTimeout(r, 400));
  for (const entry of Object.values(out)) entry.read.sort();
  return out;
}

describe('the same ACL file on Culex and Mosquitto', { skip }, () => {
  test('ACL matrix: users × topics × publish/deliver agree', async (t) => {
    const probe = await mosquittoFor(t, {});
    const pw = join(probe.dir, 'pw');
    const acl = join(probe.dir, 'acl');
    execFileSync(MOSQUITTO_PASSWD, ['-c', '-b', pw, 'admin', 'admin-pw']);
    for (const u of ['alice', 'bob', 'carol']) execFileSync(MOSQUITTO_PASSWD, ['-b', pw, u, `${u}-pw`]);
    writeFileSync(acl, ACL);
    readableByAll(probe.dir, pw, acl);
    const mosquitto = await mosquittoFor(t, {
      config: [`password_file ${pw}`, `acl_file ${acl}`, 'allow_anonymous true'],
    });
    const passwords = new PasswordFileAuth(pw, silentLogger);
    await passwords.load();
    const aclLink = new AclFileAuth(acl);
    await aclLink.load();
    const culex = await brokerFor(t, { authLinks: [passwords, aclLink], allowAnonymous: true, sysIntervalSeconds: 0 });

    const expected = await aclMatrix(t, mosquitto.port);
    const actual = await aclMatrix(t, culex.port);
    // The matrix is not trivial: some writes and some reads are allowed, some refused with 0x87.
    assert.ok(expected['alice']!.publish.includes('ok') && expected['alice']!.publish.includes('135'));
    assert.ok(expected['alice']!.read.includes('a/x') && !expected['alice']!.read.includes('a/secret/x'));
    for (const user of USERS) {
      assert.deepEqual(actual[user]!.publish, expected[user]!.publish, `PUBACK codes for ${user} (topics ${TOPICS.join(' ')})`);
      assert.deepEqual(actual[user]!.read, expected[user]!.read, `topics delivered to ${user}`);
    }
  });
});

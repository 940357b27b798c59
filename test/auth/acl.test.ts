import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AclAccess, AclFileAuth, AclFileError, canReadAny, checkAcl, filterCovers, intersectFilters, parseAclFile,
} from '../../src/auth/acl-file.js';
import type { ClientInfo } from '../../src/broker/hooks.js';
import { matchTopic } from '../../src/protocol/topic.js';
import { prng } from '../helpers/topic-reference.js';

const ACL = `# general section: clients without a username
topic read anon/#
topic readwrite shared/#

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
topic readwrite has space/x y
`;

const client = (username: string | undefined, id = `cid-${username ?? 'anon'}`): ClientInfo => ({
  id, username, remoteAddress: undefined, protocolVersion: 4,
});

const { Read, Write } = AclAccess;

describe('acl_file parsing', () => {
  test('sections, access words, patterns and topics with spaces', () => {
    const table = parseAclFile(ACL, 'acl');
    assert.deepEqual(table.anonymous, [{ filter: 'anon/#', access: Read }, { filter: 'shared/#', access: 3 }]);
    assert.deepEqual(table.users.get('alice')?.map((e) => e.filter),
      ['a/#', 'r/#', 'w/#', 'a/secret/#', 'wild/+/x', 'a/plain']);
    assert.equal(table.users.get('alice')?.[3]?.access, AclAccess.None);
    assert.equal(table.users.get('alice')?.[5]?.access, AclAccess.ReadWrite);
    assert.deepEqual(table.patterns.map((p) => p.filter), ['p/%u/#', 'c/%c', 'pw/%u']);
    assert.deepEqual(table.users.get('bob')?.[1], { filter: 'has space/x y', access: 3 });
  });

  const errors: [string, string][] = [
    ['user', 'Missing username in acl_file'],
    ['topic', 'Empty topic in acl_file'],
    ['topic readonly a/b', 'Invalid topic access type "readonly" in acl_file'],
    ['topic read a/#/b', 'Invalid ACL topic "a/#/b" in acl_file'],
    ['pattern write a/b#', 'Invalid ACL topic "a/b#" in acl_file'],
    ['allow a/b', 'Invalid line in acl_file: allow a/b'],
  ];
  for (const [line, problem] of errors) {
    test(`"${line}" is an error naming the file and line`, () => {
      assert.throws(() => parseAclFile(`# x\ntopic a\n${line}\n`, 'my.acl'), (err: unknown) => {
        assert.ok(err instanceof AclFileError);
        assert.equal(err.message, `${problem} in my.acl:3.`);
        assert.equal(err.line, 3);
        return true;
      });
    });
  }
});

describe('acl_file decisions (Mosquitto 2.0 semantics)', () => {
  const table = parseAclFile(ACL, 'acl');
  // [user, topic, can read, can write]
  const matrix: [string | undefined, string, boolean, boolean][] = [
    [undefined, 'anon/x', true, false],
    [undefined, 'shared/x', true, true],
    [undefined, 'a/x', false, false],
    ['alice', 'a/x', true, true],
    ['alice', 'a', true, true],
    ['alice', 'a/secret/x', false, false],
    ['alice', 'a/secret', false, false],
    ['alice', 'r/x', true, false],
    ['alice', 'w/x', false, true],
    ['alice', 'wild/1/x', true, false],
    ['alice', 'wild/1/y', false, false],
    ['alice', 'a/plain', true, true],
    ['alice', 'p/alice/x', true, true],
    ['alice', 'p/bob/x', false, false],
    ['alice', 'c/cid-alice', true, false],
    ['alice', 'c/cid-bob', false, false],
    ['alice', 'pw/alice', false, true],
    ['alice', 'anon/x', false, false],
    ['alice', 'shared/x', false, false],
    ['bob', 'b/x', true, true],
    ['bob', 'p/bob/x', true, true],
    ['bob', 'a/x', false, false],
    ['carol', 'anon/x', false, false],
    ['carol', 'p/carol/q', true, true],
    ['carol', 'c/cid-carol', true, false],
    ['carol', 'x', false, false],
  ];
  for (const [user, topic, canRead, canWrite] of matrix) {
    test(`${user ?? 'anonymous'} on ${topic}: read ${canRead}, write ${canWrite}`, () => {
      assert.equal(checkAcl(table, client(user), topic, Read), canRead);
      assert.equal(checkAcl(table, client(user), topic, Write), canWrite);
    });
  }

  test('clients never write to $SYS (except $SYS/broker/connection/...), even when the ACL says readwrite', () => {
    const t = parseAclFile('topic readwrite $SYS/#\n', 'acl');
    assert.equal(checkAcl(t, client(undefined), '$SYS/broker/uptime', Write), false);
    assert.equal(checkAcl(t, client(undefined), '$SYS/broker/uptime', Read), true);
    assert.equal(checkAcl(t, client(undefined), '$SYS/broker/connection/b1/state', Write), true);
  });

  test("'#' in the ACL does not reach $-topics [MQTT-4.7.2-1]", () => {
    const t = parseAclFile('topic readwrite #\n', 'acl');
    assert.equal(checkAcl(t, client(undefined), 'x/y', Read), true);
    assert.equal(checkAcl(t, client(undefined), '$SYS/x', Read), false);
  });

  test('%u and %c are replaced anywhere in a pattern, as Mosquitto 2.0 does', () => {
    const t = parseAclFile('pattern readwrite p/x%uy\npattern readwrite q/%u-%c/z\n', 'acl');
    assert.equal(checkAcl(t, client('alice', 'cid'), 'p/xalicey', Write), true);
    assert.equal(checkAcl(t, client('alice', 'cid'), 'p/xaliceY', Write), false);
    assert.equal(checkAcl(t, client('alice', 'cid'), 'q/alice-cid/z', Write), true);
  });

  test('a pattern is skipped when the id or username would widen it (+, #, /) — CVE-2017-7650', () => {
    const t = parseAclFile('pattern readwrite p/%u/#\npattern readwrite c/%c\n', 'acl');
    assert.equal(checkAcl(t, client('#'), 'p/bob/x', Write), false);
    assert.equal(checkAcl(t, client('a/b'), 'p/a/b/x', Write), false);
    assert.equal(checkAcl(t, client(undefined, '+'), 'c/x', Write), false);
    assert.equal(checkAcl(t, client(undefined), 'p//x', Write), false);
  });

  const subs: [string | undefined, string, boolean][] = [
    ['alice', '#', true],
    ['alice', 'a/#', true],
    ['alice', 'a/secret/#', false],
    ['alice', 'a/secret/x', false],
    ['alice', 'w/#', false],
    ['alice', 'wild/#', true],
    ['alice', 'wild/+/y', false],
    ['alice', '+/+/x', true],
    ['alice', 'c/+', true],
    ['alice', 'p/+/x', true],
    ['alice', 'b/x', false],
    ['alice', '$SYS/#', false],
    [undefined, 'anon/+', true],
    [undefined, 'a/#', false],
    ['bob', '+/x', true],
  ];
  for (const [user, filter, expected] of subs) {
    test(`SUBSCRIBE ${filter} by ${user ?? 'anonymous'}: ${expected ? 'granted' : 'refused (nothing readable)'}`, () => {
      assert.equal(canReadAny(table, client(user), filter), expected);
    });
  }
});

describe('the acl_file link', () => {
  test('a shared subscription is judged by its filter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-acl-'));
    try {
      const file = join(dir, 'acl');
      writeFileSync(file, 'user alice\ntopic read data/#\n');
      const link = new AclFileAuth(file);
      await link.load();
      const alice = client('alice');
      assert.equal(link.authorizeSubscribe(alice, { topicFilter: '$share/g/data/+', qos: 1 }), 'allow');
      assert.equal(link.authorizeSubscribe(alice, { topicFilter: '$share/g/other/+', qos: 1 }), 'deny');
      assert.equal(link.authorizeRead(alice, 'data/x'), 'allow');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('filter algebra behind the SUBSCRIBE check', () => {
  test('intersections', () => {
    assert.equal(intersectFilters('a/+/c', 'a/b/#'), 'a/b/c');
    assert.equal(intersectFilters('a/#', 'a'), 'a');
    assert.equal(intersectFilters('#', 'x/+'), 'x/+');
    assert.equal(intersectFilters('a/b', 'a/c'), undefined);
    assert.equal(intersectFilters('a/b', 'a/b/c'), undefined);
    assert.equal(intersectFilters('#', '$SYS/#'), undefined);
    assert.equal(intersectFilters('+/x', '$SYS/x'), undefined);
  });

  test('coverage', () => {
    assert.equal(filterCovers('a/#', 'a/b/+'), true);
    assert.equal(filterCovers('a/#', 'a'), true);
    assert.equal(filterCovers('a/+', 'a/#'), false);
    assert.equal(filterCovers('a/+', 'a/b'), true);
    assert.equal(filterCovers('a/b', 'a/+'), false);
    assert.equal(filterCovers('#', '$SYS/x'), false);
  });

  test('agree with topic matching on random filters and topics', () => {
    const rand = prng(7);
    const levels = ['a', 'b', '+', '#'];
    const topicLevels = ['a', 'b', 'c'];
    const randomFilter = (): string => {
      const n = 1 + Math.floor(rand() * 3);
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const l = levels[Math.floor(rand() * levels.length)]!;
        out.push(l);
        if (l === '#') break;
      }
      return out.join('/');
    };
    const topics: string[] = [];
    const build = (prefix: string[], depth: number): void => {
      if (prefix.length > 0) topics.push(prefix.join('/'));
      if (depth === 0) return;
      for (const l of topicLevels) build([...prefix, l], depth - 1);
    };
    build([], 4);
    for (let i = 0; i < 400; i++) {
      const f = randomFilter();
      const g = randomFilter();
      const both = topics.filter((t) => matchTopic(f, t) && matchTopic(g, t));
      const overlap = intersectFilters(f, g);
      if (overlap === undefined) assert.deepEqual(both, [], `${f} ∩ ${g}`);
      else assert.deepEqual(topics.filter((t) => matchTopic(overlap, t)), both, `${f} ∩ ${g} = ${overlap}`);
      const covered = topics.filter((t) => matchTopic(g, t)).every((t) => matchTopic(f, t));
      if (filterCovers(f, g)) assert.ok(covered, `${f} covers ${g}`);
    }
  });
});

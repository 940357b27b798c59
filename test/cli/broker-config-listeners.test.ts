/**
 * mosquitto.conf listener blocks, TLS settings, per_listener_settings, include_dir, warnings, and real-world files
 * parsed unchanged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareIncludeNames, ConfigFileError, parseBrokerConfig, readIncludeDirFromDisk, resolveListeners,
  type BrokerConfig,
} from '../../src/cli/broker-config.ts';

const FILE = '/etc/culex/test.conf';

function parse(text: string): BrokerConfig {
  return parseBrokerConfig(text, FILE);
}

function fails(text: string, message: string, fileName = FILE, line?: number): void {
  assert.throws(() => parseBrokerConfig(text, FILE, { readIncludeDir: readIncludeDirFromDisk }), (err: unknown) => {
    assert.ok(err instanceof ConfigFileError);
    assert.equal(err.message, message);
    assert.equal(err.fileName, fileName);
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}

describe('mosquitto.conf listener blocks', () => {
  test('settings after a listener line belong to that listener; before any, to the default listener', () => {
    const config = parse([
      'protocol websockets',
      'port 9001',
      'listener 1883 127.0.0.1',
      'listener 8883',
      'certfile /c.pem',
      'keyfile /k.pem',
      'max_connections 10',
      'socket_domain ipv4',
      'listener 0 /run/culex.sock',
      'listener 8080',
      'protocol websockets',
      'enable_proxy_protocol 2',
    ].join('\n'));
    assert.equal(config.defaultListener.protocol, 'websockets');
    assert.equal(config.defaultListener.port, 9001);
    const [plain, tls, unix, ws] = config.listeners;
    assert.deepEqual([plain!.port, plain!.host, plain!.protocol, plain!.tls], [1883, '127.0.0.1', 'mqtt', {}]);
    assert.deepEqual(tls!.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
    assert.equal(tls!.maxConnections, 10);
    assert.equal(tls!.socketDomain, 'ipv4');
    assert.deepEqual([unix!.port, unix!.path, unix!.host], [0, '/run/culex.sock', undefined]);
    assert.deepEqual([ws!.protocol, ws!.proxyProtocol], ['websockets', 2]);
    assert.deepEqual(resolveListeners(config, []).map((l) => l.origin),
      ['default listener', `${FILE}:3`, `${FILE}:4`, `${FILE}:9`, `${FILE}:10`]);
  });

  test('max_connections before any listener limits the broker; inside a block, that listener', () => {
    const config = parse('max_connections 100\nlistener 1883\nmax_connections 5\nlistener 1884\nmax_connections -1');
    assert.equal(config.options.maxConnections, 100);
    assert.deepEqual(config.listeners.map((l) => l.maxConnections), [5, undefined]);
  });

  test('every TLS setting is kept on its listener', () => {
    const [l] = parse([
      'listener 8883', 'certfile /etc/certs/server.crt', 'keyfile /etc/certs/server.key', 'cafile /etc/certs/ca.crt',
      'capath /etc/certs/ca', 'crlfile /etc/certs/crl.pem', 'dhparamfile /etc/certs/dh.pem', 'tls_version tlsv1.3',
      'ciphers ECDHE-RSA-AES256-GCM-SHA384', 'ciphers_tls1.3 TLS_AES_256_GCM_SHA384', 'require_certificate true',
      'use_identity_as_username true', 'use_subject_as_username false', 'tls_keyform pem',
    ].join('\n')).listeners;
    assert.deepEqual(l!.tls, {
      certFile: '/etc/certs/server.crt', keyFile: '/etc/certs/server.key', caFile: '/etc/certs/ca.crt',
      caPath: '/etc/certs/ca', crlFile: '/etc/certs/crl.pem', dhparamFile: '/etc/certs/dh.pem', minVersion: 'TLSv1.3',
      ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', ciphersTls13: 'TLS_AES_256_GCM_SHA384', isCertificateRequired: true,
      useIdentityAsUsername: true, useSubjectAsUsername: false,
    });
  });

  const tlsErrors: [string, string][] = [
    ['listener 8883\ncertfile /c.pem', 'both "certfile" and "keyfile" must be given for a TLS listener'],
    ['listener 8883\ncafile /ca.pem', 'TLS settings are given but "certfile" and "keyfile" are not'],
    ['listener 8883\ncertfile /c\nkeyfile /k\nrequire_certificate true',
      '"require_certificate true" needs "cafile" or "capath" to check client certificates'],
    ['listener 8883\ncertfile /c\nkeyfile /k\ncafile /ca\nuse_identity_as_username true',
      '"use_identity_as_username" and "use_subject_as_username" need "require_certificate true"'],
  ];
  for (const [text, problem] of tlsErrors) {
    test(`TLS combination refused, naming the listener line: ${problem}`, () => {
      fails(`# tls\n${text}\n`, `Listener at ${FILE}:2: ${problem}.`, FILE, 2);
    });
  }

  test('per_listener_settings puts security settings on the current listener', () => {
    const shared = parse('allow_anonymous true\nlistener 1883');
    assert.deepEqual(shared.security, { allowAnonymous: true });
    assert.deepEqual(shared.listeners[0]!.security, {});
    const per = parse('per_listener_settings true\nlistener 1883\nallow_anonymous true\nlistener 1884');
    assert.equal(per.isPerListenerSettings, true);
    assert.deepEqual(per.security, {});
    assert.deepEqual(per.listeners.map((l) => l.security), [{ allowAnonymous: true }, {}]);
  });

  test('per_listener_settings after a security setting is refused with its line', () => {
    fails('allow_anonymous true\nper_listener_settings true\n',
      `"per_listener_settings" must come before every authentication and access control setting in ${FILE}:2.`,
      FILE, 2);
  });
});

describe('mosquitto.conf warnings and process directives', () => {
  test('harmless Mosquitto directives are accepted with a warning naming the line', () => {
    const config = parse('set_tcp_nodelay true\nuser mosquitto\nlog_timestamp_format %Y\n');
    assert.deepEqual(config.warnings.map((w) => [w.line, w.message]), [
      [1, `"set_tcp_nodelay" is ignored: Culex always sets TCP_NODELAY (${FILE}:1).`],
      [2, `"user" is ignored: Culex does not change user after start; run it as the user it should run as (${FILE}:2).`],
      [3, `"log_timestamp_format" is ignored: timestamps are Unix seconds (${FILE}:3).`],
    ]);
  });

  test('max_qos and max_topic_alias inside a listener block apply broker-wide, with a warning saying so', () => {
    const config = parse('max_qos 2\nlistener 1883\nmax_qos 1\nmax_topic_alias 5\n');
    assert.equal(config.options.maximumQoS, 1);
    assert.equal(config.options.topicAliasMaximum, 5);
    assert.deepEqual(config.warnings.map((w) => w.message), [
      `"max_qos" applies to every listener in Culex, not only to the listener at ${FILE}:2 (${FILE}:3).`,
      `"max_topic_alias" applies to every listener in Culex, not only to the listener at ${FILE}:2 (${FILE}:4).`,
    ]);
  });

  test('pid_file is kept', () => {
    assert.equal(parse('pid_file /run/mosquitto/mosquitto.pid').pidFile, '/run/mosquitto/mosquitto.pid');
  });
});

describe('include_dir', () => {
  test('files load in Mosquitto\'s order: case-sensitive, each upper-case letter before its lower case', () => {
    assert.deepEqual(['b.conf', 'A.conf', '01.conf', 'a.conf', 'B.conf', '00.conf'].toSorted(compareIncludeNames),
      ['00.conf', '01.conf', 'A.conf', 'a.conf', 'B.conf', 'b.conf']);
  });

  test('only *.conf files are read, in order, and errors name the included file and line', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-inc-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'b.conf'), 'listener 1884\n');
    writeFileSync(join(dir, 'A.conf'), 'max_queued_messages 7\nlistener 1883\n');
    writeFileSync(join(dir, 'notes.txt'), 'frobnicate\n');
    const config = parseBrokerConfig(`include_dir ${dir}\n`, FILE, { readIncludeDir: readIncludeDirFromDisk });
    assert.deepEqual(config.listeners.map((l) => [l.port, l.origin]),
      [[1883, `${join(dir, 'A.conf')}:2`], [1884, `${join(dir, 'b.conf')}:1`]]);
    assert.equal(config.options.maxQueuedMessages, 7);
    assert.deepEqual(config.includedFiles, [join(dir, 'A.conf'), join(dir, 'b.conf')]);
    writeFileSync(join(dir, 'c.conf'), '\n\nfrobnicate 1\n');
    fails(`include_dir ${dir}\n`,
      `Unknown or unsupported configuration directive "frobnicate" in ${join(dir, 'c.conf')}:3.`, join(dir, 'c.conf'), 3);
    writeFileSync(join(dir, 'c.conf'), `include_dir ${dir}\n`);
    fails(`include_dir ${dir}\n`,
      `"include_dir" is only allowed in the main configuration file in ${join(dir, 'c.conf')}:1.`, join(dir, 'c.conf'), 1);
  });

  test('a missing directory is an error naming the line', () => {
    fails('\ninclude_dir /nonexistent/culex.d\n',
      `Unable to read include_dir "/nonexistent/culex.d": ENOENT: no such file or directory, scandir '/nonexistent/culex.d' in ${FILE}:2.`,
      FILE, 2);
  });
});

describe('real-world mosquitto.conf files', () => {
  const debianConf = '/etc/mosquitto/mosquitto.conf';
  test("Debian's /etc/mosquitto/mosquitto.conf, unchanged: every line is understood", {
    skip: !existsSync(debianConf) && 'Debian mosquitto package not installed',
  }, () => {
    // The file: pid_file, persistence true, persistence_location, log_dest file, include_dir /etc/mosquitto/conf.d.
    const text = readFileSync(debianConf, 'utf8');
    const config = parseBrokerConfig(text, debianConf, { readIncludeDir: readIncludeDirFromDisk });
    assert.equal(config.store.isEnabled, true);
    assert.equal(config.store.location, '/var/lib/mosquitto/');
    assert.equal(config.pidFile, '/run/mosquitto/mosquitto.pid');
    assert.deepEqual(config.logging.destinations, [{ kind: 'file', path: '/var/log/mosquitto/mosquitto.log' }]);
    assert.deepEqual(resolveListeners(config, []).map((l) => l.port), [1883]);
  });

  test('a typical multi-listener TLS/WebSocket config parses unchanged', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'culex-conf-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'websockets.conf'), 'listener 9001\nprotocol websockets\n');
    const text = readFileSync(new URL('../fixtures/mosquitto-multi-listener.conf', import.meta.url), 'utf8')
      .replaceAll('/etc/mosquitto/conf.d', join(dir, 'conf.d'));
    const config = parseBrokerConfig(text, 'mosquitto.conf', { readIncludeDir: readIncludeDirFromDisk });
    const summary = resolveListeners(config, []).map((l) => [l.port, l.host ?? l.path ?? '*', l.protocol,
      l.tls.certFile !== undefined, l.tls.isCertificateRequired === true]);
    assert.deepEqual(summary, [
      [1883, 'localhost', 'mqtt', false, false],
      [8883, '*', 'mqtt', true, false],
      [8884, '*', 'mqtt', true, true],
      [8081, '*', 'websockets', true, false],
      [0, '/run/mosquitto/mosquitto.sock', 'mqtt', false, false],
      [9001, '*', 'websockets', false, false],
    ]);
    assert.equal(config.listeners[2]!.tls.useIdentityAsUsername, true);
    assert.deepEqual(config.logging.levels, new Set(['error', 'warn', 'info']));
    assert.equal(config.options.maxQueuedMessages, 1000);
    assert.equal(config.options.maxInflight, 20);
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import {
  ConfigFileError, emptyConfig, ignoredDirectiveNames, parseBrokerConfig, resolveListeners, supportedDirectives,
  type BrokerConfig,
} from '../../src/cli/broker-config.ts';
import { ConfigError, type BrokerOptions } from '../../src/broker/config.ts';
import { allLevels, createStreamLogger, isConnectionMessage } from '../../src/cli/log.ts';

const FILE = '/etc/culex/test.conf';

function parse(text: string): BrokerConfig {
  return parseBrokerConfig(text, FILE);
}

function options(text: string): BrokerOptions {
  return parse(text).options;
}

/** Asserts that parsing fails with a ConfigFileError whose message is exactly `message`. */
function fails(text: string, message: string, line: number): void {
  assert.throws(() => parse(text), (err: unknown) => {
    assert.ok(err instanceof ConfigFileError);
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CULEX_ERR_CONFIG');
    assert.equal(err.message, message);
    assert.equal(err.fileName, FILE);
    assert.equal(err.line, line);
    return true;
  });
}

describe('parseBrokerConfig: syntax', () => {
  test('an empty file gives no options, no listeners and default logging', () => {
    assert.deepEqual(parse(''), emptyConfig());
  });

  test('comments, blank lines, indentation, tabs and CRLF are accepted', () => {
    const config = parse('# a comment\r\n\r\n   \n\t# indented comment\n  max_queued_messages\t\t 5  \r\nport 1884\n');
    assert.deepEqual(config.options, { maxQueuedMessages: 5 });
    assert.equal(config.defaultListener.port, 1884);
    assert.equal(config.hasDefaultListener, true);
  });

  test('a # after a value is not a comment (as in Mosquitto): extra value error', () => {
    fails('port 1883 # main', `Unexpected extra value "#" for "port" in ${FILE}:1.`, 1);
  });

  test('a later line overrides an earlier one', () => {
    assert.equal(options('max_queued_messages 5\nmax_queued_messages 7\n').maxQueuedMessages, 7);
  });

  test('directive names are case-sensitive, as in Mosquitto', () => {
    fails('Port 1883', `Unknown or unsupported configuration directive "Port" in ${FILE}:1.`, 1);
  });
});

function where(text: string): { port: number; host: string | undefined; isOpened: boolean } {
  const c = parse(text);
  return { port: c.defaultListener.port, host: c.defaultListener.host, isOpened: c.hasDefaultListener };
}

describe('parseBrokerConfig: each directive', () => {
  const table: [string, BrokerOptions][] = [
    ['max_connections -1', { maxConnections: Infinity }],
    ['max_connections 50', { maxConnections: 50 }],
    ['max_inflight_messages 0', { maxInflight: 65_535 }],
    ['max_inflight_messages 1', { maxInflight: 1 }],
    ['max_queued_messages 0', { maxQueuedMessages: 0 }],
    ['max_queued_messages 100', { maxQueuedMessages: 100 }],
    ['max_queued_bytes 0', { maxQueuedBytes: 0 }],
    ['max_queued_bytes 4096', { maxQueuedBytes: 4096 }],
    ['message_size_limit 0', { maxPacketBytes: 268_435_460 }],
    ['message_size_limit 1000', { maxPacketBytes: 1000 + 1033 + 65_535 }],
    ['culex_max_topic_bytes 100\nmessage_size_limit 1000', { maxTopicBytes: 100, maxPacketBytes: 1000 + 1033 + 100 }],
    ['message_size_limit 1000\nculex_max_topic_bytes 100', { maxTopicBytes: 100, maxPacketBytes: 1000 + 1033 + 100 }],
    ['message_size_limit 268435455', { maxPacketBytes: 268_435_460 }],
    ['max_packet_size 0', { maxPacketBytes: 268_435_460 }],
    ['max_packet_size 2048', { maxPacketBytes: 2048 }],
    ['max_packet_size 2048\nmessage_size_limit 100000', { maxPacketBytes: 2048 }],
    ['max_packet_size 1000000\nmessage_size_limit 100', { maxPacketBytes: 100 + 1033 + 65_535 }],
    ['sys_interval 0', { sysIntervalSeconds: 0 }],
    ['sys_interval 60', { sysIntervalSeconds: 60 }],
    ['persistence false', {}],
    ['allow_anonymous true', {}],
    ['culex_connect_timeout_ms 500', { connectTimeoutMs: 500 }],
    ['culex_drain_timeout_ms 2000', { drainTimeoutMs: 2000 }],
    ['culex_max_topic_bytes 1024', { maxTopicBytes: 1024 }],
    ['culex_max_topic_levels 16', { maxTopicLevels: 16 }],
    ['culex_max_client_id_bytes 23', { maxClientIdBytes: 23 }],
    ['culex_max_subscriptions_per_client -1', { maxSubscriptionsPerClient: Infinity }],
    ['culex_max_subscriptions_per_client 10', { maxSubscriptionsPerClient: 10 }],
    ['culex_max_write_buffer_bytes 65536', { maxWriteBufferBytes: 65_536 }],
    ['max_keepalive 60', { maxKeepaliveSeconds: 60 }],
    ['max_keepalive 0', { maxKeepaliveSeconds: 0 }],
    ['max_qos 1', { maximumQoS: 1 }],
    ['max_topic_alias 0', { topicAliasMaximum: 0 }],
    ['retain_available false', { isRetainAvailable: false }],
  ];
  for (const [text, expected] of table) {
    test(`${text.replace('\n', ' + ')} gives ${JSON.stringify(expected, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v))}`,
      () => {
        assert.deepEqual(options(text), expected);
      });
  }

  test('auth directives: security settings, JWT and the login back-off', () => {
    assert.deepEqual(parse('allow_anonymous true').security, { allowAnonymous: true });
    assert.deepEqual(parse('password_file /etc/culex/pass words\nacl_file acl\nallow_anonymous false\n').security,
      { passwordFile: '/etc/culex/pass words', aclFile: 'acl', allowAnonymous: false });
    assert.deepEqual(parse('culex_jwt_secret_file s\nculex_jwt_algorithms HS256,HS512\nculex_jwt_issuer me\n'
      + 'culex_jwt_audience mqtt\nculex_jwt_publish_claim pub\nculex_jwt_subscribe_claim sub\n').jwt, {
      secretFile: 's', algorithms: ['HS256', 'HS512'], issuer: 'me', audience: 'mqtt', publishClaim: 'pub',
      subscribeClaim: 'sub',
    });
    assert.deepEqual(parse('culex_jwt_jwks_file k.json\nculex_jwt_algorithms RS256 ES256').jwt,
      { jwksFile: 'k.json', algorithms: ['RS256', 'ES256'] });
    assert.deepEqual(parse('culex_jwt_public_key_file k.pem').jwt, { publicKeyFile: 'k.pem' });
    assert.deepEqual(parse('culex_login_backoff_initial_ms 100\nculex_login_backoff_max_ms 900\n'
      + 'culex_login_backoff_forget_ms 5000').loginBackoff,
    { initialDelayMs: 100, maxDelayMs: 900, forgetAfterMs: 5000 });
    assert.equal(parse('culex_login_backoff_initial_ms 0').loginBackoff, false);
    const per = parse('per_listener_settings true\nlistener 1883\npassword_file a\nlistener 1884\nacl_file b\n');
    assert.deepEqual(per.listeners.map((l) => l.security), [{ passwordFile: 'a' }, { aclFile: 'b' }]);
    assert.deepEqual(per.security, {});
  });

  test('port and bind_address make the default listener', () => {
    assert.deepEqual(where('port 1884'), { port: 1884, host: undefined, isOpened: true });
    assert.deepEqual(where('bind_address 127.0.0.1'), { port: 1883, host: '127.0.0.1', isOpened: true });
    assert.deepEqual(where('bind_address ::1\nport 0'), { port: 0, host: '::1', isOpened: true });
    assert.deepEqual(where('max_queued_messages 5'), { port: 1883, host: undefined, isOpened: false });
  });

  test('listener lines accumulate, with and without a bind address', () => {
    assert.deepEqual(parse('listener 1883\nlistener 8883 127.0.0.1\n').listeners.map((l) => [l.port, l.host, l.origin]),
      [[1883, undefined, `${FILE}:1`], [8883, '127.0.0.1', `${FILE}:2`]]);
  });

  test('log_type lines accumulate into levels', () => {
    assert.deepEqual(parse('log_type error\nlog_type warning\n').logging.levels, new Set(['error', 'warn']));
    assert.deepEqual(parse('log_type notice\nlog_type information').logging.levels, new Set(['info']));
    assert.deepEqual(parse('log_type all').logging.levels, new Set(allLevels));
    assert.deepEqual(parse('log_type debug').logging.levels, new Set(['debug']));
    assert.deepEqual(parse('log_type none').logging.levels, new Set());
    assert.deepEqual(parse('log_type subscribe\nlog_type unsubscribe').logging.levels, new Set());
  });

  test('log_dest stderr, stdout, file and none', () => {
    assert.deepEqual(parse('log_dest stdout').logging.destinations, [{ kind: 'stdout' }]);
    assert.deepEqual(parse('log_dest stdout\nlog_dest stderr\nlog_dest stdout').logging.destinations,
      [{ kind: 'stdout' }, { kind: 'stderr' }]);
    assert.deepEqual(parse('log_dest none').logging.destinations, []);
    assert.deepEqual(parse('log_dest file /var/log/my broker.log').logging.destinations,
      [{ kind: 'file', path: '/var/log/my broker.log' }]);
  });

  test('connection_messages and log_timestamp take true/false (and 1/0, as Mosquitto does)', () => {
    assert.equal(parse('connection_messages false').logging.hasConnectionMessages, false);
    assert.equal(parse('connection_messages 1').logging.hasConnectionMessages, true);
    assert.equal(parse('log_timestamp false').logging.isTimestamped, false);
    assert.equal(parse('log_timestamp 0').logging.isTimestamped, false);
  });

  test('the store directives fill the store settings; none given leaves them all undefined', () => {
    assert.deepEqual(emptyConfig().store, {
      isEnabled: undefined, location: undefined, durability: undefined, batchWindowMs: undefined, onCorruption: undefined,
    });
    const config = parseBrokerConfig('persistence true\npersistence_location /var/lib/culex/\nautosave_interval 1800\n'
      + 'culex_durability batched 50\nculex_store_on_corruption refuse\n', FILE);
    assert.deepEqual(config.store, {
      isEnabled: true, location: '/var/lib/culex/', durability: 'batched', batchWindowMs: 50, onCorruption: 'refuse',
    });
    assert.deepEqual(config.warnings.map((w) => w.message), [
      `"autosave_interval" has no effect: Culex writes every change through to its store (see culex_durability) (${FILE}:3).`,
    ]);
    assert.equal(parseBrokerConfig('persistence false', FILE).store.isEnabled, false);
    assert.equal(parseBrokerConfig('culex_durability none', FILE).store.durability, 'none');
    assert.equal(parseBrokerConfig('culex_durability batched', FILE).store.batchWindowMs, undefined);
  });

  test('the supported directives are exactly these (README.md lists the same)', () => {
    assert.deepEqual(supportedDirectives.toSorted(), [
      'acl_file', 'allow_anonymous', 'bind_address', 'cafile', 'capath', 'certfile', 'ciphers', 'ciphers_tls1.3',
      'autosave_interval', 'culex_durability', 'culex_store_on_corruption', 'persistence_location',
      'connection_messages', 'crlfile', 'culex_connect_timeout_ms', 'culex_drain_timeout_ms', 'culex_jwt_algorithms',
      'culex_jwt_audience', 'culex_jwt_issuer', 'culex_jwt_jwks_file', 'culex_jwt_public_key_file',
      'culex_jwt_publish_claim', 'culex_jwt_secret_file', 'culex_jwt_subscribe_claim',
      'culex_login_backoff_forget_ms', 'culex_login_backoff_initial_ms', 'culex_login_backoff_max_ms',
      'culex_max_client_id_bytes', 'culex_max_subscriptions_per_client', 'culex_max_topic_bytes',
      'culex_max_topic_levels', 'culex_max_write_buffer_bytes', 'dhparamfile', 'enable_proxy_protocol', 'keyfile',
      'listener', 'log_dest', 'log_timestamp', 'log_type', 'max_connections', 'max_inflight_messages',
      'max_keepalive', 'max_packet_size', 'max_qos', 'max_queued_bytes', 'max_queued_messages', 'max_topic_alias',
      'message_size_limit',
      'password_file', 'per_listener_settings', 'persistence', 'pid_file', 'port', 'protocol', 'require_certificate',
      'retain_available', 'socket_domain', 'sys_interval', 'tls_keyform', 'tls_version', 'use_identity_as_username',
      'use_subject_as_username', 'user',
    ].toSorted());
  });

  test('README.md has a row for every supported directive', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const directive of [...supportedDirectives, ...ignoredDirectiveNames, 'include_dir']) {
      assert.ok(readme.includes(`| \`${directive}\` |`), directive);
    }
  });
});

describe('parseBrokerConfig: errors name the file, the line and the directive', () => {
  test('unknown or unsupported directives, including real Mosquitto ones, are refused', () => {
    for (const directive of ['auth_plugin', 'mount_point', 'http_dir', 'bind_interface', 'frobnicate']) {
      fails(`port 1883\n\n# comment\n${directive} /x\n`,
        `Unknown or unsupported configuration directive "${directive}" in ${FILE}:4.`, 4);
    }
  });

  const table: [string, string][] = [
    ['port', 'Missing value for "port"'],
    ['port abc', 'Bad value "abc" for "port" (expected a port from 1 to 65535, or 0 for any free port)'],
    ['port 65536', 'Bad value "65536" for "port" (expected a port from 1 to 65535, or 0 for any free port)'],
    ['port -1', 'Bad value "-1" for "port" (expected a port from 1 to 65535, or 0 for any free port)'],
    ['port 1883 1884', 'Unexpected extra value "1884" for "port"'],
    ['bind_address', 'Missing value for "bind_address"'],
    ['listener', 'Missing port for "listener"'],
    ['listener 1883 127.0.0.1 x', 'Unexpected extra value "x" for "listener"'],
    ['listener 1883 /run/culex.sock', 'A Unix socket listener needs port 0 ("listener 0 /run/culex.sock")'],
    ['protocol http', 'Bad value "http" for "protocol" (expected mqtt or websockets)'],
    ['socket_domain ipv5', 'Bad value "ipv5" for "socket_domain" (expected ipv4 or ipv6)'],
    ['enable_proxy_protocol 3', 'Bad value "3" for "enable_proxy_protocol" (expected 1 or 2)'],
    ['tls_version tlsv1.0', 'Bad value "tlsv1.0" for "tls_version" (expected tlsv1.3, tlsv1.2 or tlsv1.1)'],
    ['tls_keyform engine', '"tls_keyform engine" is not supported (only pem: OpenSSL engines are absent)'],
    ['require_certificate yes', 'Bad value "yes" for "require_certificate" (expected true or false)'],
    ['certfile', 'Missing value for "certfile"'],
    ['include_dir', 'Missing value for "include_dir"'],
    ['max_connections 0', 'Bad value "0" for "max_connections" (expected -1 for unlimited, or a positive integer)'],
    ['max_connections -2', 'Bad value "-2" for "max_connections" (expected -1 for unlimited, or a positive integer)'],
    ['max_connections 1.5', 'Bad value "1.5" for "max_connections" (expected -1 for unlimited, or a positive integer)'],
    ['max_inflight_messages 65536',
      'Bad value "65536" for "max_inflight_messages" (expected an integer from 0 (unlimited) to 65535)'],
    ['max_queued_messages -1', 'Bad value "-1" for "max_queued_messages" (expected an integer >= 0 (0 = unlimited))'],
    ['max_queued_bytes 1k', 'Bad value "1k" for "max_queued_bytes" (expected an integer >= 0 (0 = unlimited))'],
    ['message_size_limit 268435456',
      'Bad value "268435456" for "message_size_limit" (expected an integer from 0 (unlimited) to 268435455)'],
    ['max_packet_size 10', 'Bad value "10" for "max_packet_size" (expected at least 20, or 0 for unlimited)'],
    ['sys_interval -1', 'Bad value "-1" for "sys_interval" (expected seconds >= 0 (0 disables))'],
    ['persistence_location', 'Missing value for "persistence_location"'],
    ['autosave_interval x', 'Bad value "x" for "autosave_interval" (expected seconds >= 0)'],
    ['culex_durability', 'Bad value "" for "culex_durability" (expected sync, batched [ms] or none)'],
    ['culex_durability fast', 'Bad value "fast" for "culex_durability" (expected sync, batched [ms] or none)'],
    ['culex_durability sync 10', 'Unexpected extra value "10" for "culex_durability"'],
    ['culex_durability batched 0', 'Bad value "0" for "culex_durability" (expected a window of 1 to 60000 ms)'],
    ['culex_durability batched 10 20', 'Unexpected extra value "20" for "culex_durability"'],
    ['culex_store_on_corruption ignore',
      'Bad value "ignore" for "culex_store_on_corruption" (expected move-aside or refuse)'],
    ['persistence maybe', 'Bad value "maybe" for "persistence" (expected true or false)'],
    ['allow_anonymous maybe', 'Bad value "maybe" for "allow_anonymous" (expected true or false)'],
    ['password_file', 'Missing value for "password_file"'],
    ['acl_file', 'Missing value for "acl_file"'],
    ['culex_jwt_algorithms none', 'Bad value "none" for "culex_jwt_algorithms" (supported: HS256, HS384, HS512, RS256, '
      + 'RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519)'],
    ['culex_jwt_issuer a b', 'Unexpected extra value "b" for "culex_jwt_issuer"'],
    ['culex_login_backoff_initial_ms -1',
      'Bad value "-1" for "culex_login_backoff_initial_ms" (expected milliseconds >= 0 (0 turns the back-off off))'],
    ['culex_login_backoff_max_ms 0',
      'Bad value "0" for "culex_login_backoff_max_ms" (expected a positive number of milliseconds)'],
    ['connection_messages yes', 'Bad value "yes" for "connection_messages" (expected true or false)'],
    ['log_type verbose', 'Bad value "verbose" for "log_type" (supported: debug, error, warning, notice, information, '
      + 'all, none, subscribe, unsubscribe, websockets)'],
    ['log_dest file', 'Missing file name for "log_dest file"'],
    ['log_dest syslog', '"log_dest syslog" is not supported yet (supported: stderr, stdout, file, none)'],
    ['log_dest topic', '"log_dest topic" is not supported yet (supported: stderr, stdout, file, none)'],
    ['log_dest', 'Missing value for "log_dest"'],
    ['max_keepalive 65536', 'Bad value "65536" for "max_keepalive" (expected an integer from 0 (no maximum) to 65535)'],
    ['max_qos 3', 'Bad value "3" for "max_qos" (expected 0, 1 or 2)'],
    ['retain_available maybe', 'Bad value "maybe" for "retain_available" (expected true or false)'],
    ['culex_connect_timeout_ms 0', 'Bad value "0" for "culex_connect_timeout_ms" (expected a positive number of milliseconds)'],
    ['culex_max_topic_bytes 65536', 'Bad value "65536" for "culex_max_topic_bytes" (expected an integer from 1 to 65535)'],
    ['culex_max_client_id_bytes 0', 'Bad value "0" for "culex_max_client_id_bytes" (expected an integer from 1 to 65535)'],
    ['culex_max_write_buffer_bytes x',
      'Bad value "x" for "culex_max_write_buffer_bytes" (expected a positive integer)'],
  ];
  for (const [text, problem] of table) {
    test(`"${text}" on line 3`, () => {
      fails(`# header\nmax_queued_messages 10\n${text}\n`, `${problem} in ${FILE}:3.`, 3);
    });
  }
});

function summary(config: BrokerConfig, ports: number[]): (string | number)[] {
  return resolveListeners(config, ports).map((l) => (l.host === undefined ? l.port : `${l.host}:${l.port}`));
}

describe('resolveListeners', () => {
  test('no configuration: port 1883 on all interfaces', () => {
    assert.deepEqual(summary(emptyConfig(), []), [1883]);
  });

  test('-p ports replace the default listener and keep its settings', () => {
    assert.deepEqual(summary(parse('port 1884\nbind_address 127.0.0.1'), [0, 1885]), ['127.0.0.1:0', '127.0.0.1:1885']);
    const [l] = resolveListeners(parse('protocol websockets\nmax_queued_messages 5'), [0]);
    assert.equal(l!.protocol, 'websockets');
  });

  test('listener lines only: no default listener', () => {
    assert.deepEqual(summary(parse('listener 1884 127.0.0.1'), []), ['127.0.0.1:1884']);
  });

  test('port plus listener lines: both, default first', () => {
    assert.deepEqual(summary(parse('listener 8884\nport 1884'), []), [1884, 8884]);
  });

  test('-p plus listener lines: the -p ports, then the listeners', () => {
    assert.deepEqual(summary(parse('listener 8884'), [1886]), [1886, 8884]);
  });
});

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe('createStreamLogger', () => {
  test('writes "<unix seconds>: message" for enabled levels only', () => {
    const out = capture();
    const logger = createStreamLogger({ streams: [out.stream], now: () => 1_700_000_000_999 });
    logger.debug('hidden');
    logger.info('shown');
    logger.warn('warned');
    logger.error('failed');
    assert.equal(out.text(), '1700000000: shown\n1700000000: warned\n1700000000: failed\n');
  });

  test('all levels, without timestamps, to several streams', () => {
    const a = capture();
    const b = capture();
    const logger = createStreamLogger({ streams: [a.stream, b.stream], levels: allLevels, isTimestamped: false });
    logger.debug('Received PINGREQ from c1');
    assert.equal(a.text(), 'Received PINGREQ from c1\n');
    assert.equal(b.text(), 'Received PINGREQ from c1\n');
  });

  test('accept filters lines, as connection_messages false does', () => {
    const out = capture();
    const logger = createStreamLogger({ streams: [out.stream], isTimestamped: false,
      accept: (_level, m) => !isConnectionMessage(m) });
    logger.info('New client connected from 127.0.0.1:5000 as c1 (p2, c1, k60).');
    logger.info('Client c1 disconnected.');
    logger.info('Client c1 closed its connection (socketError).');
    logger.info('Denied PUBLISH from c1 to \'a\'.');
    assert.equal(out.text(), 'Denied PUBLISH from c1 to \'a\'.\n');
  });
});

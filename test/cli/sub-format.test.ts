/**
 * The printers of culex sub / rr as pure functions with a fixed clock: -F conversions, time fields, cJSON number
 * printing, --json output, and the -d packet lines. (The golden tests compare the same against mosquitto_sub.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatG, printNumber } from '../../src/cli/output/cjson.js';
import { debugLines } from '../../src/cli/output/debug-log.js';
import { formatMessage, checkFormat } from '../../src/cli/output/format.js';
import type { PrintableMessage, Timestamp } from '../../src/cli/output/message.js';
import { renderMessage } from '../../src/cli/output/printer.js';
import { strftime } from '../../src/cli/output/strftime.js';

// 2021-03-04 05:06:07 local time, 123456789 ns.
const fixed: Timestamp = { date: new Date(2021, 2, 4, 5, 6, 7), nanoseconds: 123_456_789 };
const clock = (): Timestamp => fixed;
const msg: PrintableMessage = { topic: 'a/b', payload: Buffer.from('hello'), qos: 1, isRetained: true, mid: 7 };
const fmt = (format: string, m: PrintableMessage = msg): string =>
  formatMessage(format, m, { clock, isPretty: false, reportError: () => undefined }).toString('latin1');
const options = { format: undefined, isVerbose: false, hasEol: true, isPretty: false, isJson: false };

describe('-F format strings', () => {
  test('message fields', () => {
    assert.equal(fmt('%t %p %q %r %l %m %x %X %%'), 'a/b hello 1 1 5 7 68656c6c6f 68656C6C6F %');
  });
  test('field width, left alignment, zero padding and precision', () => {
    assert.equal(fmt('[%6t][%-6t][%.1t][%04l][%-4l|][%6p][%-7p][%3p]'), '[   a/b][a/b   ][a][0005][5   |][ hello][hello  ][hel]');
  });
  test('Mosquitto quirks kept: %-p pads by the payload length; a width halves the bytes %x prints', () => {
    assert.equal(fmt('[%-p][%10x]'), '[hello     ][      6865]');
  });
  test('time: %I, %U and @ conversions share one timestamp; @N nanoseconds; @@ is @', () => {
    const offset = strftime('%z', fixed.date);
    assert.equal(fmt('%I'), `2021-03-04T05:06:07${offset}`);
    assert.equal(fmt('%U'), `${Math.floor(fixed.date.getTime() / 1000)}.123456789`);
    assert.equal(fmt('@Y-@m-@d @H:@M:@S.@N @@ @a @b @j'), '2021-03-04 05:06:07.123456789 @ Thu Mar 063');
  });
  test('escapes', () => {
    assert.equal(fmt('\\t\\n\\\\\\e\\0'), '\t\n\\\x1b\0');
  });
  test('MQTT 5 properties, blank (or padded) when absent', () => {
    const m: PrintableMessage = { ...msg, properties: { contentType: 'ct', userProperties: [['k', 'v'], ['k', 'w']], messageExpiryInterval: 9 } };
    assert.equal(fmt('%C|%P|%E|%3F|%03S|%R|%D', m), 'ct|k:v k:w|9|   |000||');
  });
  test('checkFormat gives Mosquitto\'s messages', () => {
    assert.equal(checkFormat('%'), 'Error: Incomplete format specifier.\n');
    assert.equal(checkFormat('%k'), "Error: Invalid format specifier 'k'.\n");
    assert.equal(checkFormat('\\q'), "Error: Invalid escape specifier 'q'.\n");
    assert.equal(checkFormat('%-08.3t @Y \\n'), undefined);
  });
});

describe('JSON output', () => {
  test('%j: cJSON layout, escapes, mid only above QoS 0, null for an empty payload', () => {
    const out = fmt('%j', { ...msg, payload: Buffer.from('q"\\\n\u0001/é') });
    assert.match(out, /^\{"tst":"2021-03-04T05:06:07\.123456Z[+-]\d{4}","topic":"a\/b","qos":1,"retain":1,"payloadlen":\d+,"mid":7,"payload":"q\\"\\\\\\n\\u0001\/\xc3\xa9"\}$/);
    assert.match(fmt('%j', { ...msg, qos: 0, payload: Buffer.alloc(0) }), /"payloadlen":0,"payload":null\}$/);
  });
  test('%J reprints the payload JSON; C %g numbers', () => {
    assert.match(fmt('%J', { ...msg, payload: Buffer.from('{"n":[1.50,1e21,0.1,-2]}') }), /"payload":\{"n":\[1\.5,1e\+21,0\.1,-2\]\}\}$/);
    assert.equal(printNumber(0.5), '0.5');
    assert.equal(printNumber(1 / 3), '0.33333333333333331');
    assert.equal(printNumber(0.1 + 0.2), '0.30000000000000004');
    assert.equal(formatG(123456789012345680000, 15), '1.23456789012346e+20');
    assert.equal(printNumber(3_000_000_000), '3000000000');
  });
  test('--json: one object per line, payload a string, or base64 when it is not UTF-8', () => {
    const line = renderMessage({ ...msg, payload: Buffer.from([0xff, 0]) }, { ...options, isJson: true }, clock, () => undefined);
    const parsed = JSON.parse(line.toString()) as Record<string, unknown>;
    assert.equal(parsed['payloadEncoding'], 'base64');
    assert.equal(parsed['payload'], '/wA=');
    const text = JSON.parse(renderMessage(msg, { ...options, isJson: true }, clock, () => undefined).toString()) as Record<string, unknown>;
    assert.equal(text['payload'], 'hello');
    assert.equal(text['topic'], 'a/b');
  });
  test('-v and -N', () => {
    assert.equal(renderMessage(msg, { ...options, isVerbose: true }, clock, () => undefined).toString(), 'a/b hello\n');
    assert.equal(renderMessage({ ...msg, payload: Buffer.alloc(0) }, { ...options, isVerbose: true }, clock, () => undefined).toString(), 'a/b (null)\n');
    assert.equal(renderMessage(msg, { ...options, hasEol: false }, clock, () => undefined).toString(), 'hello');
  });
});

describe('-d packet lines', () => {
  test('libmosquitto wording for each packet', () => {
    assert.deepEqual(debugLines('sending', undefined, { type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: true, keepaliveSeconds: 60, clientId: '' }),
      ['Client (null) sending CONNECT']);
    assert.deepEqual(debugLines('sending', 'c', { type: 3, topic: 't', payload: Buffer.from('ab'), qos: 0, retain: true, dup: false }, 4),
      ["Client c sending PUBLISH (d0, q0, r1, m4, 't', ... (2 bytes))"]);
    assert.deepEqual(debugLines('received', 'c', { type: 4, packetId: 3, reasonCode: 16 }), ['Client c received PUBACK (Mid: 3, RC:16)']);
    assert.deepEqual(debugLines('sending', 'c', { type: 8, packetId: 2, subscriptions: [
      { topicFilter: 'a', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 2 },
      { topicFilter: 'b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }),
    ['Client c sending SUBSCRIBE (Mid: 2, Topic: a, QoS: 2, Options: 0x28)', 'Client c sending SUBSCRIBE (Mid: 2, Topic: b, QoS: 0, Options: 0x00)']);
  });
});

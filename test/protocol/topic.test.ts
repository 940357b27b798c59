import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isWildcardFilter,
  matchTopic,
  parseSharedFilter,
  validateTopicFilter,
  validateTopicName,
} from '../../src/protocol/topic.js';

test('accepts valid topic names', () => {
  for (const name of ['a', 'a/b', '/', '/a', 'a/', 'a//b', '$SYS/broker', 'sport/tennis/player1', 'ü/日本', ' ',
    'x'.repeat(65_535)]) {
    assert.equal(validateTopicName(name), undefined, name.slice(0, 20));
  }
});

test('rejects invalid topic names', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['a/+', /wildcard/],
    ['#', /wildcard/],
    ['a/b#', /wildcard/],
    ['a\u0000b', /U\+0000/],
    ['x'.repeat(65_536), /too long/],
    ['\ud800', /surrogate/],
  ];
  for (const [name, reason] of cases) assert.match(validateTopicName(name) ?? '', reason, JSON.stringify(name.slice(0, 9)));
});

test('applies topic limits to names', () => {
  assert.match(validateTopicName('abcdef', { maxTopicBytes: 5 }) ?? '', /too long/);
  assert.equal(validateTopicName('abcde', { maxTopicBytes: 5 }), undefined);
  assert.match(validateTopicName('ü/ü/ü', { maxTopicBytes: 7 }) ?? '', /too long/);
  assert.match(validateTopicName('a/b/c', { maxTopicLevels: 2 }) ?? '', /levels/);
  assert.equal(validateTopicName('a/b', { maxTopicLevels: 2 }), undefined);
  assert.match(validateTopicFilter('a/+/#', { maxTopicLevels: 2 }) ?? '', /levels/);
});

test('accepts valid topic filters', () => {
  for (const filter of ['a', '#', '+', '+/+', '/+', '+/', 'a/#', 'a/+/b', 'a/+/#', '/#', '$SYS/#', 'sport/+/player1',
    '$share', '$sharex/a', '$share/g/a', '$share/g/#', '$share/g/+/x', '$share/group-1/a/b', '$share/g//']) {
    assert.equal(validateTopicFilter(filter), undefined, filter);
  }
});

test('rejects invalid topic filters', () => {
  const cases: [string, string][] = [
    ['', 'MQTT-4.7.3-1'],
    ['a/#/b', 'MQTT-4.7.1-2'],
    ['a#', 'MQTT-4.7.1-2'],
    ['a/b#', 'MQTT-4.7.1-2'],
    ['##', 'MQTT-4.7.1-2'],
    ['a+', 'MQTT-4.7.1-3'],
    ['a/+b', 'MQTT-4.7.1-3'],
    ['+a/b', 'MQTT-4.7.1-3'],
    ['++', 'MQTT-4.7.1-3'],
    ['a\u0000', 'MQTT-4.7.3-2'],
    ['$share//a', 'MQTT-4.8.2-1'],
    ['$share/g', 'MQTT-4.8.2-2'],
    ['$share/', 'MQTT-4.8.2-2'],
    ['$share/g/', 'MQTT-4.8.2-2'],
    ['$share/g+/a', 'MQTT-4.8.2-2'],
    ['$share/#/a', 'MQTT-4.8.2-2'],
    ['$share/g/a/#/b', 'MQTT-4.7.1-2'],
    ['$share/g/a+', 'MQTT-4.7.1-3'],
  ];
  for (const [filter, statement] of cases) {
    const reason = validateTopicFilter(filter);
    assert.ok(reason?.endsWith(`[${statement}]`), `${JSON.stringify(filter)}: ${String(reason)}`);
  }
  assert.match(validateTopicFilter('x'.repeat(65_536)) ?? '', /too long/);
});

test('parses shared subscription filters', () => {
  assert.deepEqual(parseSharedFilter('$share/g/a/+'), { group: 'g', filter: 'a/+' });
  assert.deepEqual(parseSharedFilter('$share/consumers/#'), { group: 'consumers', filter: '#' });
  assert.deepEqual(parseSharedFilter('$share/g//'), { group: 'g', filter: '/' });
  assert.equal(parseSharedFilter('a/+'), undefined);
  assert.equal(parseSharedFilter('$share'), undefined);
  assert.equal(parseSharedFilter('$SHARE/g/a'), undefined);
});

test('matches topic names against filters', () => {
  const cases: [filter: string, name: string, matches: boolean][] = [
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['a/b', 'a/bc', false],
    ['a/bc', 'a/b', false],
    ['#', 'a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a/b', true],
    ['a/b/#', 'a', false],
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+', '/a', false],
    ['+', '', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['a/+', 'a', false],
    ['a/+', 'a/', true],
    ['a/+', 'a/b', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+/#', 'a/b', true],
    ['a/+/#', 'a/b/c/d', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['#', '$SYS/x', false],
    ['#', '$SYS', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/#', '$SYS', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['a/$b', 'a/$b', true],
    ['a/+', 'a/$b', true],
    ['a/#', 'a/$b', true],
    ['ü/+', 'ü/日本', true],
  ];
  for (const [filter, name, matches] of cases) {
    assert.equal(matchTopic(filter, name), matches, `${filter} vs ${name}`);
  }
});

test('tells wildcard filters from plain ones', () => {
  assert.equal(isWildcardFilter('a/b'), false);
  assert.equal(isWildcardFilter('$share/g/a'), false);
  assert.equal(isWildcardFilter('a/+'), true);
  assert.equal(isWildcardFilter('#'), true);
  assert.equal(isWildcardFilter('$share/g/a/#'), true);
});

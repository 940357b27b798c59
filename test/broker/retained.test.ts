import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RetainedIndex } from '../../src/broker/retained.js';
import { LITERALS, prng, referenceMatches } from '../helpers/topic-reference.js';

/** Index whose message is its own topic, so match results name what matched. */
function retainedOf(...topics: string[]): RetainedIndex<string> {
  const index = new RetainedIndex<string>();
  for (const topic of topics) index.set(topic, topic);
  return index;
}

function sortedMatches(index: RetainedIndex<string>, filter: string): string[] {
  const out: string[] = [];
  index.match(filter, out);
  return out.toSorted();
}


function randomLevels(rand: () => number, isFilter: boolean): string {
  const n = 1 + Math.floor(rand() * 4);
  const levels: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = isFilter ? rand() : 1;
    if (i === n - 1 && r < 0.2) levels.push('#');
    else if (r < 0.45) levels.push('+');
    else levels.push(LITERALS[Math.floor(rand() * LITERALS.length)] as string);
  }
  return levels.join('/');
}

describe('RetainedIndex set, get, delete', () => {
  test('set stores and replaces, get returns the latest message', () => {
    const index = new RetainedIndex<string>();
    index.set('a/b', 'one');
    index.set('a/b', 'two');
    assert.equal(index.size, 1);
    assert.equal(index.get('a/b'), 'two');
    assert.equal(index.get('a'), undefined);
    assert.equal(index.get('a/b/c'), undefined);
  });

  test('delete reports whether a message was removed', () => {
    const index = retainedOf('a/b', 'a');
    assert.equal(index.delete('a/c'), false);
    assert.equal(index.delete('a/b/c'), false);
    assert.equal(index.delete('a/b'), true);
    assert.equal(index.delete('a/b'), false);
    assert.equal(index.size, 1);
    assert.deepEqual(sortedMatches(index, '#'), ['a']);
  });

  test('deleting everything prunes the trie back to the root', () => {
    const topics = ['a/b/c', 'a/b', 'a', '$SYS/x', 'a//b', '/', 'x/y/z/w'];
    const index = retainedOf(...topics);
    assert.ok(index.nodeCount > 1);
    for (const t of topics) assert.equal(index.delete(t), true);
    assert.equal(index.size, 0);
    assert.equal(index.nodeCount, 1);
    assert.deepEqual(sortedMatches(index, '#'), []);
  });

  test('deleting a deep topic keeps the nodes of a retained ancestor', () => {
    const index = retainedOf('a/b');
    const before = index.nodeCount;
    index.set('a/b/c/d', 'deep');
    index.delete('a/b/c/d');
    assert.equal(index.nodeCount, before);
    assert.equal(index.get('a/b'), 'a/b');
  });

  test('entries yields every topic and message in trie order (first insertion among siblings)', () => {
    const index = retainedOf('x', 'a/b', '$SYS/y', 'a', '/x', 'a//b', 'a/b/c');
    index.set('x', 'x2');
    assert.deepEqual([...index.entries()], [
      ['x', 'x2'],
      ['a', 'a'],
      ['a/b', 'a/b'],
      ['a/b/c', 'a/b/c'],
      ['a//b', 'a//b'],
      ['$SYS/y', '$SYS/y'],
      ['/x', '/x'],
    ]);
    assert.equal(index.size, 7);
  });
});

describe('RetainedIndex match', () => {
  test('a literal filter finds exactly its topic', () => {
    const index = retainedOf('sport/tennis', 'sport/tennis/player1', 'sport');
    assert.deepEqual(sortedMatches(index, 'sport/tennis'), ['sport/tennis']);
    assert.deepEqual(sortedMatches(index, 'sport/golf'), []);
  });

  test('+ matches exactly one level, including an empty one [MQTT-4.7.1-3]', () => {
    const index = retainedOf('sport/tennis', 'sport/golf', 'sport/', 'sport', 'sport/tennis/player1', '/finance');
    assert.deepEqual(sortedMatches(index, 'sport/+'), ['sport/', 'sport/golf', 'sport/tennis']);
    assert.deepEqual(sortedMatches(index, '+/+'), ['/finance', 'sport/', 'sport/golf', 'sport/tennis']);
    assert.deepEqual(sortedMatches(index, '+'), ['sport']);
    assert.deepEqual(sortedMatches(index, '/+'), ['/finance']);
  });

  test('a/# matches a and everything below it [MQTT-4.7.1-2]', () => {
    const index = retainedOf('sport', 'sport/tennis', 'sport/tennis/player1', 'sports', 'other');
    assert.deepEqual(sortedMatches(index, 'sport/#'), ['sport', 'sport/tennis', 'sport/tennis/player1']);
    assert.deepEqual(sortedMatches(index, 'sport/tennis/#'), ['sport/tennis', 'sport/tennis/player1']);
    assert.deepEqual(sortedMatches(index, '+/#'), [
      'other',
      'sport',
      'sport/tennis',
      'sport/tennis/player1',
      'sports',
    ]);
  });

  test('empty levels are distinct literal levels (a//b)', () => {
    const index = retainedOf('a//b', 'a/b', 'a/x/b');
    assert.deepEqual(sortedMatches(index, 'a//b'), ['a//b']);
    assert.deepEqual(sortedMatches(index, 'a/+/b'), ['a//b', 'a/x/b']);
  });

  test('wildcard-first filters never return $ topics [MQTT-4.7.2-1]', () => {
    const index = retainedOf('$SYS/monitor/Clients', '$SYS', 'SYS/monitor/Clients', 'a/$b');
    assert.deepEqual(sortedMatches(index, '#'), ['SYS/monitor/Clients', 'a/$b']);
    assert.deepEqual(sortedMatches(index, '+/monitor/Clients'), ['SYS/monitor/Clients']);
    assert.deepEqual(sortedMatches(index, '$SYS/#'), ['$SYS', '$SYS/monitor/Clients']);
    assert.deepEqual(sortedMatches(index, '$SYS/monitor/+'), ['$SYS/monitor/Clients']);
    assert.deepEqual(sortedMatches(index, 'a/+'), ['a/$b']);
  });

  test('match appends to the caller array and returns its length', () => {
    const index = retainedOf('a');
    const out = ['existing'];
    assert.equal(index.match('a', out), 2);
    assert.deepEqual(out, ['existing', 'a']);
  });

  test('random topics, deletions and filters agree with brute force', () => {
    const seed = 0x5e7a;
    const rand = prng(seed);
    const index = new RetainedIndex<string>();
    const reference = new Map<string, string>();
    for (let step = 0; step < 3000; step++) {
      const topic = randomLevels(rand, false);
      if (rand() < 0.3) {
        assert.equal(index.delete(topic), reference.delete(topic), `seed ${seed} step ${step}`);
      } else {
        index.set(topic, topic);
        reference.set(topic, topic);
      }
      assert.equal(index.size, reference.size);
      assert.equal(index.get(topic), reference.get(topic));
      if (step % 20 !== 0) continue;
      assert.deepEqual(new Map(index.entries()), reference, `seed ${seed} step ${step} entries`);
      for (let q = 0; q < 10; q++) {
        const filter = randomLevels(rand, true);
        const expected = [...reference.keys()].filter((t) => referenceMatches(filter, t)).toSorted();
        assert.deepEqual(sortedMatches(index, filter), expected, `seed ${seed} step ${step} filter ${filter}`);
      }
    }
    for (const topic of reference.keys()) index.delete(topic);
    assert.equal(index.size, 0);
    assert.equal(index.nodeCount, 1);
  });
});

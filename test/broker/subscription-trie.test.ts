import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionTrie } from '../../src/broker/subscription-trie.js';
import { LITERALS, prng, referenceMatches } from '../helpers/topic-reference.js';

function matches<T>(trie: SubscriptionTrie<T>, topic: string): T[] {
  const out: T[] = [];
  trie.match(topic, out);
  return out;
}

/** Trie whose value is the filter itself, one subscription per filter. */
function trieOf(...filters: string[]): SubscriptionTrie<string> {
  const trie = new SubscriptionTrie<string>();
  for (const filter of filters) trie.add(filter, 'c', filter);
  return trie;
}

function sortedMatches(trie: SubscriptionTrie<string>, topic: string): string[] {
  return matches(trie, topic).toSorted();
}


function randomTopic(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 4);
  const levels: string[] = [];
  for (let i = 0; i < n; i++) levels.push(LITERALS[Math.floor(rand() * LITERALS.length)] as string);
  return levels.join('/');
}

function randomFilter(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 4);
  const levels: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (i === n - 1 && r < 0.2) levels.push('#');
    else if (r < 0.45) levels.push('+');
    else levels.push(LITERALS[Math.floor(rand() * LITERALS.length)] as string);
  }
  return levels.join('/');
}

describe('SubscriptionTrie matching', () => {
  test('a literal filter matches only the identical topic', () => {
    const trie = trieOf('sport/tennis/player1');
    assert.deepEqual(matches(trie, 'sport/tennis/player1'), ['sport/tennis/player1']);
    assert.deepEqual(matches(trie, 'sport/tennis'), []);
    assert.deepEqual(matches(trie, 'sport/tennis/player1/ranking'), []);
    assert.deepEqual(matches(trie, 'Sport/tennis/player1'), []);
  });

  test('+ matches exactly one level [MQTT-4.7.1-3]', () => {
    const trie = trieOf('sport/tennis/+', 'sport/+', '+/+', '+');
    assert.deepEqual(sortedMatches(trie, 'sport/tennis/player1'), ['sport/tennis/+']);
    assert.deepEqual(sortedMatches(trie, 'sport/tennis'), ['+/+', 'sport/+']);
    assert.deepEqual(sortedMatches(trie, 'sport'), ['+']);
    assert.deepEqual(sortedMatches(trie, 'sport/'), ['+/+', 'sport/+']);
  });

  test('# matches any number of levels [MQTT-4.7.1-2]', () => {
    const trie = trieOf('sport/tennis/player1/#', '#');
    assert.deepEqual(sortedMatches(trie, 'sport/tennis/player1/ranking/wimbledon'), ['#', 'sport/tennis/player1/#']);
    assert.deepEqual(sortedMatches(trie, 'other'), ['#']);
  });

  test('a/# matches the parent level a [MQTT-4.7.1-2]', () => {
    const trie = trieOf('sport/#', 'sport/tennis/player1/#', '+/#');
    assert.deepEqual(sortedMatches(trie, 'sport'), ['+/#', 'sport/#']);
    assert.deepEqual(sortedMatches(trie, 'sport/tennis/player1'), ['+/#', 'sport/#', 'sport/tennis/player1/#']);
    assert.deepEqual(sortedMatches(trie, 'sport/tennis'), ['+/#', 'sport/#']);
  });

  test('+/+ and /+ match a topic with a leading empty level, + does not', () => {
    const trie = trieOf('+/+', '/+', '+');
    assert.deepEqual(sortedMatches(trie, '/finance'), ['+/+', '/+']);
    assert.deepEqual(sortedMatches(trie, '/'), ['+/+', '/+']);
  });

  test('empty levels are distinct literal levels (a//b)', () => {
    const trie = trieOf('a//b', 'a/+/b', 'a/b');
    assert.deepEqual(sortedMatches(trie, 'a//b'), ['a/+/b', 'a//b']);
    assert.deepEqual(sortedMatches(trie, 'a/b'), ['a/b']);
    assert.deepEqual(sortedMatches(trie, 'a/x/b'), ['a/+/b']);
  });

  test('wildcard-first filters never match $ topics [MQTT-4.7.2-1]', () => {
    const trie = trieOf('#', '+/monitor/Clients', '+/#', '$SYS/#', '$SYS/monitor/+');
    assert.deepEqual(sortedMatches(trie, '$SYS/monitor/Clients'), ['$SYS/#', '$SYS/monitor/+']);
    assert.deepEqual(sortedMatches(trie, '$SYS'), ['$SYS/#']);
    assert.deepEqual(sortedMatches(trie, 'SYS/monitor/Clients'), ['#', '+/#', '+/monitor/Clients']);
  });

  test('$ inside a later level is an ordinary character', () => {
    const trie = trieOf('#', 'a/+');
    assert.deepEqual(sortedMatches(trie, 'a/$b'), ['#', 'a/+']);
  });

  test('many keys on one filter are delivered in subscription order', () => {
    const trie = new SubscriptionTrie<number>();
    for (let i = 0; i < 50; i++) trie.add('fan/out', `c${i}`, i);
    const expected = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(matches(trie, 'fan/out'), expected);
    // Adding after a match extends the cached order rather than reordering it.
    trie.add('fan/out', 'late', 50);
    assert.deepEqual(matches(trie, 'fan/out'), [...expected, 50]);
  });

  test('match writes from index 0 and returns the count, leaving entries past it (the array is never truncated)', () => {
    const trie = trieOf('a/b', 'a/+');
    const out = ['old0', 'old1', 'old2'];
    assert.equal(trie.match('a/b', out), 2);
    assert.deepEqual(out.slice(0, 2).toSorted(), ['a/+', 'a/b']);
    assert.equal(out[2], 'old2');
    assert.equal(trie.match('x', out), 0);
  });
});

describe('SubscriptionTrie add, replace, get and remove', () => {
  test('add returns true when new and false when it replaces, keeping the position', () => {
    const trie = new SubscriptionTrie<string>();
    assert.equal(trie.add('a/+', 'c1', 'v1'), true);
    assert.equal(trie.add('a/+', 'c2', 'v2'), true);
    assert.deepEqual(matches(trie, 'a/x'), ['v1', 'v2']);
    assert.equal(trie.add('a/+', 'c1', 'v1b'), false);
    assert.equal(trie.size, 2);
    assert.equal(trie.get('a/+', 'c1'), 'v1b');
    assert.deepEqual(matches(trie, 'a/x'), ['v1b', 'v2']);
  });

  test('the same key on different filters is two subscriptions', () => {
    const trie = new SubscriptionTrie<string>();
    trie.add('a/+', 'c1', 'plus');
    trie.add('a/#', 'c1', 'hash');
    assert.equal(trie.size, 2);
    assert.deepEqual(matches(trie, 'a/b'), ['hash', 'plus']);
  });

  test('get returns undefined for unknown filters and keys', () => {
    const trie = trieOf('a/b');
    assert.equal(trie.get('a/b', 'other'), undefined);
    assert.equal(trie.get('a', 'c'), undefined);
    assert.equal(trie.get('a/b/c', 'c'), undefined);
    assert.equal(trie.get('+', 'c'), undefined);
  });

  test('remove returns the value, and undefined when nothing was there', () => {
    const trie = trieOf('a/b', 'a/+');
    assert.equal(trie.remove('a/b', 'nobody'), undefined);
    assert.equal(trie.remove('a/c', 'c'), undefined);
    assert.equal(trie.remove('a/b', 'c'), 'a/b');
    assert.equal(trie.remove('a/b', 'c'), undefined);
    assert.equal(trie.size, 1);
    assert.deepEqual(matches(trie, 'a/b'), ['a/+']);
  });

  test('removing one of many keys keeps the order of the others', () => {
    const trie = new SubscriptionTrie<number>();
    for (let i = 0; i < 5; i++) trie.add('t', `c${i}`, i);
    assert.deepEqual(matches(trie, 't'), [0, 1, 2, 3, 4]);
    trie.remove('t', 'c2');
    assert.deepEqual(matches(trie, 't'), [0, 1, 3, 4]);
  });

  test('removing everything prunes the trie back to the root', () => {
    const trie = new SubscriptionTrie<string>();
    const filters = ['a/b/c', 'a/b', 'a/+/c', 'a/#', '#', '+', '+/+/#', '$SYS/x', 'a//b', '/'];
    for (const f of filters) {
      trie.add(f, 'c1', f);
      trie.add(f, 'c2', f);
    }
    assert.equal(trie.size, filters.length * 2);
    assert.ok(trie.nodeCount > 1);
    for (const f of filters.toReversed()) trie.remove(f, 'c1');
    for (const f of filters) trie.remove(f, 'c2');
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 1);
    assert.deepEqual(matches(trie, 'a/b/c'), []);
  });

  test('pruning keeps nodes that still lead to other subscriptions', () => {
    const trie = trieOf('a/b/c', 'a');
    const before = trie.nodeCount;
    trie.add('a/b/c/d', 'c', 'deep');
    trie.remove('a/b/c/d', 'c');
    assert.equal(trie.nodeCount, before);
    assert.deepEqual(matches(trie, 'a/b/c'), ['a/b/c']);
    trie.remove('a/b/c', 'c');
    assert.equal(trie.nodeCount, 2);
    assert.deepEqual(matches(trie, 'a'), ['a']);
  });

  test('a node that goes from many literal children back to one still matches it', () => {
    const trie = trieOf('a/b', 'a/c', 'a/d');
    trie.remove('a/c', 'c');
    trie.remove('a/b', 'c');
    assert.deepEqual(matches(trie, 'a/d'), ['a/d']);
    assert.deepEqual(matches(trie, 'a/b'), []);
    trie.add('a/e', 'c', 'a/e');
    assert.deepEqual(matches(trie, 'a/e'), ['a/e']);
    assert.deepEqual(matches(trie, 'a/d'), ['a/d']);
    assert.equal(trie.nodeCount, 4);
  });

  test('churn does not grow the node count', () => {
    const trie = new SubscriptionTrie<number>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) trie.add(`devices/${i}/telemetry`, 'c', i);
      for (let i = 0; i < 1000; i++) trie.remove(`devices/${i}/telemetry`, 'c');
      assert.equal(trie.nodeCount, 1);
    }
  });
});

describe('SubscriptionTrie differential test against a reference matcher', () => {
  test('random filters, keys, removals and topics agree with brute force', () => {
    const seed = 0xc01e;
    const rand = prng(seed);
    const trie = new SubscriptionTrie<string>();
    const reference = new Map<string, string>(); // `${filter}\n${key}` -> value, which starts with the filter
    for (let step = 0; step < 4000; step++) {
      const filter = randomFilter(rand);
      const key = `k${Math.floor(rand() * 4)}`;
      const id = `${filter}\n${key}`;
      if (rand() < 0.3) {
        assert.equal(trie.remove(filter, key), reference.get(id), `seed ${seed} step ${step}`);
        reference.delete(id);
      } else {
        const value = `${id}#${step}`;
        assert.equal(trie.add(filter, key, value), !reference.has(id), `seed ${seed} step ${step}`);
        reference.set(id, value);
      }
      assert.equal(trie.size, reference.size);
      if (step % 20 !== 0) continue;
      for (let q = 0; q < 10; q++) {
        const topic = randomTopic(rand);
        const expected = [...reference.values()]
          .filter((v) => referenceMatches(v.slice(0, v.indexOf('\n')), topic))
          .toSorted();
        assert.deepEqual(sortedMatches(trie, topic), expected, `seed ${seed} step ${step} topic ${topic}`);
      }
    }
    for (const id of reference.keys()) {
      const [filter, key] = id.split('\n') as [string, string];
      trie.remove(filter, key);
    }
    assert.equal(trie.size, 0);
    assert.equal(trie.nodeCount, 1);
  });
});

/**
 * Subscription index: which subscriptions match a PUBLISH topic name. This is the broker's fan-out hot path.
 *
 * Design note
 * -----------
 * Structure: a trie keyed by topic level. Each node has
 *   - `soleChild` / `children`: literal next levels. A single child is stored inline (level + node); a Map is
 *     created only when a second one arrives, and dropped again when one is left. Most interior nodes of real
 *     topic trees (`devices/{id}/telemetry`) have one child, so this saves a Map per subscription: 100k such
 *     filters take ~46 MB of heap instead of ~61 MB.
 *   - `plus` / `hash`: the `+` and `#` children, kept out of the map so matching never looks them up by string;
 *   - `subs`: the subscriptions whose filter ends at this node, `Map<key, value>` (insertion order = delivery order);
 *   - `values`: a lazily built array copy of `subs.values()`, so fan-out to N subscribers is a plain array loop
 *     instead of a Map iterator per match.
 *
 * Cost (L = levels in the filter or topic, k = subscribers on one filter):
 *   - add: O(L) map lookups; appends to `values` when the key is new (no rebuild).
 *   - remove: O(L), then prunes now-empty nodes back towards the root so memory does not grow with churn.
 *     Removing or replacing drops the `values` cache; the next match rebuilds it in O(k).
 *   - match: walks only the branches the topic can reach: at each level the literal child, the `+` child and the
 *     `#` child. Cost is O(L × wildcard branching + matches), independent of the total number of subscriptions.
 *     The walk follows the literal path in a loop and recurses only into `+` branches.
 *
 * Trade-offs: the `values` cache doubles the per-filter reference storage and makes "unsubscribe then publish" on a
 * very large filter O(k) once; in exchange the common case (stable subscriptions, many publishes) has no iterator or
 * closure allocation per match. The topic is split with indexOf/slice into a reused level buffer: no array per match,
 * and about 3x faster than `String#split` for a 3-level topic when measured. The level strings are still sliced. Matching is synchronous and not re-entrant, which makes the shared
 * buffer safe.
 *
 * A client with several overlapping filters gets one value per matching filter; de-duplication (or "deliver once
 * with the maximum QoS") is the caller's decision. Shared subscriptions are stored on their topic-filter part with a
 * key that includes the share name; choosing one member of a group is also the caller's job.
 */
import { LevelMap } from './level-map.js';

const DOLLAR = 0x24;

class TrieNode<T> {
  /**
   * The only literal child, kept inline until a second one arrives (then `children` takes over: a LevelMap, so a
   * level with millions of filters never rehashes all of them at once).
   */
  soleLevel: string | undefined = undefined;
  soleChild: TrieNode<T> | undefined = undefined;
  children: LevelMap<TrieNode<T>> | undefined = undefined;
  plus: TrieNode<T> | undefined = undefined;
  hash: TrieNode<T> | undefined = undefined;
  subs: Map<string, T> | undefined = undefined;
  values: T[] | undefined = undefined;

  isEmpty(): boolean {
    return (
      this.soleChild === undefined &&
      this.children === undefined &&
      this.plus === undefined &&
      this.hash === undefined &&
      this.subs === undefined
    );
  }
}

/**
 * Index of subscriptions by topic filter, generic over the value stored per subscription.
 *
 * @example
 * ```ts
 * const trie = new SubscriptionTrie<{ clientId: string; qos: 0 | 1 | 2 }>();
 * trie.add('devices/+/telemetry', 'c1', { clientId: 'c1', qos: 1 });
 * const out: { clientId: string; qos: 0 | 1 | 2 }[] = [];
 * const n = trie.match('devices/42/telemetry', out); // n = 1, out[0] = { clientId: 'c1', qos: 1 }
 * ```
 */
export class SubscriptionTrie<T> {
  #root = new TrieNode<T>();
  #size = 0;
  #nodeCount = 1;
  /** Levels of the topic being matched; reused across calls. */
  #levels: string[] = [];
  readonly #sink: Sink<T> = { out: [], n: 0 };

  /** Number of subscriptions. */
  get size(): number {
    return this.#size;
  }

  /** Number of trie nodes including the root; 1 when empty. For tests of pruning and for memory metrics. */
  get nodeCount(): number {
    return this.#nodeCount;
  }

  /**
   * Add or replace the subscription of `key` (e.g. a client id, or a `$share/group` + client id key) on `filter`.
   * Returns true when it is new, false when it replaced an existing one. The filter must already be valid.
   */
  add(filter: string, key: string, value: T): boolean {
    let node = this.#root;
    for (const level of filter.split('/')) node = this.#child(node, level);
    if (node.subs === undefined) node.subs = new Map();
    const isNew = !node.subs.has(key);
    node.subs.set(key, value);
    if (isNew) {
      this.#size++;
      // A new key goes to the end of the Map, so appending keeps the cache in insertion order.
      node.values?.push(value);
    } else {
      node.values = undefined;
    }
    return isNew;
  }

  /** Remove the subscription of `key` on `filter`; returns the removed value or undefined. Prunes empty nodes. */
  remove(filter: string, key: string): T | undefined {
    const levels = filter.split('/');
    const path: TrieNode<T>[] = [this.#root];
    let node: TrieNode<T> | undefined = this.#root;
    for (const level of levels) {
      node = childOf(node, level);
      if (node === undefined) return undefined;
      path.push(node);
    }
    const subs = node.subs;
    if (subs === undefined || !subs.has(key)) return undefined;
    const value = subs.get(key) as T;
    subs.delete(key);
    node.values = undefined;
    if (subs.size === 0) node.subs = undefined;
    this.#size--;
    this.#prune(path, levels);
    return value;
  }

  /** The value stored for `key` on `filter`, or undefined. */
  get(filter: string, key: string): T | undefined {
    let node: TrieNode<T> | undefined = this.#root;
    for (const level of filter.split('/')) {
      node = childOf(node, level);
      if (node === undefined) return undefined;
    }
    return node.subs?.get(key);
  }

  /**
   * Write the value of every subscription whose filter matches topic name `topic` to `out[0]`, `out[1]`, … and
   * return how many. The caller owns and reuses `out` and reads only that many: entries past them are left as they
   * were (never truncating `out` keeps its backing store, so nothing is allocated per match).
   */
  match(topic: string, out: T[]): number {
    const levels = this.#levels;
    const count = splitInto(topic, levels);
    const root = this.#root;
    const sink = this.#sink as Sink<T>;
    sink.out = out;
    sink.n = 0;
    if (topic.charCodeAt(0) === DOLLAR) {
      // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic name starting with '$':
      // from the root, follow only the literal child.
      const first = literalChild(root, levels[0] as string);
      if (first !== undefined) walk(first, levels, count, 1, sink);
    } else {
      walk(root, levels, count, 0, sink);
    }
    sink.out = EMPTY_OUT as T[];
    return sink.n;
  }

  #child(node: TrieNode<T>, level: string): TrieNode<T> {
    let next: TrieNode<T> | undefined;
    if (level === '+') {
      next = node.plus;
      if (next === undefined) next = node.plus = new TrieNode();
      else return next;
    } else if (level === '#') {
      next = node.hash;
      if (next === undefined) next = node.hash = new TrieNode();
      else return next;
    } else {
      next = literalChild(node, level);
      if (next !== undefined) return next;
      next = new TrieNode();
      addLiteralChild(node, level, next);
    }
    this.#nodeCount++;
    return next;
  }

  /** Detach empty nodes from the leaf of `path` towards the root (the root itself stays). */
  #prune(path: TrieNode<T>[], levels: string[]): void {
    for (let i = levels.length; i > 0; i--) {
      const node = path[i] as TrieNode<T>;
      if (!node.isEmpty()) return;
      const parent = path[i - 1] as TrieNode<T>;
      const level = levels[i - 1] as string;
      if (level === '+') parent.plus = undefined;
      else if (level === '#') parent.hash = undefined;
      else removeLiteralChild(parent, level);
      this.#nodeCount--;
    }
  }
}

function childOf<T>(node: TrieNode<T>, level: string): TrieNode<T> | undefined {
  if (level === '+') return node.plus;
  if (level === '#') return node.hash;
  return literalChild(node, level);
}

function literalChild<T>(node: TrieNode<T>, level: string): TrieNode<T> | undefined {
  if (node.soleChild !== undefined) return node.soleLevel === level ? node.soleChild : undefined;
  return node.children?.get(level);
}

function addLiteralChild<T>(node: TrieNode<T>, level: string, child: TrieNode<T>): void {
  if (node.children !== undefined) {
    node.children.set(level, child);
  } else if (node.soleChild === undefined) {
    node.soleLevel = level;
    node.soleChild = child;
  } else {
    node.children = new LevelMap([[node.soleLevel as string, node.soleChild], [level, child]]);
    node.soleLevel = undefined;
    node.soleChild = undefined;
  }
}

function removeLiteralChild<T>(node: TrieNode<T>, level: string): void {
  if (node.soleChild !== undefined) {
    if (node.soleLevel !== level) return;
    node.soleLevel = undefined;
    node.soleChild = undefined;
    return;
  }
  const children = node.children;
  if (children === undefined || !children.delete(level)) return;
  if (children.size > 1) return;
  node.children = undefined;
  // Back to the inline form when one child is left, so churn does not leave one-entry Maps behind.
  for (const [soleLevel, soleChild] of children.entries()) {
    node.soleLevel = soleLevel;
    node.soleChild = soleChild;
  }
}

/** Split `topic` on '/' into `levels` (overwriting from index 0) and return the level count. */
function splitInto(topic: string, levels: string[]): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const end = topic.indexOf('/', start);
    if (end === -1) {
      levels[count++] = topic.slice(start);
      return count;
    }
    levels[count++] = topic.slice(start, end);
    start = end + 1;
  }
}

/** Where match() writes: `out[n++]`. */
interface Sink<T> {
  out: T[];
  n: number;
}

const EMPTY_OUT: unknown[] = [];

/** Collect the matches below `node`, which has consumed the first `i` of `count` topic levels. */
function walk<T>(node: TrieNode<T>, levels: string[], count: number, i: number, out: Sink<T>): void {
  for (;;) {
    // '#' matches the remaining levels, including none: "a/#" matches "a" [MQTT-4.7.1-2].
    const hash = node.hash;
    if (hash !== undefined) pushValues(hash, out);
    if (i === count) {
      pushValues(node, out);
      return;
    }
    if (node.plus !== undefined) walk(node.plus, levels, count, i + 1, out);
    const next = literalChild(node, levels[i] as string);
    if (next === undefined) return;
    node = next;
    i++;
  }
}

function pushValues<T>(node: TrieNode<T>, sink: Sink<T>): void {
  const subs = node.subs;
  if (subs === undefined) return;
  let values = node.values;
  if (values === undefined) values = node.values = Array.from(subs.values());
  const { out } = sink;
  let n = sink.n;
  for (let j = 0; j < values.length; j++) out[n++] = values[j] as T;
  sink.n = n;
}

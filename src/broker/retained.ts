/**
 * Retained messages, indexed so a SUBSCRIBE can find the ones its filter matches.
 *
 * Design note
 * -----------
 * Structure: a trie of topic-name levels where a node holds the message retained on the topic that ends there. There
 * is no flat `Map<topic, Node>` beside it: at a million retained topics such a map costs ~40-80 bytes per topic, and
 * the one `set` that crosses 2^20 entries rehashes the whole table in one go (about 100 ms, measured). The trie's maps
 * hold the children of one node each, so their size is the fan-out of a level, not the number of retained messages.
 *
 * Cost (L = levels in the filter or topic):
 *   - set, get: O(L) map lookups (the topic is split into levels).
 *   - delete: O(L), then prunes now-empty nodes back towards the root.
 *   - match: a literal level is one map lookup; `+` visits every child of the current node; `#` visits the whole
 *     subtree. So the cost is the size of the part of the trie the filter can reach, never all retained messages
 *     unless the filter is `#` (which must return them all anyway).
 *
 * Trade-off: matching goes the opposite way from the subscription trie (the wildcards are in the query, not in the
 * index), so a leading `+` or `#` is inherently a wide scan; we keep it to one pass without intermediate arrays.
 *
 * Memory: a node with one child points at it directly (the child knows its level) and gets a Map only when a second
 * child arrives; it keeps the Map until its last child goes (no new Map each time a topic beside another one is set
 * and deleted in turn). In a tree of a million topics like `site/device-N/state`, most nodes below the fan-out have
 * a single child, and a Map per such node (about 180 bytes even with one entry) was the largest part of the index.
 * The children are a LevelMap (level-map.ts), so a level with millions of topics never rehashes all of them at once.
 */
import { LevelMap } from './level-map.js';

const DOLLAR = 0x24;

class RetainedNode<M> {
  /** The topic level this node stands for ('' for the root). */
  readonly level: string;
  /** None, the only child, or the children by level. */
  children: LevelMap<RetainedNode<M>> | RetainedNode<M> | undefined = undefined;
  hasMessage = false;
  message: M | undefined = undefined;

  constructor(level: string) {
    this.level = level;
  }

  child(level: string): RetainedNode<M> | undefined {
    const children = this.children;
    if (children === undefined) return undefined;
    if (children instanceof RetainedNode) return children.level === level ? children : undefined;
    return children.get(level);
  }

  addChild(child: RetainedNode<M>): void {
    const children = this.children;
    if (children === undefined) this.children = child;
    else if (children instanceof RetainedNode) this.children = new LevelMap([[children.level, children], [child.level, child]]);
    else children.set(child.level, child);
  }

  removeChild(level: string): void {
    const children = this.children;
    if (children instanceof RetainedNode) {
      this.children = undefined;
    } else if (children !== undefined) {
      children.delete(level);
      if (children.size === 0) this.children = undefined;
    }
  }
}

/**
 * Retained messages by topic name, matchable by topic filter.
 *
 * @example
 * ```ts
 * const retained = new RetainedIndex<Buffer>();
 * retained.set('home/kitchen/temp', Buffer.from('21'));
 * const out: Buffer[] = [];
 * retained.match('home/+/temp', out); // out = [<Buffer 32 31>]
 * ```
 */
export class RetainedIndex<M> {
  #root = new RetainedNode<M>('');
  #nodeCount = 1;
  #size = 0;

  /** Number of retained messages. */
  get size(): number {
    return this.#size;
  }

  /** Number of trie nodes including the root; 1 when empty. For tests of pruning and for memory metrics. */
  get nodeCount(): number {
    return this.#nodeCount;
  }

  /** Store or replace the message retained on topic name `topic`. */
  set(topic: string, message: M): void {
    let node = this.#root;
    for (const level of topic.split('/')) {
      let next: RetainedNode<M> | undefined = node.child(level);
      if (next === undefined) {
        next = new RetainedNode(level);
        node.addChild(next);
        this.#nodeCount++;
      }
      node = next;
    }
    if (!node.hasMessage) {
      node.hasMessage = true;
      this.#size++;
    }
    node.message = message;
  }

  /** Remove the message retained on `topic`; returns whether there was one. Prunes empty nodes. */
  delete(topic: string): boolean {
    const levels = topic.split('/');
    const path: RetainedNode<M>[] = [this.#root];
    let node: RetainedNode<M> | undefined = this.#root;
    for (const level of levels) {
      node = node.child(level);
      if (node === undefined) return false;
      path.push(node);
    }
    if (!node.hasMessage) return false;
    node.hasMessage = false;
    node.message = undefined;
    this.#size--;
    for (let i = levels.length; i > 0; i--) {
      const child = path[i] as RetainedNode<M>;
      if (child.hasMessage || child.children !== undefined) break;
      (path[i - 1] as RetainedNode<M>).removeChild(child.level);
      this.#nodeCount--;
    }
    return true;
  }

  /** The message retained on topic name `topic`, or undefined. */
  get(topic: string): M | undefined {
    let node: RetainedNode<M> | undefined = this.#root;
    for (const level of topic.split('/')) {
      node = node.child(level);
      if (node === undefined) return undefined;
    }
    return node.message;
  }

  /**
   * Append every retained message whose topic name matches `filter` (which may contain `+` and `#`) to `out` and
   * return `out.length`. Order follows the trie (first-insertion order among siblings).
   */
  match(filter: string, out: M[]): number {
    // Nothing retained (common while many subscriptions are made): no need to split the filter.
    if (this.#size === 0) return out.length;
    const levels = filter.split('/');
    const first = levels[0] as string;
    if (first === '+' || first === '#') {
      // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topic names starting with '$'.
      matchWildcardAtRoot(this.#root, levels, first, out);
    } else {
      matchFrom(this.#root, levels, 0, out);
    }
    return out.length;
  }

  /** Iterate all (topic, message) pairs in trie order (first-insertion order among siblings), for snapshots. */
  *entries(): IterableIterator<[string, M]> {
    yield* entriesBelow(this.#root, undefined);
  }
}

function* entriesBelow<M>(node: RetainedNode<M>, prefix: string | undefined): IterableIterator<[string, M]> {
  const children = node.children;
  if (children === undefined) return;
  if (children instanceof RetainedNode) {
    yield* entryAndBelow(children, prefix);
    return;
  }
  for (const map of children.maps()) for (const child of map.values()) yield* entryAndBelow(child, prefix);
}

function* entryAndBelow<M>(child: RetainedNode<M>, prefix: string | undefined): IterableIterator<[string, M]> {
  const topic = prefix === undefined ? child.level : `${prefix}/${child.level}`;
  if (child.hasMessage) yield [topic, child.message as M];
  yield* entriesBelow(child, topic);
}

function matchWildcardAtRoot<M>(root: RetainedNode<M>, levels: string[], first: string, out: M[]): void {
  const children = root.children;
  if (children === undefined) return;
  if (children instanceof RetainedNode) {
    matchTopLevel(children, levels, first, out);
    return;
  }
  for (const map of children.maps()) for (const child of map.values()) matchTopLevel(child, levels, first, out);
}

/** A wildcard first level matches no topic starting with '$' [MQTT-4.7.2-1]. */
function matchTopLevel<M>(child: RetainedNode<M>, levels: string[], first: string, out: M[]): void {
  if (child.level.charCodeAt(0) === DOLLAR) return;
  if (first === '#') collectSubtree(child, out);
  else matchFrom(child, levels, 1, out);
}

/** Collect matches below `node`, which has consumed the first `i` levels of the filter. */
function matchFrom<M>(node: RetainedNode<M>, levels: string[], i: number, out: M[]): void {
  for (;;) {
    if (i === levels.length) {
      if (node.hasMessage) out.push(node.message as M);
      return;
    }
    const level = levels[i] as string;
    if (level === '#') {
      // '#' also matches the parent level: "a/#" matches "a" [MQTT-4.7.1-2].
      collectSubtree(node, out);
      return;
    }
    const children = node.children;
    if (children === undefined) return;
    if (level === '+') {
      if (children instanceof RetainedNode) {
        node = children;
        i++;
        continue;
      }
      for (const map of children.maps()) for (const child of map.values()) matchFrom(child, levels, i + 1, out);
      return;
    }
    const next = node.child(level);
    if (next === undefined) return;
    node = next;
    i++;
  }
}

function collectSubtree<M>(node: RetainedNode<M>, out: M[]): void {
  for (;;) {
    if (node.hasMessage) out.push(node.message as M);
    const children = node.children;
    if (children === undefined) return;
    if (!(children instanceof RetainedNode)) {
      for (const map of children.maps()) for (const child of map.values()) collectSubtree(child, out);
      return;
    }
    node = children;
  }
}

/**
 * Retained messages, indexed so a SUBSCRIBE can find the ones its filter matches.
 *
 * Design note
 * -----------
 * Structure: a trie of topic-name levels (`Map<string, Node>` children, created lazily) where a node holds the
 * message retained on the topic that ends there, plus a flat `Map<topic, Node>` for exact lookups. The flat map
 * gives O(1) `get`, O(1) replacement of an existing topic (no trie walk) and insertion-ordered `entries()` for
 * snapshots; it costs one map entry per retained topic.
 *
 * Cost (L = levels in the filter or topic):
 *   - set: O(1) when the topic is already retained, else O(L) to create the path.
 *   - delete: O(L), then prunes now-empty nodes back towards the root.
 *   - match: a literal level is one map lookup; `+` visits every child of the current node; `#` visits the whole
 *     subtree. So the cost is the size of the part of the trie the filter can reach, never all retained messages
 *     unless the filter is `#` (which must return them all anyway).
 *
 * Trade-off: matching goes the opposite way from the subscription trie (the wildcards are in the query, not in the
 * index), so a leading `+` or `#` is inherently a wide scan; we keep it to one pass without intermediate arrays.
 */

const DOLLAR = 0x24;

class RetainedNode<M> {
  children: Map<string, RetainedNode<M>> | undefined = undefined;
  hasMessage = false;
  message: M | undefined = undefined;
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
  #root = new RetainedNode<M>();
  #byTopic = new Map<string, RetainedNode<M>>();
  #nodeCount = 1;

  /** Number of retained messages. */
  get size(): number {
    return this.#byTopic.size;
  }

  /** Number of trie nodes including the root; 1 when empty. For tests of pruning and for memory metrics. */
  get nodeCount(): number {
    return this.#nodeCount;
  }

  /** Store or replace the message retained on topic name `topic`. */
  set(topic: string, message: M): void {
    let node = this.#byTopic.get(topic);
    if (node === undefined) {
      node = this.#root;
      for (const level of topic.split('/')) {
        if (node.children === undefined) node.children = new Map();
        let next = node.children.get(level);
        if (next === undefined) {
          next = new RetainedNode();
          node.children.set(level, next);
          this.#nodeCount++;
        }
        node = next;
      }
      node.hasMessage = true;
      this.#byTopic.set(topic, node);
    }
    node.message = message;
  }

  /** Remove the message retained on `topic`; returns whether there was one. Prunes empty nodes. */
  delete(topic: string): boolean {
    if (!this.#byTopic.delete(topic)) return false;
    const levels = topic.split('/');
    const path: RetainedNode<M>[] = [this.#root];
    let node = this.#root;
    for (const level of levels) {
      node = node.children?.get(level) as RetainedNode<M>;
      path.push(node);
    }
    node.hasMessage = false;
    node.message = undefined;
    for (let i = levels.length; i > 0; i--) {
      const child = path[i] as RetainedNode<M>;
      if (child.hasMessage || child.children !== undefined) break;
      const parent = path[i - 1] as RetainedNode<M>;
      const children = parent.children as Map<string, RetainedNode<M>>;
      children.delete(levels[i - 1] as string);
      if (children.size === 0) parent.children = undefined;
      this.#nodeCount--;
    }
    return true;
  }

  /** The message retained on topic name `topic`, or undefined. */
  get(topic: string): M | undefined {
    return this.#byTopic.get(topic)?.message;
  }

  /**
   * Append every retained message whose topic name matches `filter` (which may contain `+` and `#`) to `out` and
   * return `out.length`. Order follows the trie (first-insertion order among siblings).
   */
  match(filter: string, out: M[]): number {
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

  /** Iterate all (topic, message) pairs in insertion order, for persistence and snapshots. */
  *entries(): IterableIterator<[string, M]> {
    for (const [topic, node] of this.#byTopic) yield [topic, node.message as M];
  }
}

function matchWildcardAtRoot<M>(root: RetainedNode<M>, levels: string[], first: string, out: M[]): void {
  const children = root.children;
  if (children === undefined) return;
  for (const [level, child] of children) {
    if (level.charCodeAt(0) === DOLLAR) continue;
    if (first === '#') collectSubtree(child, out);
    else matchFrom(child, levels, 1, out);
  }
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
      for (const child of children.values()) matchFrom(child, levels, i + 1, out);
      return;
    }
    const next = children.get(level);
    if (next === undefined) return;
    node = next;
    i++;
  }
}

function collectSubtree<M>(node: RetainedNode<M>, out: M[]): void {
  if (node.hasMessage) out.push(node.message as M);
  const children = node.children;
  if (children === undefined) return;
  for (const child of children.values()) collectSubtree(child, out);
}

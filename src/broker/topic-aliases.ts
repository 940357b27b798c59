/**
 * Outbound Topic Aliases (MQTT 5 section 3.3.2.3.4): the broker's side of the mapping it builds on one connection
 * to a client that accepts aliases. Aliases are 1..maximum, where maximum is the smaller of the client's Topic Alias
 * Maximum and the broker's `outboundTopicAliasMaximum` [MQTT-3.3.2-11]; they die with the connection [MQTT-3.3.2-7].
 *
 * Design note: a Map from topic to alias, in use order. `plan` does not change the mapping, so a PUBLISH that is
 * then dropped (over the client's Maximum Packet Size) leaves no alias behind the client never learnt; `commit`
 * records it once the bytes are written. Policy `'lru'` reassigns the least recently used alias when all are taken;
 * `'fill'` assigns aliases until they run out and then sends full topic names.
 */

export type OutboundTopicAliasPolicy = 'lru' | 'fill';

/** How to send one topic: `topic` is '' when the alias is already known to the client. */
export interface AliasPlan {
  readonly topic: string;
  readonly alias: number;
  /** The topic the alias stands for from now on. */
  readonly forTopic: string;
  /** A topic whose alias is reassigned (LRU), or undefined. */
  readonly evicted: string | undefined;
}

export class OutboundTopicAliases {
  readonly maximum: number;
  readonly #policy: OutboundTopicAliasPolicy;
  readonly #byTopic = new Map<string, number>();

  constructor(maximum: number, policy: OutboundTopicAliasPolicy) {
    this.maximum = maximum;
    this.#policy = policy;
  }

  /** How to send `topic`; undefined to send it in full without an alias. */
  plan(topic: string): AliasPlan | undefined {
    const known = this.#byTopic.get(topic);
    if (known !== undefined) return { topic: '', alias: known, forTopic: topic, evicted: undefined };
    if (this.#byTopic.size < this.maximum) {
      return { topic, alias: this.#byTopic.size + 1, forTopic: topic, evicted: undefined };
    }
    if (this.#policy === 'fill') return undefined;
    // The Map iterates in insertion order and `commit` re-inserts on use: the first key is the least recently used.
    const oldest = this.#byTopic.entries().next().value!;
    return { topic, alias: oldest[1], forTopic: topic, evicted: oldest[0] };
  }

  /** Records a plan whose PUBLISH was written. */
  commit(plan: AliasPlan): void {
    if (plan.evicted !== undefined) this.#byTopic.delete(plan.evicted);
    this.#byTopic.delete(plan.forTopic);
    this.#byTopic.set(plan.forTopic, plan.alias);
  }
}

/**
 * Automatic outbound Topic Aliases (MQTT 5 section 3.3.2.3.4). Up to the server's Topic Alias Maximum topics get an
 * alias; when all are taken the least recently used topic gives its alias up. The map is per connection: the spec
 * resets aliases when a connection ends [MQTT-3.3.2-7].
 *
 * Design note: a Map keeps insertion order, so re-inserting a topic on each use makes the first key the least
 * recently used: lookups and evictions are O(1).
 */
export interface AliasChoice {
  alias: number;
  /** false when the server already knows this alias for this topic: send an empty topic name. */
  isNew: boolean;
}

export class TopicAliases {
  #maximum: number;
  readonly #byTopic = new Map<string, number>();

  constructor(maximum = 0) {
    this.#maximum = maximum;
  }

  /** Forgets every alias; a new connection starts with the server's new maximum. */
  reset(maximum: number): void {
    this.#maximum = maximum;
    this.#byTopic.clear();
  }

  /** The alias to send for `topic`, or undefined when aliases are off. */
  choose(topic: string): AliasChoice | undefined {
    if (this.#maximum <= 0 || topic === '') return undefined;
    const known = this.#byTopic.get(topic);
    if (known !== undefined) {
      this.#byTopic.delete(topic);
      this.#byTopic.set(topic, known);
      return { alias: known, isNew: false };
    }
    let alias: number;
    if (this.#byTopic.size < this.#maximum) {
      alias = this.#byTopic.size + 1;
    } else {
      const [oldest, oldAlias] = this.#byTopic.entries().next().value as [string, number];
      this.#byTopic.delete(oldest);
      alias = oldAlias;
    }
    this.#byTopic.set(topic, alias);
    return { alias, isNew: true };
  }
}

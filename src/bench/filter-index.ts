/**
 * Which subscribers should have received a topic: the load generator's own answer, used to count lost messages, so
 * it must not share code with the broker's subscription trie.
 *
 * Design: a map from filter text to the subscribers holding it. A topic of L levels can only be matched by filters
 * that are the topic with some levels replaced by `+`, optionally cut short by `#`; there are 2^L + 2^(L+1) - 1 of
 * those, so for the short topics of a benchmark (L <= 10) enumerating them and looking each up costs a few hundred
 * map probes, however many filters there are (100 k in the matching scenario). Longer topics fall back to testing
 * every distinct filter. Answers are cached per topic.
 */
import { matchTopic } from '../protocol/topic.js';

const MAX_ENUMERATED_LEVELS = 10;

export class FilterIndex<T> {
  readonly #byFilter = new Map<string, T[]>();
  readonly #cache = new Map<string, readonly T[]>();

  add(filter: string, owner: T): void {
    const owners = this.#byFilter.get(filter);
    if (owners === undefined) this.#byFilter.set(filter, [owner]);
    else if (!owners.includes(owner)) owners.push(owner);
    this.#cache.clear();
  }

  /** Distinct owners with at least one filter matching `topic`. */
  match(topic: string): readonly T[] {
    const cached = this.#cache.get(topic);
    if (cached !== undefined) return cached;
    const found = new Set<T>();
    const levels = topic.split('/');
    const collect = (filter: string): void => {
      for (const o of this.#byFilter.get(filter) ?? []) found.add(o);
    };
    if (levels.length > MAX_ENUMERATED_LEVELS) {
      for (const filter of this.#byFilter.keys()) if (matchTopic(filter, topic)) collect(filter);
    } else {
      // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic starting with '$'.
      const isSystem = topic.startsWith('$');
      const walk = (i: number, prefix: string[]): void => {
        if (!(isSystem && i === 0)) collect([...prefix, '#'].join('/'));
        if (i === levels.length) {
          collect(prefix.join('/'));
          return;
        }
        walk(i + 1, [...prefix, levels[i]!]);
        if (!(isSystem && i === 0)) walk(i + 1, [...prefix, '+']);
      };
      walk(0, []);
    }
    const result = [...found];
    this.#cache.set(topic, result);
    return result;
  }
}

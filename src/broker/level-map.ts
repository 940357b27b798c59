/**
 * The children of one topic level by name, for the subscription trie and the retained index.
 *
 * Design note: a Map grows by rehashing all of its entries in one step. A level with millions of children
 * (`devices/<id>/…` with one id per device) in one Map stalls the event loop at each doubling: on this machine a
 * single `set()` took ~370 ms at 2^21 names. So a LevelMap is one Map up to `shardAt` names (8,192) and then
 * spreads them over 64 Maps by a hash of the name (moving the first 8,192 over a few at a time); a doubling then
 * rehashes 1/64 of the names. Small levels (nearly all of them) stay one Map and pay one extra branch per lookup; a
 * split level stays split. Iteration order is insertion order while small, shard by shard after the split (no
 * caller depends on it: MQTT leaves the order of retained messages open).
 */
const SHARD_AT = 1 << 13;
const SHARD_BITS = 6;
const SHARD_MASK = (1 << SHARD_BITS) - 1;
/** Names moved from the old Map to their shards per write after the split. */
const MOVE_PER_WRITE = 16;

/**
 * The shard of a name: a hash of its length and four of its characters (first, middle, last two), not of all of
 * them, as it runs on every lookup at a big level (hashing every character cost ~100 ns per lookup here). Ids that
 * differ anywhere in those places spread evenly; names alike in all four land in one shard, which then behaves
 * like the single Map it replaces.
 */
function shardOf(name: string): number {
  const n = name.length;
  if (n === 0) return 0;
  let h = Math.imul(n, 0x9e3779b1) ^ name.charCodeAt(0);
  h = Math.imul(h, 0x01000193) ^ name.charCodeAt(n >> 1);
  h = Math.imul(h, 0x01000193) ^ name.charCodeAt(n - 1);
  if (n > 1) h = Math.imul(h, 0x01000193) ^ name.charCodeAt(n - 2);
  return (h ^ (h >>> 15) ^ (h >>> 7)) & SHARD_MASK;
}

export class LevelMap<V> {
  /** The names while small; after the split, the names not yet moved to their shard (undefined once all are). */
  #map: Map<string, V> | undefined;
  #shards: Map<string, V>[] | undefined;
  /** Walks #map while its names move to their shards, MOVE_PER_WRITE per set() or delete(). */
  #moving: Iterator<[string, V]> | undefined;
  /** [#map] for maps() while small. */
  #single: Map<string, V>[] | undefined;
  #size = 0;
  readonly #shardAt: number;

  /** `shardAt` is for tests; the broker uses the default. */
  constructor(entries: Iterable<readonly [string, V]> = [], shardAt = SHARD_AT) {
    this.#shardAt = shardAt;
    this.#map = new Map(entries);
    this.#size = this.#map.size;
    if (this.#size >= shardAt) this.#split();
  }

  get size(): number {
    return this.#size;
  }

  get(name: string): V | undefined {
    const shards = this.#shards;
    if (shards === undefined) return this.#map!.get(name);
    const found = shards[shardOf(name)]!.get(name);
    return found !== undefined || this.#map === undefined ? found : this.#map.get(name);
  }

  set(name: string, value: V): void {
    const shards = this.#shards;
    if (shards === undefined) {
      const map = this.#map!;
      map.set(name, value);
      this.#size = map.size;
      if (this.#size >= this.#shardAt) this.#split();
      return;
    }
    if (this.#map?.delete(name) === true) this.#size--;
    const shard = shards[shardOf(name)]!;
    const before = shard.size;
    shard.set(name, value);
    this.#size += shard.size - before;
    if (this.#moving !== undefined) this.#move();
  }

  delete(name: string): boolean {
    const shards = this.#shards;
    const isDeleted = shards === undefined ? this.#map!.delete(name)
      : shards[shardOf(name)]!.delete(name) || this.#map?.delete(name) === true;
    if (!isDeleted) return false;
    this.#size--;
    if (this.#moving !== undefined) this.#move();
    return true;
  }

  /**
   * The Maps that hold the names, to iterate: the one Map while small; after the split the shards, then the names
   * not yet moved. (Loops over these run several times faster than through a generator over all of them.) Do not
   * change the LevelMap while iterating.
   */
  maps(): readonly Map<string, V>[] {
    if (this.#shards === undefined) return (this.#single ??= [this.#map!]);
    return this.#map === undefined ? this.#shards : [...this.#shards, this.#map];
  }

  *entries(): IterableIterator<[string, V]> {
    for (const map of this.maps()) yield* map;
  }

  /**
   * Starts the shards. The names already here move to them a few per write (#move), not all at once: moving 8,192
   * names in one step cost 30-80 ms of one event-loop turn here (first run of the code, and the GC it set off).
   */
  #split(): void {
    this.#shards = Array.from({ length: 1 << SHARD_BITS }, () => new Map<string, V>());
    this.#moving = this.#map!.entries();
  }

  #move(): void {
    const map = this.#map!;
    const shards = this.#shards!;
    for (let i = 0; i < MOVE_PER_WRITE; i++) {
      const next = this.#moving!.next();
      if (next.done === true) {
        this.#map = undefined;
        this.#moving = undefined;
        return;
      }
      const [name, value] = next.value;
      map.delete(name);
      shards[shardOf(name)]!.set(name, value);
    }
  }
}

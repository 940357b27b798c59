/**
 * Outbound QoS 1/2 messages that are sent and not yet acknowledged, by packet identifier: a broker session's, and
 * the client library's.
 *
 * Design note: a table of slots indexed by the low bits of the packet identifier, instead of a Map. A Map whose keys
 * come and go at message rate replaces its hash table every few dozen messages, and once a table has been promoted
 * to V8's old generation its stale slots keep the young entries they point at (and their messages) alive through
 * the next scavenge: at QoS 1 about 40 % of everything the broker allocated survived each scavenge, was promoted
 * and made every scavenge several times slower (`culex bench pairs -c 4 -r 5000 -q 1`: 1.1 MB survived per
 * scavenge and 6 ms pauses with a Map; 65 KB and 1.3 ms with this table; a client publishing QoS 1 with 100 in
 * flight: 518 KB and 2.7 ms, 275 KB and 1.5 ms). Slots are emptied when their entry leaves, so nothing is held
 * after its acknowledgement.
 *
 * The broker's sessions pick packet identifiers with `freeId`, which skips any whose slot is taken, so every entry
 * has a slot of its own. The table doubles when it is full, or when two identifiers share a slot (identifiers
 * restored from a store; the client library's, which come from its own allocator: there the table spans the
 * identifiers in flight, up to one slot per identifier, 65,536, when one message stays unacknowledged while the
 * counter goes round), and goes back to its smallest size when it empties.
 */

/** How the table reads an entry: its packet identifier is its key, its seq the order `values()` returns. */
export interface InflightKeys<E> {
  packetId(entry: E): number;
  seq(entry: E): number;
}

const MIN_SLOTS = 8;
const MAX_PACKET_ID = 65_535;

export class InflightTable<E> {
  readonly #keys: InflightKeys<E>;
  #slots: (E | undefined)[] = newSlots(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #size = 0;

  constructor(keys: InflightKeys<E>) {
    this.#keys = keys;
  }

  get size(): number {
    return this.#size;
  }

  get(packetId: number): E | undefined {
    const entry = this.#slots[packetId & this.#mask];
    return entry !== undefined && this.#keys.packetId(entry) === packetId ? entry : undefined;
  }

  has(packetId: number): boolean {
    return this.get(packetId) !== undefined;
  }

  /** Adds `entry` under its packet identifier, replacing an entry with the same identifier. */
  set(entry: E): void {
    const packetId = this.#keys.packetId(entry);
    let slot = packetId & this.#mask;
    let there = this.#slots[slot];
    while (there !== undefined && this.#keys.packetId(there) !== packetId) {
      this.#grow();
      slot = packetId & this.#mask;
      there = this.#slots[slot];
    }
    if (there === undefined) this.#size++;
    this.#slots[slot] = entry;
  }

  delete(packetId: number): boolean {
    const slot = packetId & this.#mask;
    const entry = this.#slots[slot];
    if (entry === undefined || this.#keys.packetId(entry) !== packetId) return false;
    this.#slots[slot] = undefined;
    if (--this.#size === 0 && this.#slots.length > MIN_SLOTS) this.clear();
    return true;
  }

  /**
   * The first packet identifier from `from` on (1 to 65,535, wrapping) that no entry has and whose slot is free
   * [MQTT-2.2.1-3]. The caller keeps fewer than 65,535 entries (its in-flight window).
   */
  freeId(from: number): number {
    if (this.#size === this.#slots.length) this.#grow();
    let id = from;
    for (let tries = 0; tries <= MAX_PACKET_ID; tries++) {
      if (this.#slots[id & this.#mask] === undefined) return id;
      id = id === MAX_PACKET_ID ? 1 : id + 1;
    }
    throw new Error('no free packet identifier');
  }

  /** The entries in seq order (the order they were sent in). A copy: the table may change while it is read. */
  values(): E[] {
    const out: E[] = [];
    for (const entry of this.#slots) if (entry !== undefined) out.push(entry);
    const { seq } = this.#keys;
    out.sort((a, b) => seq(a) - seq(b));
    return out;
  }

  clear(): void {
    this.#slots = newSlots(MIN_SLOTS);
    this.#mask = MIN_SLOTS - 1;
    this.#size = 0;
  }

  #grow(): void {
    const size = this.#slots.length * 2;
    if (size > MAX_PACKET_ID + 1) throw new Error('in-flight table over 65,536 slots');
    const slots = newSlots<E>(size);
    const mask = size - 1;
    // Identifiers with distinct low bits under the old mask stay distinct under the wider one.
    for (const entry of this.#slots) if (entry !== undefined) slots[this.#keys.packetId(entry) & mask] = entry;
    // The old slots are emptied too: a dropped array the collector has promoted would otherwise keep these entries
    // alive through scavenges after their acknowledgement, as a Map's old tables did.
    this.#slots.fill(undefined);
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** `n` empty slots, filled so that V8 keeps the array packed rather than holey. */
function newSlots<E>(n: number): (E | undefined)[] {
  const slots: (E | undefined)[] = [];
  for (let i = 0; i < n; i++) slots.push(undefined);
  return slots;
}

/** Packet identifiers in use by this client (PUBLISH QoS 1/2, SUBSCRIBE, UNSUBSCRIBE share one space). */
export class PacketIds {
  readonly #inUse = new Set<number>();
  #next = 1;

  get size(): number {
    return this.#inUse.size;
  }

  /** A free identifier (1–65535), now in use; throws RangeError when all 65,535 are taken. */
  allocate(): number {
    if (this.#inUse.size >= 65_535) throw new RangeError('all 65,535 packet identifiers are in use');
    while (this.#inUse.has(this.#next)) this.#next = this.#next === 65_535 ? 1 : this.#next + 1;
    const id = this.#next;
    this.#inUse.add(id);
    this.#next = id === 65_535 ? 1 : id + 1;
    return id;
  }

  /** Marks an identifier restored from a store as in use. */
  claim(id: number): void {
    this.#inUse.add(id);
  }

  release(id: number): void {
    this.#inUse.delete(id);
  }
}

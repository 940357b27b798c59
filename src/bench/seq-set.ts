/**
 * A growable bitmap of sequence numbers (0, 1, 2, ...), one bit each: a publisher's acknowledged messages, or what
 * one subscriber received from one publisher. Sequence numbers are dense, so a million messages cost 125 KB, and
 * two sets compare with a byte loop. Travels between processes as base64.
 */
export class SeqSet {
  #bits: Uint8Array;
  /** Number of distinct members. */
  size = 0;

  constructor(bits: Uint8Array = new Uint8Array(1024)) {
    this.#bits = bits;
  }

  static fromBase64(text: string): SeqSet {
    const bits = new Uint8Array(Buffer.from(text, 'base64'));
    const set = new SeqSet(bits);
    for (const byte of bits) set.size += popcount(byte);
    return set;
  }

  /** Adds `seq`; returns false if it was already there (a duplicate). */
  add(seq: number): boolean {
    const index = seq >>> 3;
    if (index >= this.#bits.length) {
      let length = this.#bits.length * 2;
      while (length <= index) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (seq & 7);
    const byte = this.#bits[index]!;
    if ((byte & mask) !== 0) return false;
    this.#bits[index] = byte | mask;
    this.size++;
    return true;
  }

  has(seq: number): boolean {
    const index = seq >>> 3;
    return index < this.#bits.length && (this.#bits[index]! & (1 << (seq & 7))) !== 0;
  }

  /** Calls `fn` for every member, in ascending order. */
  forEach(fn: (seq: number) => void): void {
    const bits = this.#bits;
    for (let i = 0; i < bits.length; i++) {
      const byte = bits[i]!;
      if (byte === 0) continue;
      for (let b = 0; b < 8; b++) if ((byte & (1 << b)) !== 0) fn(i * 8 + b);
    }
  }

  /** Members of this set missing from `other`. */
  countMissingFrom(other: SeqSet | undefined): number {
    if (other === undefined) return this.size;
    const a = this.#bits;
    const b = other.#bits;
    let missing = 0;
    for (let i = 0; i < a.length; i++) {
      const mine = a[i]!;
      if (mine !== 0) missing += popcount(mine & ~(i < b.length ? b[i]! : 0));
    }
    return missing;
  }

  toBase64(): string {
    let end = this.#bits.length;
    while (end > 0 && this.#bits[end - 1] === 0) end--;
    return Buffer.from(this.#bits.buffer, this.#bits.byteOffset, end).toString('base64');
  }
}

function popcount(byte: number): number {
  let v = byte & 0xff;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}

/**
 * Variable Byte Integer (section 1.5.5): 7 bits a byte, least significant group first, at most 4 bytes, so at most
 * 268,435,455. Used for the remaining length and for some properties.
 */

export const MAX_VARINT = 268_435_455;

/** Number of bytes `value` takes as a Variable Byte Integer. */
export function varintLength(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

/** Writes `value` at `offset` and returns the offset after it. The caller guarantees 0 <= value <= MAX_VARINT. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value > 0) byte |= 0x80;
    buf[offset++] = byte;
  } while (value > 0);
  return offset;
}

/**
 * Reads a Variable Byte Integer at `offset` without reading past `end`. Returns the value and the byte count, or
 * `needMore` when the bytes end before the integer does, or `tooLong` when a fifth byte would be needed
 * (section 1.5.5: "a malformed Variable Byte Integer").
 */
export type VarintResult = { value: number; bytes: number } | 'needMore' | 'tooLong';

export function readVarint(buf: Buffer, offset: number, end: number): VarintResult {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= end) return 'needMore';
    const byte = buf[offset + i]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, bytes: i + 1 };
    multiplier *= 128;
  }
  return 'tooLong';
}

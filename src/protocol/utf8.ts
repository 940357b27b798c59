/**
 * UTF-8 Encoded Strings (section 1.5.4). Validation uses Node's native `buffer.isUtf8`, which rejects ill-formed
 * sequences, overlong forms and encoded surrogates U+D800–U+DFFF [MQTT-1.5.4-1]; U+0000 is checked separately
 * [MQTT-1.5.4-2]. A string is at most 65,535 bytes.
 */
import { isUtf8 } from 'node:buffer';

export const MAX_STRING_BYTES = 65_535;

export type Utf8Problem = 'invalid' | 'null';

/** Checks bytes [start, end) of `buf`: returns undefined when they are a well-formed MQTT UTF-8 string. */
export function checkUtf8(buf: Buffer, start: number, end: number): Utf8Problem | undefined {
  // Pure ASCII without NUL is the common case; a byte loop is faster than a native call for short strings.
  let i = start;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return 'null';
    if (b >= 0x80) break;
  }
  if (i === end) return undefined;
  if (!isUtf8(buf.subarray(start, end))) return 'invalid';
  const nul = buf.indexOf(0, i);
  if (nul !== -1 && nul < end) return 'null';
  return undefined;
}

/** True when `s` is encodable as an MQTT UTF-8 string: no lone surrogate, no U+0000, at most 65,535 bytes. */
export function isValidMqttString(s: string): boolean {
  if (s.includes('\u0000')) return false;
  // String.prototype.isWellFormed is in Node 20 but in TypeScript's ES2024 lib, which would admit APIs Node 20 lacks.
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return false;
  return Buffer.byteLength(s, 'utf8') <= MAX_STRING_BYTES;
}

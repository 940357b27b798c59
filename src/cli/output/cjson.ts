/**
 * A JSON printer that writes what cJSON 1.7 (the library mosquitto_sub links) writes, so that `-F %j` / `%J` output
 * is byte for byte Mosquitto's: no escaping of '/' or of non-ASCII (UTF-8 passes through), `\uXXXX` in lower-case hex
 * for other control characters, integers as `%d`, other numbers as C's `%1.15g` (or `%1.17g` when 15 digits do not
 * round-trip), and the "pretty" form with tabs (`"key":\tvalue`, arrays as `[1, 2]`).
 *
 * Values are modelled as an ordered list of entries so that duplicate keys and insertion order survive, as in cJSON.
 */

export type CJsonValue =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; value: number }
  /** A string as raw bytes (cJSON strings are byte strings). */
  | { kind: 'string'; value: Buffer }
  | { kind: 'array'; items: CJsonValue[] }
  | { kind: 'object'; entries: [key: Buffer, value: CJsonValue][] };

export const cj = {
  null: (): CJsonValue => ({ kind: 'null' }),
  number: (value: number): CJsonValue => ({ kind: 'number', value }),
  string: (value: string | Buffer): CJsonValue => ({
    kind: 'string', value: typeof value === 'string' ? Buffer.from(value) : cString(value),
  }),
  object: (entries: [string, CJsonValue][]): CJsonValue => ({
    kind: 'object', entries: entries.map(([k, v]) => [Buffer.from(k), v]),
  }),
};

/** C strings end at the first NUL. */
function cString(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul === -1 ? b : b.subarray(0, nul);
}

const ESCAPES: Readonly<Record<number, string>> = {
  0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t',
};

function printString(b: Buffer, out: Buffer[]): void {
  out.push(Buffer.from('"'));
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    const escape = ESCAPES[c] ?? (c < 0x20 ? `\\u${c.toString(16).padStart(4, '0')}` : undefined);
    if (escape === undefined) continue;
    out.push(b.subarray(start, i), Buffer.from(escape));
    start = i + 1;
  }
  out.push(b.subarray(start), Buffer.from('"'));
}

/** Drops the trailing zeros (and a bare '.') of a fraction, as %g does. */
function trim(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** C's `%1.<precision>g`. */
export function formatG(d: number, precision: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mantissa, exp] = d.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= precision) {
    return `${trim(mantissa)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trim(d.toFixed(precision - 1 - exponent));
}

export function printNumber(d: number): string {
  if (!Number.isFinite(d)) return 'null';
  if (Number.isInteger(d) && d <= 2147483647 && d >= -2147483648) return String(d);
  const short = formatG(d, 15);
  return Number(short) === d ? short : formatG(d, 17);
}

function printValue(v: CJsonValue, isPretty: boolean, depth: number, out: Buffer[]): void {
  switch (v.kind) {
    case 'null': out.push(Buffer.from('null')); return;
    case 'bool': out.push(Buffer.from(v.value ? 'true' : 'false')); return;
    case 'number': out.push(Buffer.from(printNumber(v.value))); return;
    case 'string': printString(v.value, out); return;
    case 'array':
      out.push(Buffer.from('['));
      v.items.forEach((item, i) => {
        if (i > 0) out.push(Buffer.from(isPretty ? ', ' : ','));
        printValue(item, isPretty, depth + 1, out);
      });
      out.push(Buffer.from(']'));
      return;
    case 'object': {
      const inner = depth + 1;
      out.push(Buffer.from(isPretty ? '{\n' : '{'));
      v.entries.forEach(([key, value], i) => {
        if (isPretty) out.push(Buffer.from('\t'.repeat(inner)));
        printString(key, out);
        out.push(Buffer.from(isPretty ? ':\t' : ':'));
        printValue(value, isPretty, inner, out);
        if (i < v.entries.length - 1) out.push(Buffer.from(','));
        if (isPretty) out.push(Buffer.from('\n'));
      });
      if (isPretty) out.push(Buffer.from('\t'.repeat(depth)));
      out.push(Buffer.from('}'));
    }
  }
}

export function printCJson(v: CJsonValue, isPretty: boolean): Buffer {
  const out: Buffer[] = [];
  printValue(v, isPretty, 0, out);
  return Buffer.concat(out);
}

/** Converts a JSON.parse result to the printable model (object key order is kept by JSON.parse). */
export function fromParsed(x: unknown): CJsonValue {
  if (x === null) return { kind: 'null' };
  if (typeof x === 'boolean') return { kind: 'bool', value: x };
  if (typeof x === 'number') return { kind: 'number', value: x };
  if (typeof x === 'string') return { kind: 'string', value: Buffer.from(x) };
  if (Array.isArray(x)) return { kind: 'array', items: x.map(fromParsed) };
  return { kind: 'object', entries: Object.entries(x as object).map(([k, v]) => [Buffer.from(k), fromParsed(v)]) };
}

/**
 * Parses a payload as cJSON would for `%J`: the whole payload must be one JSON value (surrounding whitespace
 * allowed). Returns undefined when it is not.
 */
export function parsePayloadJson(payload: Buffer): CJsonValue | undefined {
  if (payload.includes(0)) return undefined;
  try {
    return fromParsed(JSON.parse(payload.toString('utf8')));
  } catch {
    return undefined;
  }
}

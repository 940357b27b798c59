/**
 * mosquitto_sub's `-F` format strings: `%` conversions with optional `-` (left align), `0` (zero pad), field width
 * and `.precision`; `@` strftime conversions sharing one timestamp per message (`@N` = nanoseconds, `@@` = '@');
 * and `\` escapes. checkFormat() rejects what Mosquitto rejects, with its messages. formatMessage() renders bytes:
 * payloads, topics and properties are written as raw bytes, and widths and precisions count bytes, as C's printf
 * does. Quirks kept on purpose so output matches byte for byte: a field width truncates `%p` and halves the bytes
 * printed by `%x`/`%X`; `%-p` without a width pads with as many spaces as the payload has bytes.
 */
import type { Properties } from '../../protocol/types.js';
import { printCJson } from './cjson.js';
import { messageJson } from './json.js';
import type { Clock, PrintableMessage, Timestamp } from './message.js';
import { strftime, strftimeConversion } from './strftime.js';

const CONVERSIONS: ReadonlySet<string> = new Set('%ACDEFIlmPpqRSrtjJUxX');
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', '0': '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v',
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Mosquitto's check_format: undefined when valid, else the error line (with its newline). */
export function checkFormat(format: string): string | undefined {
  const incomplete = 'Error: Incomplete format specifier.\n';
  const len = format.length;
  for (let i = 0; i < len; i++) {
    const c = format[i];
    if (c === '%') {
      if (i === len - 1) return incomplete;
      if (format[i + 1] === '0' || format[i + 1] === '-') {
        i++;
        if (i === len - 1) return incomplete;
      }
      while (isDigit(format[i + 1])) {
        i++;
        if (i === len - 1) return incomplete;
      }
      if (format[i + 1] === '.') {
        i++;
        if (i === len - 1) return incomplete;
        while (isDigit(format[i + 1])) {
          i++;
          if (i === len - 1) return incomplete;
        }
      }
      if (!CONVERSIONS.has(format[i + 1]!)) return `Error: Invalid format specifier '${format[i + 1]!}'.\n`;
      i++;
    } else if (c === '@') {
      if (i === len - 1) return incomplete;
      i++;
    } else if (c === '\\') {
      if (i === len - 1) return 'Error: Incomplete escape specifier.\n';
      if (ESCAPES[format[i + 1]!] === undefined) return `Error: Invalid escape specifier '${format[i + 1]!}'.\n`;
      i++;
    }
  }
  return undefined;
}

interface Spec {
  isLeft: boolean;
  pad: string;
  width: number;
  /** -1 when absent. */
  precision: number;
}

export interface FormatContext {
  readonly clock: Clock;
  readonly isPretty: boolean;
  /** Where `%J` reports a payload that is not JSON (Mosquitto's err_printf, silenced by --quiet). */
  readonly reportError: (line: string) => void;
}

/** printf's %d with `-`, `0` and a width. */
function formatInt(value: number, s: Spec): string {
  const text = String(value);
  if (s.width === 0) return text;
  if (s.isLeft) return text.padEnd(s.width);
  if (s.pad === '0') {
    return value < 0 ? `-${String(-value).padStart(s.width - 1, '0')}` : text.padStart(s.width, '0');
  }
  return text.padStart(s.width);
}

/** printf's %s with a width and precision, counting bytes. */
function formatStr(value: Buffer, s: Spec): Buffer {
  const cut = s.precision >= 0 && value.length > s.precision ? value.subarray(0, s.precision) : value;
  const padding = Buffer.alloc(Math.max(0, s.width - cut.length), ' ');
  return s.isLeft ? Buffer.concat([cut, padding]) : Buffer.concat([padding, cut]);
}

function formatPayload(payload: Buffer, hex: 0 | 1 | 2, s: Spec): Buffer {
  let length = payload.length;
  let padLength: number;
  if (s.width > 0) {
    if (length > s.width) length = s.width;
    if (hex > 0) {
      length = Math.floor(length / 2);
      padLength = s.width - length * 2;
    } else {
      padLength = s.width - length;
    }
  } else {
    padLength = s.width - length;
  }
  const bytes = payload.subarray(0, length);
  const body = hex === 0 ? bytes : Buffer.from(hex === 1 ? bytes.toString('hex') : bytes.toString('hex').toUpperCase());
  if (s.isLeft) return Buffer.concat([body, Buffer.alloc(Math.abs(padLength), ' ')]);
  return Buffer.concat([Buffer.alloc(Math.max(0, padLength), s.pad), body]);
}

const blank = (s: Spec, pad = s.pad): Buffer => Buffer.alloc(s.width, pad);

function intProperty(value: number | undefined, s: Spec): Buffer {
  return value === undefined ? blank(s) : Buffer.from(formatInt(value, s));
}

function userProperties(props: Properties | undefined): Buffer {
  const pairs = props?.userProperties ?? [];
  return Buffer.from(pairs.map(([k, v]) => `${k}:${v}`).join(' '));
}

function percent(c: string, s: Spec, msg: PrintableMessage, ctx: FormatContext): Buffer {
  const props = msg.properties;
  switch (c) {
    case '%': return Buffer.from('%');
    case 'A': return intProperty(props?.topicAlias, s);
    case 'C': return props?.contentType === undefined ? blank(s, ' ') : formatStr(Buffer.from(props.contentType), s);
    case 'D': return props?.correlationData ?? Buffer.alloc(0);
    case 'E': return intProperty(props?.messageExpiryInterval, s);
    case 'F': return intProperty(props?.payloadFormatIndicator, s);
    case 'I': return formatStr(Buffer.from(strftime('%FT%T%z', ctx.clock().date)), s);
    case 'j':
    case 'J': {
      const json = messageJson(msg, ctx.clock(), c === 'j');
      if (json !== undefined) return printCJson(json, ctx.isPretty);
      ctx.reportError(`Error: Message payload is not valid JSON on topic ${msg.topic}.\n`);
      return Buffer.alloc(0);
    }
    case 'l': return Buffer.from(formatInt(msg.payload.length, s));
    case 'm': return Buffer.from(formatInt(msg.mid, s));
    case 'P': return userProperties(props);
    case 'p': return formatPayload(msg.payload, 0, s);
    case 'q': return Buffer.from(String(msg.qos));
    case 'R': return props?.responseTopic === undefined ? Buffer.alloc(0) : formatStr(Buffer.from(props.responseTopic), s);
    case 'r': return Buffer.from(msg.isRetained ? '1' : '0');
    case 'S': return intProperty(props?.subscriptionIdentifiers?.[0], s);
    case 't': return formatStr(Buffer.from(msg.topic), s);
    case 'U': {
      const ts = ctx.clock();
      return Buffer.from(`${Math.floor(ts.date.getTime() / 1000)}.${String(ts.nanoseconds).padStart(9, '0')}`);
    }
    case 'x': return formatPayload(msg.payload, 1, s);
    case 'X': return formatPayload(msg.payload, 2, s);
    default: return Buffer.alloc(0);
  }
}

/** Renders one message (without the end of line, which the caller adds unless -N). */
export function formatMessage(format: string, msg: PrintableMessage, ctx: FormatContext): Buffer {
  const out: Buffer[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') out.push(Buffer.from(literal));
    literal = '';
  };
  let time: Timestamp | undefined;
  const len = format.length;
  for (let i = 0; i < len; i++) {
    const c = format[i]!;
    if (c === '%') {
      const s: Spec = { isLeft: false, pad: ' ', width: 0, precision: -1 };
      if (i >= len - 1) continue;
      i++;
      if (format[i] === '-') {
        s.isLeft = true;
        if (i < len - 1) i++;
      }
      if (format[i] === '0') {
        s.pad = '0';
        if (i < len - 1) i++;
      }
      while (i < len - 1 && isDigit(format[i])) s.width = s.width * 10 + Number(format[i++]);
      if (format[i] === '.' && i < len - 1) {
        i++;
        s.precision = 0;
        while (i < len - 1 && isDigit(format[i])) s.precision = s.precision * 10 + Number(format[i++]);
      }
      flush();
      out.push(percent(format[i]!, s, msg, ctx));
    } else if (c === '@') {
      if (i >= len - 1) continue;
      const conversion = format[++i]!;
      if (conversion === '@') {
        literal += '@';
        continue;
      }
      time ??= ctx.clock();
      literal += conversion === 'N'
        ? String(time.nanoseconds).padStart(9, '0')
        : strftimeConversion(conversion, time.date) ?? '';
    } else if (c === '\\') {
      if (i >= len - 1) continue;
      literal += ESCAPES[format[++i]!] ?? '';
    } else {
      literal += c;
    }
  }
  flush();
  return Buffer.concat(out);
}

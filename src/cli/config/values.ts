/**
 * Value readers shared by the directive tables. Each fails with a message naming the directive, the bad value and
 * what was expected; the parser adds the file and line.
 */
import type { Line, ParseState, SecurityConfig } from './types.js';

/** Largest delay Node's timers accept, in ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The single value of a directive. */
export function one(line: Line): string {
  if (line.args.length === 0) line.fail(`Missing value for "${line.directive}"`);
  if (line.args.length > 1) line.fail(`Unexpected extra value "${line.args[1]}" for "${line.directive}"`);
  return line.args[0]!;
}

/** The rest of the line as one value (paths and cipher lists may contain spaces in Mosquitto). */
export function rest(line: Line): string {
  if (line.args.length === 0) line.fail(`Missing value for "${line.directive}"`);
  return line.args.join(' ');
}

export function integer(line: Line, value: string, min: number, max: number, expected: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    line.fail(`Bad value "${value}" for "${line.directive}" (expected ${expected})`);
  }
  return n;
}

export function int(line: Line, min: number, max: number, expected: string): number {
  return integer(line, one(line), min, max, expected);
}

/** -1 (Mosquitto's spelling of "no limit") or a positive integer. */
export function limitOrUnlimited(line: Line): number {
  const n = int(line, -1, Number.MAX_SAFE_INTEGER, '-1 for unlimited, or a positive integer');
  if (n === 0) line.fail(`Bad value "0" for "${line.directive}" (expected -1 for unlimited, or a positive integer)`);
  return n === -1 ? Infinity : n;
}

export function bool(line: Line): boolean {
  const v = one(line);
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return line.fail(`Bad value "${v}" for "${line.directive}" (expected true or false)`);
}

export function port(line: Line, value: string): number {
  return integer(line, value, 0, 65_535, 'a port from 1 to 65535, or 0 for any free port');
}

/**
 * Where a security directive (`password_file`, `acl_file`, `allow_anonymous`...) writes: the current listener's
 * settings with `per_listener_settings true`, else the broker-wide ones.
 */
export function securityOf(state: ParseState): SecurityConfig {
  return state.config.isPerListenerSettings ? state.currentListener.security : state.config.security;
}

/** Logging directives: `log_type`, `log_dest`, `log_timestamp`, `connection_messages`. */
import { allLevels, type LogLevel } from '../log.js';
import type { Directive, LogDestination } from './types.js';
import { bool, one } from './values.js';

/** Mosquitto's log_type values and the Culex levels they enable. */
const logTypes: ReadonlyMap<string, readonly LogLevel[]> = new Map<string, readonly LogLevel[]>([
  ['debug', ['debug']],
  ['error', ['error']],
  ['warning', ['warn']],
  ['notice', ['info']],
  ['information', ['info']],
  ['all', [...allLevels]],
  ['none', []],
  // Mosquitto has separate categories for these; Culex logs subscriptions as debug lines (with -v), so they are
  // accepted but add nothing.
  ['subscribe', []],
  ['unsubscribe', []],
  ['websockets', []],
]);

function sameDestination(a: LogDestination, b: LogDestination): boolean {
  return a.kind === b.kind && (a.kind !== 'file' || (b.kind === 'file' && a.path === b.path));
}

export const loggingDirectives: readonly Directive[] = [
  {
    name: 'connection_messages',
    scope: 'global',
    apply: (line, { config }) => { config.logging.hasConnectionMessages = bool(line); },
  },
  {
    name: 'log_timestamp',
    scope: 'global',
    apply: (line, { config }) => { config.logging.isTimestamped = bool(line); },
  },
  {
    name: 'log_type',
    scope: 'global',
    apply(line, { config }) {
      const v = one(line);
      const levels = logTypes.get(v);
      if (levels === undefined) {
        return line.fail(`Bad value "${v}" for "log_type" (supported: ${[...logTypes.keys()].join(', ')})`);
      }
      config.logging.levels ??= new Set();
      for (const level of levels) config.logging.levels.add(level);
    },
  },
  {
    name: 'log_dest',
    scope: 'global',
    apply(line, { config }) {
      const [kind, ...rest] = line.args;
      if (kind === undefined) return line.fail('Missing value for "log_dest"');
      let destination: LogDestination | undefined;
      if (kind === 'file') {
        if (rest.length === 0) return line.fail('Missing file name for "log_dest file"');
        destination = { kind: 'file', path: rest.join(' ') };
      } else if (kind === 'stderr' || kind === 'stdout' || kind === 'none') {
        one(line);
        if (kind !== 'none') destination = { kind };
      } else {
        return line.fail(`"log_dest ${kind}" is not supported yet (supported: stderr, stdout, file, none)`);
      }
      config.logging.destinations ??= [];
      if (destination !== undefined && !config.logging.destinations.some((d) => sameDestination(d, destination))) {
        config.logging.destinations.push(destination);
      }
    },
  },
];

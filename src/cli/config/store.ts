/**
 * The store directives: Mosquitto's `persistence`, `persistence_location` and `autosave_interval`, and Culex's
 * `culex_durability` and `culex_store_on_corruption`. `culex broker` turns them into a store in `../store.ts`.
 *
 * Unlike Mosquitto, persistence is on unless `persistence false` is given. `autosave_interval` is accepted with a
 * warning: Culex writes every change through to the store, so there is no snapshot interval to set.
 */
import type { Directive } from './types.js';
import { bool, int, integer, one, rest } from './values.js';

const global = (name: string, apply: Directive['apply']): Directive => ({ name, scope: 'global', apply });

export const storeDirectives: readonly Directive[] = [
  global('persistence', (line, { config }) => {
    config.store.isEnabled = bool(line);
  }),
  global('persistence_location', (line, { config }) => {
    config.store.location = rest(line);
  }),
  global('autosave_interval', (line) => {
    int(line, 0, Number.MAX_SAFE_INTEGER, 'seconds >= 0');
    line.warn('"autosave_interval" has no effect: Culex writes every change through to its store '
      + '(see culex_durability)');
  }),
  global('culex_durability', (line, { config }) => {
    const [mode, windowMs] = line.args;
    if (mode !== 'sync' && mode !== 'batched' && mode !== 'none') {
      return line.fail(`Bad value "${mode ?? ''}" for "culex_durability" (expected sync, batched [ms] or none)`);
    }
    if (line.args.length > (mode === 'batched' ? 2 : 1)) {
      line.fail(`Unexpected extra value "${line.args.at(-1)!}" for "culex_durability"`);
    }
    config.store.durability = mode;
    if (windowMs !== undefined) {
      config.store.batchWindowMs = integer(line, windowMs, 1, 60_000, 'a window of 1 to 60000 ms');
    }
  }),
  global('culex_store_on_corruption', (line, { config }) => {
    const v = one(line);
    if (v !== 'move-aside' && v !== 'refuse') {
      return line.fail(`Bad value "${v}" for "culex_store_on_corruption" (expected move-aside or refuse)`);
    }
    config.store.onCorruption = v;
  }),
];

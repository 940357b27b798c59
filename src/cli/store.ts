/**
 * The store `culex broker` uses: the lmdb store in `./data` unless `persistence false` or `--memory` says otherwise.
 * Command-line flags override the configuration file.
 */
import type { Logger } from '../broker/logger.js';
import type { Durability } from '../persistence/lmdb/lmdb-persistence.js';
import type { Persistence } from '../persistence/persistence.js';
import type { StoreConfig } from './broker-config.js';

export const DEFAULT_STORE_LOCATION = './data';

/** What the command line says about the store; undefined = not given. */
export interface StoreArgs {
  readonly isMemory: boolean;
  readonly location: string | undefined;
  readonly durability: { mode: Durability; windowMs?: number } | undefined;
  readonly isCorruptionRefused: boolean;
}

/** Parses `--durability sync|none|batched[:MS]`; undefined when the value is not one of those. */
export function parseDurability(value: string): { mode: Durability; windowMs?: number } | undefined {
  if (value === 'sync' || value === 'none' || value === 'batched') return { mode: value };
  const m = /^batched:(\d{1,5})$/.exec(value);
  const windowMs = m === null ? Number.NaN : Number(m[1]);
  return windowMs >= 1 && windowMs <= 60_000 ? { mode: 'batched', windowMs } : undefined;
}

/**
 * The store to give the broker, or undefined for the in-memory one. Logs which it is. lmdb (a native addon) is
 * loaded only here, so that `culex broker --help` and `--memory` runs do not pay for it.
 */
export async function createStore(config: StoreConfig, args: StoreArgs, logger: Logger): Promise<Persistence | undefined> {
  if (args.isMemory || (config.isEnabled === false && args.location === undefined)) {
    logger.info('Persistence disabled: sessions and retained messages are kept in memory only.');
    return undefined;
  }
  const directory = args.location ?? config.location ?? DEFAULT_STORE_LOCATION;
  const durability = args.durability?.mode ?? config.durability ?? 'sync';
  const batchWindowMs = args.durability?.windowMs ?? config.batchWindowMs ?? 100;
  const onCorruption = args.isCorruptionRefused ? 'refuse' : config.onCorruption ?? 'move-aside';
  logger.info(`Using the lmdb store in ${directory} (durability ${durability}`
    + `${durability === 'batched' ? `, ${batchWindowMs} ms` : ''}).`);
  const { LmdbPersistence } = await import('../persistence/lmdb/lmdb-persistence.js');
  return new LmdbPersistence({ directory, durability, batchWindowMs, onCorruption, logger });
}

/**
 * One broker per store. LMDB lets several processes share a file, but two brokers writing the same sessions would
 * undo each other's work, so the store directory holds `culex.lock` with the owner's pid. A lock whose process is
 * gone (a crash, kill -9) is taken over; a live one refuses. Pid reuse after a crash could block a start: the error
 * names the file to remove.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoreLock {
  release(): void;
}

export class StoreLockedError extends Error {
  readonly code = 'MQTT_ERR_STORE_LOCKED';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(directory: string): StoreLock {
  const file = join(directory, 'culex.lock');
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return {
        release: () => {
          try {
            if (readFileSync(file, 'utf8') === mine) rmSync(file);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new StoreLockedError(`the store in ${directory} is in use by process ${owner} (remove ${file} if that `
        + 'process is not a Culex broker)');
    }
    rmSync(file, { force: true });
  }
  throw new StoreLockedError(`could not take the lock ${file}`);
}

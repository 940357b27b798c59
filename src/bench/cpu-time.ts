/** A process's CPU time, read from /proc: the broker's, and the load generator's workers'. */
import { readFileSync } from 'node:fs';

const USER_HZ = 100;

/**
 * A process's CPU time so far, all threads, user + system, in seconds: fields 14 and 15 of /proc/PID/stat, in
 * USER_HZ ticks (100 per second on Linux: the unit /proc reports in, whatever the kernel's own tick rate).
 */
export function readCpuSeconds(pid: number): number {
  const { user, system } = readCpuTimes(pid);
  return user + system;
}

/** As readCpuSeconds, but NaN when the time cannot be read (the process exited, or there is no /proc). */
export function readCpuSecondsOrNaN(pid: number): number {
  try {
    return readCpuSeconds(pid);
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds in a process's own code (user) and in the kernel on its behalf (system). */
export interface CpuTimes {
  readonly user: number;
  readonly system: number;
}

/** As readCpuSeconds, split into user and system time. */
export function readCpuTimes(pid: number): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user + system)) throw new Error(`cannot read the CPU time of process ${pid}`);
  return { user: user / USER_HZ, system: system / USER_HZ };
}

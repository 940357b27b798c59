/**
 * The native dialer of `culex bench conn` (native/conn-dialer.c): built once with the machine's C compiler into a
 * cache directory, then started by each worker for its share of the TCP connections. A Node client socket costs a
 * generator about 200 µs of CPU per connection on a small machine, more than a broker spends on it, so with the Node
 * dialer (bare-conn.ts) the connect rate measures the generator; the native one costs what the kernel needs for the
 * handshake, about 40 µs, and leaves the rate to the broker.
 *
 * Without a compiler, `--dialer auto` (the default) falls back to the Node dialer and the report says so.
 */
import { spawn, execFile, type ChildProcessByStdio } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { connect, isIP } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { BareConnEvents, BareConnTarget } from './bare-conn.js';

/** The C source; two levels up from both src/bench and dist/bench. */
export const DIALER_SOURCE = fileURLToPath(new URL('../../native/conn-dialer.c', import.meta.url));

const COMPILE_TIMEOUT_MS = 120_000;

function cacheDirs(): string[] {
  const xdg = process.env['XDG_CACHE_HOME'];
  return [join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'culex'), join(tmpdir(), `culex-${process.getuid?.() ?? 'user'}`)];
}

/** The compilers to try, each as a command line: $CC when set, else cc, gcc, clang and g++ (as C++). */
function compilers(): string[][] {
  const cc = process.env['CC'];
  if (cc !== undefined && cc.trim() !== '') return [cc.trim().split(/\s+/)];
  return [['cc'], ['gcc'], ['clang'], ['g++', '-x', 'c++']];
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: COMPILE_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`${[command, ...args].join(' ')}: ${stderr.trim().split('\n').slice(0, 3).join(' / ') || err.message}`));
    });
  });
}

/**
 * The path of a built dialer, compiling it first if this source has not been built in the cache yet (the file name
 * carries a hash of the source). Rejects with what each compiler said when none can build it.
 */
export async function buildDialer(): Promise<string> {
  const source = readFileSync(DIALER_SOURCE);
  const hash = createHash('sha256').update(source).update(process.arch).digest('hex').slice(0, 16);
  const problems: string[] = [];
  for (const dir of cacheDirs()) {
    const binary = join(dir, `conn-dialer-${hash}`);
    try {
      if (statSync(binary).isFile()) return binary;
    } catch {
      // not built yet
    }
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      problems.push(`${dir}: ${(err as Error).message}`);
      continue;
    }
    // Built under a name of its own and renamed into place, so concurrent builds never start a half-written file.
    const partial = `${binary}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    for (const [command, ...flags] of compilers()) {
      try {
        await run(command!, [...flags, '-O2', '-o', partial, DIALER_SOURCE]);
        renameSync(partial, binary);
        return binary;
      } catch (err) {
        problems.push((err as Error).message);
        rmSync(partial, { force: true });
      }
    }
    break;
  }
  throw new Error(`cannot build the native dialer: ${problems.join('; ')}`);
}

/**
 * The broker's address as Node would connect to it: a name (`localhost`) can resolve to ::1 and 127.0.0.1, and the
 * dialer takes the first, which may not be the one the broker listens on; Node tries each. So one probe connection
 * through Node picks the address, and the dialer gets it as a number. If the probe fails, the name is passed on and
 * the dialer reports the failures. Done once per run, before the connections are timed.
 */
export async function numericHost(host: string, port: number): Promise<string> {
  if (isIP(host) !== 0) return host;
  return new Promise((resolve) => {
    const probe = connect({ host, port, autoSelectFamily: true });
    probe.once('connect', () => {
      const address = probe.remoteAddress;
      probe.destroy();
      resolve(address ?? host);
    });
    probe.once('error', () => resolve(host));
  });
}

/**
 * A worker's TCP connections made by one dialer process: the same events and the same open/closeAll as
 * BareConnections. `cpuUs` is the dialer's own CPU time as it last reported it, for the generator's CPU count.
 */
export class NativeConnections {
  readonly #binary: string;
  readonly #target: BareConnTarget;
  readonly #events: BareConnEvents;
  #child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  #cpuUs = 0;
  #isClosing = false;

  constructor(binary: string, target: BareConnTarget, events: BareConnEvents) {
    this.#binary = binary;
    this.#target = target;
    this.#events = events;
  }

  get cpuUs(): number {
    return this.#cpuUs;
  }

  /** The dialer's process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Opens connections first..first+count-1 (see BareConnections.open); rejects if the dialer fails or dies. */
  async open(first: number, count: number, concurrency: number, intervalMs: number): Promise<void> {
    const t = this.#target;
    const args = [t.host, String(t.port), String(first), String(count), String(concurrency),
      String(Math.round(intervalMs * 1e6)), String(Math.max(1, Math.round(t.connectTimeoutMs))), t.clientPrefix, t.localAddresses.join(',')];
    const child = spawn(this.#binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
    });
    child.stdin.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      let isDone = false;
      /** Connections counted so far: the dialer reports totals, not a line per connection. */
      let connected = 0;
      let dropped = 0;
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const kind = line[0];
        if (kind === 'P' || kind === 'D') {
          const fields = line.split(' ');
          for (const total = Number(fields[1]); connected < total; connected++) this.#events.onConnected();
          this.#cpuUs = Number(fields[4]);
          if (kind === 'D' && !isDone) {
            isDone = true;
            // From here on the dialer only holds connections: it must not keep this process alive. When this process
            // ends, the dialer's stdin closes and it closes its connections and exits.
            child.unref();
            for (const pipe of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) pipe.unref?.();
            resolve();
          }
          return;
        }
        const space = line.indexOf(' ', 2);
        const index = Number(line.slice(2, space));
        const reason = line.slice(space + 1);
        if (kind === 'F') this.#events.onFailed(index, reason);
        else if (kind === 'X') {
          dropped++;
          this.#events.onDropped(index, reason);
        }
      });
      child.on('error', (err) => {
        if (!isDone) reject(new Error(`native dialer: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        const why = `native dialer exited (code ${code}, signal ${signal})${stderr !== '' ? `: ${stderr.trim()}` : ''}`;
        if (!isDone) {
          reject(new Error(why));
          return;
        }
        // Gone while holding (killed, crashed): every connection it still held is gone with it.
        if (!this.#isClosing) for (; dropped < connected; dropped++) this.#events.onDropped(first, why);
      });
    });
  }

  /** Closes the dialer's stdin: it sends DISCONNECT on every open connection, closes them and exits. */
  closeAll(): void {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    this.#isClosing = true;
    child.stdin.end();
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }
}

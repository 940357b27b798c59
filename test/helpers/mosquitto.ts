/**
 * Starts a real Mosquitto broker (Debian `mosquitto`, /usr/sbin/mosquitto) as a child process for tests: a temporary
 * config file with one or more loopback listeners on free ports, anonymous access allowed, logging to stderr.
 * `startMosquitto` resolves once every listener accepts TCP connections; `close` kills the process by its PID and
 * removes the temporary directory. Tests that need it skip, with the reason shown, when the binary is missing:
 * `test('…', { skip: mosquittoSkip }, …)`.
 *
 * @example
 * const mosquitto = await mosquittoFor(t, { listeners: [{ protocol: 'mqtt' }, { protocol: 'websockets' }] });
 * const url = `mqtt://127.0.0.1:${mosquitto.port}`;          // first listener
 * const wsUrl = `ws://127.0.0.1:${mosquitto.ports[1]}`;      // second listener
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto';

/** `false` when Mosquitto is installed, else the reason to skip (for node:test's `skip` option). */
export const mosquittoSkip: false | string = existsSync(MOSQUITTO_BIN)
  ? false
  : `${MOSQUITTO_BIN} not found (apt-get install mosquitto)`;

export interface MosquittoListener {
  /** Default: a free loopback port. */
  port?: number;
  /** Default 'mqtt'. */
  protocol?: 'mqtt' | 'websockets';
  /** TLS on this listener: file paths, as in mosquitto.conf. */
  tls?: { cafile?: string; certfile: string; keyfile: string; requireCertificate?: boolean };
}

export interface MosquittoOptions {
  /** Default: one plain MQTT listener. */
  listeners?: MosquittoListener[];
  /** Extra mosquitto.conf lines (global section, written before the listeners). */
  config?: string[];
  /** How long to wait for the listeners to accept connections. Default 5,000 ms. */
  startTimeoutMs?: number;
}

export interface StartedMosquitto {
  /** Port of the first listener. */
  port: number;
  /** Ports of all listeners, in the order given. */
  ports: number[];
  /** The temporary directory holding mosquitto.conf (tests may put certificates and files here too). */
  dir: string;
  /** Everything Mosquitto has written to stderr and stdout so far (its log). */
  log(): string;
  /** Kills the broker (SIGKILL unless `graceful`) and waits for it to exit. Idempotent. */
  stop(options?: { graceful?: boolean }): Promise<void>;
  /** Stops the broker and removes its directory. */
  close(): Promise<void>;
}

export interface Cleanup {
  after(fn: () => unknown): void;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Writes the config and starts Mosquitto; the caller must `close()` it (see `mosquittoFor`). Free ports are picked
 * distinct; if one was taken by another process before Mosquitto bound it, it starts again on new ones (3 tries).
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<StartedMosquitto> {
  const isAutoPort = (options.listeners ?? [{}]).some((listener) => listener.port === undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!isAutoPort || attempt === 3 || !(err as Error).message.includes('Address already in use')) throw err;
    }
  }
}

async function startOnce(options: MosquittoOptions): Promise<StartedMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'culex-mosquitto-'));
  const listeners = options.listeners ?? [{}];
  const ports: number[] = [];
  for (const listener of listeners) {
    let port = listener.port ?? await freePort();
    while (listener.port === undefined && ports.includes(port)) port = await freePort();
    ports.push(port);
  }
  const lines = ['allow_anonymous true', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice',
    'log_type information', 'persistence false', ...(options.config ?? [])];
  // Run as root, Mosquitto switches to the `mosquitto` user and could then not read the test's private temporary
  // files (0600 keys in 0700 directories): stay root.
  if (process.getuid?.() === 0) lines.push('user root');
  listeners.forEach((listener, i) => {
    lines.push(`listener ${ports[i]} 127.0.0.1`);
    if (listener.protocol === 'websockets') lines.push('protocol websockets');
    if (listener.tls !== undefined) {
      if (listener.tls.cafile !== undefined) lines.push(`cafile ${listener.tls.cafile}`);
      lines.push(`certfile ${listener.tls.certfile}`, `keyfile ${listener.tls.keyfile}`);
      if (listener.tls.requireCertificate === true) lines.push('require_certificate true');
    }
  });
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, `${lines.join('\n')}\n`);

  const child = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });

  const stop = async ({ graceful = false } = {}): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await waitForExit(child);
  };
  const started: StartedMosquitto = {
    port: ports[0]!,
    ports,
    dir,
    log: () => output,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
  for (const port of ports) {
    for (;;) {
      if (spawnError !== undefined || child.exitCode !== null) {
        await started.close();
        throw new Error(`mosquitto did not start: ${spawnError?.message ?? `exit ${child.exitCode}`}\n${output}`);
      }
      if (await canConnect(port)) break;
      if (Date.now() > deadline) {
        await started.close();
        throw new Error(`mosquitto listener on port ${port} not ready in time\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return started;
}

/** startMosquitto, closed automatically after the test (or suite). */
export async function mosquittoFor(t: Cleanup, options: MosquittoOptions = {}): Promise<StartedMosquitto> {
  const started = await startMosquitto(options);
  t.after(() => started.close());
  return started;
}

/**
 * The brokers bench:compare starts, and how: one command line per run, given the ports (and, for the transport
 * cases, TLS and WebSocket ports) and a fresh directory for anything the broker writes.
 *
 * Group `main` (Culex, Mosquitto, Aedes) runs with equal settings: no in-flight or queue limits, Nagle off, no
 * persistence. Group `durable` compares Culex with its lmdb store against Culex in memory, both started through
 * `culex broker -c FILE` (the same code path, the store the only difference), with Mosquitto `persistence true`
 * for reference: Mosquitto keeps everything in memory and saves a snapshot on exit or every `autosave_interval`
 * (1800 s), so its QoS 1 acknowledgements do not wait for a disk write and its numbers are not durable ones.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type Group = 'main' | 'durable';

export interface Launch {
  readonly port: number;
  /** TLS and WebSocket (path /mqtt) listeners, only for the cases that use them. */
  readonly tlsPort?: number | undefined;
  readonly wsPort?: number | undefined;
  /** An empty directory of this run's own (config files, stores). */
  readonly dir: string;
}

export interface Broker {
  readonly name: string;
  readonly version: string;
  readonly group: Group;
  readonly command: (launch: Launch) => string[];
}

export interface Env {
  readonly root: string;
  /** A private build of src/ (others may rebuild dist/ while a compare runs). */
  readonly dist: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** The Node flags `culex` runs the broker with (bin/culex.js's shebang, `npm start`). */
export const CULEX_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * The CPUs the load generator runs on: every CPU but the broker's (CPU 0), so that on a larger machine the
 * generator grows with it and stays off the broker's core. On a 2-core machine, CPU 1 alone.
 */
export function loadCpus(cpuCount: number): number[] {
  return Array.from({ length: Math.max(1, cpuCount - 1) }, (_, i) => i + 1);
}

/** `node -e` running the CLI of a build (dist/cli/index.js) with `args`. */
export function cliCommand(dist: string, args: readonly string[]): string[] {
  const entry = JSON.stringify(pathToFileURL(path.join(dist, 'cli/index.js')).href);
  return [process.execPath, ...(args[0] === 'broker' ? CULEX_NODE_FLAGS : []), '--input-type=module', '-e',
    `const { main } = await import(${entry}); process.exitCode = await main(process.argv.slice(1));`, ...args];
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    return ((err as { stdout?: string }).stdout ?? '').trim();
  }
}

export function commit(root: string): string {
  const sha = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).length > 0;
  return `${sha || 'unknown'}${dirty ? ' + uncommitted changes' : ''}`;
}

function pkgVersion(file: string): string {
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Self-signed P-256 certificate for 127.0.0.1 (openssl), for the TLS listeners of all brokers. */
export function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { certFile, keyFile };
}

function nodeListenerArgs(env: Env, l: Launch): string[] {
  return [
    ...(l.tlsPort !== undefined ? ['--tls', String(l.tlsPort), '--cert', env.certFile, '--key', env.keyFile] : []),
    ...(l.wsPort !== undefined ? ['--ws', String(l.wsPort)] : []),
  ];
}

function mosquittoConfig(env: Env, l: Launch, extra: string[]): string[] {
  return [
    // Started as root, Mosquitto would switch to user "mosquitto", who cannot read our 0700 temp directory.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'per_listener_settings false', 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0',
    'set_tcp_nodelay true', 'log_dest none', ...extra,
    // max_connections is a per-listener setting (-1, no limit, is also the default).
    `listener ${l.port} 127.0.0.1`, 'max_connections -1',
    ...(l.tlsPort !== undefined
      ? [`listener ${l.tlsPort} 127.0.0.1`, 'max_connections -1', `certfile ${env.certFile}`, `keyfile ${env.keyFile}`] : []),
    // Mosquitto 2.0.11 needs a plain listener besides a websockets one (it has one here) and serves any path.
    ...(l.wsPort !== undefined ? [`listener ${l.wsPort} 127.0.0.1`, 'max_connections -1', 'protocol websockets'] : []),
    '',
  ];
}

function culexCli(env: Env, l: Launch, persistence: string[]): string[] {
  const conf = path.join(l.dir, 'culex.conf');
  writeFileSync(conf, [`listener ${l.port} 127.0.0.1`, 'max_inflight_messages 0', 'max_queued_messages 0',
    ...persistence, ''].join('\n'));
  return cliCommand(env.dist, ['broker', '-c', conf]);
}

/** Every broker available here, in both groups; `wanted` (lower-case names) filters them. */
export function findBrokers(env: Env, wanted: readonly string[] | undefined, log: (line: string) => void): Broker[] {
  const culexVersion = `${pkgVersion(path.join(env.root, 'package.json'))} (${commit(env.root)})`;
  const brokers: Broker[] = [{
    name: 'Culex', version: culexVersion, group: 'main',
    command: (l) => [process.execPath, ...CULEX_NODE_FLAGS, path.join(env.root, 'bench/brokers/culex.mjs'), String(l.port), env.dist,
      ...nodeListenerArgs(env, l)],
  }, {
    name: 'Culex lmdb', version: culexVersion, group: 'durable',
    command: (l) => culexCli(env, l, ['persistence true', `persistence_location ${l.dir}/`, 'culex_durability sync']),
  }, {
    name: 'Culex memory', version: culexVersion, group: 'durable',
    command: (l) => culexCli(env, l, ['persistence false']),
  }];
  const mosquitto = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(existsSync);
  if (mosquitto === undefined) {
    log('Mosquitto is not installed; comparing without it. To include it (Debian/Ubuntu):\n' +
      '  sudo apt-get update && sudo apt-get install -y mosquitto');
  } else {
    const version = /version (\S+)/.exec(sh(mosquitto, ['-h']))?.[1] ?? 'unknown';
    const mosquittoWith = (extra: (l: Launch) => string[]) => (l: Launch): string[] => {
      const conf = path.join(l.dir, 'mosquitto.conf');
      writeFileSync(conf, mosquittoConfig(env, l, extra(l)).join('\n'));
      return [mosquitto, '-c', conf];
    };
    brokers.push({ name: 'Mosquitto', version, group: 'main', command: mosquittoWith(() => ['persistence false']) });
    brokers.push({
      name: 'Mosquitto persistence', version, group: 'durable',
      command: mosquittoWith((l) => ['persistence true', `persistence_location ${l.dir}/`]),
    });
  }
  const aedesPkg = path.join(env.root, 'node_modules/aedes/package.json');
  if (existsSync(aedesPkg)) {
    brokers.push({
      name: 'Aedes', version: pkgVersion(aedesPkg), group: 'main',
      command: (l) => [process.execPath, path.join(env.root, 'bench/brokers/aedes.mjs'), String(l.port), ...nodeListenerArgs(env, l)],
    });
  } else {
    log('aedes is not installed (npm install); comparing without it.');
  }
  return wanted === undefined ? brokers : brokers.filter((b) => wanted.some((w) => b.name.toLowerCase().startsWith(w)));
}

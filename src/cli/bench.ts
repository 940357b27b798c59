/**
 * `culex bench <scenario>`: flags -> a scenario -> results on stdout (text, or JSON with --json). The load generator
 * lives in src/bench; this module only parses and prints.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runConn } from '../bench/conn.js';
import { runPubSub, type RunOptions } from '../bench/pubsub.js';
import { formatConn, formatPubSub } from '../bench/report.js';
import * as scenarios from '../bench/scenarios.js';
import { describeTransport, parseBrokerUrl, TCP, type Transport } from '../bench/transport.js';
import type { QoS } from '../protocol/types.js';
import type { CliIo } from './index.js';

const flags = {
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'p' },
  url: { type: 'string', short: 'u' },
  ca: { type: 'string' },
  qos: { type: 'string', short: 'q', default: '0' },
  size: { type: 'string', short: 's', default: '16' },
  topic: { type: 'string', short: 't' },
  clients: { type: 'string', short: 'c' },
  publishers: { type: 'string' },
  subscribers: { type: 'string' },
  rate: { type: 'string', short: 'r' },
  count: { type: 'string', default: '0' },
  duration: { type: 'string', short: 'd' },
  warmup: { type: 'string', short: 'w' },
  inflight: { type: 'string' },
  drain: { type: 'string', default: '3000' },
  backlog: { type: 'string', default: '50000' },
  workers: { type: 'string' },
  'source-addresses': { type: 'string' },
  'connect-rate': { type: 'string', default: '0' },
  concurrency: { type: 'string', default: '20' },
  dialer: { type: 'string', default: 'auto' },
  pid: { type: 'string' },
  pause: { type: 'string' },
  'bg-rate': { type: 'string', default: '20000' },
  'bg-publishers': { type: 'string', default: '4' },
  subscriptions: { type: 'string', default: '100000' },
  topics: { type: 'string', default: '1000' },
  'per-packet': { type: 'string', default: '100' },
  seed: { type: 'string', default: '1' },
  persistent: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

const scenarioNames = ['conn', 'pub', 'sub', 'fanin', 'fanout', 'pairs', 'latency', 'slow', 'match'] as const;
type ScenarioName = (typeof scenarioNames)[number];

class UsageError extends Error {}

function num(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got '${value}'`);
  return n;
}

function int(value: string | undefined, name: string, fallback: number, min = 0): number {
  const n = num(value, name, fallback, min);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${value}'`);
  return n;
}

function sourceAddresses(host: string, count: number): string[] {
  if (count <= 0) return [];
  if (!host.startsWith('127.')) throw new UsageError('--source-addresses needs a loopback broker host (127.x.x.x)');
  return Array.from({ length: Math.min(count, 254) }, (_, i) => `127.0.0.${i + 1}`);
}

function helpText(): string {
  return readFileSync(new URL('../../src/cli/help/bench.txt', import.meta.url), 'utf8');
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`culex bench: ${(err as Error).message}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(helpText());
    return 0;
  }
  const name = positionals[0];
  if (name === undefined || !(scenarioNames as readonly string[]).includes(name) || positionals.length > 1) {
    io.stderr.write(`culex bench: expected one scenario (${scenarioNames.join(', ')})\n${helpText()}`);
    return 1;
  }
  try {
    return await runScenario(name as ScenarioName, values, io);
  } catch (err) {
    io.stderr.write(`culex bench: ${err instanceof UsageError ? err.message : (err as Error).stack}\n`);
    return 1;
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof flags; allowPositionals: true }>>['values'];

/** Where to connect: --url, or --host/--port over TCP (--ca alone does not make it TLS). */
function endpoint(v: Values): { host: string; port: number; transport: Transport } {
  if (v.url !== undefined) {
    if (v.host !== undefined || v.port !== undefined) throw new UsageError('give either --url or --host/--port, not both');
    try {
      return parseBrokerUrl(v.url, v.ca);
    } catch (err) {
      throw new UsageError(`--url: ${(err as Error).message}`);
    }
  }
  if (v.ca !== undefined) throw new UsageError('--ca needs an mqtts:// or wss:// --url');
  return { host: v.host ?? '127.0.0.1', port: int(v.port, 'port', 1883, 1), transport: TCP };
}

async function runScenario(name: ScenarioName, v: Values, io: CliIo): Promise<number> {
  const { host, port, transport } = endpoint(v);
  const qos = int(v.qos, 'qos', 0);
  if (qos > 2) throw new UsageError(`--qos must be 0, 1 or 2, got ${qos}`);
  const isTty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  const progress = !v.json && isTty ? (line: string) => io.stderr.write(`\r\x1b[K${line}`) : undefined;
  const workers = int(v.workers, 'workers', Math.max(2, Math.min(4, os.availableParallelism())), 1);
  const clientPrefix = `culex-bench-${process.pid}`;
  const connectTimeoutMs = 10_000;

  if (name === 'conn') {
    const dialer = v.dialer ?? 'auto';
    if (dialer !== 'auto' && dialer !== 'native' && dialer !== 'node') {
      throw new UsageError(`--dialer must be auto, native or node, got '${dialer}'`);
    }
    if (dialer === 'native' && transport.kind !== 'tcp') throw new UsageError(`--dialer native makes plain TCP connections only, not ${transport.kind}`);
    const result = await runConn({
      host, port, transport, count: v.clients === 'max' ? 'max' : int(v.clients, 'clients', 1000, 1), ratePerSecond: num(v['connect-rate'], 'connect-rate', 0),
      concurrency: int(v.concurrency, 'concurrency', 20, 1), workers, holdSeconds: num(v.duration, 'duration', 5),
      pid: v.pid === undefined ? undefined : int(v.pid, 'pid', 0, 1),
      sourceAddresses: sourceAddresses(host, int(v['source-addresses'], 'source-addresses', host.startsWith('127.') ? 16 : 0)),
      clientPrefix, connectTimeoutMs, dialer, progress,
    });
    if (progress !== undefined) io.stderr.write('\r\x1b[K');
    io.stdout.write(v.json ? `${JSON.stringify({ ...result, transport: transport.kind })}\n` : formatConn(result));
    return result.failed > 0 || result.held < result.connected ? 2 : 0;
  }

  const isStandalone = name === 'pub' || name === 'sub';
  const durationSeconds = num(v.duration, 'duration', 10);
  const count = int(v.count, 'count', 0);
  if (durationSeconds === 0 && (count === 0 || name === 'sub')) {
    throw new UsageError('every run needs a bound: --duration > 0, or --count for publishers');
  }
  const warmupSeconds = num(v.warmup, 'warmup', isStandalone ? 0 : 1);
  const load: scenarios.LoadShape = {
    qos: qos as QoS, payloadBytes: int(v.size, 'size', 16, 0), maxCount: count,
    ratePerSecond: num(v.rate, 'rate', name === 'latency' ? 1000 : 0),
    // slow: each publisher keeps a deep backlog in flight, the load a broker must not let one slow reader hold back.
    inflight: int(v.inflight, 'inflight', name === 'slow' ? 1000 : 100, 1),
  };
  const scenario = buildScenario(name, v, load, durationSeconds + warmupSeconds);
  const options: RunOptions = {
    host, port, transport, hasPersistentSubscribers: v.persistent, workers, warmupSeconds, durationSeconds, drainTimeoutMs: int(v.drain, 'drain', 3000),
    connectTimeoutMs, clientPrefix, progress, backlog: int(v.backlog, 'backlog', 50_000),
    sourceAddresses: sourceAddresses(host, int(v['source-addresses'], 'source-addresses', 0)),
    ...(v.pid === undefined ? {} : { brokerPid: int(v.pid, 'pid', 0, 1) }),
  };
  const result = await runPubSub(scenario, options);
  if (progress !== undefined) io.stderr.write('\r\x1b[K');
  const detail = `${describeTransport(transport, host, port)}, QoS ${qos}, ${Math.max(16, load.payloadBytes)} B` +
    (load.ratePerSecond > 0 ? `, ${load.ratePerSecond}/s per publisher` : ', flat out');
  io.stdout.write(v.json
    ? `${JSON.stringify({ ...result, qos, payloadBytes: Math.max(16, load.payloadBytes), host, port, transport: transport.kind })}\n`
    : formatPubSub(result, detail));
  return result.connectFailures > 0 || result.lost > 0 ? 2 : 0;
}

function buildScenario(name: Exclude<ScenarioName, 'conn'>, v: Values, load: scenarios.LoadShape, runSeconds: number): scenarios.Scenario {
  switch (name) {
    case 'pub':
      return scenarios.pubOnly(int(v.clients, 'clients', 1, 1), v.topic ?? 'bench/%i', load);
    case 'sub':
      return scenarios.subOnly(int(v.clients, 'clients', 1, 1), v.topic ?? 'bench/#', load.qos);
    case 'fanin':
      return scenarios.fanin(int(v.publishers, 'publishers', 8, 1), load);
    case 'fanout':
      return scenarios.fanout(int(v.subscribers, 'subscribers', 50, 1), load);
    case 'pairs':
      return scenarios.pairs(int(v.clients, 'clients', 50, 1), load);
    case 'latency':
      return scenarios.latency(load.ratePerSecond, num(v['bg-rate'], 'bg-rate', 20_000),
        int(v['bg-publishers'], 'bg-publishers', 4, 1), load);
    case 'match':
      return scenarios.matching({
        subscriptions: int(v.subscriptions, 'subscriptions', 100_000, 1),
        subscriberCount: int(v.subscribers, 'subscribers', 100, 1),
        publisherCount: int(v.publishers, 'publishers', 8, 1),
        topicsPerPublisher: int(v.topics, 'topics', 1000, 1),
        perPacket: int(v['per-packet'], 'per-packet', 100, 1),
        seed: int(v.seed, 'seed', 1),
      }, load);
    case 'slow':
      return scenarios.slow(int(v.publishers, 'publishers', 50, 1), int(v.subscribers, 'subscribers', 1, 0),
        Math.round(num(v.pause, 'pause', runSeconds / 2) * 1000), load);
  }
}

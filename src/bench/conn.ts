/**
 * `conn`: open N connections at a rate, hold them, report the connect rate and, given the broker's pid, its
 * resident memory per connection (VmRSS from /proc/PID/status before connecting and after all are up and a short
 * settle; a delta, so it includes whatever else the broker allocated meanwhile) and the CPU time it spent while the
 * connections were being opened (utime + stime of /proc/PID/stat, all its threads). The connect rate is bounded by
 * whichever side runs out of CPU first, the broker or this generator (`loadCpuCores` near the CPUs it has means the
 * generator); the broker's CPU per connection does not depend on the generator, so it compares brokers either way.
 *
 * `count: 'max'` opens as many as the broker's open-file limit allows: its soft RLIMIT_NOFILE (/proc/PID/limits)
 * minus the descriptors it already has open (/proc/PID/fd) minus a small margin for what it opens per se (an
 * epoll fd, a log file, a store). The generator needs as many descriptors itself, so connections are spread over
 * enough worker processes that none goes past its own limit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type CpuTimes, readCpuTimes } from './cpu-time.js';
import type { ConnPlan } from './messages.js';
import type { Transport } from './transport.js';
import { sleep, sumCounters, WorkerHandle, type ProgressSink } from './coordinator.js';
import { buildDialer, numericHost } from './native-dialer.js';

export interface ConnOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /** Connections to open; 'max' = as many as the broker's open-file limit allows (needs `pid`). */
  readonly count: number | 'max';
  /** Connections per second over all workers; 0 = flat out. */
  readonly ratePerSecond: number;
  readonly concurrency: number;
  readonly workers: number;
  /** Hold the connections this long after the last one is up. */
  readonly holdSeconds: number;
  readonly pid: number | undefined;
  readonly sourceAddresses: readonly string[];
  readonly clientPrefix: string;
  readonly connectTimeoutMs: number;
  /**
   * What makes TCP connections: 'native' the C dialer (built on first use; an error if it cannot be), 'node' the
   * Node one, 'auto' native when it can be built and Node otherwise. TLS and WebSocket always use Node.
   */
  readonly dialer: DialerChoice;
  readonly progress: ProgressSink;
}

export type DialerChoice = 'auto' | 'native' | 'node';

export interface ConnResult {
  readonly scenario: 'conn';
  readonly requested: number;
  readonly connected: number;
  /** Still open at the end of the hold (connected minus those the broker closed). */
  readonly held: number;
  /** 'max' runs: the broker's soft open-file limit and the descriptors it had open before the run. */
  readonly brokerFdLimit?: number;
  readonly brokerFdsBefore?: number;
  readonly failed: number;
  readonly connectSeconds: number;
  readonly connectRate: number;
  readonly sourceAddresses: number;
  readonly workers: number;
  /** What made the connections, and why not the native dialer when 'auto' fell back to Node. */
  readonly dialer: 'native' | 'node';
  readonly dialerNote?: string;
  readonly rssBeforeKiB?: number;
  readonly rssAfterKiB?: number;
  readonly rssPerConnectionBytes?: number;
  /** With a pid: the broker's CPU time (all threads) from the first connect until the last CONNACK. */
  readonly brokerCpuSeconds?: number;
  readonly brokerCpuUsPerConnection?: number;
  /** The same split: in the broker's own code, and in the kernel on its behalf (accept, reads, writes, epoll). */
  readonly brokerUserUsPerConnection?: number;
  readonly brokerSystemUsPerConnection?: number;
  /** CPU cores the generator's workers used while connecting (sum of their CPU time over the connect time). */
  readonly loadCpuCores: number;
  readonly errorSamples: readonly string[];
}

const SETTLE_MS = 1000;
/** Descriptors left to the broker for its own use in a 'max' run. */
const BROKER_FD_MARGIN = 32;
/** Descriptors a generator worker keeps for itself (IPC, stdio, the runtime). */
const WORKER_FD_MARGIN = 64;

/** The soft "Max open files" of a process (`self` or a pid); undefined if unlimited or unreadable. */
export function openFileLimit(pid: number | 'self'): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export function openFileCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Target {
  readonly count: number;
  readonly fdLimit?: number;
  readonly fdsBefore?: number;
}

function resolveCount(options: ConnOptions): Target {
  if (options.count !== 'max') return { count: options.count };
  if (options.pid === undefined) throw new Error("'-c max' needs the broker's --pid (to read its open-file limit)");
  const fdLimit = openFileLimit(options.pid);
  if (fdLimit === undefined) throw new Error(`cannot read the open-file limit of process ${options.pid}`);
  const fdsBefore = openFileCount(options.pid);
  return { count: Math.max(1, fdLimit - fdsBefore - BROKER_FD_MARGIN), fdLimit, fdsBefore };
}


type BrokerCpu = Required<Pick<ConnResult, 'brokerCpuSeconds' | 'brokerCpuUsPerConnection'
  | 'brokerUserUsPerConnection' | 'brokerSystemUsPerConnection'>>;

function brokerCpu(before: CpuTimes, after: CpuTimes, connected: number): BrokerCpu {
  const user = after.user - before.user;
  const system = after.system - before.system;
  const perConnection = (seconds: number): number => Math.round((seconds * 1e6) / Math.max(1, connected));
  return {
    brokerCpuSeconds: Math.round((user + system) * 100) / 100,
    brokerCpuUsPerConnection: perConnection(user + system),
    brokerUserUsPerConnection: perConnection(user),
    brokerSystemUsPerConnection: perConnection(system),
  };
}

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * The native dialer's path and the broker's address for it (a name resolved as Node would), or no path for Node with
 * the reason (see ConnOptions.dialer).
 */
async function chooseDialer(options: ConnOptions): Promise<{ path?: string; host?: string; note?: string }> {
  if (options.transport.kind !== 'tcp') {
    if (options.dialer === 'native') throw new Error(`the native dialer makes plain TCP connections only, not ${options.transport.kind}`);
    return {};
  }
  if (options.dialer === 'node') return {};
  try {
    const path = await buildDialer();
    return { path, host: await numericHost(options.host, options.port) };
  } catch (err) {
    if (options.dialer === 'native') throw err;
    return { note: `${(err as Error).message}; the Node dialer costs the generator more CPU per connection` };
  }
}

export async function runConn(options: ConnOptions): Promise<ConnResult> {
  const target = resolveCount(options);
  const dialer = await chooseDialer(options);
  const total = target.count;
  const ownLimit = openFileLimit('self') ?? Number.POSITIVE_INFINITY;
  const neededWorkers = Math.ceil(total / Math.max(1, ownLimit - WORKER_FD_MARGIN));
  const count = Math.max(1, Math.min(Math.max(options.workers, neededWorkers), total));
  const plans: ConnPlan[] = Array.from({ length: count }, (_, i) => {
    const first = Math.floor((total * i) / count);
    const end = Math.floor((total * (i + 1)) / count);
    return {
      kind: 'conn', host: dialer.host ?? options.host, port: options.port, transport: options.transport, localAddresses: options.sourceAddresses,
      clientPrefix: options.clientPrefix, connectTimeoutMs: options.connectTimeoutMs, first, count: end - first,
      ratePerSecond: options.ratePerSecond / count, concurrency: options.concurrency,
      ...(dialer.path !== undefined ? { dialerPath: dialer.path } : {}),
    };
  });
  const workers = plans.map(() => new WorkerHandle());
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.all(workers.map((w, i) => {
      const ready = w.waitFor('ready', 30_000);
      w.send({ type: 'setup', plan: plans[i]! });
      return ready;
    }));
    const rssBefore = options.pid === undefined ? undefined : readRssKiB(options.pid);
    const cpuBefore = options.pid === undefined ? undefined : readCpuTimes(options.pid);
    // The workers' CPU counters as of 'ready' (taken before they start connecting).
    const loadCpuUsBefore = workers.map((w) => w.counters?.cpuUs ?? 0);
    const started = performance.now();
    const connected = workers.map((w) => w.waitFor('connected', 600_000));
    workers.forEach((w) => w.send({ type: 'start' }));
    if (options.progress !== undefined) {
      const sink = options.progress;
      timer = setInterval(() => {
        const c = sumCounters(workers.map((w) => w.counters));
        sink(`${((performance.now() - started) / 1000).toFixed(1)} s  connected ${c.connected}/${total}` +
          (c.connectFailures > 0 ? `  failed ${c.connectFailures}` : ''));
      }, 500);
    }
    const done = await Promise.all(connected);
    const cpuAfter = options.pid === undefined ? undefined : readCpuTimes(options.pid);
    const connectSeconds = Math.max(...done.map((d) => d.connectMs)) / 1000;
    const loadCpuSeconds = done.reduce((sum, d, i) => sum + d.counters.cpuUs - loadCpuUsBefore[i]!, 0) / 1e6;
    await sleep(SETTLE_MS);
    const rssAfter = options.pid === undefined ? undefined : readRssKiB(options.pid);
    await sleep(Math.max(0, options.holdSeconds * 1000 - SETTLE_MS));
    const results = workers.map((w) => w.waitFor('result', 30_000));
    workers.forEach((w) => w.send({ type: 'finish' }));
    const final = (await Promise.all(results)).map((m) => m.result);
    const sum = sumCounters(final.map((r) => r.counters));
    return {
      scenario: 'conn',
      requested: total,
      connected: sum.connected,
      held: sum.connected - sum.dropped,
      ...(target.fdLimit !== undefined ? { brokerFdLimit: target.fdLimit, brokerFdsBefore: target.fdsBefore } : {}),
      failed: sum.connectFailures,
      connectSeconds: Math.round(connectSeconds * 1000) / 1000,
      connectRate: Math.round(sum.connected / Math.max(connectSeconds, 1e-3)),
      sourceAddresses: options.sourceAddresses.length,
      workers: plans.length,
      dialer: dialer.path !== undefined ? 'native' : 'node',
      ...(dialer.note !== undefined ? { dialerNote: dialer.note } : {}),
      ...(rssBefore !== undefined && rssAfter !== undefined ? {
        rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter,
        rssPerConnectionBytes: Math.round(((rssAfter - rssBefore) * 1024) / Math.max(1, sum.connected)),
      } : {}),
      ...(cpuBefore !== undefined && cpuAfter !== undefined ? brokerCpu(cpuBefore, cpuAfter, sum.connected) : {}),
      loadCpuCores: Math.round((loadCpuSeconds / Math.max(connectSeconds, 1e-3)) * 100) / 100,
      errorSamples: final.flatMap((r) => r.errorSamples).slice(0, 10),
    };
  } finally {
    clearInterval(timer);
    setTimeout(() => workers.forEach((w) => w.kill()), 1500).unref();
  }
}

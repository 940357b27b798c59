/**
 * `conn`: open N connections at a rate, hold them, report the connect rate and, given the broker's pid, its
 * resident memory per connection (VmRSS from /proc/PID/status before connecting and after all are up and a short
 * settle; a delta, so it includes whatever else the broker allocated meanwhile).
 */
import { readFileSync } from 'node:fs';
import type { ConnPlan } from './messages.js';
import { sleep, sumCounters, WorkerHandle, type ProgressSink } from './coordinator.js';

export interface ConnOptions {
  readonly host: string;
  readonly port: number;
  readonly count: number;
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
  readonly progress: ProgressSink;
}

export interface ConnResult {
  readonly scenario: 'conn';
  readonly requested: number;
  readonly connected: number;
  readonly failed: number;
  readonly connectSeconds: number;
  readonly connectRate: number;
  readonly sourceAddresses: number;
  readonly workers: number;
  readonly rssBeforeKiB?: number;
  readonly rssAfterKiB?: number;
  readonly rssPerConnectionBytes?: number;
  readonly errorSamples: readonly string[];
}

const SETTLE_MS = 1000;

export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

export async function runConn(options: ConnOptions): Promise<ConnResult> {
  const count = Math.max(1, Math.min(options.workers, options.count));
  const plans: ConnPlan[] = Array.from({ length: count }, (_, i) => {
    const first = Math.floor((options.count * i) / count);
    const end = Math.floor((options.count * (i + 1)) / count);
    return {
      kind: 'conn', host: options.host, port: options.port, localAddresses: options.sourceAddresses,
      clientPrefix: options.clientPrefix, connectTimeoutMs: options.connectTimeoutMs, first, count: end - first,
      ratePerSecond: options.ratePerSecond / count, concurrency: options.concurrency,
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
    const started = performance.now();
    const connected = workers.map((w) => w.waitFor('connected', 600_000));
    workers.forEach((w) => w.send({ type: 'start' }));
    if (options.progress !== undefined) {
      const sink = options.progress;
      timer = setInterval(() => {
        const c = sumCounters(workers.map((w) => w.counters));
        sink(`${((performance.now() - started) / 1000).toFixed(1)} s  connected ${c.connected}/${options.count}` +
          (c.connectFailures > 0 ? `  failed ${c.connectFailures}` : ''));
      }, 500);
    }
    const done = await Promise.all(connected);
    const connectSeconds = Math.max(...done.map((d) => d.connectMs)) / 1000;
    await sleep(SETTLE_MS);
    const rssAfter = options.pid === undefined ? undefined : readRssKiB(options.pid);
    await sleep(Math.max(0, options.holdSeconds * 1000 - SETTLE_MS));
    const results = workers.map((w) => w.waitFor('result', 30_000));
    workers.forEach((w) => w.send({ type: 'finish' }));
    const final = (await Promise.all(results)).map((m) => m.result);
    const total = sumCounters(final.map((r) => r.counters));
    return {
      scenario: 'conn',
      requested: options.count,
      connected: total.connected,
      failed: total.connectFailures,
      connectSeconds: Math.round(connectSeconds * 1000) / 1000,
      connectRate: Math.round(total.connected / Math.max(connectSeconds, 1e-3)),
      sourceAddresses: options.sourceAddresses.length,
      workers: plans.length,
      ...(rssBefore !== undefined && rssAfter !== undefined ? {
        rssBeforeKiB: rssBefore, rssAfterKiB: rssAfter,
        rssPerConnectionBytes: Math.round(((rssAfter - rssBefore) * 1024) / Math.max(1, total.connected)),
      } : {}),
      errorSamples: final.flatMap((r) => r.errorSamples).slice(0, 10),
    };
  } finally {
    clearInterval(timer);
    setTimeout(() => workers.forEach((w) => w.kill()), 1500).unref();
  }
}

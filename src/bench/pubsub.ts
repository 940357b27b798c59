/**
 * Runs a scenario: deals its clients out to the workers, drives the phases and turns the workers' reports into one
 * result. Lost = acknowledged to its publisher (PUBACK, or PUBREC at QoS 2) but never received by a subscriber whose
 * filter matches and whose delivery QoS is 1 or 2; duplicates = a (publisher, sequence) received twice by one
 * subscriber.
 */
import { matchTopic } from '../protocol/topic.js';
import type { Counters, PubSubPlan, PublisherPlan, SubscriberPlan, WorkerResult } from './messages.js';
import { drive, type ProgressSink } from './coordinator.js';
import { Histogram, type LatencySummary } from './histogram.js';
import type { Scenario } from './scenarios.js';
import { SeqSet } from './seq-set.js';

export interface RunOptions {
  readonly host: string;
  readonly port: number;
  readonly workers: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly drainTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly sourceAddresses: readonly string[];
  readonly clientPrefix: string;
  readonly progress: ProgressSink;
}

export interface PubSubResult {
  readonly scenario: string;
  readonly summary: string;
  readonly publishers: number;
  readonly subscribers: number;
  readonly workers: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** Messages per second in the measured window. */
  readonly publishRate: number;
  readonly ackRate: number;
  /** Received by the scenario's main subscribers per second, in the measured window. */
  readonly receiveRate: number;
  readonly sent: number;
  readonly acked: number;
  readonly received: number;
  readonly latency: LatencySummary;
  readonly lost: number;
  readonly duplicates: number;
  /** QoS 1/2 messages sent but never acknowledged by the end of the drain. */
  readonly unacked: number;
  readonly connectFailures: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** CPU cores the load generator used in the window: near the CPUs it has means it may be the bottleneck. */
  readonly loadCpuCores: number;
}

/** Round-robin: subscribers first, then publishers, so each worker gets a mix. */
export function dealOut(scenario: Scenario, workerCount: number, options: RunOptions): PubSubPlan[] {
  const total = scenario.publishers.length + scenario.subscribers.length;
  const count = Math.max(1, Math.min(workerCount, total));
  const subs: SubscriberPlan[][] = Array.from({ length: count }, () => []);
  const pubs: PublisherPlan[][] = Array.from({ length: count }, () => []);
  let next = 0;
  for (const s of scenario.subscribers) subs[next++ % count]!.push(s);
  for (const p of scenario.publishers) pubs[next++ % count]!.push(p);
  return subs.map((subscribers, i) => ({
    kind: 'pubsub', host: options.host, port: options.port, localAddresses: options.sourceAddresses,
    clientPrefix: options.clientPrefix, connectTimeoutMs: options.connectTimeoutMs,
    subscribers, publishers: pubs[i]!,
  }));
}

export async function runPubSub(scenario: Scenario, options: RunOptions): Promise<PubSubResult> {
  const plans = dealOut(scenario, options.workers, options);
  const run = await drive(plans, {
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
    drainTimeoutMs: options.drainTimeoutMs,
    progress: options.progress,
    describe: describeProgress,
  });
  const window = Math.max(run.windowSeconds, 1e-3);
  const last = run.results.map((r) => r.counters);
  const total = (key: keyof Counters): number => last.reduce((sum, c) => sum + c[key], 0);
  const latency = new Histogram();
  let received = 0;
  let duplicates = 0;
  for (const r of run.results) {
    const main = r.groups['main'];
    if (main === undefined) continue;
    latency.merge(main.latency);
    received += main.received;
    duplicates += main.duplicates;
  }
  const { lost, unacked } = countLost(run.results);
  return {
    scenario: scenario.name,
    summary: scenario.summary,
    publishers: scenario.publishers.length,
    subscribers: scenario.subscribers.length,
    workers: plans.length,
    windowSeconds: Math.round(window * 1000) / 1000,
    warmupSeconds: options.warmupSeconds,
    publishRate: Math.round((run.atStop.sent - run.atMark.sent) / window),
    ackRate: Math.round((run.atStop.acked - run.atMark.acked) / window),
    receiveRate: Math.round((run.atStop.receivedMain - run.atMark.receivedMain) / window),
    sent: total('sent'),
    acked: total('acked'),
    received,
    latency: latency.summary(),
    lost,
    duplicates,
    unacked,
    connectFailures: total('connectFailures'),
    errors: total('errors'),
    errorSamples: run.results.flatMap((r) => r.errorSamples).slice(0, 10),
    loadCpuCores: Math.round(((run.atStop.cpuUs - run.atMark.cpuUs) / 1e6 / window) * 100) / 100,
  };
}

function countLost(results: readonly WorkerResult[]): { lost: number; unacked: number } {
  const subscribers = results.flatMap((r) => r.subscribers);
  let lost = 0;
  let unacked = 0;
  for (const p of results.flatMap((r) => r.publishers)) {
    if (p.qos === 0 || p.ackedSeqs === undefined) continue;
    unacked += p.sent - p.acked;
    const acked = SeqSet.fromBase64(p.ackedSeqs);
    for (const s of subscribers) {
      if (s.qos === 0 || !matchTopic(s.filter, p.topic)) continue;
      const seen = s.seqs[String(p.id)];
      lost += acked.countMissingFrom(seen === undefined ? undefined : SeqSet.fromBase64(seen));
    }
  }
  return { lost, unacked };
}

function describeProgress(c: Counters, elapsedSeconds: number): string {
  return `${elapsedSeconds.toFixed(1)} s  sent ${c.sent}  acked ${c.acked}  received ${c.received}` +
    (c.errors > 0 ? `  errors ${c.errors}` : '');
}

/**
 * Runs a scenario: deals its clients out to the workers, drives the phases and turns the workers' reports into one
 * result. Lost = acknowledged to its publisher (PUBACK, or PUBREC at QoS 2) but never received by a subscriber whose
 * filter matches and whose delivery QoS is 1 or 2; duplicates = a (publisher, sequence) received twice by one
 * subscriber.
 */
import type { Counters, PubSubPlan, PublisherPlan, SubscriberPlan, WorkerResult } from './messages.js';
import { readCpuSecondsOrNaN } from './cpu-time.js';
import { drive, type ProgressSink } from './coordinator.js';
import { FilterIndex } from './filter-index.js';
import { Histogram, type LatencySummary } from './histogram.js';
import type { Scenario } from './scenarios.js';
import { SeqSet } from './seq-set.js';
import type { Transport } from './transport.js';

export interface RunOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /** Subscribers use persistent sessions (clean session 0). */
  readonly hasPersistentSubscribers?: boolean;
  readonly workers: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly drainTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly sourceAddresses: readonly string[];
  readonly clientPrefix: string;
  readonly progress: ProgressSink;
  /**
   * QoS 0 flat out: publishers pause while more than this many deliveries are outstanding (sent x deliveries per
   * message - received), so the run measures what the broker delivers, not how much the kernel can buffer while
   * publishers starve the generator's own subscribers of CPU. 0 = open loop.
   */
  readonly backlog?: number;
  /** The broker's process: its CPU use in the window is reported (`brokerCpuCores`). */
  readonly brokerPid?: number;
}

export interface PubSubResult {
  readonly scenario: string;
  readonly summary: string;
  readonly publishers: number;
  readonly subscribers: number;
  readonly workers: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** Filters subscribed in all, and the time to connect the subscribers and get every SUBACK (slowest worker). */
  readonly subscriptions: number;
  readonly subscribeSeconds: number;
  /** Multi-topic publishers only (the matching scenario): subscribers a published topic matches, on average. */
  readonly matchesPerMessage?: number;
  /** Messages per second in the measured window. */
  readonly publishRate: number;
  readonly ackRate: number;
  /** Received by the scenario's main subscribers per second, in the measured window. */
  readonly receiveRate: number;
  /** Received in all (warm-up, window and drain) per subscriber group: 'main', and e.g. 'slow' or 'background'. */
  readonly receivedByGroup: Record<string, number>;
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
  /**
   * Given the broker's pid: the CPU cores it used in the window (all threads). Near 1 for a one-threaded or pinned
   * broker means the broker was the limit, whatever the generator used.
   */
  readonly brokerCpuCores?: number;
  /** Closed loop (QoS 0 flat out, see RunOptions.backlog): times the publishers were held; absent = open loop. */
  readonly throttleEpisodes?: number;
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
    kind: 'pubsub', host: options.host, port: options.port, transport: options.transport, localAddresses: options.sourceAddresses,
    clientPrefix: options.clientPrefix, connectTimeoutMs: options.connectTimeoutMs,
    subscribers, publishers: pubs[i]!,
    ...(options.hasPersistentSubscribers === true ? { hasPersistentSubscribers: true } : {}),
    ...(closedLoop(scenario, options) ? { flowMs: FLOW_MS } : {}),
  }));
}

const FLOW_MS = 10;

/** True when the closed loop applies: QoS 0, every publisher flat out, a known number of deliveries per message. */
function closedLoop(scenario: Scenario, options: RunOptions): boolean {
  return (options.backlog ?? 0) > 0 && scenario.deliveriesPerMessage !== undefined && scenario.publishers.length > 0
    && scenario.publishers.every((p) => p.qos === 0 && p.ratePerSecond === 0);
}

export async function runPubSub(scenario: Scenario, options: RunOptions): Promise<PubSubResult> {
  const plans = dealOut(scenario, options.workers, options);
  const run = await drive(plans, {
    ...(closedLoop(scenario, options)
      ? { backlog: { limit: options.backlog!, deliveriesPerMessage: scenario.deliveriesPerMessage! } } : {}),
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
    drainTimeoutMs: options.drainTimeoutMs,
    progress: options.progress,
    describe: describeProgress,
    ...(options.brokerPid === undefined ? {} : { readBrokerCpuSeconds: () => readCpuSecondsOrNaN(options.brokerPid!) }),
  });
  const window = Math.max(run.windowSeconds, 1e-3);
  const last = run.results.map((r) => r.counters);
  const total = (key: keyof Counters): number => last.reduce((sum, c) => sum + c[key], 0);
  const latency = new Histogram();
  let received = 0;
  let duplicates = 0;
  const receivedByGroup: Record<string, number> = {};
  for (const r of run.results) {
    for (const [name, g] of Object.entries(r.groups)) receivedByGroup[name] = (receivedByGroup[name] ?? 0) + g.received;
    const main = r.groups['main'];
    if (main === undefined) continue;
    latency.merge(main.latency);
    received += main.received;
    duplicates += main.duplicates;
  }
  const { lost, unacked } = countLost(scenario, run.results);
  return {
    scenario: scenario.name,
    summary: scenario.summary,
    publishers: scenario.publishers.length,
    subscribers: scenario.subscribers.length,
    workers: plans.length,
    windowSeconds: Math.round(window * 1000) / 1000,
    warmupSeconds: options.warmupSeconds,
    subscriptions: scenario.subscribers.reduce((n, sub) => n + (sub.filters?.length ?? 1), 0),
    subscribeSeconds: Math.max(0, ...run.results.map((r) => r.subscribeMs ?? 0)) / 1000,
    ...(scenario.publishers.some((p) => p.topics !== undefined)
      ? { matchesPerMessage: Math.round(matchesPerTopic(scenario) * 100) / 100 } : {}),
    publishRate: Math.round((run.atStop.sent - run.atMark.sent) / window),
    ackRate: Math.round((run.atStop.acked - run.atMark.acked) / window),
    receiveRate: Math.round((run.atStop.receivedMain - run.atMark.receivedMain) / window),
    receivedByGroup,
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
    loadCpuCores: Math.round(((Number.isNaN(run.loadCpuSeconds)
      ? (run.atStop.cpuUs - run.atMark.cpuUs) / 1e6 : run.loadCpuSeconds) / window) * 100) / 100,
    ...(run.brokerCpuSeconds === undefined || Number.isNaN(run.brokerCpuSeconds)
      ? {} : { brokerCpuCores: Math.round((run.brokerCpuSeconds / window) * 100) / 100 }),
    ...(closedLoop(scenario, options) ? { throttleEpisodes: run.throttleEpisodes } : {}),
  };
}

/**
 * Lost: for each acknowledged (publisher, sequence) and each QoS 1/2 subscriber with a filter matching the topic that
 * sequence went to, the subscriber must have it. Subscriber filters come from the scenario's plans (a matching run
 * has 100 k of them), looked up through a FilterIndex.
 */
function countLost(scenario: Scenario, results: readonly WorkerResult[]): { lost: number; unacked: number } {
  const received = new Map(results.flatMap((r) => r.subscribers).map((s) => [s.id, s]));
  const index = new FilterIndex<SubscriberPlan>();
  for (const s of scenario.subscribers) {
    if (s.qos === 0 || !received.has(s.id)) continue;
    for (const f of s.filters ?? [s.filter]) index.add(f, s);
  }
  let lost = 0;
  let unacked = 0;
  for (const p of results.flatMap((r) => r.publishers)) {
    if (p.qos === 0 || p.ackedSeqs === undefined) continue;
    unacked += p.sent - p.acked;
    const acked = SeqSet.fromBase64(p.ackedSeqs);
    const topics = scenario.publishers.find((plan) => plan.id === p.id)?.topics ?? [p.topic];
    const seen = (s: SubscriberPlan): SeqSet | undefined => {
      const text = received.get(s.id)?.seqs[String(p.id)];
      return text === undefined ? undefined : SeqSet.fromBase64(text);
    };
    if (topics.length === 1) {
      for (const s of index.match(topics[0]!)) lost += acked.countMissingFrom(seen(s));
      continue;
    }
    const sets = new Map<SubscriberPlan, SeqSet | undefined>();
    acked.forEach((seq) => {
      for (const s of index.match(topics[seq % topics.length]!)) {
        if (!sets.has(s)) sets.set(s, seen(s));
        if (sets.get(s)?.has(seq) !== true) lost++;
      }
    });
  }
  return { lost, unacked };
}

/** Average number of distinct subscribers whose filters match a publisher's topic, over the topics published to. */
export function matchesPerTopic(scenario: Scenario): number {
  const index = new FilterIndex<number>();
  for (const s of scenario.subscribers) for (const f of s.filters ?? [s.filter]) index.add(f, s.id);
  const topics = scenario.publishers.flatMap((p) => p.topics ?? [p.topic]);
  if (topics.length === 0) return 0;
  return topics.reduce((sum, t) => sum + index.match(t).length, 0) / topics.length;
}

function describeProgress(c: Counters, elapsedSeconds: number): string {
  return `${elapsedSeconds.toFixed(1)} s  sent ${c.sent}  acked ${c.acked}  received ${c.received}` +
    (c.errors > 0 ? `  errors ${c.errors}` : '');
}

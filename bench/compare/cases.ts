/**
 * The scenarios of bench:compare: `culex bench` arguments per case, which broker group runs it and over which
 * transport. Ids are prefixes-friendly (`--only fanin` picks every fanin case, `--only tls,ws` the transport ones).
 */
import type { Group } from './brokers.js';

export type Kind = 'throughput' | 'latency' | 'conn' | 'connmax' | 'slow' | 'match';

export interface Case {
  readonly id: string;
  readonly title: string;
  readonly args: string[];
  readonly kind: Kind;
  readonly group: Group;
  /** Reach the broker over TLS (mqtts://) or WebSocket (ws://…/mqtt) instead of TCP. */
  readonly transport?: 'tls' | 'ws';
}

export interface CaseOptions {
  readonly seconds: number;
  readonly warmup: number;
  readonly idleConnections: number;
}

/**
 * The latency cases warm up for at least this long (s). p99 is the 1 % slowest probes, and in the first second or so
 * a Node broker still compiles its hot code and grows its heap: with the default 0.5 s of warm-up, Culex's QoS 1 p99
 * was 2.27-2.53 ms, with 2 s 0.65-1.10 ms (Mosquitto: 1.10-2.27 and 0.92-1.58 ms; 3 runs each, broker and load on
 * their own CPUs). The measure is the broker under load, not its start-up; every broker gets the same warm-up.
 */
export const LATENCY_WARMUP_SECONDS = 2;

/**
 * The latency cases are measured for at least this long (s). Their p99 is the 1 % slowest probes: over the 2.5 s of
 * the other cases that is the 25 slowest of 2,500, so one pause of the host (a vCPU descheduled for 20 ms holds up 20
 * probes) decides it. Over 8 s it takes several.
 */
export const LATENCY_SECONDS = 8;

/**
 * The latency cases run this many times per round, so they get that many times the rounds of the others. Their p99
 * moves with the host far more than any other measure here. In one run of six interleaved rounds
 * (`--only latency --rounds 6`, 2026-11-23), Culex's QoS 0 p99 over Mosquitto's was 1.89, 1.25, 0.91, 1.37, 0.78 and
 * 0.63 round by round, 1.00 for the medians; two full runs of three rounds gave 0.60 and 1.63. With three rounds,
 * two unlucky ones decide the median. Every broker gets the same runs.
 */
export const LATENCY_RUNS_PER_ROUND = 2;

/**
 * The idle-connection cases insist on the C dialer (native/conn-dialer.c): with Node sockets the generator, not the
 * broker, sets the connect rate, and a run that silently fell back to them would report the generator's rate.
 */
const NATIVE_DIALER = ['--dialer', 'native'];

export function allCases(o: CaseOptions): Case[] {
  const list: Case[] = [];
  const timing = ['-d', String(o.seconds), '-w', String(o.warmup), '--drain', '1500'];
  const latencyTiming = ['-d', String(Math.max(o.seconds, LATENCY_SECONDS)), '-w', String(Math.max(o.warmup, LATENCY_WARMUP_SECONDS)),
    '--drain', '1500'];
  const add = (c: Omit<Case, 'group'> & { group?: Group }): void => {
    list.push({ group: 'main', ...c });
  };
  for (const size of [16, 1024]) {
    for (const qos of [0, 1, 2]) {
      add({ id: `fanin-q${qos}-${size}`, title: `fanin 8→1, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['fanin', '--publishers', '8', '-q', String(qos), '-s', String(size), ...timing] });
    }
    for (const qos of [0, 1]) {
      add({ id: `fanout-q${qos}-${size}`, title: `fanout 1→50, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['fanout', '--subscribers', '50', '-q', String(qos), '-s', String(size), ...timing] });
    }
    for (const qos of [0, 1]) {
      add({ id: `pairs-q${qos}-${size}`, title: `pairs 50, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['pairs', '-c', '50', '-q', String(qos), '-s', String(size), ...timing] });
    }
  }
  for (const qos of [0, 1]) {
    add({ id: `latency-q${qos}`, title: `latency: 1000/s probe under 20k/s, QoS ${qos}, 16 B`, kind: 'latency',
      args: ['latency', '-r', '1000', '--bg-rate', '20000', '-q', String(qos), ...latencyTiming] });
  }
  add({ id: 'idle-conn', title: `${o.idleConnections} idle connections`, kind: 'conn',
    args: ['conn', '-c', String(o.idleConnections), '-d', '1.5', ...NATIVE_DIALER] });
  add({ id: 'idle-conn-max', title: 'idle connections: as many as the broker\'s open-file limit allows', kind: 'connmax',
    args: ['conn', '-c', 'max', '-d', '1.5', ...NATIVE_DIALER] });
  add({ id: 'slow-sub', kind: 'slow',
    title: 'slow subscriber: 50 pub flat out, 1000 in flight each, QoS 1, 16 B → 1 sub + 1 sub paused half the run',
    args: ['slow', '--publishers', '50', '--subscribers', '1', '--inflight', '1000', '-q', '1', ...timing] });
  add({ id: 'match-100k', title: 'matching: 8 pub → 100 sub holding 100k filters (exact, +, #), QoS 1, 16 B', kind: 'match',
    args: ['match', '--subscriptions', '100000', '--subscribers', '100', '--publishers', '8', '-q', '1', ...timing] });
  for (const transport of ['tls', 'ws'] as const) {
    const name = transport === 'tls' ? 'TLS' : 'WebSocket';
    add({ id: `${transport}-fanin-q1`, title: `${name}: fanin 8→1, QoS 1, 16 B`, kind: 'throughput', transport,
      args: ['fanin', '--publishers', '8', '-q', '1', '-s', '16', ...timing] });
    add({ id: `${transport}-fanout-q1`, title: `${name}: fanout 1→50, QoS 1, 16 B`, kind: 'throughput', transport,
      args: ['fanout', '--subscribers', '50', '-q', '1', '-s', '16', ...timing] });
  }
  add({ id: 'durable-fanin-q1', title: 'durable: fanin 8→1, QoS 1, 16 B', kind: 'throughput', group: 'durable',
    args: ['fanin', '--publishers', '8', '-q', '1', '-s', '16', '--persistent', ...timing] });
  add({ id: 'durable-pairs-q1', title: 'durable: pairs 50, QoS 1, 16 B', kind: 'throughput', group: 'durable',
    args: ['pairs', '-c', '50', '-q', '1', '-s', '16', '--persistent', ...timing] });
  return list;
}

export interface PlannedRun<B> {
  readonly c: Case;
  readonly b: B;
  /** The round as reported: for the latency cases, counted over their runs (1 … rounds × LATENCY_RUNS_PER_ROUND). */
  readonly round: number;
}

/**
 * The order of the runs: in each round every case with each broker of its group in turn (A B C, A B C, …), then the
 * latency cases again (their extra runs, LATENCY_RUNS_PER_ROUND), so that these are spread over the whole run too.
 */
export function planRuns<B extends { readonly group: Group }>(cases: readonly Case[], brokers: readonly B[],
  rounds: number): PlannedRun<B>[] {
  const list: PlannedRun<B>[] = [];
  const pass = (only: (c: Case) => boolean, roundOf: (c: Case) => number): void => {
    for (const c of cases) {
      if (!only(c)) continue;
      for (const b of brokers) if (b.group === c.group) list.push({ c, b, round: roundOf(c) });
    }
  };
  for (let round = 1; round <= rounds; round++) {
    const first = (round - 1) * LATENCY_RUNS_PER_ROUND + 1;
    pass(() => true, (c) => (c.kind === 'latency' ? first : round));
    for (let extra = 1; extra < LATENCY_RUNS_PER_ROUND; extra++) pass((c) => c.kind === 'latency', () => first + extra);
  }
  return list;
}

/** Cases whose id starts with one of `only` (all of them when `only` is undefined). */
export function selectCases(cases: readonly Case[], only: readonly string[] | undefined): Case[] {
  return only === undefined ? [...cases] : cases.filter((c) => only.some((o) => c.id.startsWith(o)));
}

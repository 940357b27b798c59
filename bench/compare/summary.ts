/**
 * BENCHMARKS.md from the runs of bench:compare: per group a table of medians (min–max over rounds) per broker and
 * the ratios that matter (Culex ÷ each other broker; in the durable group Culex lmdb ÷ Culex memory), then the
 * method, then every lost or duplicated message, failure and generator-bound run.
 */
import type { Broker, Group } from './brokers.js';
import { LATENCY_RUNS_PER_ROUND, LATENCY_SECONDS, LATENCY_WARMUP_SECONDS, type Case, type Kind } from './cases.js';

export interface Run {
  readonly caseId: string;
  readonly broker: string;
  readonly round: number;
  /** The CPU probe before the run (compare.ts), ms on CPU 0 (broker) and CPU 1 (load). */
  readonly probeMs?: readonly [number, number];
  /** Latency runs: the host's timer jitter before the run (compare.ts), p99 ms on CPU 0 and CPU 1. */
  readonly jitterMs?: readonly [number, number];
  /**
   * Steal time during the run (compare.ts), % of the run on CPU 0 (broker) and on the load's CPUs (the most stolen
   * one; CPU 1 on 2 cores): how long the hypervisor kept each vCPU from running although it had work. Absent in
   * results from before it was measured.
   */
  readonly stealPct?: readonly [number, number];
  /** CPUs the load generator ran on (absent: one, as on a 2-core machine and in results from before it was kept). */
  readonly loadCpus?: number;
  /**
   * Latency runs: the other attempts at this broker, case and round when the host was busy during the first
   * (`isRepeatedForSteal`, `countedAttempt`). They are listed in the report, not counted.
   */
  readonly repeated?: readonly Run[];
  readonly result?: Record<string, unknown>;
  readonly error?: string;
}

export interface Metric {
  readonly label: string;
  readonly isHigherBetter: boolean;
  readonly pick: (r: Record<string, unknown>) => number | undefined;
  readonly format: (v: number) => string;
}

export interface SummaryInput {
  readonly brokers: readonly Broker[];
  readonly cases: readonly Case[];
  readonly runs: readonly Run[];
  readonly meta: readonly string[];
  readonly rounds: number;
  readonly seconds: number;
  readonly warmup: number;
  readonly isQuick: boolean;
  readonly isSubset: boolean;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const field = (name: string) => (r: Record<string, unknown>): number | undefined =>
  typeof r[name] === 'number' ? r[name] : undefined;
const latencyField = (name: string) => (r: Record<string, unknown>): number | undefined => {
  const l = r['latency'] as Record<string, number> | undefined;
  return l?.[name];
};
const ms = (us: number): string => (us < 1000 ? `${int.format(us)} µs` : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`);
const received: Metric = { label: 'received msg/s', isHigherBetter: true, pick: field('receiveRate'), format: (v) => int.format(v) };
const connect: Metric[] = [
  { label: 'connections/s', isHigherBetter: true, pick: field('connectRate'), format: (v) => int.format(v) },
  { label: 'RSS bytes per connection', isHigherBetter: false, pick: field('rssPerConnectionBytes'), format: (v) => int.format(v) },
  { label: 'broker CPU µs per connection', isHigherBetter: false, pick: field('brokerCpuUsPerConnection'), format: (v) => int.format(v) },
  { label: '… of it in the broker\'s own code (user)', isHigherBetter: false, pick: field('brokerUserUsPerConnection'), format: (v) => int.format(v) },
  { label: '… of it in the kernel (system)', isHigherBetter: false, pick: field('brokerSystemUsPerConnection'), format: (v) => int.format(v) },
];

export const metricsByKind: Record<Kind, Metric[]> = {
  throughput: [received],
  slow: [
    { ...received, label: 'fast subscriber: received msg/s' },
    { label: 'acknowledged publishes/s', isHigherBetter: true, pick: field('ackRate'), format: (v) => int.format(v) },
    {
      label: 'slow subscriber: acknowledged messages it had by the end, %', isHigherBetter: true,
      pick: (r) => {
        const got = (r['receivedByGroup'] as Record<string, number> | undefined)?.['slow'];
        const acked = r['acked'];
        return got === undefined || typeof acked !== 'number' || acked === 0 ? undefined : (100 * got) / acked;
      },
      format: (v) => v.toFixed(1),
    },
  ],
  latency: [
    { label: 'probe p50', isHigherBetter: false, pick: latencyField('p50Us'), format: ms },
    { label: 'probe p99', isHigherBetter: false, pick: latencyField('p99Us'), format: ms },
    { label: 'probe p99.9', isHigherBetter: false, pick: latencyField('p999Us'), format: ms },
  ],
  conn: connect,
  connmax: [{ label: 'connections held', isHigherBetter: true, pick: field('held'), format: (v) => int.format(v) }, ...connect],
  match: [received, {
    label: 'subscribe 100k filters, s', isHigherBetter: false, pick: field('subscribeSeconds'), format: (v) => v.toFixed(2),
  }],
};

/** Column pairs (a ÷ b) shown as ratios per group. */
const RATIOS: Record<Group, [string, string][]> = {
  main: [['Culex', 'Mosquitto'], ['Culex', 'Aedes']],
  durable: [['Culex lmdb', 'Culex memory'], ['Culex lmdb', 'Mosquitto persistence']],
};

function median(values: number[]): number {
  const s = values.toSorted((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function table(group: Group, input: SummaryInput): string | undefined {
  const cases = input.cases.filter((c) => c.group === group);
  const names = input.brokers.filter((b) => b.group === group).map((b) => b.name);
  if (cases.length === 0 || names.length === 0) return undefined;
  const ratios = RATIOS[group].filter(([a, b]) => names.includes(a) && names.includes(b));
  const header = ['scenario', 'metric', ...names, ...ratios.map(([a, b]) => `${a}/${b}`)];
  const rows: string[][] = [];
  for (const c of cases) {
    for (const m of metricsByKind[c.kind]) {
      const row = [c.title, m.label + (m.isHigherBetter ? ' ↑' : ' ↓')];
      const medians = new Map<string, number>();
      for (const name of names) {
        const results = input.runs.filter((r) => r.caseId === c.id && r.broker === name && r.result !== undefined);
        const values = results.map((r) => m.pick(r.result!)).filter((v): v is number => v !== undefined);
        if (values.length === 0) {
          // Runs that ended without this measure (results of an older version, re-rendered): not a failure.
          row.push(results.length > 0 ? '–' : 'failed');
          continue;
        }
        const med = median(values);
        medians.set(name, med);
        row.push(values.length === 1 ? m.format(med)
          : `${m.format(med)} (${m.format(Math.min(...values))}–${m.format(Math.max(...values))})`);
      }
      for (const [a, b] of ratios) {
        const x = medians.get(a);
        const y = medians.get(b);
        row.push(x === undefined || y === undefined || y === 0 ? '–' : `${(x / y).toFixed(2)}×`);
      }
      rows.push(row);
    }
  }
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/**
 * A run whose CPU probe took more than this times the quiet probe time is flagged. The quiet time is the 10th
 * percentile of all the probes, not the single fastest, which on a shared host can be an outlier well below the rest.
 */
const SLOW_HOST_FACTOR = 1.5;

function quietProbe(runs: readonly Run[]): number | undefined {
  const all = runs.flatMap((r) => r.probeMs ?? []).toSorted((a, b) => a - b);
  return all.length === 0 ? undefined : all[Math.floor((all.length - 1) / 10)];
}

/** The probe times over the whole run, for the report's header. */
export function probeLine(runs: readonly Run[]): string | undefined {
  const all = runs.flatMap((r) => r.probeMs ?? []).toSorted((a, b) => a - b);
  if (all.length === 0) return undefined;
  const quiet = quietProbe(runs)!;
  const slow = runs.filter((r) => r.probeMs !== undefined && Math.max(...r.probeMs) > SLOW_HOST_FACTOR * quiet).length;
  return `CPU probe (fixed work before each run, both CPUs; lower is faster): fastest ${all[0]} ms, 10th percentile `
    + `${quiet} ms, median ${all[all.length >> 1]} ms, slowest ${all.at(-1)} ms; ${slow} of ${runs.length} runs `
    + `after a probe over ${SLOW_HOST_FACTOR} × the 10th percentile (listed below)`;
}

/** The timer jitter before the latency runs, for the report's header: the floor under any p99 measured here. */
export function jitterLine(runs: readonly Run[]): string | undefined {
  const all = runs.flatMap((r) => r.jitterMs ?? []).toSorted((a, b) => a - b);
  if (all.length === 0) return undefined;
  return `Host timer jitter before each latency run (how late a 1 ms timer fires in an idle process, p99 over 1 s, `
    + `each CPU): lowest ${all[0]} ms, median ${all[all.length >> 1]} ms, highest ${all.at(-1)} ms. A latency p99 `
    + 'near these values is the host\'s, not the broker\'s';
}

/** A run that lost more than this share (%) of either CPU to steal is flagged: its numbers say little. */
export const STEAL_FLAG_PCT = 5;
/** A latency run is run again at most this many times while the host is busy during it. */
export const STEAL_REPEATS = 3;

/**
 * Whether to run a latency run again (after `repeats` repeats so far): the host took more than STEAL_FLAG_PCT of
 * either CPU during it. A p99 is the slowest 1 % of the probes, so the host's pauses set it more than anything the
 * broker does (throughput runs average them out and are not repeated). Every broker's runs are treated alike, and
 * the repeated runs are listed in the report.
 */
export function isRepeatedForSteal(kind: Kind, run: Run, repeats: number): boolean {
  return kind === 'latency' && repeats < STEAL_REPEATS && run.stealPct !== undefined
    && Math.max(...run.stealPct) > STEAL_FLAG_PCT;
}

/**
 * Of the attempts at one latency run (the first and its repeats, in order), the one that counts: the one the host
 * disturbed least (the lowest steal on the busier of its two CPUs; the later one on a tie), chosen by steal alone,
 * never by its result, and alike for every broker. The others go in its `repeated` list, in order. (Counting the
 * last attempt instead let a busy repeat count over a quiet first run.)
 */
export function countedAttempt(attempts: readonly Run[]): Run {
  const steal = (r: Run): number => (r.stealPct === undefined ? Number.POSITIVE_INFINITY : Math.max(...r.stealPct));
  let best = attempts.length - 1;
  for (let i = attempts.length - 2; i >= 0; i--) if (steal(attempts[i]!) < steal(attempts[best]!)) best = i;
  const others = attempts.filter((_, i) => i !== best);
  return others.length === 0 ? attempts[best]! : { ...attempts[best]!, repeated: others };
}

/** Steal time over the runs, for the report's header. */
export function stealLine(runs: readonly Run[]): string | undefined {
  const measured = runs.filter((r) => r.stealPct !== undefined);
  if (measured.length === 0) return undefined;
  const sorted = (i: 0 | 1): number[] => measured.map((r) => r.stealPct![i]).toSorted((a, b) => a - b);
  const broker = sorted(0);
  const load = sorted(1);
  const flagged = measured.filter((r) => Math.max(...r.stealPct!) > STEAL_FLAG_PCT).length;
  return `Steal time during the runs (the share of a vCPU the hypervisor gave to others while it had work; `
    + `broker CPU / load CPU): median ${broker[broker.length >> 1]} % / ${load[load.length >> 1]} %, highest `
    + `${broker.at(-1)} % / ${load.at(-1)} %; ${flagged} of ${measured.length} runs over ${STEAL_FLAG_PCT} % `
    + '(listed below)';
}

/** Above this share of its CPUs a side of a run counts as busy. */
const BUSY_SHARE = 0.9;

/**
 * When the load generator, not the broker, may have set a run's numbers: the generator used nearly all of its CPUs
 * (`loadCpus`) while the broker (pinned to one CPU) had time to spare. A broker near its core was the limit whatever
 * the generator used; without the broker's CPU (results from before it was measured) a busy generator is flagged
 * alone. Idle-connection runs give the broker's CPU for the connect phase, the others for the measured window.
 */
export function generatorLimit(result: Record<string, unknown>, loadCpus = 1): string | undefined {
  const load = result['loadCpuCores'];
  if (typeof load !== 'number' || load <= BUSY_SHARE * loadCpus) return undefined;
  const broker = brokerCores(result);
  if (broker === undefined) return `load generator used ${load} cores (may be the bottleneck)`;
  if (broker >= BUSY_SHARE) return undefined;
  return `load generator used ${load} cores while the broker used ${broker}: the generator may have been the limit`;
}

function brokerCores(result: Record<string, unknown>): number | undefined {
  const cores = result['brokerCpuCores'];
  if (typeof cores === 'number') return cores;
  const { brokerCpuSeconds: cpu, connectSeconds: seconds } = result;
  if (typeof cpu !== 'number' || typeof seconds !== 'number' || seconds <= 0) return undefined;
  return Math.round((cpu / seconds) * 100) / 100;
}

export function problems(runs: readonly Run[]): string[] {
  const list: string[] = [];
  const quiet = quietProbe(runs);
  for (const r of runs) {
    for (const earlier of r.repeated ?? []) {
      const p99Us = earlier.result === undefined ? undefined : latencyField('p99Us')(earlier.result);
      list.push(`${r.caseId} ${r.broker} round ${r.round}: an attempt not counted (the least-stolen one counts; this one: `
        + `${earlier.stealPct?.[0]} % of the broker's CPU, ${earlier.stealPct?.[1]} % of the load's; its p99 `
        + `${p99Us === undefined ? 'unknown' : ms(p99Us)})`);
    }
    if (quiet !== undefined && r.probeMs !== undefined && Math.max(...r.probeMs) > SLOW_HOST_FACTOR * quiet) {
      list.push(`${r.caseId} ${r.broker} round ${r.round}: host slow before the run (CPU probe ${r.probeMs.join(' / ')} ms, `
        + `quiet ${quiet} ms): its numbers may be pessimistic`);
    }
    if (r.stealPct !== undefined && Math.max(...r.stealPct) > STEAL_FLAG_PCT) {
      list.push(`${r.caseId} ${r.broker} round ${r.round}: host busy during the run (steal ${r.stealPct[0]} % of the `
        + `broker's CPU, ${r.stealPct[1]} % of the load's): its numbers may be pessimistic`);
    }
    if (r.error !== undefined) list.push(`${r.caseId} ${r.broker} round ${r.round}: failed: ${r.error}`);
    const res = r.result;
    if (res === undefined) continue;
    for (const key of ['lost', 'duplicates', 'connectFailures', 'failed', 'errors'] as const) {
      const v = res[key];
      if (typeof v === 'number' && v > 0) list.push(`${r.caseId} ${r.broker} round ${r.round}: ${key} ${v}`);
    }
    const limit = generatorLimit(res, r.loadCpus);
    if (limit !== undefined) list.push(`${r.caseId} ${r.broker} round ${r.round}: ${limit}`);
  }
  return list;
}

export function summarize(input: SummaryInput): string {
  const main = table('main', input);
  const durable = table('durable', input);
  const issues = problems(input.runs);
  const note = input.isQuick ? ' (`--quick`: one short round, a smoke run, not a result)'
    : input.isSubset ? ' (a subset: `--only`/`--brokers`)' : '';
  return [
    '# Benchmarks', '',
    `Generated by \`npm run bench:compare\`${note}.`, '',
    ...[...input.meta, probeLine(input.runs), jitterLine(input.runs), stealLine(input.runs)].filter((l) => l !== undefined).map((l) => `- ${l}`), '',
    ...methodSection(input), '',
    '## Results', '',
    main ?? 'No Culex/Mosquitto/Aedes cases in this run.', '',
    ...(durable === undefined ? [] : [
      '## Culex durable vs memory', '',
      'QoS 1, subscribers with persistent sessions (clean session 0, so every message is queued for them in the',
      'store), with the lmdb store (`culex_durability sync`: on disk before the PUBACK) against the memory store,',
      'both started with `culex broker -c FILE`; issue 8\'s goal is lmdb ≥ 0.5 × memory. Mosquitto with',
      '`persistence true` is listed for reference only: it keeps messages in memory and writes a snapshot every',
      '`autosave_interval` (1800 s) and on exit, so its acknowledgements never wait for the disk.', '',
      durable, '',
    ]),
    '## Lost, duplicated, failed', '',
    issues.length === 0 ? 'None: no lost or duplicated QoS 1/2 messages, no failures.' : issues.map((p) => `- ${p}`).join('\n'),
    '',
  ].join('\n');
}

/** The Method section; BENCHMARKS.md is regenerated from this, so edit it here. */
export function methodSection(input: Pick<SummaryInput, 'rounds' | 'seconds' | 'warmup'>): string[] {
  return [
    '## Method', '',
    '- Each run starts a fresh broker pinned to CPU 0 and runs `culex bench … --json` (raw-socket MQTT 3.1.1 load',
    '  generator, one forked worker process per CPU it has, at least 2) pinned to every other CPU: on a 2-core machine',
    '  CPU 1 alone, so there the generator has one core. Runs are interleaved Culex, Mosquitto, Aedes, … per scenario',
    `  for ${input.rounds} round(s); each run has ${input.warmup} s of warm-up and ${input.seconds} s measured. The latency`,
    `  cases run ${LATENCY_RUNS_PER_ROUND} times per round (the second time at the round's end), as their p99 moves`,
    '  with the host most.',
    '- Equal settings: no in-flight or queue limits (Culex `maxInflight: 65535, maxQueuedMessages: 0`, no QoS 0',
    '  write-buffer cap; Mosquitto `max_inflight_messages 0`, `max_queued_messages 0`, `max_connections -1`), Nagle',
    '  off, no persistence. Aedes runs with its defaults, in memory. Culex runs with the Node flag it ships with',
    '  (`--max-semi-space-size=4`, as `culex broker` and `npm start` do; see the README, "Memory"); Aedes with Node\'s',
    '  defaults.',
    '- Throughput = messages received by subscribers per second in the measured window. Publishers run flat out',
    '  (QoS 1/2: at most 100 unacknowledged each). At QoS 0 the generator closes the loop (`--backlog`, default',
    '  50,000): publishers pause while more deliveries are outstanding than that, so a broker that reads faster than',
    '  its subscribers can be served does not just fill kernel buffers while the publishers take the generator\'s CPU',
    '  from its own subscribers. QoS 0 latency is still queueing time and is not reported.',
    '- The latency scenario paces its probe at 1000 msg/s and its background at',
    '  20,000 msg/s in all; the probe\'s send-to-receive time is measured on one host clock. Its runs warm up for at',
    `  least ${LATENCY_WARMUP_SECONDS} s: in its first second a Node broker still compiles its hot code and grows its heap, and with`,
    '  0.5 s of warm-up that start-up, not the broker under load, set Culex\'s p99 (bench/compare/cases.ts). They are',
    `  measured for at least ${LATENCY_SECONDS} s, so that a p99 is not decided by one pause of the host.`,
    '  Before each latency run a 1 ms timer in an idle process on each CPU measures the host\'s own scheduling delay',
    '  (the "Host timer jitter" line above): a p99 near it says more about the host than about the broker.',
    '- Steal time: the share of each vCPU the hypervisor gave to other guests during a run while it had work to do',
    `  (/proc/stat). A run over ${STEAL_FLAG_PCT} % on either CPU is listed under "Lost, duplicated, failed": on a shared host the`,
    '  brokers\' numbers move with it, latency most of all. A latency run over it is run again, for every broker alike,',
    `  up to ${STEAL_REPEATS} times; the attempt with the least steal counts (chosen by steal, never by its result), and`,
    '  the others are listed there with their steal and p99.',
    '- Idle connections: connect rate, the broker\'s VmRSS growth divided by the connections (after 1 s settle), and',
    '  the broker\'s CPU time (all threads, /proc/PID/stat) from the first connect to the last CONNACK divided by the',
    '  connections, also split into time in the broker\'s own code (user) and in the kernel on its behalf (system:',
    '  accept, reads, writes, epoll; about the same for any broker doing the same syscalls), spread over 16 source',
    '  addresses 127.0.0.1–16. The connections are made by a small C program',
    '  (native/conn-dialer.c, built with the machine\'s cc on first use; one per worker): a socket, a CONNECT and a',
    '  CONNACK check cost it about 40 µs of CPU, most of it the kernel\'s loopback handshake, where a Node client',
    '  socket costs about 200 µs, more than any Node broker spends, so with Node sockets the rate measured the',
    '  generator. 20 connections per worker are in progress at once, 40 in all: under every broker\'s listen backlog',
    '  (Mosquitto\'s is 100, Node\'s 511), since past it the kernel drops SYNs and the rate measures the 1 s SYN',
    '  retransmit. The broker\'s CPU per connection compares the brokers whichever side was the limit (at',
    '  Mosquitto\'s rate the generator is near its one core). "As many as the open-file limit allows"',
    '  (`conn -c max`) reads the broker\'s soft RLIMIT_NOFILE from /proc/PID/limits, subtracts the descriptors it has',
    '  open and a margin of 32, opens that many (over as many generator processes as their own limit needs) and',
    '  reports how many it still held at the end. Here every process is capped at 20,000 open files (a hard limit that `ulimit -n` cannot raise), so',
    '  each broker gets about 19,950. A bigger machine allows more: raise the hard limit (`LimitNOFILE=` in a systemd',
    '  unit, `nofile` in limits.conf, up to `fs.nr_open`, 1,048,576 by default) and each 127.0.0.x source address',
    '  gives another ~28,000 ephemeral ports (`net.ipv4.ip_local_port_range`); memory is then the limit — RSS per',
    '  connection × connections, e.g. 1 million connections at 5 KB each need about 5 GB for the broker alone.',
    '- Slow subscriber (`culex bench slow`): 50 publishers flat out at QoS 1, each with up to 1000 messages',
    '  unacknowledged (a deep backlog), to two subscribers on `bench/#`: one reads as fast as it can, the other reads',
    '  nothing for the first half of the run (warm-up included), then catches up. Reported: the fast subscriber\'s',
    '  received/s and the publishers\' acknowledged/s in the window (does one slow reader hold the others back?), and',
    '  the share of the acknowledged messages the slow subscriber had by the end of the 1.5 s drain. "lost" under the',
    '  table counts, here, acknowledged messages a subscriber did not have by then: a broker still working through its',
    '  backlog shows them as lost.',
    '- Matching (`culex bench match`): 100 connections hold 100,000 filters in all (80 % exact',
    '  `site/042/dev/317/m3`, 10 % `site/042/dev/317/#`, 7 % `site/042/dev/+/m3`, 2 % `site/+/dev/317/m3`, 1 %',
    '  `site/042/#`; seeded, so equal for every broker), sent 100 to a SUBSCRIBE; 8 publishers at QoS 1 cycle',
    '  through 1000 topics each, made by filling in subscribed filters, so a PUBLISH matches about 3 subscribers.',
    '  Reported: deliveries per second and the time to connect the subscribers and get every SUBACK.',
    '- TLS and WebSocket: the same generator over `mqtts://` (TLS 1.3, self-signed P-256 certificate made with',
    '  openssl per compare run, not verified) and `ws://…/mqtt` (subprotocol `mqtt`, no compression). Each broker',
    '  serves them its own way: Culex with its listeners (src/transport/listener.ts, as `culex broker` opens them),',
    '  Mosquitto with `certfile`/`keyfile` and `protocol websockets` listeners, Aedes through node:tls and ws\'s',
    '  `createWebSocketStream` handed to `aedes.handle` (bench/brokers/listeners.mjs).',
    '- Culex durable vs memory (`--only durable`): `culex broker -c FILE` with `persistence true`,',
    '  `culex_durability sync` (lmdb) against `persistence false`, QoS 1 fanin and pairs with persistent-session',
    '  subscribers (`culex bench --persistent`), so every delivery is queued in the store before the PUBACK;',
    '  Mosquitto `persistence true` (snapshots, not write-through) for reference. Its own table below the results.',
    '- Before each run a fixed piece of arithmetic is timed on each CPU (a pinned child process). A machine shared with',
    '  other tenants can be several times slower at moments; a run whose probe took over 1.5 × the quiet probe time',
    '  (the 10th percentile of all the probes of the compare run) is listed under the table as "host slow", and its',
    '  numbers should be read as pessimistic.',
    '- The broker has one CPU, and on 2 cores the load generator one. Each run also reads the broker\'s CPU time',
    '  (/proc/PID/stat, all threads) and the generator\'s over the measured window (idle connections: over the connect',
    '  phase). A run where the generator used more than 0.9 of its CPUs while the broker used less than 0.9 of its one',
    '  is listed under the table: there the generator, not the broker, may have been the limit, so that broker\'s',
    '  number is a lower bound (a broker that writes one packet per syscall costs the generator one read per message;',
    '  one that batches writes costs it far fewer). A broker near its core was the limit, whatever the generator used.',
    '  To spend little per message, the generator frames what it receives rather than decoding it: it reads a',
    '  PUBLISH\'s QoS, packet id and the 16-byte payload header (send time, publisher, sequence number) in place.',
    '- A subset for a quick measurement: `npm run bench:compare -- --only fanin,latency --rounds 1` (case ids are',
    '  matched by prefix: fanin, fanout, pairs, latency, idle-conn, slow-sub, match, tls, ws, durable;',
    '  `--brokers culex,mosquitto`; `--seconds S`; `--quick`). A subset writes its report to a temporary directory',
    '  (printed at the end), not to BENCHMARKS.md, unless `--out FILE` is given. The full run prints its duration.',
    '- Cells: median (min–max) over rounds. ↑ higher is better, ↓ lower is better; ratios are Culex ÷ other.',
  ];
}

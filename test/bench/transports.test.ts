import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { createBroker } from '../../src/index.js';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/bench.js';
import { bench } from './run-bench.js';
import { FilterIndex } from '../../src/bench/filter-index.js';
import { matching } from '../../src/bench/scenarios.js';
import { parseBrokerUrl } from '../../src/bench/transport.js';
import { readCpuSeconds, readCpuTimes } from '../../src/bench/cpu-time.js';
import { allCases, LATENCY_RUNS_PER_ROUND, planRuns, selectCases } from '../../bench/compare/cases.js';
import { loadCpus } from '../../bench/compare/brokers.js';
import { countedAttempt, generatorLimit, isRepeatedForSteal, jitterLine, probeLine, problems, stealLine, summarize, type Run } from '../../bench/compare/summary.js';
import { LITERALS, prng, referenceMatches } from '../helpers/topic-reference.js';

const fixture = (name: string): string => new URL(`fixtures/${name}`, import.meta.url).pathname;


/** Paced, so a few hundred messages: the tests check the tool, not the broker's speed. */
const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const short = ['-q', '1', '-r', '400', '-d', '0.3', '-w', '0.1', '--drain', '2000', '--workers', '1', '--json'];
const unlimited = { maxInflight: 65_535, maxQueuedMessages: 0 };

test('culex bench fanin over mqtts:// (TLS, unverified and with --ca) loses nothing; a wrong CA fails to connect', async (t) => {
  const broker = createBroker(unlimited);
  const server = tls.createServer({ cert: readFileSync(fixture('cert.pem')), key: readFileSync(fixture('key.pem')) },
    (socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.close();
    await broker.close();
  });
  const url = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const r = await bench(['fanin', '-u', url, '--ca', fixture('cert.pem'), '--publishers', '2', ...short]);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json['transport'], 'tls');
  assert.ok((r.json['received'] as number) > 0);
  assert.equal(r.json['received'], r.json['acked']);
  assert.equal(r.json['lost'], 0);
  const conn = ['-u', url, '-c', '3', '-d', '0', '--workers', '1', '--json'];
  const unverified = await bench(['conn', ...conn]);
  assert.equal(unverified.json['held'], 3, JSON.stringify(unverified.json));
  const wrong = await bench(['conn', ...conn, '--ca', fixture('other-ca.pem')]);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.json['failed'], 3);
  assert.match(String((wrong.json['errorSamples'] as string[])[0]), /could not connect/);
});

test('culex bench fanout over ws:// offers the mqtt subprotocol and loses nothing [MQTT-6.0.0-3]', async (t) => {
  const broker = createBroker(unlimited);
  const protocols: string[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/mqtt', perMessageDeflate: false });
  wss.on('connection', (ws) => {
    protocols.push(ws.protocol);
    broker.handle(createWebSocketStream(ws));
  });
  await once(wss, 'listening');
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await broker.close();
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/mqtt`;
  const r = await bench(['fanout', '-u', url, '--subscribers', '3', ...short]);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json['transport'], 'ws');
  assert.equal(r.json['received'], (r.json['acked'] as number) * 3);
  assert.ok((r.json['received'] as number) > 0);
  assert.equal(r.json['lost'], 0);
  assert.deepEqual([...new Set(protocols)], ['mqtt']);
  assert.equal(protocols.length, 4);
});

test('culex bench match subscribes every filter, reports subscribe time, and loses nothing', async (t) => {
  const broker = createBroker(unlimited);
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const r = await bench(['match', '-p', String(port), '--subscriptions', '600', '--subscribers', '6', '--publishers', '2',
    '--topics', '50', '--per-packet', '25', ...short]);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json['subscriptions'], 600);
  assert.ok((r.json['subscribeSeconds'] as number) > 0);
  assert.ok((r.json['matchesPerMessage'] as number) >= 1, 'every topic is made from a subscribed filter');
  assert.ok((r.json['received'] as number) >= (r.json['acked'] as number));
  assert.equal(r.json['lost'], 0);
  assert.equal(r.json['duplicates'], 0);
});

test('the matching scenario is the same for a seed, and its topics all match a filter', () => {
  const load = { qos: 1 as const, payloadBytes: 16, ratePerSecond: 0, maxCount: 0, inflight: 10 };
  const shape = { subscriptions: 2000, subscriberCount: 10, publisherCount: 2, topicsPerPublisher: 100, perPacket: 50, seed: 7 };
  const a = matching(shape, load);
  assert.deepEqual(a, matching(shape, load));
  assert.equal(a.subscribers.reduce((n, s) => n + s.filters!.length, 0), 2000);
  assert.ok(a.subscribers.flatMap((s) => s.filters!).some((f) => f.includes('+')));
  assert.ok(a.subscribers.flatMap((s) => s.filters!).some((f) => f.endsWith('/#')));
  const filters = a.subscribers.flatMap((s) => s.filters!);
  for (const topic of a.publishers.flatMap((p) => p.topics!)) {
    assert.equal(topic.length, a.publishers[0]!.topics![0]!.length, 'fixed width: one template length');
    assert.ok(filters.some((f) => referenceMatches(f, topic)), topic);
  }
});

test('FilterIndex finds exactly the owners a spec-reference matcher finds, $ topics included [MQTT-4.7.2-1]', () => {
  const random = prng(11);
  const level = (): string => ['+', '#', ...LITERALS][Math.floor(random() * (LITERALS.length + 2))]!;
  const filters = Array.from({ length: 400 }, () => {
    const n = 1 + Math.floor(random() * 4);
    const levels = Array.from({ length: n }, level);
    const cut = levels.indexOf('#');
    return (cut >= 0 ? levels.slice(0, cut + 1) : levels).join('/');
  });
  const index = new FilterIndex<number>();
  filters.forEach((f, i) => index.add(f, i % 37));
  for (let k = 0; k < 300; k++) {
    const n = 1 + Math.floor(random() * 4);
    const topic = Array.from({ length: n }, () => LITERALS[Math.floor(random() * LITERALS.length)]!).join('/');
    const expected = new Set(filters.flatMap((f, i) => (referenceMatches(f, topic) ? [i % 37] : [])));
    assert.deepEqual(new Set(index.match(topic)), expected, topic);
  }
});

test('parseBrokerUrl maps schemes to transports and refuses others', () => {
  assert.deepEqual(parseBrokerUrl('mqtts://127.0.0.1'), { host: '127.0.0.1', port: 8883, transport: { kind: 'tls', path: '/', caFile: undefined } });
  assert.deepEqual(parseBrokerUrl('ws://[::1]:9001/mqtt?x=1', 'ca.pem').transport, { kind: 'ws', path: '/mqtt?x=1', caFile: 'ca.pem' });
  assert.equal(parseBrokerUrl('ws://[::1]:9001/').host, '::1');
  assert.equal(parseBrokerUrl('mqtt://h').port, 1883);
  assert.throws(() => parseBrokerUrl('http://h'), /unsupported scheme/);
});

test('culex bench refuses --url with --port, --ca without TLS, and -c max without --pid', async () => {
  const io = { stdout: new PassThrough(), stderr: new PassThrough() };
  assert.equal(await run(['fanin', '-u', 'mqtt://127.0.0.1:1', '-p', '1'], io), 1);
  assert.equal(await run(['fanin', '--ca', 'x.pem'], io), 1);
  assert.equal(await run(['conn', '-c', 'max', '-p', '1'], io), 1);
  assert.equal(await run(['conn', '--dialer', 'fast', '-p', '1'], io), 1);
  assert.equal(await run(['conn', '--dialer', 'native', '-u', 'mqtts://127.0.0.1:1'], io), 1);
});

test('culex bench conn without a C compiler: --dialer auto falls back to Node and says why, --dialer native fails', async (t) => {
  const broker = createBroker();
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  const saved = { CC: process.env['CC'], XDG_CACHE_HOME: process.env['XDG_CACHE_HOME'] };
  const cache = mkdtempSync(join(tmpdir(), 'culex-cache-'));
  // An empty cache, so nothing built before is found, and a "compiler" that always fails.
  process.env['XDG_CACHE_HOME'] = cache;
  process.env['CC'] = 'false';
  t.after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(cache, { recursive: true, force: true });
    await broker.close();
  });
  const args = ['conn', '-p', String(port), '-c', '3', '-d', '0', '--workers', '1', '--json'];
  const auto = await bench(args);
  assert.equal(auto.code, 0, JSON.stringify(auto.json));
  assert.equal(auto.json['held'], 3);
  assert.equal(auto.json['dialer'], 'node');
  assert.match(String(auto.json['dialerNote']), /cannot build the native dialer: false -O2/);
  const io = { stdout: new PassThrough(), stderr: new PassThrough() };
  let err = '';
  io.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  assert.equal(await run([...args.slice(0, -1), '--dialer', 'native'], io), 1);
  assert.match(err, /cannot build the native dialer/);
});

test('culex bench conn -c max opens as many connections as the broker\'s open-file limit allows, and holds them', async (t) => {
  const limit = 300;
  const script = new URL('../../bench/brokers/aedes.mjs', import.meta.url).pathname;
  // Node raises its soft limit to the hard one at start, so lower both.
  const child = spawn('bash', ['-c', `ulimit -Sn ${limit} && ulimit -Hn ${limit} && exec "$0" "$@"`, process.execPath, script, '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`broker exited with ${String(code)}`); });
  const [line] = await Promise.race([once(child.stdout!, 'data') as Promise<[Buffer]>, exited]);
  const port = Number(/listening (\d+)/.exec(line.toString())?.[1]);
  assert.ok(port > 0, line.toString());
  const r = await bench(['conn', '-c', 'max', '--pid', String(child.pid), '-p', String(port), '-d', '0', '--workers', '1', '--json']);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json['brokerFdLimit'], limit);
  assert.equal(r.json['requested'], limit - (r.json['brokerFdsBefore'] as number) - 32);
  assert.equal(r.json['connected'], r.json['requested']);
  assert.equal(r.json['held'], r.json['connected']);
  // This machine has a C compiler (the CI's too): the connections come from the native dialer.
  assert.equal(r.json['dialer'], 'native', JSON.stringify(r.json));
  // The broker's CPU while connecting and the generator's: measured, so present and plausible (a connection costs
  // the broker some CPU, never a second).
  assert.equal(typeof r.json['brokerCpuSeconds'], 'number');
  assert.ok((r.json['brokerCpuUsPerConnection'] as number) >= 0 && (r.json['brokerCpuUsPerConnection'] as number) < 1e6);
  // Split into user and system; the parts add up to the whole (each rounded to a µs).
  const parts = (r.json['brokerUserUsPerConnection'] as number) + (r.json['brokerSystemUsPerConnection'] as number);
  assert.ok(Math.abs(parts - (r.json['brokerCpuUsPerConnection'] as number)) <= 1, JSON.stringify(r.json));
  assert.ok((r.json['loadCpuCores'] as number) > 0, JSON.stringify(r.json));
});

test('readCpuSeconds reads a process\'s CPU time from /proc/PID/stat, as process.cpuUsage() counts it; readCpuTimes splits it into user and system', () => {
  const before = readCpuSeconds(process.pid);
  const timesBefore = readCpuTimes(process.pid);
  const usage = process.cpuUsage();
  // Burn about 0.3 s of CPU.
  const until = performance.now() + 300;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const used = process.cpuUsage(usage);
  const measured = readCpuSeconds(process.pid) - before;
  const times = readCpuTimes(process.pid);
  // /proc counts in 10 ms ticks and counts every thread (GC helpers too): within a few ticks of the main thread's.
  assert.ok(Math.abs(measured - (used.user + used.system) / 1e6) < 0.08, `measured ${measured} s, cpuUsage ${JSON.stringify(used)}`);
  // Arithmetic runs in user space: the loop's time shows there, not as system time.
  assert.ok(Math.abs(times.user - timesBefore.user - used.user / 1e6) < 0.08, `user ${times.user - timesBefore.user} s`);
  assert.ok(times.system - timesBefore.system < 0.1, `system ${times.system - timesBefore.system} s`);
  assert.throws(() => readCpuSeconds(2 ** 22 + 7), /ENOENT/);
});

const summaryBroker = (name: string) => ({ name, version: '1', group: 'main' as const, command: () => [] });

test('bench:compare summary: a measure a run does not have shows "–", a run that failed shows "failed"', () => {
  const cases = allCases({ seconds: 1, warmup: 0.5, idleConnections: 100 }).filter((c) => c.id === 'idle-conn');
  // An older result without brokerCpuUsPerConnection (re-rendered), and a broker whose run failed.
  const runs: Run[] = [
    { caseId: 'idle-conn', broker: 'Culex', round: 1, result: { connectRate: 1000, rssPerConnectionBytes: 4000 } },
    { caseId: 'idle-conn', broker: 'Mosquitto', round: 1, error: 'exited' },
  ];
  const text = summarize({ brokers: [summaryBroker('Culex'), summaryBroker('Mosquitto')], cases, runs, meta: [], rounds: 1, seconds: 1,
    warmup: 0.5, isQuick: true, isSubset: true });
  const row = (label: string) => text.split('\n').find((l) => l.includes(label))?.split('|').map((c) => c.trim());
  assert.deepEqual(row('connections/s')?.slice(3, 5), ['1,000', 'failed']);
  assert.deepEqual(row('broker CPU µs per connection')?.slice(3, 5), ['–', 'failed']);
});

test('bench:compare cases: unique ids, --only selects by prefix, durable cases run in their own group', () => {
  const cases = allCases({ seconds: 1, warmup: 0.5, idleConnections: 100 });
  assert.equal(new Set(cases.map((c) => c.id)).size, cases.length);
  const picked = selectCases(cases, ['tls', 'match']);
  assert.deepEqual(picked.map((c) => c.id), ['match-100k', 'tls-fanin-q1', 'tls-fanout-q1']);
  assert.ok(picked.filter((c) => c.id.startsWith('tls')).every((c) => c.transport === 'tls'));
  assert.deepEqual(selectCases(cases, ['durable']).map((c) => c.group), ['durable', 'durable']);
  assert.ok(cases.some((c) => c.kind === 'connmax' && c.args.join(' ').includes('-c max')));
  // Both idle-connection cases insist on the native dialer: a fallback to Node sockets would measure the generator.
  const connCases = cases.filter((c) => c.kind === 'conn' || c.kind === 'connmax');
  assert.equal(connCases.length, 2);
  assert.ok(connCases.every((c) => c.args.join(' ').endsWith('--dialer native')));
  // The latency cases warm up for at least LATENCY_WARMUP_SECONDS; the others for the warm-up given.
  const warmupOf = (c: (typeof cases)[number]): string | undefined => c.args[c.args.indexOf('-w') + 1];
  assert.deepEqual(cases.filter((c) => c.kind === 'latency').map(warmupOf), ['2', '2']);
  assert.equal(warmupOf(cases.find((c) => c.id === 'fanin-q0-16')!), '0.5');
  assert.equal(warmupOf(allCases({ seconds: 1, warmup: 3, idleConnections: 100 }).find((c) => c.kind === 'latency')!), '3');
  // ... and are measured for at least LATENCY_SECONDS (a p99 of 2,500 probes is decided by one pause of the host).
  const secondsOf = (c: (typeof cases)[number]): string | undefined => c.args[c.args.indexOf('-d') + 1];
  assert.deepEqual(cases.filter((c) => c.kind === 'latency').map(secondsOf), ['8', '8']);
  assert.equal(secondsOf(cases.find((c) => c.id === 'fanin-q0-16')!), '1');
  assert.equal(secondsOf(allCases({ seconds: 20, warmup: 1, idleConnections: 100 }).find((c) => c.kind === 'latency')!), '20');
});

test('bench:compare plan: brokers interleaved per case and round; latency cases run again at the end of each round', () => {
  const cases = selectCases(allCases({ seconds: 1, warmup: 0.5, idleConnections: 100 }), ['fanin-q0-16', 'latency', 'durable-fanin']);
  const brokers = [summaryBroker('A'), summaryBroker('B'), { ...summaryBroker('D'), group: 'durable' as const }];
  const plan = planRuns(cases, brokers, 2).map((r) => `${r.round} ${r.c.id} ${r.b.name}`);
  assert.equal(LATENCY_RUNS_PER_ROUND, 2);
  assert.deepEqual(plan, [
    '1 fanin-q0-16 A', '1 fanin-q0-16 B', '1 latency-q0 A', '1 latency-q0 B', '1 latency-q1 A', '1 latency-q1 B',
    '1 durable-fanin-q1 D', '2 latency-q0 A', '2 latency-q0 B', '2 latency-q1 A', '2 latency-q1 B',
    '2 fanin-q0-16 A', '2 fanin-q0-16 B', '3 latency-q0 A', '3 latency-q0 B', '3 latency-q1 A', '3 latency-q1 B',
    '2 durable-fanin-q1 D', '4 latency-q0 A', '4 latency-q0 B', '4 latency-q1 A', '4 latency-q1 B',
  ]);
});

function probedRun(round: number, probeMs: [number, number]): Run {
  return { caseId: 'fanin-q0-16', broker: 'Culex', round, probeMs, result: {} };
}

test('bench:compare report: a run after a slow CPU probe is flagged as host slow; the header gives the probe range', () => {
  const runs = [probedRun(1, [60, 62]), probedRun(2, [61, 95]), probedRun(3, [200, 64])];
  const listed = problems(runs);
  assert.equal(listed.length, 2);
  assert.match(listed[0]!, /round 2: host slow before the run \(CPU probe 61 \/ 95 ms, quiet 60 ms\)/);
  assert.match(listed[1]!, /round 3: host slow/);
  assert.equal(probeLine(runs), 'CPU probe (fixed work before each run, both CPUs; lower is faster): fastest 60 ms, '
    + '10th percentile 60 ms, median 64 ms, slowest 200 ms; 2 of 3 runs after a probe over 1.5 × the 10th percentile '
    + '(listed below)');
  assert.deepEqual(problems([probedRun(1, [60, 62]), probedRun(2, [80, 88])]), []);
  // One outlier below the rest does not make every other run "slow": the reference is the 10th percentile.
  const outlier = [probedRun(1, [30, 70]), ...Array.from({ length: 9 }, (_, i) => probedRun(i + 2, [70, 72]))];
  assert.deepEqual(problems(outlier), []);
  assert.equal(probeLine([{ caseId: 'x', broker: 'Culex', round: 1, result: {} }]), undefined);
});

const latencyRun = (round: number, jitterMs?: [number, number]): Run =>
  ({ caseId: 'latency-q1', broker: 'Culex', round, ...(jitterMs !== undefined ? { jitterMs } : {}), result: {} });

test('bench:compare report: the timer jitter before the latency runs goes into the header, lowest, median, highest', () => {
  assert.equal(jitterLine([latencyRun(1, [0.4, 3.1]), latencyRun(2, [0.6, 0.5]), latencyRun(3)]), 'Host timer jitter before each latency run '
    + '(how late a 1 ms timer fires in an idle process, p99 over 1 s, each CPU): lowest 0.4 ms, median 0.6 ms, highest '
    + '3.1 ms. A latency p99 near these values is the host\'s, not the broker\'s');
  assert.equal(jitterLine([latencyRun(1)]), undefined);
});

const stolen = (round: number, stealPct?: [number, number]): Run =>
  ({ caseId: 'fanin-q0-16', broker: 'Mosquitto', round, ...(stealPct !== undefined ? { stealPct } : {}), result: {} });

test('bench:compare report: a run with more than 5 % steal on either CPU is flagged; the header gives median and highest', () => {
  const runs = [stolen(1, [0.5, 1]), stolen(2, [2, 12.5]), stolen(3, [6, 0]), stolen(4)];
  const listed = problems(runs);
  assert.deepEqual(listed, [
    'fanin-q0-16 Mosquitto round 2: host busy during the run (steal 2 % of the broker\'s CPU, 12.5 % of the load\'s): '
      + 'its numbers may be pessimistic',
    'fanin-q0-16 Mosquitto round 3: host busy during the run (steal 6 % of the broker\'s CPU, 0 % of the load\'s): '
      + 'its numbers may be pessimistic',
  ]);
  assert.deepEqual(problems([stolen(1, [5, 5])]), [], '5 % itself is not flagged');
  assert.equal(stealLine(runs), 'Steal time during the runs (the share of a vCPU the hypervisor gave to others while it '
    + 'had work; broker CPU / load CPU): median 2 % / 1 %, highest 6 % / 12.5 %; 2 of 3 runs over 5 % (listed below)');
  assert.equal(stealLine([stolen(1)]), undefined, 'results from before steal was measured');
});

test('bench:compare: a latency run with more than 5 % steal is run again, at most three times; the attempt with the least steal counts and the others are listed with their p99', () => {
  const busy: Run = { caseId: 'latency-q1', broker: 'Culex', round: 2, stealPct: [18.2, 1], result: { latency: { p99Us: 17_200 } } };
  assert.equal(isRepeatedForSteal('latency', busy, 0), true);
  assert.equal(isRepeatedForSteal('latency', busy, 2), true);
  assert.equal(isRepeatedForSteal('latency', busy, 3), false, 'bounded');
  assert.equal(isRepeatedForSteal('latency', { ...busy, stealPct: [5, 0.2] }, 0), false, '5 % itself is not repeated');
  assert.equal(isRepeatedForSteal('latency', { ...busy, stealPct: undefined }, 0), false);
  assert.equal(isRepeatedForSteal('throughput', { ...busy, caseId: 'fanin-q0-16' }, 0), false, 'throughput runs are not');
  const quiet: Run = { ...busy, stealPct: [1.4, 0.5], result: { latency: { p99Us: 710 } } };
  const counted = countedAttempt([busy, quiet]);
  assert.deepEqual(counted, { ...quiet, repeated: [busy] });
  assert.deepEqual(problems([counted]), ['latency-q1 Culex round 2: an attempt not counted (the least-stolen one counts; '
    + 'this one: 18.2 % of the broker\'s CPU, 1 % of the load\'s; its p99 17.2 ms)']);
  // The least disturbed attempt counts even when it came first, and even when its p99 is the worse one: steal
  // alone decides (the busier CPU of the two), never the result.
  const first: Run = { ...busy, stealPct: [6, 6.5], result: { latency: { p99Us: 9_000 } } };
  const second: Run = { ...busy, stealPct: [12, 1], result: { latency: { p99Us: 800 } } };
  const third: Run = { ...busy, stealPct: [7, 9], result: { latency: { p99Us: 700 } } };
  assert.deepEqual(countedAttempt([first, second, third]), { ...first, repeated: [second, third] });
  assert.deepEqual(countedAttempt([first, { ...first, result: {} }]), { ...first, result: {}, repeated: [first] },
    'on a tie the later attempt counts');
  assert.equal(countedAttempt([quiet]), quiet, 'a single attempt is the run itself, with no list');
});

test('culex bench --pid reports the CPU the given process used in the measured window (broker CPU, cores)', async (t) => {
  const broker = createBroker(unlimited);
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  // Stand-ins whose CPU use is known: one spins on its core, one sleeps.
  const spinning = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const sleeping = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  t.after(() => {
    spinning.kill();
    sleeping.kill();
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const long = short.map((a, i) => (short[i - 1] === '-d' ? '1' : a));
  const busy = await bench(['fanin', '-p', String(port), '--publishers', '1', '--pid', String(spinning.pid), ...long]);
  assert.equal(busy.code, 0, JSON.stringify(busy.json));
  const busyCores = busy.json['brokerCpuCores'] as number;
  assert.ok(busyCores > 0.5 && busyCores < 1.3, `a spinning process uses about one core, got ${busyCores}`);
  const idle = await bench(['fanin', '-p', String(port), '--publishers', '1', '--pid', String(sleeping.pid), ...long]);
  assert.ok((idle.json['brokerCpuCores'] as number) < 0.2, `a sleeping one about none, got ${idle.json['brokerCpuCores']}`);
  const without = await bench(['fanin', '-p', String(port), '--publishers', '1', ...short]);
  assert.equal(without.json['brokerCpuCores'], undefined, 'absent without --pid');
});

test('the generator\'s CPU is read from /proc over the broker\'s window: two busy workers on one CPU never show more than one core', async (t) => {
  const broker = createBroker(unlimited);
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  // Both workers are kept busy (fanout, QoS 0, flat out) and share CPU 1. Each one's own snapshot of its CPU time
  // comes when it gets to the message, late when it is busy; in a WebSocket run of bench:compare those once added up
  // to 1.27 cores on one CPU.
  const child = spawn('taskset', ['-c', '1', process.execPath, bin, 'bench', 'fanout', '-p', String(port), '--subscribers', '10',
    '-q', '0', '-d', '1', '-w', '0.3', '--drain', '500', '--workers', '2', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const [code] = await once(child, 'exit') as [number];
  assert.equal(code, 0, out);
  const json = JSON.parse(out) as Record<string, unknown>;
  const cores = json['loadCpuCores'] as number;
  // A 10 ms /proc tick per worker per reading is the only slack: 4 ticks over a window of at least 1 s.
  assert.ok(cores > 0.3 && cores <= 1.05, `generator CPU ${cores} cores on one CPU`);
});

test('bench:compare pins the load to every CPU but the broker\'s: CPU 1 on 2 cores, 1-7 on 8', () => {
  assert.deepEqual(loadCpus(2), [1]);
  assert.deepEqual(loadCpus(8), [1, 2, 3, 4, 5, 6, 7]);
});

test('bench:compare report: a busy generator is flagged only when the broker had CPU to spare (or its CPU is unknown)', () => {
  assert.equal(generatorLimit({ loadCpuCores: 0.99, brokerCpuCores: 0.97 }), undefined, 'the broker was the limit');
  assert.equal(generatorLimit({ loadCpuCores: 0.99, brokerCpuCores: 0.62 }),
    'load generator used 0.99 cores while the broker used 0.62: the generator may have been the limit');
  assert.equal(generatorLimit({ loadCpuCores: 0.8, brokerCpuCores: 0.3 }), undefined, 'a generator with time to spare');
  assert.equal(generatorLimit({ loadCpuCores: 0.95 }), 'load generator used 0.95 cores (may be the bottleneck)',
    'results from before the broker\'s CPU was measured');
  // Idle connections: the broker's CPU over the connect phase (0.84 s of CPU in 1 s of connecting).
  assert.equal(generatorLimit({ loadCpuCores: 1, brokerCpuSeconds: 0.84, connectSeconds: 1 }),
    'load generator used 1 cores while the broker used 0.84: the generator may have been the limit');
  assert.equal(generatorLimit({ loadCpuCores: 1, brokerCpuSeconds: 0.95, connectSeconds: 1 }), undefined);
  // A generator on several CPUs is busy near all of them, not near one.
  assert.equal(generatorLimit({ loadCpuCores: 3.5, brokerCpuCores: 0.5 }, 4), undefined);
  assert.equal(generatorLimit({ loadCpuCores: 3.7, brokerCpuCores: 0.5 }, 4),
    'load generator used 3.7 cores while the broker used 0.5: the generator may have been the limit');
  const spare: Run = { caseId: 'fanin-q0-16', broker: 'Mosquitto', round: 1, result: { loadCpuCores: 0.99, brokerCpuCores: 0.5 } };
  assert.deepEqual(problems([spare]), ['fanin-q0-16 Mosquitto round 1: load generator used 0.99 cores while the broker '
    + 'used 0.5: the generator may have been the limit']);
});

test('culex bench --persistent connects subscribers with clean session 0, publishers with clean session 1', async (t) => {
  const broker = createBroker(unlimited);
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => broker.close());
  const clean = new Map<string, boolean>();
  const create = broker.createSession.bind(broker);
  broker.createSession = (clientId, isClean, expiry) => {
    clean.set(clientId, isClean);
    return create(clientId, isClean, expiry);
  };
  const r = await bench(['fanin', '-p', String(port), '--publishers', '1', '--persistent', ...short]);
  assert.equal(r.code, 0, JSON.stringify(r.json));
  assert.equal(r.json['lost'], 0);
  const byRole = [...clean].map(([id, isClean]) => `${/-(sub|pub)\d+$/.exec(id)?.[1]}:${isClean}`).toSorted();
  assert.deepEqual(byRole, ['pub:true', 'sub:false']);
});

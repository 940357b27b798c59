/**
 * Culex side by side with Mosquitto and Aedes: `npm run bench:compare [-- --quick] [--rounds N] [--seconds S]`.
 *
 * Every run starts a fresh broker pinned to CPU 0 (taskset) and runs `culex bench ... --json` pinned to CPU 1, so
 * the brokers and the load never share a core. Brokers run with equal settings: no in-flight or queue limits, Nagle
 * off, no persistence. Scenarios are interleaved (Culex, Mosquitto, Aedes, Culex, ...) for --rounds rounds so that
 * drift in the machine hits every broker alike. Throughput is messages RECEIVED by subscribers per second in the
 * measured window. The summary goes to BENCHMARKS.md (median and min-max per broker, ratios Culex/Mosquitto and
 * Culex/Aedes); the raw results go to a JSON file next to it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
/** A private build (others may rebuild dist/ while a compare runs): <tmp>/dist, with the CLI entry beside it. */
let dist = path.join(root, 'dist');

interface Broker {
  readonly name: string;
  readonly version: string;
  readonly command: (port: number) => string[];
}

interface Case {
  readonly id: string;
  readonly title: string;
  readonly args: string[];
  readonly kind: 'throughput' | 'latency' | 'conn' | 'slow';
}

interface Run {
  readonly caseId: string;
  readonly broker: string;
  readonly round: number;
  readonly result?: Record<string, unknown>;
  readonly error?: string;
}

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    out: { type: 'string', default: path.join(root, 'BENCHMARKS.md') },
    only: { type: 'string' },
    brokers: { type: 'string' },
  },
});
const rounds = Number(opts.rounds ?? (opts.quick ? 1 : 3));
const seconds = Number(opts.seconds ?? (opts.quick ? 1.5 : 2.5));
const warmup = Number(opts.warmup ?? 0.5);
const idleConnections = opts.quick ? 2000 : 10_000;

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const e = err as { stdout?: string };
    return (e.stdout ?? '').trim();
  }
}

function findBrokers(tmp: string): Broker[] {
  const brokers: Broker[] = [{
    name: 'Culex', version: `${pkgVersion(root)} (${commit()})`,
    command: (port) => [process.execPath, path.join(root, 'bench/brokers/culex.mjs'), String(port), dist],
  }];
  const mosquitto = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find(existsSync);
  if (mosquitto === undefined) {
    process.stderr.write('Mosquitto is not installed; comparing without it. To include it (Debian/Ubuntu):\n' +
      '  sudo apt-get update && sudo apt-get install -y mosquitto\n');
  } else {
    const version = /version (\S+)/.exec(sh(mosquitto, ['-h']))?.[1] ?? 'unknown';
    brokers.push({
      name: 'Mosquitto', version,
      command: (port) => {
        const conf = path.join(tmp, `mosquitto-${port}.conf`);
        writeFileSync(conf, [
          `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0',
          'set_tcp_nodelay true', 'persistence false', 'log_dest none', '',
        ].join('\n'));
        return [mosquitto, '-c', conf];
      },
    });
  }
  const aedesPkg = path.join(root, 'node_modules/aedes/package.json');
  if (existsSync(aedesPkg)) {
    brokers.push({
      name: 'Aedes', version: (JSON.parse(readFileSync(aedesPkg, 'utf8')) as { version: string }).version,
      command: (port) => [process.execPath, path.join(root, 'bench/brokers/aedes.mjs'), String(port)],
    });
  } else {
    process.stderr.write('aedes is not installed (npm install); comparing without it.\n');
  }
  const wanted = opts.brokers?.toLowerCase().split(',');
  return wanted === undefined ? brokers : brokers.filter((b) => wanted.includes(b.name.toLowerCase()));
}

function cases(): Case[] {
  const list: Case[] = [];
  const timing = ['-d', String(seconds), '-w', String(warmup), '--drain', '1500'];
  for (const size of [16, 1024]) {
    for (const qos of [0, 1, 2]) {
      list.push({ id: `fanin-q${qos}-${size}`, title: `fanin 8→1, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['fanin', '--publishers', '8', '-q', String(qos), '-s', String(size), ...timing] });
    }
    for (const qos of [0, 1]) {
      list.push({ id: `fanout-q${qos}-${size}`, title: `fanout 1→50, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['fanout', '--subscribers', '50', '-q', String(qos), '-s', String(size), ...timing] });
    }
    for (const qos of [0, 1]) {
      list.push({ id: `pairs-q${qos}-${size}`, title: `pairs 50, QoS ${qos}, ${size} B`, kind: 'throughput',
        args: ['pairs', '-c', '50', '-q', String(qos), '-s', String(size), ...timing] });
    }
  }
  for (const qos of [0, 1]) {
    list.push({ id: `latency-q${qos}`, title: `latency: 1000/s probe under 20k/s, QoS ${qos}, 16 B`, kind: 'latency',
      args: ['latency', '-r', '1000', '--bg-rate', '20000', '-q', String(qos), ...timing] });
  }
  list.push({ id: 'idle-conn', title: `${idleConnections} idle connections`, kind: 'conn',
    args: ['conn', '-c', String(idleConnections), '-d', '1.5'] });
  list.push({ id: 'slow-sub', title: 'slow subscriber: 50 pub × 400/s QoS 1 → 1 sub paused half the run', kind: 'slow',
    args: ['slow', '--publishers', '50', '-r', '400', '-q', '1', ...timing] });
  const only = opts.only?.split(',');
  return only === undefined ? list : list.filter((c) => only.some((o) => c.id.startsWith(o)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`broker exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`broker did not listen on ${port} within ${timeoutMs} ms`);
}

async function stopBroker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

async function runOne(broker: Broker, c: Case, round: number): Promise<Run> {
  const port = await freePort();
  const child = spawn('taskset', ['-c', '0', ...broker.command(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child);
    const args = [...c.args, '-p', String(port), '--json', ...(c.kind === 'conn' ? ['--pid', String(child.pid)] : [])];
    const out = await new Promise<string>((resolve, reject) => {
      const cli = ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(dist, 'cli/index.js')).href)}); process.exitCode = await main(process.argv.slice(1));`];
      const bench = spawn('taskset', ['-c', '1', process.execPath, ...cli, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let err = '';
      bench.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      bench.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const timer = setTimeout(() => bench.kill('SIGKILL'), (seconds + warmup + 60) * 1000);
      bench.on('exit', (code) => {
        clearTimeout(timer);
        if (stdout.trim().startsWith('{')) resolve(stdout);
        else reject(new Error(`culex bench exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
    return { caseId: c.id, broker: broker.name, round, result: JSON.parse(out) as Record<string, unknown> };
  } catch (err) {
    const tail = stderr.trim().split('\n').slice(-2).join(' | ');
    return { caseId: c.id, broker: broker.name, round, error: `${(err as Error).message}${tail ? ` [broker: ${tail}]` : ''}` };
  } finally {
    await stopBroker(child);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Summary

interface Metric {
  readonly label: string;
  readonly isHigherBetter: boolean;
  readonly pick: (r: Record<string, unknown>) => number | undefined;
  readonly format: (v: number) => string;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const field = (name: string) => (r: Record<string, unknown>): number | undefined =>
  typeof r[name] === 'number' ? r[name] : undefined;
const latencyField = (name: string) => (r: Record<string, unknown>): number | undefined => {
  const l = r['latency'] as Record<string, number> | undefined;
  return l?.[name];
};
const ms = (us: number): string => (us < 1000 ? `${int.format(us)} µs` : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`);

const metricsByKind: Record<Case['kind'], Metric[]> = {
  throughput: [{ label: 'received msg/s', isHigherBetter: true, pick: field('receiveRate'), format: (v) => int.format(v) }],
  slow: [
    { label: 'received msg/s', isHigherBetter: true, pick: field('receiveRate'), format: (v) => int.format(v) },
    { label: 'acknowledged publishes/s', isHigherBetter: true, pick: field('ackRate'), format: (v) => int.format(v) },
  ],
  latency: [
    { label: 'probe p50', isHigherBetter: false, pick: latencyField('p50Us'), format: ms },
    { label: 'probe p99', isHigherBetter: false, pick: latencyField('p99Us'), format: ms },
    { label: 'probe p99.9', isHigherBetter: false, pick: latencyField('p999Us'), format: ms },
  ],
  conn: [
    { label: 'connections/s', isHigherBetter: true, pick: field('connectRate'), format: (v) => int.format(v) },
    { label: 'RSS bytes per connection', isHigherBetter: false, pick: field('rssPerConnectionBytes'), format: (v) => int.format(v) },
  ],
};

function median(values: number[]): number {
  const s = values.toSorted((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function summarize(brokers: Broker[], allCases: Case[], runs: Run[], meta: string[]): string {
  const names = brokers.map((b) => b.name);
  const others = names.filter((n) => n !== 'Culex');
  const header = ['scenario', 'metric', ...names, ...others.map((o) => `Culex/${o}`)];
  const rows: string[][] = [];
  const medians = new Map<string, number>();
  const problems: string[] = [];
  for (const c of allCases) {
    for (const m of metricsByKind[c.kind]) {
      const row = [c.title, m.label + (m.isHigherBetter ? ' ↑' : ' ↓')];
      for (const name of names) {
        const values = runs.filter((r) => r.caseId === c.id && r.broker === name && r.result !== undefined)
          .map((r) => m.pick(r.result!)).filter((v): v is number => v !== undefined);
        if (values.length === 0) {
          row.push('failed');
          continue;
        }
        const med = median(values);
        medians.set(`${c.id}|${m.label}|${name}`, med);
        row.push(values.length === 1 ? m.format(med)
          : `${m.format(med)} (${m.format(Math.min(...values))}–${m.format(Math.max(...values))})`);
      }
      for (const o of others) {
        const a = medians.get(`${c.id}|${m.label}|Culex`);
        const b = medians.get(`${c.id}|${m.label}|${o}`);
        row.push(a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
      }
      rows.push(row);
    }
  }
  for (const r of runs) {
    if (r.error !== undefined) problems.push(`${r.caseId} ${r.broker} round ${r.round}: failed: ${r.error}`);
    const res = r.result;
    if (res === undefined) continue;
    for (const key of ['lost', 'duplicates', 'connectFailures', 'failed', 'errors'] as const) {
      const v = res[key];
      if (typeof v === 'number' && v > 0) problems.push(`${r.caseId} ${r.broker} round ${r.round}: ${key} ${v}`);
    }
    const cpu = res['loadCpuCores'];
    if (typeof cpu === 'number' && cpu > 0.9) {
      problems.push(`${r.caseId} ${r.broker} round ${r.round}: load generator used ${cpu} cores (may be the bottleneck)`);
    }
  }
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  return [
    '# Benchmarks', '',
    'Generated by `npm run bench:compare`' + (opts.quick ? ' (`--quick`: one short round, a smoke run, not a result)' : '') + '.', '',
    ...meta.map((l) => `- ${l}`), '',
    '## Method', '',
    '- Each run starts a fresh broker pinned to CPU 0 and runs `culex bench … --json` (raw-socket MQTT 3.1.1 load',
    '  generator, 2 forked worker processes) pinned to CPU 1. Runs are interleaved Culex, Mosquitto, Aedes, … per scenario',
    `  for ${rounds} round(s); each run has ${warmup} s of warm-up and ${seconds} s measured.`,
    '- Equal settings: no in-flight or queue limits (Culex `maxInflight: 65535, maxQueuedMessages: 0`, no QoS 0',
    '  write-buffer cap; Mosquitto `max_inflight_messages 0`, `max_queued_messages 0`), Nagle off, no persistence.',
    '  Aedes runs with its defaults, in memory.',
    '- Throughput = messages received by subscribers per second in the measured window. Publishers run flat out',
    '  (QoS 1/2: at most 100 unacknowledged each), so at QoS 0 the broker is saturated and queues; latency there is',
    '  queueing time and is not reported. The latency scenario paces its probe at 1000 msg/s and its background at',
    '  20,000 msg/s in all; the probe\'s send-to-receive time is measured on one host clock.',
    '- Idle connections: connect rate, and the broker\'s VmRSS growth divided by the connections (after 1 s settle).',
    '- Slow subscriber: 50 publishers at 400 msg/s (QoS 1) to one subscriber on `bench/#` that reads nothing for the',
    '  first half of the run, then catches up: received/s is the catch-up delivery rate over the window.',
    '- The load generator has one CPU. Runs where it used more than 0.9 of a core are listed under the table: there the',
    '  generator, not the broker, may be the limit, so that broker\'s number is a lower bound (a broker that writes one',
    '  packet per syscall costs the generator one read per message; one that batches writes costs it far fewer).',
    '- Cells: median (min–max) over rounds. ↑ higher is better, ↓ lower is better; ratios are Culex ÷ other.', '',
    '## Results', '', table, '',
    '## Lost, duplicated, failed', '',
    problems.length === 0 ? 'None: no lost or duplicated QoS 1/2 messages, no failures.' : problems.map((p) => `- ${p}`).join('\n'),
    '',
  ].join('\n');
}

function commit(): string {
  const sha = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).length > 0;
  return `${sha || 'unknown'}${dirty ? ' + uncommitted changes' : ''}`;
}

function pkgVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'culex-compare-'));
  dist = path.join(tmp, 'dist');
  process.stderr.write(`building src/ into ${dist} ...\n`);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', dist, '--declaration', 'false', '--sourceMap', 'false'], { cwd: root, stdio: 'inherit' });
  const brokers = findBrokers(tmp);
  const allCases = cases();
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const meta = [
    `Date: ${new Date().toISOString()}`,
    `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    `Node ${process.version}; ${brokers.map((b) => `${b.name} ${b.version}`).join('; ')}`,
  ];
  const total = allCases.length * brokers.length * rounds;
  const runs: Run[] = [];
  const started = Date.now();
  for (let round = 1; round <= rounds; round++) {
    for (const c of allCases) {
      for (const b of brokers) {
        const run = await runOne(b, c, round);
        runs.push(run);
        const elapsed = ((Date.now() - started) / 1000).toFixed(0);
        process.stderr.write(`[${runs.length}/${total} ${elapsed}s] round ${round} ${c.id} ${b.name}: ${brief(c, run)}\n`);
      }
    }
  }
  const markdown = summarize(brokers, allCases, runs, meta);
  writeFileSync(opts.out, markdown);
  const rawPath = path.join(tmp, 'results.json');
  writeFileSync(rawPath, JSON.stringify({ meta, runs }, null, 2));
  process.stdout.write(`${markdown}\nwrote ${opts.out}; raw results in ${rawPath}\n`);
}

function brief(c: Case, run: Run): string {
  if (run.error !== undefined) return `FAILED ${run.error}`;
  return metricsByKind[c.kind].map((m) => {
    const v = m.pick(run.result!);
    return `${m.label} ${v === undefined ? '?' : m.format(v)}`;
  }).join(', ');
}

await main();

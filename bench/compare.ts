/**
 * Culex side by side with Mosquitto and Aedes:
 *   npm run bench:compare [-- --only ID,ID] [--rounds N] [--seconds S] [--brokers NAME,NAME] [--quick] [--out FILE]
 *   npm run bench:compare -- --from RESULTS.json [--out FILE]   (the report again from a run's raw results)
 *
 * Every run starts a fresh broker pinned to CPU 0 (taskset) and runs `culex bench ... --json` pinned to the other
 * CPUs (CPU 1 on a 2-core machine; one worker process per CPU, at least 2), so the brokers and the load never share a
 * core. Scenarios are interleaved (Culex, Mosquitto, Aedes, Culex, ...) for --rounds rounds (the latency cases twice
 * per round) so that drift in the machine hits every broker alike. Brokers and their settings: compare/brokers.ts;
 * scenarios: compare/cases.ts; the report (BENCHMARKS.md, with its Method section): compare/summary.ts. The raw
 * results go to a JSON file in the run's temporary directory.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliCommand, findBrokers, loadCpus, makeCertificate, type Broker, type Env } from './compare/brokers.js';
import { allCases, planRuns, selectCases, type Case } from './compare/cases.js';
import { countedAttempt, isRepeatedForSteal, metricsByKind, summarize, type Run } from './compare/summary.js';

const root = new URL('..', import.meta.url).pathname;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    brokers: { type: 'string' },
    from: { type: 'string' },
  },
});
const rounds = Number(opts.rounds ?? (opts.quick ? 1 : 3));
const seconds = Number(opts.seconds ?? (opts.quick ? 1.5 : 2.5));
const warmup = Number(opts.warmup ?? 0.5);
const idleConnections = opts.quick ? 2000 : 10_000;
const only = opts.only?.split(',').map((o) => o.trim()).filter((o) => o !== '');
const wantedBrokers = opts.brokers?.toLowerCase().split(',').map((o) => o.trim());
const isSubset = only !== undefined || wantedBrokers !== undefined;

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

/**
 * Ports come from binding port 0 and closing it, so another process on the machine may take one before the broker
 * binds it: a run whose broker failed to bind (EADDRINUSE) is started again, up to twice, on new ports.
 */
async function runWithRetry(env: Env, broker: Broker, c: Case, round: number, runDir: string): Promise<Run> {
  for (let attempt = 1; ; attempt++) {
    const run = await runOne(env, broker, c, round, runDir);
    if (attempt >= 3 || run.error === undefined || !run.error.includes('EADDRINUSE')) return run;
  }
}

/**
 * runWithRetry, and a latency run again while the host was busy during it (`isRepeatedForSteal`), up to a bound; the
 * attempt the host disturbed least counts (`countedAttempt`).
 */
async function runCounted(env: Env, broker: Broker, c: Case, round: number, runDir: string): Promise<Run> {
  const attempts: Run[] = [];
  for (;;) {
    const run = await runWithRetry(env, broker, c, round, runDir);
    attempts.push(run);
    if (!isRepeatedForSteal(c.kind, run, attempts.length - 1)) return countedAttempt(attempts);
    process.stderr.write(`  ${c.id} ${broker.name} round ${round}: steal ${run.stealPct?.join(' / ')} %, run again\n`);
  }
}

/**
 * A fixed amount of arithmetic timed on each of the two CPUs the runs use (a child process pinned to it). On a quiet
 * machine it takes the same time every run; on a shared host that takes the CPU away it takes longer, and the run
 * after it is flagged in the report (summary.ts), so a slow host is not mistaken for a slow broker.
 */
const PROBE = 'let x=0;const t=performance.now();for(let i=0;i<3e7;i++)x=(x+i)|0;process.stdout.write(String(performance.now()-t))';

function probeOn(cpu: number): number {
  const ms = Number(execFileSync('taskset', ['-c', String(cpu), process.execPath, '-e', PROBE], { encoding: 'utf8' }));
  return Math.round(ms * 10) / 10;
}

function cpuProbe(): [number, number] {
  return [probeOn(0), probeOn(1)];
}

/**
 * How late a 1 ms timer fires in an otherwise idle process, p99 over 1 s, on each of the two CPUs at once: the
 * scheduling noise of the host, which a latency probe's p99 cannot go below (a shared virtual machine's vCPUs are
 * descheduled for milliseconds at times). Taken before each latency run.
 */
const JITTER = 'const l=[];let last=performance.now();const end=last+1000;const t=setInterval(()=>{const n=performance.now();'
  + 'l.push(n-last-1);last=n;if(n>=end){clearInterval(t);l.sort((a,b)=>a-b);'
  + 'process.stdout.write(String(Math.max(0,l[Math.floor(l.length*0.99)])))}},1)';

function jitterOn(cpu: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('taskset', ['-c', String(cpu), process.execPath, '-e', JITTER], { encoding: 'utf8' }, (err, stdout) => {
      if (err !== null) reject(err);
      else resolve(Math.round(Number(stdout) * 100) / 100);
    });
  });
}

async function jitterProbe(): Promise<[number, number]> {
  const [a, b] = await Promise.all([jitterOn(0), jitterOn(1)]);
  return [a, b];
}

/** Where the load generator runs (`loadCpus`): CPU 1 here on 2 cores. */
const LOAD_CPUS = loadCpus(os.availableParallelism());

/** USER_HZ: the unit of /proc/stat's times (100 on Linux on every common architecture). */
const CLOCK_TICKS_PER_SECOND = clockTicksPerSecond();

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/**
 * Steal time so far, in ms, of the broker's CPU and then of each load CPU: the time a virtual machine's vCPU was
 * ready to run but the hypervisor ran something else (/proc/stat, the 8th field). Undefined where /proc/stat is not
 * there or has no such field.
 */
function stealMsNow(): number[] | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const steal = (cpu: number): number | undefined => {
    const fields = new RegExp(`^cpu${cpu} (.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/);
    const ticks = fields === undefined || fields.length < 8 ? undefined : Number(fields[7]);
    return ticks === undefined || Number.isNaN(ticks) ? undefined : ticks * 1000 / CLOCK_TICKS_PER_SECOND;
  };
  const all = [0, ...LOAD_CPUS].map(steal);
  return all.some((ms) => ms === undefined) ? undefined : all as number[];
}

/**
 * The share of the time since `start` (from stealMsNow, at `startMs`) that the broker's CPU and the load's lost to
 * steal, in % (the load's: its most stolen CPU).
 */
function stealSince(start: number[] | undefined, startMs: number): { stealPct?: [number, number] } {
  const end = stealMsNow();
  const wallMs = performance.now() - startMs;
  if (start === undefined || end === undefined || wallMs <= 0) return {};
  const pct = (i: number): number => Math.round(Math.max(0, end[i]! - start[i]!) / wallMs * 1000) / 10;
  return { stealPct: [pct(0), Math.max(...LOAD_CPUS.map((_, i) => pct(i + 1)))] };
}

async function runOne(env: Env, broker: Broker, c: Case, round: number, runDir: string): Promise<Run> {
  const probeMs = cpuProbe();
  const jitterMs = c.kind === 'latency' ? await jitterProbe() : undefined;
  const probes = { probeMs, ...(jitterMs !== undefined ? { jitterMs } : {}) };
  const port = await freePort();
  const tlsPort = c.transport === 'tls' ? await freePort() : undefined;
  const wsPort = c.transport === 'ws' ? await freePort() : undefined;
  mkdirSync(runDir, { recursive: true });
  const child = spawn('taskset', ['-c', '0', ...broker.command({ port, tlsPort, wsPort, dir: runDir })],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child);
    if (tlsPort !== undefined) await waitForPort(tlsPort, child);
    if (wsPort !== undefined) await waitForPort(wsPort, child);
    const target = tlsPort !== undefined ? ['-u', `mqtts://127.0.0.1:${tlsPort}`]
      : wsPort !== undefined ? ['-u', `ws://127.0.0.1:${wsPort}/mqtt`] : ['-p', String(port)];
    const args = [...c.args, ...target, '--json', '--pid', String(child.pid),
      '--workers', String(Math.max(2, LOAD_CPUS.length))];
    const stealAtStart = stealMsNow();
    const startMs = performance.now();
    const out = await new Promise<string>((resolve, reject) => {
      const bench = spawn('taskset', ['-c', LOAD_CPUS.join(','), ...cliCommand(env.dist, ['bench', ...args])],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let err = '';
      bench.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      bench.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const timer = setTimeout(() => bench.kill('SIGKILL'), (seconds + warmup + 90) * 1000);
      bench.on('exit', (code) => {
        clearTimeout(timer);
        if (stdout.trim().startsWith('{')) resolve(stdout);
        else reject(new Error(`culex bench exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
    const steal = stealSince(stealAtStart, startMs);
    return {
      caseId: c.id, broker: broker.name, round, ...probes, ...steal,
      ...(LOAD_CPUS.length > 1 ? { loadCpus: LOAD_CPUS.length } : {}), result: JSON.parse(out) as Record<string, unknown>,
    };
  } catch (err) {
    const lines = stderr.trim().split('\n');
    // An uncaught exception ends with Node's version line: keep the error line itself.
    const tail = [...new Set([...lines.filter((l) => /Error|error:/.test(l)).slice(0, 1), ...lines.slice(-2)])].join(' | ');
    return { caseId: c.id, broker: broker.name, round, ...probes, error: `${(err as Error).message}${tail ? ` [broker: ${tail}]` : ''}` };
  } finally {
    await stopBroker(child);
    rmSync(runDir, { recursive: true, force: true });
  }
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * The report again from the raw results of an earlier run (results.json), e.g. after a change to summary.ts. The
 * run's own settings are not in the file: give the same --rounds/--seconds/--quick as the run had (defaults: a full
 * run's). Brokers are the ones that appear in the results.
 */
function rerender(from: string): void {
  const { meta, runs } = JSON.parse(readFileSync(from, 'utf8')) as { meta: string[]; runs: Run[] };
  const cases = selectCases(allCases({ seconds, warmup, idleConnections }), only);
  const groupOf = new Map(cases.map((c) => [c.id, c.group]));
  const brokers: Broker[] = [];
  for (const r of runs) {
    if (brokers.some((b) => b.name === r.broker)) continue;
    brokers.push({ name: r.broker, version: '', group: groupOf.get(r.caseId) ?? 'main', command: () => [] });
  }
  const markdown = summarize({ brokers, cases, runs, meta, rounds, seconds, warmup, isQuick: opts.quick, isSubset });
  const out = writeReport(markdown, path.dirname(from));
  process.stdout.write(`wrote ${out} from ${from}\n`);
}

async function main(): Promise<void> {
  if (opts.from !== undefined) {
    rerender(opts.from);
    return;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'culex-compare-'));
  const dist = path.join(tmp, 'dist');
  // The build finds packages (ws, lmdb), package.json (version), src/cli/help and the native dialer's source
  // relative to itself: link them in.
  for (const entry of ['node_modules', 'package.json', 'src', 'native']) symlinkSync(path.join(root, entry), path.join(tmp, entry));
  process.stderr.write(`building src/ into ${dist} ...\n`);
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', dist, '--declaration', 'false', '--sourceMap', 'false'], { cwd: root, stdio: 'inherit' });
  const env: Env = { root, dist, ...makeCertificate(tmp) };
  const brokers = findBrokers(env, wantedBrokers, (line) => process.stderr.write(`${line}\n`));
  const cases = selectCases(allCases({ seconds, warmup, idleConnections }), only);
  if (cases.length === 0) throw new Error(`--only ${opts.only} matches no case`);
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const meta = [
    `Date: ${new Date().toISOString()}`,
    `Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    `Node ${process.version}; ${[...new Map(brokers.map((b) => [b.name.split(' ')[0], b.version])).entries()].map(([n, v]) => `${n} ${v}`).join('; ')}`,
  ];
  const plan = planRuns(cases, brokers, rounds);
  const total = plan.length;
  const runs: Run[] = [];
  const started = Date.now();
  for (const { c, b, round } of plan) {
    const run = await runCounted(env, b, c, round, path.join(tmp, `run-${runs.length}`));
    runs.push(run);
    process.stderr.write(`[${runs.length}/${total} ${duration(Date.now() - started)}] round ${round} ${c.id} ${b.name}: ${brief(c, run)}\n`);
  }
  const took = duration(Date.now() - started);
  meta.push(`Run time: ${took} (${total} runs)`);
  const markdown = summarize({ brokers, cases, runs, meta, rounds, seconds, warmup, isQuick: opts.quick, isSubset });
  const out = writeReport(markdown, tmp);
  const rawPath = path.join(tmp, 'results.json');
  writeFileSync(rawPath, JSON.stringify({ meta, runs }, null, 2));
  process.stdout.write(`${markdown}\nwrote ${out}; raw results in ${rawPath}\ntotal duration ${took}\n`);
}

/**
 * Writes the report to --out, else to BENCHMARKS.md for a full run and to `runDir` for a subset or --quick, with the
 * hand-written sections of BENCHMARKS.md after it; returns the path.
 */
function writeReport(markdown: string, runDir: string): string {
  const benchmarks = path.join(root, 'BENCHMARKS.md');
  const out = opts.out ?? (isSubset || opts.quick ? path.join(runDir, 'BENCHMARKS.md') : benchmarks);
  writeFileSync(out, markdown + handWritten(benchmarks));
  return out;
}

/** Sections of BENCHMARKS.md written by hand (from a `<!-- durable-store` marker on) survive a regeneration. */
function handWritten(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const at = text.indexOf('<!-- durable-store');
  return at < 0 ? '' : `\n${text.slice(at)}`;
}

function brief(c: Case, run: Run): string {
  if (run.error !== undefined) return `FAILED ${run.error}`;
  return metricsByKind[c.kind].map((m) => {
    const v = m.pick(run.result!);
    return `${m.label} ${v === undefined ? '?' : m.format(v)}`;
  }).join(', ');
}

await main();

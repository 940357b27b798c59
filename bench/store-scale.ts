/**
 * The lmdb store at scale: start-up time and memory of a broker over 1,000,000 retained messages and 100,000
 * persistent sessions, and what blocks the event loop: store calls, garbage collection, or CPU starvation.
 *
 *   npm run bench:store                       the full size (takes minutes; writes ~1 GB to a temporary directory)
 *   npm run bench:store -- --quick            100,000 retained messages and 10,000 sessions, for quick iterations
 *   npm run bench:store -- --retained 10000 --sessions 1000   any size
 *
 * Method:
 * 1. Fill a store in a temporary directory through LmdbPersistence (durability sync), in turns of 1,000 writes each
 *    followed by `flush()`, like a busy broker.
 * 2. Steady state on the full store: 20,000 turns of the broker's writes for one QoS 1 message to 10 offline
 *    sessions (10 putOutgoing + 1 putRetained, then flush) and of 10 acknowledgements (deleteOutgoing).
 * 3. Start-up, in a fresh process per run (3 runs) of the built broker (`npm run build` first: no TypeScript loader):
 *    `createBroker` over the store, until `broker.ready`: wall time,
 *    split into the corruption check (a child process reading every record), the store's read of the records (a
 *    time-bounded page per turn) and the broker's rebuild of sessions, subscription trie and retained index; RSS and
 *    heap after a GC.
 * For each phase: the longest event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution); the longest
 * single synchronous store call (each put/delete/save and the synchronous part of each flush timed with
 * process.hrtime.bigint; at start-up the longest page of the store's read, which the store times itself); garbage
 * collection pauses (PerformanceObserver 'gc': longest, longest major, total); and the CPU time of the process
 * against the wall time (well under 100 % while the loop is busy means the process waited for a CPU).
 * Each session has two subscriptions and one queued QoS 1 message; retained payloads are 64 bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LmdbPersistence } from '../src/persistence/lmdb/lmdb-persistence.js';
import type { StoredOutgoing } from '../src/persistence/persistence.js';

const TURN_WRITES = 1000;

interface PhaseNumbers {
  /** Longest event-loop delay, ms. */
  loopMaxMs: number;
  /** Longest GC pause, longest major GC pause, total GC time (ms), and the number of pauses. */
  gcMaxMs: number;
  gcMajorMaxMs: number;
  gcTotalMs: number;
  gcCount: number;
  /** CPU time (user + system) of this process over the wall time of the phase, in %. */
  cpuPct: number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Watches one phase: event-loop delay, GC pauses, CPU time. */
function phaseProbe(): { stop: () => PhaseNumbers } {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let gcMaxMs = 0;
  let gcMajorMaxMs = 0;
  let gcTotalMs = 0;
  let gcCount = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      gcCount++;
      gcTotalMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajorMaxMs = Math.max(gcMajorMaxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const wallStart = performance.now();
  return {
    stop: () => {
      loop.disable();
      observer.disconnect();
      const used = process.cpuUsage(cpu);
      const wallMs = performance.now() - wallStart;
      return {
        loopMaxMs: round(loop.max / 1e6), gcMaxMs: round(gcMaxMs), gcMajorMaxMs: round(gcMajorMaxMs),
        gcTotalMs: Math.round(gcTotalMs), gcCount, cpuPct: Math.round(((used.user + used.system) / 1000 / wallMs) * 100),
      };
    },
  };
}

/**
 * The longest synchronous store call of a phase, which call it was, and the CPU time of the process during it (all
 * threads: well under the call's time means the process waited for a CPU).
 */
class CallTimer {
  maxMs = 0;
  maxOp = '';
  maxCpuMs = 0;

  time<T>(op: string, call: () => T): T {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const result = call();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (ms > this.maxMs) {
      const used = process.cpuUsage(cpu);
      this.maxMs = ms;
      this.maxOp = op;
      this.maxCpuMs = (used.user + used.system) / 1000;
    }
    return result;
  }

  report(): { storeCallMaxMs: number; storeCallMaxOp: string; storeCallMaxCpuMs: number } {
    return { storeCallMaxMs: round(this.maxMs), storeCallMaxOp: this.maxOp, storeCallMaxCpuMs: round(this.maxCpuMs) };
  }
}

async function fill(directory: string, retained: number, sessions: number): Promise<Record<string, unknown>> {
  const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
  await store.open();
  const payload = Buffer.alloc(64, 0x61);
  const started = performance.now();
  const probe = phaseProbe();
  const calls = new CallTimer();
  let writes = 0;
  const turn = async (): Promise<void> => {
    if (++writes % TURN_WRITES === 0) await calls.time('flush', () => store.flush());
  };
  for (let i = 0; i < retained; i++) {
    const topic = `bench/site-${i % 1000}/device-${i}/state`;
    calls.time('putRetained', () => store.putRetained(topic, { topic, payload, qos: 1, retain: true }));
    await turn();
  }
  for (let i = 0; i < sessions; i++) {
    const clientId = `bench-client-${i}`;
    calls.time('saveSession', () => store.saveSession({
      clientId, expiryIntervalSeconds: 0xFFFF_FFFF, disconnectedAtMs: Date.now(),
      subscriptions: [
        { topicFilter: `bench/site-${i % 1000}/+/state`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: `cmd/${clientId}/#`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    }));
    calls.time('putOutgoing', () => store.putOutgoing(clientId, {
      seq: 1, qos: 1, state: 'queued', packetId: 0, message: { topic: `cmd/${clientId}/x`, payload, qos: 1, retain: false },
    }));
    writes++;
    await turn();
  }
  await calls.time('flush', () => store.flush());
  const fillMs = performance.now() - started;
  const fillPhase = { ms: Math.round(fillMs), writesPerSec: Math.round((retained + 2 * sessions) / (fillMs / 1000)),
    ...probe.stop(), ...calls.report() };

  // Steady state: a QoS 1 message to 10 offline sessions (queued), then 10 acknowledgements.
  const steadyProbe = phaseProbe();
  const steadyCalls = new CallTimer();
  const steadyStart = performance.now();
  const turns = 20_000;
  for (let n = 0; n < turns; n++) {
    const seq = 100 + n;
    const entry: StoredOutgoing = { seq, qos: 1, state: 'queued', packetId: 0, message: { topic: 'bench/x', payload, qos: 1, retain: false } };
    for (let s = 0; s < 10; s++) {
      steadyCalls.time('putOutgoing', () => store.putOutgoing(`bench-client-${(n * 10 + s) % sessions}`, entry));
    }
    steadyCalls.time('putRetained', () => store.putRetained('bench/x', { topic: 'bench/x', payload, qos: 1, retain: true }));
    await steadyCalls.time('flush', () => store.flush());
    for (let s = 0; s < 10; s++) {
      steadyCalls.time('deleteOutgoing', () => store.deleteOutgoing(`bench-client-${(n * 10 + s) % sessions}`, seq));
    }
  }
  await steadyCalls.time('flush', () => store.flush());
  const steadyMs = performance.now() - steadyStart;
  const steadyPhase = { turnsPerSec: Math.round(turns / (steadyMs / 1000)), ...steadyProbe.stop(), ...steadyCalls.report() };
  await store.close();
  return { fill: fillPhase, steady: steadyPhase };
}

/**
 * Child mode: start a broker over the store and report start-up numbers as JSON. The broker and the store come from
 * the build (dist/, built by the parent), as `culex broker` runs them: no TypeScript loader in this process or in
 * the store's corruption-check child.
 */
async function startup(directory: string): Promise<void> {
  const { createBroker } = await import(new URL('../dist/create-broker.js', import.meta.url).href) as
    typeof import('../src/create-broker.js');
  const lmdb = await import(new URL('../dist/persistence/lmdb/lmdb-persistence.js', import.meta.url).href) as
    typeof import('../src/persistence/lmdb/lmdb-persistence.js');
  const probe = phaseProbe();
  const started = performance.now();
  const store = new lmdb.LmdbPersistence({ directory });
  const broker = createBroker({ persistence: store, sysIntervalSeconds: 0 });
  await broker.ready;
  const readyMs = performance.now() - started;
  const phase = probe.stop();
  const opened = store.openStats;
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const MiB = 2 ** 20;
  const result = {
    readyMs: Math.round(readyMs),
    verifyMs: Math.round(opened.verifyMs),
    readMs: Math.round(opened.readMs),
    readWallMs: Math.round(opened.readWallMs),
    rebuildMs: Math.round(readyMs - opened.verifyMs - opened.readWallMs),
    readPages: opened.pages, storePageMaxMs: round(opened.longestPageMs),
    storePageMaxCpuMs: round(opened.longestPageCpuMs), storeSlowPages: opened.slowPages,
    ...phase,
    rssMiB: Math.round(rss / MiB), heapMiB: Math.round(heapUsed / MiB), externalMiB: Math.round(external / MiB),
    arrayBuffersMiB: Math.round(arrayBuffers / MiB),
    sessions: broker.sessions.size, retained: broker.retained.size,
  };
  await broker.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      retained: { type: 'string', default: '1000000' },
      sessions: { type: 'string', default: '100000' },
      quick: { type: 'boolean', default: false },
      /** Fill this directory and keep it; when it already holds a store, skip the fill and only start up. */
      dir: { type: 'string' },
      runs: { type: 'string', default: '3' },
      startup: { type: 'string' },
    },
  });
  if (values.startup !== undefined) {
    await startup(values.startup);
    return;
  }
  const retained = values.quick ? 100_000 : Number(values.retained);
  const sessions = values.quick ? 10_000 : Number(values.sessions);
  const isKept = values.dir !== undefined;
  const directory = values.dir ?? mkdtempSync(join(os.tmpdir(), 'culex-store-scale-'));
  const loads: number[] = [];
  const sampleLoad = (): void => {
    loads.push(os.loadavg()[0]!);
  };
  sampleLoad();
  const loadTimer = setInterval(sampleLoad, 10_000);
  try {
    let filled: Record<string, unknown> = { fill: 'skipped: existing store' };
    if (!isKept || !existsSync(join(directory, 'culex.mdb'))) {
      process.stderr.write(`filling ${retained} retained messages and ${sessions} sessions in ${directory}...\n`);
      filled = await fill(directory, retained, sessions);
    }
    process.stderr.write('building dist/ for the start-up runs...\n');
    execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
    const fileMiB = Math.round(statSync(join(directory, 'culex.mdb')).size / 2 ** 20);
    const runs = [];
    for (let run = 0; run < Number(values.runs); run++) {
      process.stderr.write(`start-up run ${run + 1}...\n`);
      const child = spawnSync(process.execPath,
        ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', new URL(import.meta.url).pathname, '--startup', directory],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.status !== 0) throw new Error(`start-up run failed (${child.status ?? child.signal})`);
      runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, number>);
    }
    sampleLoad();
    let commit = 'unknown';
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      // Not a git checkout.
    }
    const out = {
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
      loadAverage1m: { min: Math.min(...loads).toFixed(1), max: Math.max(...loads).toFixed(1) },
      node: process.version, commit, retained, sessions, fileMiB, ...filled, startup: runs,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    clearInterval(loadTimer);
    if (!isKept) rmSync(directory, { recursive: true, force: true });
  }
}

await main();

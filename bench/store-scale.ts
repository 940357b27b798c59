/**
 * The lmdb store at scale: start-up time and memory of a broker over 1,000,000 retained messages and 100,000
 * persistent sessions, and the longest event-loop block caused by store operations.
 *
 *   npm run bench:store                       the full size (takes minutes; writes ~1 GB to a temporary directory)
 *   npm run bench:store -- --retained 10000 --sessions 1000   smaller
 *
 * Method:
 * 1. Fill a store in a temporary directory through LmdbPersistence (durability sync), in turns of 1,000 writes each
 *    followed by `flush()`, like a busy broker; record the time and the longest event-loop block (perf_hooks
 *    monitorEventLoopDelay, 1 ms resolution) while filling.
 * 2. Steady state on the full store: 20,000 turns of the broker's writes for one QoS 1 message to 10 offline
 *    sessions (10 putOutgoing + 1 putRetained, then flush) and of 10 acknowledgements (deleteOutgoing); longest block.
 * 3. Start-up, in a fresh process per run (3 runs): `createBroker` over the store, until `broker.ready`: wall time
 *    (the corruption check in a child process, reading the store a page per turn, rebuilding sessions, the
 *    subscription trie and the retained index), the longest event-loop block during it, and RSS / heap after a GC.
 * Each session has two subscriptions and one queued QoS 1 message; retained payloads are 64 bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LmdbPersistence } from '../src/persistence/lmdb/lmdb-persistence.js';
import type { StoredOutgoing } from '../src/persistence/persistence.js';

const TURN_WRITES = 1000;

function blockMonitor(): { maxMs: () => number } {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return { maxMs: () => { h.disable(); return h.max / 1e6; } };
}

async function fill(directory: string, retained: number, sessions: number): Promise<Record<string, number>> {
  const store = new LmdbPersistence({ directory, isVerifiedBeforeOpen: false });
  await store.open();
  const payload = Buffer.alloc(64, 0x61);
  const started = performance.now();
  const monitor = blockMonitor();
  let writes = 0;
  const turn = async (): Promise<void> => {
    if (++writes % TURN_WRITES === 0) await store.flush();
  };
  for (let i = 0; i < retained; i++) {
    const topic = `bench/site-${i % 1000}/device-${i}/state`;
    store.putRetained(topic, { topic, payload, qos: 1, retain: true });
    await turn();
  }
  for (let i = 0; i < sessions; i++) {
    const clientId = `bench-client-${i}`;
    store.saveSession({
      clientId, expiryIntervalSeconds: 0xFFFF_FFFF, disconnectedAtMs: Date.now(),
      subscriptions: [
        { topicFilter: `bench/site-${i % 1000}/+/state`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        { topicFilter: `cmd/${clientId}/#`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
    });
    store.putOutgoing(clientId, {
      seq: 1, qos: 1, state: 'queued', packetId: 0, message: { topic: `cmd/${clientId}/x`, payload, qos: 1, retain: false },
    });
    writes++;
    await turn();
  }
  await store.flush();
  const fillMs = performance.now() - started;
  const fillBlockMs = monitor.maxMs();

  // Steady state: a QoS 1 message to 10 offline sessions (queued), then 10 acknowledgements.
  const steady = blockMonitor();
  const steadyStart = performance.now();
  const turns = 20_000;
  for (let n = 0; n < turns; n++) {
    const seq = 100 + n;
    const entry: StoredOutgoing = { seq, qos: 1, state: 'queued', packetId: 0, message: { topic: 'bench/x', payload, qos: 1, retain: false } };
    for (let s = 0; s < 10; s++) store.putOutgoing(`bench-client-${(n * 10 + s) % sessions}`, entry);
    store.putRetained('bench/x', { topic: 'bench/x', payload, qos: 1, retain: true });
    await store.flush();
    for (let s = 0; s < 10; s++) store.deleteOutgoing(`bench-client-${(n * 10 + s) % sessions}`, seq);
  }
  await store.flush();
  const steadyMs = performance.now() - steadyStart;
  const steadyBlockMs = steady.maxMs();
  await store.close();
  return { fillMs, fillBlockMs, steadyTurnsPerSec: turns / (steadyMs / 1000), steadyBlockMs };
}

/** Child mode: start a broker over the store and report start-up numbers as JSON. */
async function startup(directory: string): Promise<void> {
  const { createBroker } = await import('../src/create-broker.js');
  const monitor = blockMonitor();
  const started = performance.now();
  const broker = createBroker({ persistence: new LmdbPersistence({ directory }), sysIntervalSeconds: 0 });
  await broker.ready;
  const readyMs = performance.now() - started;
  const blockMs = monitor.maxMs();
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  const result = {
    readyMs, blockMs, rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20,
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
      startup: { type: 'string' },
    },
  });
  if (values.startup !== undefined) {
    await startup(values.startup);
    return;
  }
  const retained = Number(values.retained);
  const sessions = Number(values.sessions);
  const directory = mkdtempSync(join(os.tmpdir(), 'culex-store-scale-'));
  try {
    process.stderr.write(`filling ${retained} retained messages and ${sessions} sessions in ${directory}...\n`);
    const filled = await fill(directory, retained, sessions);
    const fileMiB = statSync(join(directory, 'culex.mdb')).size / 2 ** 20;
    const runs = [];
    for (let run = 0; run < 3; run++) {
      const child = spawnSync(process.execPath,
        ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', new URL(import.meta.url).pathname, '--startup', directory],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (child.status !== 0) throw new Error(`start-up run failed (${child.status ?? child.signal})`);
      runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, number>);
    }
    let commit = 'unknown';
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      // Not a git checkout.
    }
    const out = {
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load ${os.loadavg()[0]!.toFixed(1)}`,
      node: process.version, commit, retained, sessions, fileMiB, ...filled, startup: runs,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();

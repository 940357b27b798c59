/**
 * Micro-benchmarks for topic matching: the subscription trie (PUBLISH fan-out) and the retained index (SUBSCRIBE).
 *
 *   npm run bench:topics            table
 *   npm run bench:topics -- --json  one JSON object per line
 *
 * Method: each case warms up, then runs ROUNDS time-boxed rounds and reports the median operations per second and
 * the results per operation. Topics and filters are precomputed and cycled (pseudo-random but deterministic ids), so
 * the loop measures lookups, not string building. Results feed a checksum so no loop can be optimised away.
 * With --json the header (machine, Node, commit) goes to stderr and one JSON object per case to stdout.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { SubscriptionTrie } from '../../src/broker/subscription-trie.js';
import { RetainedIndex } from '../../src/broker/retained.js';
import { matching } from '../../src/bench/scenarios.js';

const WARMUP_MS = 200;
const ROUNDS = 3;
const ROUND_MS = 300;
const DEVICES = 100_000;
/** Topic and filter strings are precomputed and cycled so the loop measures matching, not string building. */
const SAMPLES = 4096;

interface Result {
  name: string;
  opsPerSec: number;
  resultsPerOp: number;
}

let checksum = 0;

/** Run `op(i)` for ROUNDS time-boxed rounds after a warm-up; `op` returns how many results it produced. */
function measure(name: string, op: (i: number) => number): Result {
  let next = 0;
  const run = (ms: number): { ops: number; results: number; ns: bigint } => {
    const start = process.hrtime.bigint();
    const budget = BigInt(ms) * 1_000_000n;
    let ops = 0;
    let results = 0;
    let elapsed = 0n;
    // Check the clock every 256 operations so the clock is not what we measure.
    while (elapsed < budget) {
      for (let k = 0; k < 256; k++, ops++) results += op(next++);
      elapsed = process.hrtime.bigint() - start;
    }
    return { ops, results, ns: elapsed };
  };
  run(WARMUP_MS);
  const rates: number[] = [];
  let resultsPerOp = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const { ops, results, ns } = run(ROUND_MS);
    checksum = (checksum + results) % 1_000_000_007;
    rates.push((ops * 1e9) / Number(ns));
    resultsPerOp = results / ops;
  }
  const median = rates.toSorted((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number;
  return { name, opsPerSec: median, resultsPerOp };
}

/** Deterministic indices so runs are comparable. */
function sampleIds(count: number, max: number): number[] {
  let x = 0x2545f491;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  });
}

function literalTrie(): SubscriptionTrie<string> {
  const trie = new SubscriptionTrie<string>();
  for (let i = 0; i < DEVICES; i++) trie.add(`devices/${i}/telemetry`, `c${i}`, `c${i}`);
  // Some wildcard subscribers on top, as a monitoring service would have.
  trie.add('devices/+/telemetry', 'monitor', 'monitor');
  trie.add('devices/#', 'logger', 'logger');
  trie.add('+/+/alarm', 'alarms', 'alarms');
  trie.add('#', 'firehose', 'firehose');
  return trie;
}

function wildcardTrie(): SubscriptionTrie<string> {
  const trie = new SubscriptionTrie<string>();
  for (let i = 0; i < 1000; i++) {
    trie.add(`site/${i}/+/temp`, `a${i}`, `a${i}`);
    trie.add(`site/${i}/#`, `b${i}`, `b${i}`);
    trie.add(`site/+/room${i % 100}/+`, `c${i}`, `c${i}`);
    trie.add(`+/${i}/+/humidity`, `d${i}`, `d${i}`);
  }
  return trie;
}

function subscriptionCases(): Result[] {
  const results: Result[] = [];
  const out: string[] = [];
  const ids = sampleIds(SAMPLES, DEVICES);

  const trie = literalTrie();
  const hitTopics = ids.map((i) => `devices/${i}/telemetry`);
  results.push(
    measure('trie match: 100k literal + 4 wildcard subs, hit', (i) => {
      out.length = 0;
      return trie.match(hitTopics[i & (SAMPLES - 1)] as string, out);
    }),
  );
  const missTopics = ids.map((i) => `devices/${i}/status`);
  results.push(
    measure('trie match: 100k literal + 4 wildcard subs, no literal hit', (i) => {
      out.length = 0;
      return trie.match(missTopics[i & (SAMPLES - 1)] as string, out);
    }),
  );
  const churnFilters = ids.map((i) => `devices/${i}/config`);
  results.push(
    measure('trie add+remove on the 100k trie (1 op = both)', (i) => {
      const filter = churnFilters[i & (SAMPLES - 1)] as string;
      trie.add(filter, 'churn', 'churn');
      trie.remove(filter, 'churn');
      return 0;
    }),
  );

  const fanout = new SubscriptionTrie<string>();
  for (let i = 0; i < 50; i++) fanout.add('chat/room/1', `c${i}`, `c${i}`);
  results.push(
    measure('trie match: fan-out, 1 filter x 50 subscribers', () => {
      out.length = 0;
      return fanout.match('chat/room/1', out);
    }),
  );

  // The filter set of `culex bench match` (and bench:compare's matching case): 100 k filters over 100 clients,
  // 80 % exact, 20 % with + or #; topics made from subscribed filters, so each matches a few.
  const scenario = matching({
    subscriptions: 100_000, subscriberCount: 100, publisherCount: 4, topicsPerPublisher: SAMPLES / 4, perPacket: 100, seed: 1,
  }, { qos: 0, payloadBytes: 16, ratePerSecond: 0, maxCount: 0, inflight: 1 });
  const mixed = new SubscriptionTrie<string>();
  const buildStart = process.hrtime.bigint();
  for (const sub of scenario.subscribers) for (const f of sub.filters ?? []) mixed.add(f, `s${sub.id}`, `s${sub.id}`);
  const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
  results.push({ name: 'trie add: 100k mixed filters (1 op = one add, one pass)', opsPerSec: 100_000 / (buildMs / 1000), resultsPerOp: 0 });
  const mixedTopics = scenario.publishers.flatMap((p) => p.topics ?? []);
  results.push(
    measure('trie match: 100k mixed filters (80 % exact, 20 % + / #), topic matches a few', (i) => {
      out.length = 0;
      return mixed.match(mixedTopics[i & (SAMPLES - 1)] as string, out);
    }),
  );

  const wild = wildcardTrie();
  const wildTopics = ids.map((i) => `site/${i % 1000}/room${i % 100}/${i % 2 === 0 ? 'temp' : 'humidity'}`);
  results.push(
    measure('trie match: 4k wildcard-heavy filters', (i) => {
      out.length = 0;
      return wild.match(wildTopics[i & (SAMPLES - 1)] as string, out);
    }),
  );
  return results;
}

function retainedCases(): Result[] {
  const results: Result[] = [];
  const out: string[] = [];
  const ids = sampleIds(SAMPLES, DEVICES);
  const retained = new RetainedIndex<string>();
  for (let i = 0; i < DEVICES; i++) {
    retained.set(`devices/${i}/telemetry`, `t${i}`);
    if (i % 10 === 0) retained.set(`devices/${i}/status`, `s${i}`);
  }

  const narrow = ids.map((i) => `devices/${i}/#`);
  results.push(
    measure('retained match: devices/{i}/# over 110k topics', (i) => {
      out.length = 0;
      return retained.match(narrow[i & (SAMPLES - 1)] as string, out);
    }),
  );
  results.push(
    measure('retained match: devices/+/status over 110k topics (10k results)', () => {
      out.length = 0;
      return retained.match('devices/+/status', out);
    }),
  );
  const exact = ids.map((i) => `devices/${i}/telemetry`);
  results.push(
    measure('retained get: exact topic over 110k topics', (i) => {
      return retained.get(exact[i & (SAMPLES - 1)] as string) === undefined ? 0 : 1;
    }),
  );
  results.push(
    measure('retained set+delete on 110k topics (1 op = both)', (i) => {
      const topic = `devices/${ids[i & (SAMPLES - 1)] as number}/config`;
      retained.set(topic, 'x');
      retained.delete(topic);
      return 0;
    }),
  );
  return results;
}

function printTable(results: Result[]): void {
  const nameWidth = Math.max(...results.map((r) => r.name.length));
  console.log(`${'case'.padEnd(nameWidth)}  ${'ops/s'.padStart(12)}  ${'results/op'.padStart(10)}`);
  for (const r of results) {
    const ops = Math.round(r.opsPerSec).toLocaleString('en-US');
    console.log(`${r.name.padEnd(nameWidth)}  ${ops.padStart(12)}  ${r.resultsPerOp.toFixed(1).padStart(10)}`);
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function main(): void {
  const isJson = process.argv.includes('--json');
  const cpus = os.cpus();
  const header = [
    `machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}`,
    `node ${process.version}, commit ${commit()}, median of ${ROUNDS} x ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up`,
  ];
  const log = isJson ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);
  for (const line of header) log(line);
  const results = [...subscriptionCases(), ...retainedCases()];
  if (isJson) {
    for (const r of results) console.log(JSON.stringify(r));
  } else {
    printTable(results);
  }
  log(`checksum ${checksum}`);
}

main();

/**
 * Codec micro-benchmark: PUBLISH decode and encode, Culex vs mqtt-packet, in one process.
 *
 * Cases: QoS 0/1 x payload 16 B/1 KiB x MQTT 3.1.1 (no properties) / MQTT 5 (contentType, messageExpiryInterval and
 * one user property). Decode feeds whole packets to one long-lived decoder per library (ours: `push` + `next`;
 * mqtt-packet: `parser.parse` with a 'packet' listener). Encode is `encode()` vs `mqttPacket.generate()`.
 *
 * Method: every measurement is time-boxed (batches until ROUND_MS has passed), after a warm-up; ROUNDS rounds
 * alternate the two libraries and the median is reported. Rates are per CPU second of this process (user + system,
 * so garbage collection threads count), which keeps other processes on a shared machine out of the numbers. Every
 * result feeds a checksum, printed at the end, so no loop can be optimised away.
 *
 * Usage: npm run bench:codec [-- --json]   (--json: one JSON object per line on stdout, header on stderr)
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import mqttPacket from 'mqtt-packet';
import { Decoder } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet, ProtocolVersion, PublishPacket, QoS } from '../../src/protocol/types.js';

const ROUNDS = 3;
const ROUND_MS = 300;
const WARMUP_MS = 150;
const BATCH = 2_000;

interface BenchCase {
  readonly name: string;
  readonly version: ProtocolVersion;
  readonly packet: PublishPacket;
  readonly theirs: mqttPacket.IPublishPacket;
  readonly bytes: Buffer;
}

interface Row {
  case: string;
  op: 'decode' | 'encode';
  culex_ops: number;
  mqtt_packet_ops: number;
  ratio: number;
}

/** A batch runner: performs `n` operations and returns a number derived from every result. */
type Batch = (n: number) => number;

let checksum = 0;

function makeCase(qos: QoS, payloadBytes: number, version: 4 | 5): BenchCase {
  const topic = 'sensors/building-7/floor-3/temperature';
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const packetId = qos > 0 ? 4242 : undefined;
  const packet: PublishPacket = {
    type: 3, topic, payload, qos, retain: false, dup: false,
    ...(packetId !== undefined ? { packetId } : {}),
    ...(version === 5
      ? { properties: { messageExpiryInterval: 3600, contentType: 'application/json', userProperties: [['k', 'v']] } }
      : {}),
  };
  const theirs: mqttPacket.IPublishPacket = {
    cmd: 'publish', topic, payload, qos, retain: false, dup: false,
    ...(packetId !== undefined ? { messageId: packetId } : {}),
    ...(version === 5
      ? { properties: { messageExpiryInterval: 3600, contentType: 'application/json', userProperties: { k: 'v' } } }
      : {}),
  };
  const bytes = encode(packet, version);
  const other = mqttPacket.generate(theirs, { protocolVersion: version });
  if (!bytes.equals(other)) throw new Error(`case setup: encodings differ\n${bytes.toString('hex')}\n${other.toString('hex')}`);
  const size = payloadBytes >= 1024 ? `${payloadBytes / 1024}KiB` : `${payloadBytes}B`;
  return { name: `${version === 5 ? 'v5+props' : 'v3.1.1'} qos${qos} ${size}`, version, packet, theirs, bytes };
}

// Each factory builds a fresh closure per case, so both libraries are measured through the same shape of loop.

function culexDecode(c: BenchCase): Batch {
  const decoder = new Decoder({ protocolVersion: c.version });
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      decoder.push(c.bytes);
      const p = decoder.next() as Packet;
      acc += (p as PublishPacket).payload.length;
    }
    return acc;
  };
}

function mqttPacketDecode(c: BenchCase): Batch {
  const parser = mqttPacket.parser({ protocolVersion: c.version });
  let acc = 0;
  parser.on('packet', (p: mqttPacket.Packet) => {
    acc += (p as mqttPacket.IPublishPacket).payload.length;
  });
  parser.on('error', (err: Error) => {
    throw err;
  });
  return (n) => {
    acc = 0;
    for (let i = 0; i < n; i++) parser.parse(c.bytes);
    return acc;
  };
}

function culexEncode(c: BenchCase): Batch {
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += encode(c.packet, c.version).length;
    return acc;
  };
}

function mqttPacketEncode(c: BenchCase): Batch {
  const opts = { protocolVersion: c.version };
  return (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += mqttPacket.generate(c.theirs, opts).length;
    return acc;
  };
}

/**
 * Runs batches until `ms` of wall time have passed; returns operations per CPU second of this process (user +
 * system). CPU time, not wall time, so that other processes on a shared machine do not move the numbers.
 */
function run(batch: Batch, ms: number): number {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const limit = BigInt(ms) * 1_000_000n;
  let ops = 0;
  do {
    checksum = (checksum + batch(BATCH)) % 0x7fff_ffff;
    ops += BATCH;
  } while (process.hrtime.bigint() - start < limit);
  const cpu = process.cpuUsage(cpuStart);
  return ops / ((cpu.user + cpu.system) / 1e6);
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function compare(ours: Batch, theirs: Batch): [number, number] {
  run(ours, WARMUP_MS);
  run(theirs, WARMUP_MS);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(run(ours, ROUND_MS));
    b.push(run(theirs, ROUND_MS));
  }
  return [median(a), median(b)];
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function main(): void {
  const json = process.argv.includes('--json');
  const cpus = os.cpus();
  const header = [
    `machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, ${os.platform()} ${os.arch()}`,
    `node: ${process.version}  mqtt-packet: ${mqttPacketVersion()}  commit: ${gitCommit()}`,
    `ops/s per CPU second; median of ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up`,
  ];
  const out = json ? (s: string) => process.stderr.write(`${s}\n`) : (s: string) => process.stdout.write(`${s}\n`);
  for (const line of header) out(line);

  const cases: BenchCase[] = [];
  for (const version of [4, 5] as const) {
    for (const qos of [0, 1] as const) for (const size of [16, 1024]) cases.push(makeCase(qos, size, version));
  }

  if (!json) {
    out('');
    out(`${'case'.padEnd(22)}${'op'.padEnd(8)}${'culex ops/s'.padStart(14)}${'mqtt-packet ops/s'.padStart(19)}`
      + `${'ratio'.padStart(8)}`);
  }
  const rows: Row[] = [];
  for (const c of cases) {
    for (const op of ['decode', 'encode'] as const) {
      const [ours, theirs] = op === 'decode'
        ? compare(culexDecode(c), mqttPacketDecode(c))
        : compare(culexEncode(c), mqttPacketEncode(c));
      const row: Row = {
        case: c.name, op, culex_ops: Math.round(ours), mqtt_packet_ops: Math.round(theirs),
        ratio: Math.round((ours / theirs) * 100) / 100,
      };
      rows.push(row);
      if (json) process.stdout.write(`${JSON.stringify(row)}\n`);
      else {
        out(`${row.case.padEnd(22)}${op.padEnd(8)}${row.culex_ops.toLocaleString('en-US').padStart(14)}`
          + `${row.mqtt_packet_ops.toLocaleString('en-US').padStart(19)}${row.ratio.toFixed(2).padStart(8)}`);
      }
    }
  }
  out(`checksum: ${checksum}`);
}

function mqttPacketVersion(): string {
  try {
    return (createRequire(import.meta.url)('mqtt-packet/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

main();

/** Human-readable output of `culex bench`; `--json` prints the result objects as they are instead. */
import type { ConnResult } from './conn.js';
import type { LatencySummary } from './histogram.js';
import type { PubSubResult } from './pubsub.js';

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatMicros(us: number): string {
  if (us < 1000) return `${us.toFixed(0)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

function formatLatency(l: LatencySummary): string {
  if (l.count === 0) return 'n/a';
  return `p50 ${formatMicros(l.p50Us)}  p95 ${formatMicros(l.p95Us)}  p99 ${formatMicros(l.p99Us)}  ` +
    `p99.9 ${formatMicros(l.p999Us)}  max ${formatMicros(l.maxUs)}  (${number.format(l.count)} samples)`;
}

export function formatPubSub(r: PubSubResult, detail: string): string {
  const lines = [
    `${r.scenario}: ${r.summary}, ${detail}, ${r.windowSeconds} s measured after ${r.warmupSeconds} s warm-up, ` +
      `${r.workers} worker${r.workers === 1 ? '' : 's'}`,
  ];
  if (r.subscriptions > r.subscribers) {
    lines.push(`  subscribed  ${number.format(r.subscriptions)} filters in ${r.subscribeSeconds.toFixed(2)} s ` +
      `(${number.format(r.subscriptions / Math.max(r.subscribeSeconds, 1e-3))}/s)` +
      (r.matchesPerMessage !== undefined ? `; a published topic matches ${r.matchesPerMessage} subscribers on average` : ''));
  }
  if (r.publishers > 0) {
    lines.push(`  published   ${number.format(r.publishRate)} msg/s  (acknowledged ${number.format(r.ackRate)}/s; ` +
      `${number.format(r.sent)} sent in all)`);
  }
  if (r.subscribers > 0) {
    lines.push(`  received    ${number.format(r.receiveRate)} msg/s  (${number.format(r.received)} in all)`);
    lines.push(`  latency     ${formatLatency(r.latency)}`);
    for (const [group, n] of Object.entries(r.receivedByGroup)) {
      if (group !== 'main') lines.push(`  group ${group}: received ${number.format(n)} in all`);
    }
  }
  lines.push(`  lost ${r.lost}  duplicated ${r.duplicates}  unacknowledged ${r.unacked}` +
    (r.connectFailures > 0 ? `  connect failures ${r.connectFailures}` : '') +
    (r.errors > 0 ? `  errors ${r.errors}` : ''));
  lines.push(`  generator CPU ${r.loadCpuCores} cores` +
    (r.brokerCpuCores === undefined ? '' : `, broker CPU ${r.brokerCpuCores} cores`));
  for (const e of r.errorSamples) lines.push(`  error: ${e}`);
  return `${lines.join('\n')}\n`;
}

export function formatConn(r: ConnResult): string {
  const lines = [
    `conn: ${number.format(r.connected)} of ${number.format(r.requested)} connected in ${r.connectSeconds} s ` +
      `(${number.format(r.connectRate)} conn/s), ${r.workers} workers, ${r.sourceAddresses || 'default'} source addresses`,
  ];
  if (r.brokerFdLimit !== undefined) {
    lines.push(`  as many as the broker's open-file limit allows: limit ${number.format(r.brokerFdLimit)}, ` +
      `${r.brokerFdsBefore} already open`);
  }
  lines.push(`  held ${number.format(r.held)} to the end`);
  if (r.failed > 0) lines.push(`  failed ${r.failed}`);
  if (r.rssPerConnectionBytes !== undefined) {
    lines.push(`  broker RSS ${number.format(r.rssBeforeKiB!)} KiB -> ${number.format(r.rssAfterKiB!)} KiB: ` +
      `${number.format(r.rssPerConnectionBytes)} bytes per connection`);
  }
  if (r.brokerCpuUsPerConnection !== undefined) {
    lines.push(`  broker CPU while connecting ${r.brokerCpuSeconds} s: ` +
      `${number.format(r.brokerCpuUsPerConnection)} µs per connection (user ` +
      `${number.format(r.brokerUserUsPerConnection ?? 0)}, system ${number.format(r.brokerSystemUsPerConnection ?? 0)})`);
  }
  lines.push(`  generator CPU ${r.loadCpuCores} cores, ${r.dialer} dialer`);
  if (r.dialerNote !== undefined) lines.push(`  ${r.dialerNote}`);
  for (const e of r.errorSamples) lines.push(`  error: ${e}`);
  return `${lines.join('\n')}\n`;
}

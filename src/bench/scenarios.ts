/**
 * Scenario shapes: who publishes where and who subscribes to what. A scenario is only a list of publisher and
 * subscriber plans; `pubsub.ts` runs any such list, so adding a scenario is adding a function here.
 */
import type { QoS } from '../protocol/types.js';
import type { PublisherPlan, SubscriberPlan } from './messages.js';

export interface LoadShape {
  readonly qos: QoS;
  readonly payloadBytes: number;
  /** Per publisher; 0 = flat out. */
  readonly ratePerSecond: number;
  /** Per publisher; 0 = unbounded. */
  readonly maxCount: number;
  readonly inflight: number;
}

export interface Scenario {
  readonly name: string;
  /**
   * Deliveries to the main group per published message, when every message has the same number (fanin 1, fanout
   * S, pairs 1): what the closed loop needs to count outstanding deliveries. Absent = no closed loop.
   */
  readonly deliveriesPerMessage?: number;
  readonly summary: string;
  readonly publishers: PublisherPlan[];
  readonly subscribers: SubscriberPlan[];
}

export function expand(pattern: string, index: number): string {
  return pattern.replaceAll('%i', String(index));
}

function publishers(count: number, topic: string, load: LoadShape, firstId = 0): PublisherPlan[] {
  return Array.from({ length: count }, (_, i) => ({
    id: firstId + i, topic: expand(topic, i), qos: load.qos, payloadBytes: load.payloadBytes,
    ratePerSecond: load.ratePerSecond, maxCount: load.maxCount, inflight: load.inflight,
  }));
}

function subscribers(count: number, filter: string, qos: QoS, group = 'main', pauseMs = 0, firstId = 0): SubscriberPlan[] {
  return Array.from({ length: count }, (_, i) => ({ id: firstId + i, filter: expand(filter, i), qos, group, pauseMs }));
}

export function pubOnly(count: number, topic: string, load: LoadShape): Scenario {
  return { name: 'pub', summary: `${count} pub -> ${topic}`, publishers: publishers(count, topic, load), subscribers: [] };
}

export function subOnly(count: number, filter: string, qos: QoS): Scenario {
  return { name: 'sub', summary: `${count} sub <- ${filter}`, publishers: [], subscribers: subscribers(count, filter, qos) };
}

/** P publishers on bench/%i, one subscriber on `#`. */
export function fanin(publisherCount: number, load: LoadShape): Scenario {
  return {
    name: 'fanin', summary: `${publisherCount} pub -> 1 sub (#)`, deliveriesPerMessage: 1,
    publishers: publishers(publisherCount, 'bench/%i', load), subscribers: subscribers(1, '#', load.qos),
  };
}

/** One publisher on bench/0, S subscribers on it. */
export function fanout(subscriberCount: number, load: LoadShape): Scenario {
  return {
    name: 'fanout', summary: `1 pub -> ${subscriberCount} sub`, deliveriesPerMessage: subscriberCount,
    publishers: publishers(1, 'bench/0', load), subscribers: subscribers(subscriberCount, 'bench/0', load.qos),
  };
}

/** N publisher/subscriber pairs, each on its own topic. */
export function pairs(count: number, load: LoadShape): Scenario {
  return {
    name: 'pairs', summary: `${count} pub -> sub pairs`, deliveriesPerMessage: 1,
    publishers: publishers(count, 'bench/%i', load), subscribers: subscribers(count, 'bench/%i', load.qos),
  };
}

/**
 * A paced probe (one publisher -> one subscriber on `probe`, group main: its latency is the result) under
 * background load (several publishers on bench/%i adding up to `backgroundRate`, one subscriber on bench/#).
 */
export function latency(probeRate: number, backgroundRate: number, backgroundPublishers: number, load: LoadShape): Scenario {
  const probe = publishers(1, 'probe', { ...load, ratePerSecond: probeRate });
  const bgCount = backgroundRate > 0 ? backgroundPublishers : 0;
  const background = publishers(bgCount, 'bench/%i', { ...load, ratePerSecond: backgroundRate / Math.max(1, bgCount) }, 1);
  return {
    name: 'latency', summary: `probe ${probeRate}/s under ${backgroundRate}/s background`,
    publishers: [...probe, ...background],
    subscribers: [
      ...subscribers(1, 'probe', load.qos),
      ...(bgCount > 0 ? subscribers(1, 'bench/#', load.qos, 'background', 0, 1) : []),
    ],
  };
}

/**
 * A slow subscriber among fast ones: P publishers on bench/%i (in the comparison flat out, each with a deep in-flight
 * window), `fastCount` subscribers on bench/# that read as fast as they can (group main: their rate is the result),
 * and one more on bench/# (group slow) that reads nothing for `pauseMs` and then catches up. A broker that makes
 * everyone wait for its slowest reader shows it here: the fast subscribers and the publishers' acknowledgements slow
 * down to the slow subscriber's pace. With `fastCount` 0 only the slow subscriber is left, and it is group main.
 */
export function slow(publisherCount: number, fastCount: number, pauseMs: number, load: LoadShape): Scenario {
  const lagging = subscribers(1, 'bench/#', load.qos, fastCount > 0 ? 'slow' : 'main', pauseMs, fastCount);
  return {
    name: 'slow', summary: `${publisherCount} pub -> ${fastCount > 0 ? `${fastCount} sub + ` : ''}1 sub paused ${pauseMs} ms`,
    publishers: publishers(publisherCount, 'bench/%i', load),
    subscribers: [...subscribers(fastCount, 'bench/#', load.qos), ...lagging],
  };
}

export interface MatchingShape {
  /** Subscriptions in all, dealt round-robin to the subscribers (100,000). */
  readonly subscriptions: number;
  /** Connections holding them (100). */
  readonly subscriberCount: number;
  readonly publisherCount: number;
  /** Distinct topics each publisher cycles through (1000). */
  readonly topicsPerPublisher: number;
  /** Filters per SUBSCRIBE packet (100). */
  readonly perPacket: number;
  readonly seed: number;
}

const SITES = 1000;
const DEVICES = 1000;
const METRICS = 10;

function pad(n: number): string {
  return String(n).padStart(3, '0');
}

/**
 * Subscription matching at scale: `subscriptions` filters over `subscriberCount` connections, in the shape of an IoT
 * fleet, topics `site/SSS/dev/DDD/mM` (1,000 sites × 1,000 devices × 10 metrics, fixed width):
 *   80 % exact             site/042/dev/317/m3
 *   10 % one device        site/042/dev/317/#
 *    7 % one metric, site  site/042/dev/+/m3
 *    2 % one device, all   site/+/dev/317/m3
 *    1 % one site          site/042/#
 * Filters are drawn from a seeded PRNG, so every broker gets the same set. Each publisher cycles through
 * `topicsPerPublisher` topics made by filling in randomly drawn filters, so every PUBLISH matches the filter it was
 * made from and, by chance, a few others (the run reports the average): the broker searches 100 k filters and
 * delivers to a handful.
 */
export function matching(shape: MatchingShape, load: LoadShape): Scenario {
  const random = prng(shape.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const filters: string[] = [];
  for (let i = 0; i < shape.subscriptions; i++) {
    const site = pad(pick(SITES));
    const dev = pad(pick(DEVICES));
    const metric = `m${pick(METRICS)}`;
    const kind = pick(100);
    filters.push(kind < 80 ? `site/${site}/dev/${dev}/${metric}`
      : kind < 90 ? `site/${site}/dev/${dev}/#`
        : kind < 97 ? `site/${site}/dev/+/${metric}`
          : kind < 99 ? `site/+/dev/${dev}/${metric}`
            : `site/${site}/#`);
  }
  const instantiate = (filter: string): string => {
    const levels = filter.split('/');
    const fill = ['site', pad(pick(SITES)), 'dev', pad(pick(DEVICES)), `m${pick(METRICS)}`];
    return fill.map((drawn, i) => {
      const level = levels[i];
      return level === undefined || level === '+' || level === '#' ? drawn : level;
    }).join('/');
  };
  const owned: string[][] = Array.from({ length: shape.subscriberCount }, () => []);
  filters.forEach((f, i) => owned[i % shape.subscriberCount]!.push(f));
  const subs: SubscriberPlan[] = owned.map((list, id) => ({
    id, filter: list[0] ?? 'site/#', filters: list, qos: load.qos, group: 'main', pauseMs: 0, perPacket: shape.perPacket,
  }));
  const pubs = publishers(shape.publisherCount, 'site/000/dev/000/m0', load).map((p) => ({
    ...p, topics: Array.from({ length: shape.topicsPerPublisher }, () => instantiate(filters[pick(filters.length)] ?? 'site/#')),
  }));
  return {
    name: 'match',
    summary: `${shape.publisherCount} pub -> ${shape.subscriberCount} sub holding ${shape.subscriptions} filters`,
    publishers: pubs, subscribers: subs,
  };
}

/** mulberry32: a small seeded PRNG, so a scenario is the same set of filters on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

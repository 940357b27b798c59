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
    name: 'fanin', summary: `${publisherCount} pub -> 1 sub (#)`,
    publishers: publishers(publisherCount, 'bench/%i', load), subscribers: subscribers(1, '#', load.qos),
  };
}

/** One publisher on bench/0, S subscribers on it. */
export function fanout(subscriberCount: number, load: LoadShape): Scenario {
  return {
    name: 'fanout', summary: `1 pub -> ${subscriberCount} sub`,
    publishers: publishers(1, 'bench/0', load), subscribers: subscribers(subscriberCount, 'bench/0', load.qos),
  };
}

/** N publisher/subscriber pairs, each on its own topic. */
export function pairs(count: number, load: LoadShape): Scenario {
  return {
    name: 'pairs', summary: `${count} pub -> sub pairs`,
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

/** P paced publishers, one subscriber on bench/# that reads nothing for `pauseMs` and then catches up. */
export function slow(publisherCount: number, pauseMs: number, load: LoadShape): Scenario {
  return {
    name: 'slow', summary: `${publisherCount} pub -> 1 sub paused ${pauseMs} ms`,
    publishers: publishers(publisherCount, 'bench/%i', load),
    subscribers: subscribers(1, 'bench/#', load.qos, 'main', pauseMs),
  };
}

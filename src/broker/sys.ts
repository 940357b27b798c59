/**
 * `$SYS` topics with Mosquitto's names, published every `sysIntervalSeconds` as retained QoS 0 messages. Load
 * averages are exponentially weighted moving averages of per-minute rates over 1, 5 and 15 minutes, updated at
 * each interval, as Mosquitto computes them.
 */
import type { Stats } from './stats.js';

export interface SysSnapshot {
  readonly version: string;
  readonly clientsConnected: number;
  readonly clientsDisconnected: number;
  readonly subscriptions: number;
  readonly retained: number;
  readonly storedMessages: number;
}

type Rate = 'messages/received' | 'messages/sent' | 'bytes/received' | 'bytes/sent' | 'publish/received'
  | 'publish/sent' | 'publish/dropped' | 'connections';
const RATES: readonly Rate[] = ['messages/received', 'messages/sent', 'bytes/received', 'bytes/sent',
  'publish/received', 'publish/sent', 'publish/dropped', 'connections'];
const WINDOWS = [1, 5, 15] as const;

export class SysReporter {
  readonly #stats: Stats;
  readonly #intervalSeconds: number;
  readonly #last = new Map<Rate, number>();
  readonly #loads = new Map<string, number>();

  constructor(stats: Stats, intervalSeconds: number) {
    this.#stats = stats;
    this.#intervalSeconds = intervalSeconds;
  }

  #counter(rate: Rate): number {
    const s = this.#stats;
    switch (rate) {
      case 'messages/received': return s.messagesReceived;
      case 'messages/sent': return s.messagesSent;
      case 'bytes/received': return s.bytesReceived;
      case 'bytes/sent': return s.bytesSent;
      case 'publish/received': return s.publishReceived;
      case 'publish/sent': return s.publishSent;
      case 'publish/dropped': return s.publishDropped + s.sessionCounters.messagesDropped;
      case 'connections': return s.clientsTotalEver;
    }
  }

  /** The topic/value pairs to publish now. */
  collect(snapshot: SysSnapshot, nowMs: number): [string, string][] {
    const s = this.#stats;
    const out: [string, string][] = [
      ['$SYS/broker/version', snapshot.version],
      ['$SYS/broker/uptime', `${Math.floor((nowMs - s.startedAtMs) / 1000)} seconds`],
      ['$SYS/broker/clients/connected', String(snapshot.clientsConnected)],
      ['$SYS/broker/clients/active', String(snapshot.clientsConnected)],
      ['$SYS/broker/clients/disconnected', String(snapshot.clientsDisconnected)],
      ['$SYS/broker/clients/inactive', String(snapshot.clientsDisconnected)],
      ['$SYS/broker/clients/total', String(snapshot.clientsConnected + snapshot.clientsDisconnected)],
      ['$SYS/broker/clients/maximum', String(s.clientsMaximum)],
      ['$SYS/broker/messages/received', String(s.messagesReceived)],
      ['$SYS/broker/messages/sent', String(s.messagesSent)],
      ['$SYS/broker/messages/stored', String(snapshot.storedMessages)],
      ['$SYS/broker/store/messages/count', String(snapshot.storedMessages)],
      ['$SYS/broker/publish/messages/received', String(s.publishReceived)],
      ['$SYS/broker/publish/messages/sent', String(s.publishSent)],
      ['$SYS/broker/publish/messages/dropped', String(s.publishDropped + s.sessionCounters.messagesDropped)],
      ['$SYS/broker/bytes/received', String(s.bytesReceived)],
      ['$SYS/broker/bytes/sent', String(s.bytesSent)],
      ['$SYS/broker/subscriptions/count', String(snapshot.subscriptions)],
      ['$SYS/broker/retained messages/count', String(snapshot.retained)],
    ];
    for (const rate of RATES) {
      const value = this.#counter(rate);
      const previous = this.#last.get(rate) ?? value;
      this.#last.set(rate, value);
      const perMinute = ((value - previous) * 60) / this.#intervalSeconds;
      for (const minutes of WINDOWS) {
        const key = `${rate}/${minutes}min`;
        const alpha = 1 - Math.exp(-this.#intervalSeconds / (60 * minutes));
        const load = this.#loads.get(key);
        const next = load === undefined ? perMinute : load + alpha * (perMinute - load);
        this.#loads.set(key, next);
        out.push([`$SYS/broker/load/${key}`, next.toFixed(2)]);
      }
    }
    return out;
  }
}

/**
 * What the printers need to know about a received message, and the clock they stamp it with. Kept apart from the
 * client library's message type so that the printers are pure functions of (message, time).
 */
import type { Properties, QoS } from '../../protocol/types.js';

export interface PrintableMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly isRetained: boolean;
  /** Packet identifier; 0 at QoS 0 (as libmosquitto reports it). */
  readonly mid: number;
  /** MQTT 5 properties in wire order (absent for 3.1/3.1.1). */
  readonly properties?: Properties;
}

/** Wall-clock time with nanoseconds within the second (mosquitto_sub uses clock_gettime(CLOCK_REALTIME)). */
export interface Timestamp {
  readonly date: Date;
  readonly nanoseconds: number;
}

export type Clock = () => Timestamp;

export const systemClock: Clock = () => {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return { date: new Date(seconds * 1000), nanoseconds: Math.min(999_999_999, Math.floor((ms - seconds * 1000) * 1e6)) };
};

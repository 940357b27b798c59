/**
 * What the coordinator and its forked workers say to each other over the IPC channel. Every run goes
 * setup -> ready -> start -> mark (end of warm-up) -> stop (publishers stop) -> finish (drain over: report, close).
 */
import type { SerializedHistogram } from './histogram.js';
import type { QoS } from '../protocol/types.js';
import type { Transport } from './transport.js';

export interface PublisherPlan {
  /** Global publisher index: written into every payload so subscribers can tell publishers apart. */
  readonly id: number;
  readonly topic: string;
  /** Topics to cycle through instead of `topic` (message with sequence n goes to topics[n % length]); all the same length. */
  readonly topics?: readonly string[];
  readonly qos: QoS;
  readonly payloadBytes: number;
  /** Messages per second; 0 = as fast as the socket and the in-flight window allow. */
  readonly ratePerSecond: number;
  /** Stop after this many messages; 0 = until told to stop. */
  readonly maxCount: number;
  /** Unacknowledged QoS 1/2 messages at most. */
  readonly inflight: number;
}

export interface SubscriberPlan {
  readonly id: number;
  readonly filter: string;
  /** Many filters on one connection instead of `filter` (the matching scenario), sent `perPacket` to a SUBSCRIBE. */
  readonly filters?: readonly string[];
  readonly perPacket?: number;
  readonly qos: QoS;
  /** Results are added up per group; 'main' is the one a scenario reports. */
  readonly group: string;
  /** Do not read from the socket for this long after start (a slow consumer). */
  readonly pauseMs: number;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /** Source addresses to spread connections over (127.0.0.x); empty = let the kernel choose. */
  readonly localAddresses: readonly string[];
  readonly clientPrefix: string;
  readonly connectTimeoutMs: number;
}

export interface PubSubPlan extends Endpoint {
  readonly kind: 'pubsub';
  /** Subscribers connect with clean session 0, so a broker with a store writes their queues through it. */
  readonly hasPersistentSubscribers?: boolean;
  /** Report 'flow' every this many ms (closed loop); 0 or absent = open loop. */
  readonly flowMs?: number;
  readonly publishers: readonly PublisherPlan[];
  readonly subscribers: readonly SubscriberPlan[];
}

export interface ConnPlan extends Endpoint {
  readonly kind: 'conn';
  /** Connection indexes [first, first + count). */
  readonly first: number;
  readonly count: number;
  /** Connections per second for this worker; 0 = as fast as `concurrency` allows. */
  readonly ratePerSecond: number;
  readonly concurrency: number;
  /** TCP: the built native dialer to make the connections with (native-dialer.ts); absent = the Node dialer. */
  readonly dialerPath?: string;
}

export type WorkerPlan = PubSubPlan | ConnPlan;

export type ToWorker =
  | { readonly type: 'setup'; readonly plan: WorkerPlan }
  | { readonly type: 'start' }
  | { readonly type: 'mark' }
  | { readonly type: 'stop' }
  | { readonly type: 'finish' }
  /** Closed loop (QoS 0 flat out): flat-out publishers stop while on, resume when off. */
  | { readonly type: 'throttle'; readonly isOn: boolean };

export interface Counters {
  sent: number;
  acked: number;
  received: number;
  /** Received by subscribers of group 'main' only. */
  receivedMain: number;
  connected: number;
  /** Connections the broker closed (or lost) while the run still wanted them. */
  dropped: number;
  connectFailures: number;
  errors: number;
  /** CPU time used by the worker process, user + system. */
  cpuUs: number;
}

export interface PublisherResult {
  readonly id: number;
  readonly topic: string;
  readonly qos: QoS;
  readonly sent: number;
  readonly acked: number;
  /** Acknowledged sequence numbers (SeqSet, base64); QoS 1/2 only. */
  readonly ackedSeqs?: string;
}

export interface SubscriberResult {
  readonly id: number;
  readonly filter: string;
  readonly qos: QoS;
  readonly group: string;
  readonly received: number;
  readonly duplicates: number;
  /** Received sequence numbers per publisher id (SeqSet, base64). */
  readonly seqs: Record<string, string>;
}

export interface GroupResult {
  received: number;
  duplicates: number;
  /** Latency of messages received after the warm-up mark. */
  latency: SerializedHistogram;
}

export interface WorkerResult {
  readonly publishers: readonly PublisherResult[];
  readonly subscribers: readonly SubscriberResult[];
  readonly groups: Record<string, GroupResult>;
  readonly counters: Counters;
  readonly errorSamples: readonly string[];
  /** Time to connect this worker's subscribers and have every SUBSCRIBE acknowledged, in ms. */
  readonly subscribeMs?: number;
  /** conn only: time from start until the last connection was up, in ms. */
  readonly connectMs?: number;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly counters: Counters }
  | { readonly type: 'progress'; readonly counters: Counters }
  | { readonly type: 'snapshot'; readonly tag: 'mark' | 'stop'; readonly counters: Counters }
  | { readonly type: 'published' }
  | { readonly type: 'connected'; readonly counters: Counters; readonly connectMs: number }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'fatal'; readonly message: string }
  /** Closed loop: this worker's totals, every `flowMs`. */
  | { readonly type: 'flow'; readonly sent: number; readonly received: number };

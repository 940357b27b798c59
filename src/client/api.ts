/** Public types of the client API, and the argument checks that turn bad input into typed errors. */
import { validateTopicFilter, validateTopicName } from '../protocol/topic.js';
import type { Packet, Properties, ProtocolVersion, QoS, RetainHandling, Subscription } from '../protocol/types.js';
import { MqttClientError } from './errors.js';
import type { ReceivedMessage } from './message-stream.js';

export type { SubscribeGrant, UnsubscribeResult } from './subscriptions.js';

export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5 properties (messageExpiryInterval, contentType, responseTopic, correlationData, userProperties, …). */
  properties?: Properties;
}

export interface SubscribeOptions {
  /** Maximum QoS requested for every filter given as a string. Default 0. */
  qos?: QoS;
  /** MQTT 5: do not receive our own publications. */
  noLocal?: boolean;
  /** MQTT 5: keep the RETAIN flag as published. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never. */
  retainHandling?: RetainHandling;
  /** MQTT 5 SUBSCRIBE properties: subscriptionIdentifiers (one), userProperties. */
  properties?: Properties;
}

/** One filter with its own options. */
export interface SubscriptionRequest extends SubscribeOptions {
  topicFilter: string;
}

export interface EndOptions {
  /** Do not wait for queued and in-flight publishes. Default false. */
  force?: boolean;
  /** How long to wait for them. Default: the client's `endTimeoutMs`. */
  timeoutMs?: number;
  /** MQTT 5 DISCONNECT reason code, e.g. 0x04 Disconnect with Will Message. Default 0. */
  reasonCode?: number;
  /** MQTT 5 DISCONNECT properties (sessionExpiryInterval, reasonString, userProperties). */
  properties?: Properties;
}

/** What the server said in its CONNACK. */
export interface ConnectionInfo {
  sessionPresent: boolean;
  /** The identifier in use: ours, or the server's Assigned Client Identifier. */
  clientId: string;
  /** The keepalive in force (the MQTT 5 Server Keep Alive when the server sent one). */
  keepaliveSeconds: number;
  /** MQTT 5 CONNACK properties (receiveMaximum, topicAliasMaximum, maximumPacketSize, …); {} before MQTT 5. */
  properties: Properties;
}

export interface DisconnectInfo {
  error: Error;
  /** Whether the client will try to reconnect. */
  willReconnect: boolean;
}

export interface ReconnectingInfo {
  /** Failed attempts so far (0 for an immediate redirect to a Server Reference). */
  attempt: number;
  delayMs: number;
  /** Why the previous connection or attempt ended. */
  error: Error;
}

/** The client's events, typed: `client.on('message', (m) => …)`. */
export interface ClientEvents {
  /** Each successful CONNACK. */
  connect: [info: ConnectionInfo];
  /** An established connection was lost (or closed by the server). */
  disconnect: [info: DisconnectInfo];
  /** A reconnection is scheduled. */
  reconnecting: [info: ReconnectingInfo];
  /** Every application message received (responses to `request()` excepted). */
  message: [message: ReceivedMessage];
  /** Each packet written / decoded (for tracing, e.g. `culex pub -d`). */
  packetSend: [packet: Packet];
  packetReceive: [packet: Packet];
  /** Non-fatal problems: a store write failed, a resubscription was refused. */
  warning: [error: Error];
  /** The client is closed for good: undefined after `end()`, else the error that closed it. */
  close: [error: Error | undefined];
}

export function invalid(message: string): MqttClientError {
  return new MqttClientError('MQTT_ERR_INVALID_ARGUMENT', message);
}

export function checkPublish(topic: string, qos: number, properties: Properties | undefined, version: ProtocolVersion):
MqttClientError | undefined {
  if (typeof topic !== 'string') return invalid('topic must be a string');
  const problem = validateTopicName(topic);
  if (problem !== undefined) return invalid(`invalid topic name ${JSON.stringify(topic)}: ${problem}`);
  if (qos !== 0 && qos !== 1 && qos !== 2) return invalid(`qos must be 0, 1 or 2, got ${String(qos)}`);
  if (version === 5 && properties?.subscriptionIdentifiers !== undefined) {
    return invalid('a client may not send Subscription Identifiers in PUBLISH [MQTT-3.3.4-6]');
  }
  return undefined;
}

export function toSubscriptions(filters: string | string[] | SubscriptionRequest[], options: SubscribeOptions):
Subscription[] {
  const list: SubscriptionRequest[] = (Array.isArray(filters) ? filters : [filters]).map((f) =>
    typeof f === 'string' ? { ...options, topicFilter: f } : { ...options, ...f });
  if (list.length === 0) throw invalid('subscribe needs at least one topic filter');
  return list.map((r) => {
    const problem = validateTopicFilter(r.topicFilter);
    if (problem !== undefined) throw invalid(`invalid topic filter ${JSON.stringify(r.topicFilter)}: ${problem}`);
    const qos = r.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw invalid(`qos must be 0, 1 or 2, got ${String(qos)}`);
    return {
      topicFilter: r.topicFilter,
      qos,
      noLocal: r.noLocal ?? false,
      retainAsPublished: r.retainAsPublished ?? false,
      retainHandling: r.retainHandling ?? 0,
    };
  });
}

/** A Server Reference ("host", "host:port", "[v6]:port"; the first of a space-separated list). */
export function parseServerReference(reference: string, defaultPort: number): { host: string; port: number } | undefined {
  const first = reference.trim().split(/\s+/)[0];
  if (first === undefined || first === '') return undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(first);
  if (v6 !== null) return { host: v6[1]!, port: v6[2] === undefined ? defaultPort : Number(v6[2]) };
  const colon = first.lastIndexOf(':');
  if (colon === -1) return { host: first, port: defaultPort };
  const port = Number(first.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  return { host: first.slice(0, colon), port };
}

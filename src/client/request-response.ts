/**
 * MQTT 5 request/response (section 4.10): `client.request(topic, payload)` publishes with a Response Topic and
 * Correlation Data and resolves with the first message that comes back on that topic with the same Correlation
 * Data. The client subscribes once, lazily, to one response topic of its own (under the server's Response
 * Information when it sent one, else `culex/responses/<random>`); the subscription is resubscribed after a
 * reconnection like any other. Each request has a timeout, so none waits forever.
 */
import { randomBytes } from 'node:crypto';
import type { Properties, QoS } from '../protocol/types.js';
import { MqttClientError } from './errors.js';
import type { ReceivedMessage } from './message-stream.js';
import type { SubscribeGrant } from './subscriptions.js';

export interface RequestOptions {
  /** Default 30,000 ms; the promise then rejects with MQTT_ERR_REQUEST_TIMEOUT. */
  timeoutMs?: number;
  /** QoS of the request PUBLISH. Default 1. */
  qos?: QoS;
  /** Extra properties (contentType, userProperties, …); responseTopic and correlationData are set here. */
  properties?: Properties;
}

export interface RequestLink {
  subscribe(filter: string, qos: QoS): Promise<SubscribeGrant[]>;
  publish(topic: string, payload: Buffer, qos: QoS, properties: Properties): Promise<void>;
  responseInformation(): string | undefined;
}

interface Waiter {
  resolve: (m: ReceivedMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class Requests {
  readonly #link: RequestLink;
  #responseTopic: Promise<string> | undefined;
  #topic: string | undefined;
  readonly #waiting = new Map<string, Waiter>();

  constructor(link: RequestLink) {
    this.#link = link;
  }

  async request(topic: string, payload: Buffer, options: RequestOptions = {}): Promise<ReceivedMessage> {
    const responseTopic = await this.#ensureSubscribed();
    const correlation = randomBytes(16);
    const key = correlation.toString('hex');
    const response = new Promise<ReceivedMessage>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new MqttClientError('MQTT_ERR_REQUEST_TIMEOUT', `no response on ${responseTopic} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(key, { resolve, reject, timer });
    });
    const properties: Properties = { ...options.properties, responseTopic, correlationData: correlation };
    try {
      await this.#link.publish(topic, payload, options.qos ?? 1, properties);
    } catch (err) {
      this.#settle(key)?.reject(err as Error);
    }
    return response;
  }

  /** True when the message was a response to a pending request (and is consumed by it). */
  offer(message: ReceivedMessage): boolean {
    if (this.#topic === undefined || message.topic !== this.#topic) return false;
    const data = message.properties?.correlationData;
    if (data === undefined) return false;
    const waiter = this.#settle(data.toString('hex'));
    if (waiter === undefined) return false;
    waiter.resolve(message);
    return true;
  }

  failAll(error: Error): void {
    for (const key of this.#waiting.keys()) this.#settle(key)?.reject(error);
  }

  #settle(key: string): Waiter | undefined {
    const waiter = this.#waiting.get(key);
    if (waiter === undefined) return undefined;
    this.#waiting.delete(key);
    clearTimeout(waiter.timer);
    return waiter;
  }

  #ensureSubscribed(): Promise<string> {
    this.#responseTopic ??= (async () => {
      const info = this.#link.responseInformation();
      const base = info !== undefined && info !== '' ? info.replace(/\/$/, '') : 'culex/responses';
      const topic = `${base}/${randomBytes(8).toString('hex')}`;
      const [grant] = await this.#link.subscribe(topic, 1);
      if (grant === undefined || grant.reasonCode >= 0x80) {
        throw new MqttClientError('MQTT_ERR_PUBLISH_REFUSED', `subscription to the response topic ${topic} refused`,
          grant === undefined ? {} : { reasonCode: grant.reasonCode });
      }
      this.#topic = topic;
      return topic;
    })();
    this.#responseTopic.catch(() => { this.#responseTopic = undefined; });
    return this.#responseTopic;
  }
}

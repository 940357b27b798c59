/**
 * The Culex MQTT client library: `import { connect } from 'culex'`.
 *
 * ## Connecting
 * `connect(url | options, options?)` resolves with a connected `MqttClient`, or rejects with a typed error if the
 * first connection fails (`ConnackError` with the server's `reasonCode`, or MQTT_ERR_CONNECT_TIMEOUT, or the socket
 * error). URLs: `mqtt://user:password@host:1883`, `mqtts://` (TLS, `tls: { ca, cert, key, rejectUnauthorized,
 * servername, ALPNProtocols, checkServerIdentity, minVersion }`), `ws://host:port/path` and `wss://` (WebSocket,
 * subprotocol `mqtt`); `socketPath` for a Unix socket, `localAddress` to bind the local end.
 * `protocolVersion`: 3 (MQTT 3.1), 4 (3.1.1, the default) or 5. `createClient(...)` returns the client at once and
 * keeps retrying a failed first connection too (with a durable store, publishes made before the first connection
 * are kept).
 *
 * ```ts
 * const client = await connect('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: 'app-1' });
 * await client.subscribe('sensors/+/temp', { qos: 1 });          // → [{ topicFilter, reasonCode: 1, qos: 1 }]
 * await client.publish('sensors/a/temp', '21.5', { qos: 1 });    // settles on PUBACK
 * for await (const m of client.messages('sensors/#')) console.log(m.topic, m.payload.toString());
 * await client.end();
 * ```
 *
 * ## Promises
 * - `publish(topic, payload, { qos, retain, properties })` resolves when the QoS flow completes (QoS 0: written;
 *   QoS 1: PUBACK; QoS 2: PUBCOMP). It rejects with `PublishError` (`code` MQTT_ERR_PUBLISH_REFUSED, `reasonCode`)
 *   for a failed PUBACK/PUBREC, MQTT_ERR_PACKET_TOO_LARGE over the server's Maximum Packet Size, MQTT_ERR_QUEUE_FULL
 *   when `maxQueuedMessages` are already waiting, and MQTT_ERR_CLIENT_CLOSED / MQTT_ERR_CONNECTION_LOST when the
 *   client closes before the message can complete. While the client is reconnecting the promise stays pending
 *   and completes after reconnection; it never hangs past the client's close.
 * - `subscribe(filter | filters | [{ topicFilter, qos, noLocal, … }], options)` resolves with one `SubscribeGrant`
 *   per filter (granted `qos`, or a failure `reasonCode` ≥ 0x80 — a refused filter does not reject).
 * - `unsubscribe(filters)` resolves with one reason code per filter (always 0 before MQTT 5).
 * - `request(topic, payload, { timeoutMs })` (MQTT 5) publishes with a Response Topic and Correlation Data and
 *   resolves with the response message.
 * - `reauthenticate(data?)` (MQTT 5 enhanced authentication) resolves on the server's AUTH Success.
 * - `end({ force, reasonCode, properties })` waits for pending publishes (unless `force`), sends DISCONNECT, and
 *   settles everything still pending with MQTT_ERR_CLIENT_CLOSED.
 *
 * ## Messages and events
 * `client.messages(filter?)` is an async iterator of `ReceivedMessage` (topic, payload, qos, retain, dup,
 * properties) matching the filter; it ends when the client closes. Typed events (`ClientEvents`): 'connect',
 * 'disconnect', 'reconnecting', 'message', 'packetSend', 'packetReceive', 'warning', 'close'.
 *
 * ## Reliability
 * Reconnection with exponential backoff and jitter (`reconnect: { initialDelayMs, maxDelayMs, maxAttempts }` or
 * `false`); subscriptions are resubscribed when the CONNACK says the session is not present; with `clean: false`
 * (and an MQTT 5 `sessionExpiryIntervalSeconds`) unacknowledged QoS 1/2 publishes are resent with DUP set and
 * their original packet ids. The in-flight store (`store`, an `InflightStore`: `MemoryStore` by default,
 * `FileStore(dir)` to survive a process restart) holds every QoS 1/2 publish until its flow completes, including
 * publishes made while offline; the queue of unsent publishes is bounded (`maxQueuedMessages`). `connectTimeoutMs`
 * bounds each attempt; keepalive is measured on a monotonic clock and tolerates a stalled event loop.
 *
 * ## MQTT 5
 * The server's Receive Maximum bounds publishes in flight; its Maximum Packet Size is checked before sending; Topic
 * Aliases are assigned automatically up to its Topic Alias Maximum (`useTopicAliases`); Server Keep Alive replaces
 * ours; an Assigned Client Identifier is adopted and reused on reconnection; `followServerReference` reconnects to
 * a Server Reference on "Use another server" / "Server moved"; enhanced authentication through
 * `authenticationMethod`, `authenticationData` and `onAuth(challenge)`; user properties everywhere through
 * `properties.userProperties`.
 */
import { MqttClient } from './client.js';
import { resolveOptions, type ClientOptions } from './options.js';

/**
 * Connects and resolves once the server accepted the connection.
 * @example
 * const client = await connect('mqtts://alice:secret@broker.example:8883', { tls: { ca: readFileSync('ca.pem') } });
 */
export async function connect(url: string | ClientOptions, options: ClientOptions = {}): Promise<MqttClient> {
  const client = new MqttClient(resolveOptions(url, options), true);
  await client.ready;
  return client;
}

/**
 * Creates a client that connects (and retries, per `reconnect`) in the background. Await `client.ready` for the
 * first connection.
 * @example
 * const client = createClient({ url: 'mqtt://broker', clientId: 'meter-1', clean: false, store: new FileStore('q') });
 * client.publish('meters/1', reading, { qos: 1 }); // kept on disk until acknowledged, even across restarts
 */
export function createClient(url: string | ClientOptions, options: ClientOptions = {}): MqttClient {
  return new MqttClient(resolveOptions(url, options), false);
}

export { MqttClient, type ClientState } from './client.js';
export type {
  ClientEvents, ConnectionInfo, DisconnectInfo, EndOptions, PublishOptions, ReconnectingInfo, SubscribeGrant,
  SubscribeOptions, SubscriptionRequest, UnsubscribeResult,
} from './api.js';
export type {
  AuthChallenge, AuthResponse, ClientOptions, DialTarget, ReconnectOptions, Scheme, TlsOptions, WillOptions,
} from './options.js';
export { ConnackError, MqttClientError, PublishError, type ClientErrorCode } from './errors.js';
export { MessageStream, type MessageStreamOptions, type ReceivedMessage } from './message-stream.js';
export type { RequestOptions } from './request-response.js';
export { MemoryStore, type InflightStore, type StoredPublish } from './store.js';
export { FileStore, type FileStoreOptions } from './file-store.js';

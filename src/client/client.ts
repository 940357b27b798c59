/**
 * The MQTT client: one explicit state machine over a series of network connections.
 *
 * Design note: `state` is the only lifecycle field ('connecting' → 'connected' → 'reconnecting' → … → 'closing' →
 * 'closed'); `#setState` is the single place it changes. Each network connection is a `Conn` (stream, decoder,
 * keepalive, per-connection MQTT 5 limits); events from a stale Conn are ignored by identity, so a late 'close'
 * from an old socket cannot disturb the next one. Everything that outlives a connection — the outbound publish
 * flow (outbound.ts), QoS 2 receive state (inbound.ts), subscriptions (subscriptions.ts), re-authentication
 * (auth.ts), requests (request-response.ts) — lives in its own unit, told `online` / `offline` here. Every promise
 * the API hands out settles: on success, on a refusal from the server, or with MQTT_ERR_CLIENT_CLOSED /
 * MQTT_ERR_CONNECTION_LOST when the client closes (by `end()`, by a refused first connection, or when reconnection
 * gives up) — never a silent hang.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Decoder } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { ConnackPacket, DisconnectPacket, Packet, Properties, QoS } from '../protocol/types.js';
import { Authenticator } from './auth.js';
import { buildConnect } from './connect-packet.js';
import { dial } from './dial.js';
import { ConnackError, MqttClientError } from './errors.js';
import { Inbound } from './inbound.js';
import { Keepalive } from './keepalive.js';
import { MessageStream, type MessageStreamOptions, type ReceivedMessage } from './message-stream.js';
import type { ResolvedOptions } from './options.js';
import { Outbound, type OutMessage } from './outbound.js';
import { buildPublish, checkOutMessage } from './publish-packet.js';
import { closeOf, closedError, deferred, raceTimeout, toBuffer } from './util.js';
import { PacketIds } from './packet-ids.js';
import { Backoff } from './reconnect.js';
import { Requests, type RequestOptions } from './request-response.js';
import { MemoryStore, type InflightStore } from './store.js';
import { Subscriptions } from './subscriptions.js';
import { TopicAliases } from './topic-aliases.js';
import * as api from './api.js';

export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

interface Conn {
  stream: Duplex;
  decoder: Decoder;
  keepalive: Keepalive;
  aliases: TopicAliases;
  isConnacked: boolean;
  serverMaxPacketBytes: number;
  maximumQoS: QoS;
  isRetainAvailable: boolean;
  connectTimer: NodeJS.Timeout | undefined;
  /** Why it ended, when we know better than "the socket closed". */
  error: Error | undefined;
  /** MQTT 5 Server Reference to reconnect to, when followed. */
  redirect: { host: string; port: number } | undefined;
  /** We are closing it: nothing more is read or handled. */
  isClosing: boolean;
}

export class MqttClient extends EventEmitter<api.ClientEvents> {
  readonly #o: ResolvedOptions;
  readonly #store: InflightStore;
  readonly #ids = new PacketIds();
  readonly #outbound: Outbound;
  readonly #inbound: Inbound;
  readonly #subscriptions: Subscriptions;
  readonly #auth: Authenticator;
  readonly #requests: Requests;
  readonly #backoff: Backoff | undefined;
  readonly #streams = new Set<MessageStream>();
  readonly #isFailFast: boolean;
  #state: ClientState = 'connecting';
  #clientId: string;
  #conn: Conn | undefined;
  #connack: api.ConnectionInfo | undefined;
  #hasConnected = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Identity of the current connection attempt; a dial that outlives its attempt is discarded. */
  #attemptToken: object | undefined;
  #redirects = 0;
  #ready: { promise: Promise<api.ConnectionInfo>; resolve: (i: api.ConnectionInfo) => void; reject: (e: Error) => void };
  #closed: { promise: Promise<void>; resolve: () => void };

  /** Use `connect()` or `createClient()`. `isFailFast`: a failed first connection closes the client. */
  constructor(options: ResolvedOptions, isFailFast: boolean) {
    super();
    this.#o = options;
    this.#isFailFast = isFailFast;
    this.#clientId = options.clientId;
    this.#store = options.store ?? new MemoryStore();
    this.#backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect);
    this.#ready = deferred<api.ConnectionInfo>();
    this.#ready.promise.catch(() => undefined);
    const closed = deferred<void>();
    this.#closed = closed;
    const v = options.protocolVersion;
    this.#outbound = new Outbound(this.#store, this.#ids, {
      check: (m) => this.#check(m),
      sendPublish: (m, dup) => this.#sendPublish(m, dup),
      sendPubrel: (packetId) => this.#send({ type: 6, packetId, reasonCode: 0, ...(v === 5 ? { properties: {} } : {}) }),
      storeFailed: (err) => this.#warn(new MqttClientError('MQTT_ERR_STORE', 'in-flight store write failed', { cause: err })),
    }, { maxQueued: options.maxQueuedMessages, maxInflight: options.maxInflight });
    this.#inbound = new Inbound({ send: (p) => this.#send(p), deliver: (m) => this.#deliver(m) }, v,
      options.properties.topicAliasMaximum ?? 0);
    this.#subscriptions = new Subscriptions(this.#ids, { send: (p) => this.#send(p), warn: (e) => this.#warn(e) }, v);
    this.#auth = new Authenticator(options.authenticationMethod, options.onAuth, {
      send: (p) => this.#send(p),
      isConnected: () => this.#state === 'connected',
      fail: (err) => this.#dropConnection(err, ReasonCode.NotAuthorized),
    });
    this.#requests = new Requests({
      subscribe: (filter, qos) => this.subscribe(filter, { qos }),
      publish: (topic, payload, qos, properties) => this.publish(topic, payload, { qos, properties }),
      responseInformation: () => this.#connack?.properties.responseInformation,
    });
    void this.#start();
  }

  /** 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed'. */
  get state(): ClientState {
    return this.#state;
  }

  /** The client identifier in use (the server's Assigned Client Identifier once it sent one). */
  get clientId(): string {
    return this.#clientId;
  }

  get protocolVersion(): 3 | 4 | 5 {
    return this.#o.protocolVersion;
  }

  /** What the last successful CONNACK said; undefined before the first connection. */
  get connection(): api.ConnectionInfo | undefined {
    return this.#connack;
  }

  /** Publishes queued or in flight (not yet acknowledged). */
  get pendingPublishes(): number {
    return this.#outbound.pendingCount;
  }

  /** Resolves on the first successful connection; rejects if the client closes before one. */
  get ready(): Promise<api.ConnectionInfo> {
    return this.#ready.promise;
  }

  publish(topic: string, payload: string | Buffer | Uint8Array, options: api.PublishOptions = {}): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return Promise.reject(closedError());
    const qos = options.qos ?? 0;
    const problem = api.checkPublish(topic, qos, options.properties, this.#o.protocolVersion);
    if (problem !== undefined) return Promise.reject(problem);
    const properties = this.#o.protocolVersion === 5 ? options.properties : undefined;
    return this.#outbound.publish(topic, toBuffer(payload), qos, options.retain ?? false, properties);
  }

  subscribe(filters: string | string[] | api.SubscriptionRequest[], options: api.SubscribeOptions = {}):
  Promise<api.SubscribeGrant[]> {
    if (this.#state === 'closed' || this.#state === 'closing') return Promise.reject(closedError());
    let subscriptions;
    try {
      subscriptions = api.toSubscriptions(filters, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#subscriptions.subscribe(subscriptions, options.properties);
  }

  unsubscribe(filters: string | string[], options: { properties?: Properties } = {}): Promise<api.UnsubscribeResult[]> {
    if (this.#state === 'closed' || this.#state === 'closing') return Promise.reject(closedError());
    const list = typeof filters === 'string' ? [filters] : filters;
    if (list.length === 0) return Promise.reject(api.invalid('unsubscribe needs at least one topic filter'));
    return this.#subscriptions.unsubscribe(list, options.properties);
  }

  /**
   * Received messages matching `filter` (all when omitted), from now on. It does not subscribe: call `subscribe`.
   * The iterator ends when the client closes; `break` unregisters it.
   */
  messages(filter?: string, options: MessageStreamOptions = {}): MessageStream {
    const stream = new MessageStream(filter, (s) => this.#streams.delete(s), options);
    if (this.#state === 'closed') stream.finish();
    else this.#streams.add(stream);
    return stream;
  }

  /** MQTT 5: publish a request and resolve with its response (Response Topic + Correlation Data). */
  request(topic: string, payload: string | Buffer | Uint8Array, options: RequestOptions = {}): Promise<ReceivedMessage> {
    if (this.#o.protocolVersion !== 5) return Promise.reject(api.invalid('request() needs protocolVersion 5'));
    if (this.#state === 'closed' || this.#state === 'closing') return Promise.reject(closedError());
    return this.#requests.request(topic, toBuffer(payload), options);
  }

  /** MQTT 5: re-authenticate on the live connection (AUTH 0x19); resolves on the server's AUTH Success. */
  reauthenticate(data?: Buffer): Promise<void> {
    return this.#auth.reauthenticate(data);
  }

  /**
   * Closes the client: waits (up to `endTimeoutMs`) for queued and in-flight publishes unless `force`, sends
   * DISCONNECT, and settles everything still pending with MQTT_ERR_CLIENT_CLOSED.
   */
  async end(options: api.EndOptions = {}): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') return this.#closed.promise;
    const wasConnected = this.#state === 'connected';
    this.#setState('closing');
    clearTimeout(this.#reconnectTimer);
    const conn = this.#conn;
    if (conn !== undefined && wasConnected) {
      if (options.force !== true && this.#outbound.pendingCount > 0) {
        await raceTimeout(Promise.race([this.#outbound.whenDrained(), closeOf(conn.stream)]),
          options.timeoutMs ?? this.#o.endTimeoutMs);
      }
      const disconnect: DisconnectPacket = { type: 14, reasonCode: options.reasonCode ?? 0 };
      if (this.#o.protocolVersion === 5) disconnect.properties = options.properties ?? {};
      this.#send(disconnect);
      conn.stream.end();
      await raceTimeout(closeOf(conn.stream), 1000);
    }
    this.#finish(closedError());
  }

  // ----------------------------------------------------------------------------------------------------------
  // Lifecycle

  #setState(next: ClientState): void {
    this.#state = next;
  }

  async #start(): Promise<void> {
    try {
      await this.#outbound.restore();
    } catch (cause) {
      this.#finish(new MqttClientError('MQTT_ERR_STORE', 'could not load the in-flight store', { cause }));
      return;
    }
    if (this.#state === 'connecting') void this.#attempt();
  }

  async #attempt(): Promise<void> {
    this.#setState('connecting');
    const token = {};
    this.#attemptToken = token;
    const timeoutMs = this.#o.connectTimeoutMs;
    const timer = setTimeout(() => {
      if (this.#attemptToken !== token) return;
      const error = new MqttClientError('MQTT_ERR_CONNECT_TIMEOUT', `not connected within ${timeoutMs} ms`);
      if (this.#conn !== undefined) {
        this.#dropConnection(error);
      } else {
        this.#attemptToken = undefined; // the dial still running is abandoned
        this.#afterLoss(error, undefined);
      }
    }, timeoutMs);
    let stream: Duplex;
    try {
      stream = await (this.#o.dial ?? dial)(this.#o.target);
    } catch (err) {
      if (this.#attemptToken !== token) return;
      clearTimeout(timer);
      this.#afterLoss(err as Error, undefined);
      return;
    }
    if (this.#attemptToken !== token || this.#state !== 'connecting') {
      clearTimeout(timer);
      stream.destroy();
      return;
    }
    this.#attach(stream, timer);
  }

  #attach(stream: Duplex, connectTimer: NodeJS.Timeout): void {
    const conn: Conn = {
      stream,
      decoder: new Decoder({ protocolVersion: this.#o.protocolVersion, maxPacketBytes: this.#o.properties.maximumPacketSize }),
      keepalive: new Keepalive({
        sendPing: () => this.#send({ type: 12 }),
        timedOut: () => this.#dropConnection(new MqttClientError('MQTT_ERR_CONNECTION_LOST', 'no PINGRESP in time')),
      }, this.#o.keepaliveSeconds * 1000),
      aliases: new TopicAliases(0),
      isConnacked: false,
      serverMaxPacketBytes: Infinity,
      maximumQoS: 2,
      isRetainAvailable: true,
      connectTimer,
      error: undefined,
      redirect: undefined,
      isClosing: false,
    };
    this.#conn = conn;
    stream.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
    stream.on('error', (err) => { conn.error ??= err; });
    stream.on('close', () => this.#onClose(conn));
    this.#send(buildConnect(this.#o, this.#clientId));
  }

  #onData(conn: Conn, chunk: Buffer): void {
    if (this.#conn !== conn || conn.isClosing) return;
    conn.decoder.push(chunk);
    try {
      for (let p = conn.decoder.next(); p !== null && this.#conn === conn && !conn.isClosing; p = conn.decoder.next()) {
        this.emit('packetReceive', p);
        this.#handle(conn, p);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.#dropConnection(new MqttClientError('MQTT_ERR_PROTOCOL', err.message, { reasonCode: err.reasonCode, cause: err }),
        err.reasonCode);
    }
  }

  #handle(conn: Conn, p: Packet): void {
    if (!conn.isConnacked && p.type !== 2 && p.type !== 15 && p.type !== 14) {
      throw new ProtocolError(ReasonCode.ProtocolError, `${p.type} before CONNACK`);
    }
    switch (p.type) {
      case 2: return this.#onConnack(conn, p);
      case 3: return this.#inbound.onPublish(p);
      case 4: return this.#outbound.onPuback(p.packetId, p.reasonCode, p.properties?.reasonString);
      case 5:
        if (!this.#outbound.onPubrec(p.packetId, p.reasonCode, p.properties?.reasonString) && p.reasonCode < 0x80) {
          this.#send({ type: 6, packetId: p.packetId, reasonCode: ReasonCode.PacketIdentifierNotFound,
            ...(this.#o.protocolVersion === 5 ? { properties: {} } : {}) });
        }
        return;
      case 6: return this.#inbound.onPubrel(p);
      case 7: return this.#outbound.onPubcomp(p.packetId);
      case 9: return this.#subscriptions.onSuback(p.packetId, p.reasonCodes);
      case 11: return this.#subscriptions.onUnsuback(p.packetId, p.reasonCodes);
      case 13: return conn.keepalive.pingResponse();
      case 14: return this.#onServerDisconnect(conn, p);
      case 15: return this.#auth.onAuth(p);
      default: throw new ProtocolError(ReasonCode.ProtocolError, `a server may not send packet type ${p.type}`);
    }
  }

  #onConnack(conn: Conn, p: ConnackPacket): void {
    if (conn.isConnacked) throw new ProtocolError(ReasonCode.ProtocolError, 'second CONNACK', 'MQTT-3.2.0-1');
    clearTimeout(conn.connectTimer);
    const props = p.properties ?? {};
    if (p.reasonCode !== 0) {
      conn.error = new ConnackError(p.reasonCode, props.reasonString);
      conn.redirect = this.#redirectFor(p.reasonCode, props.serverReference);
      conn.stream.destroy();
      return;
    }
    conn.isConnacked = true;
    if (props.assignedClientIdentifier !== undefined) this.#clientId = props.assignedClientIdentifier;
    conn.serverMaxPacketBytes = props.maximumPacketSize ?? Infinity;
    conn.maximumQoS = (props.maximumQoS ?? 2) as QoS;
    conn.isRetainAvailable = props.retainAvailable !== 0;
    conn.aliases.reset(this.#o.useTopicAliases ? props.topicAliasMaximum ?? 0 : 0);
    // Server Keep Alive replaces ours [MQTT-3.1.2-21].
    const keepaliveSeconds = props.serverKeepAlive ?? this.#o.keepaliveSeconds;
    conn.keepalive.setInterval(keepaliveSeconds * 1000);
    conn.keepalive.start();
    this.#connack = {
      sessionPresent: p.sessionPresent, clientId: this.#clientId, keepaliveSeconds, properties: props,
    };
    this.#setState('connected');
    this.#hasConnected = true;
    this.#redirects = 0;
    this.#backoff?.reset();
    this.#inbound.newConnection(p.sessionPresent);
    this.#subscriptions.online(p.sessionPresent);
    this.#outbound.online(p.sessionPresent, props.receiveMaximum ?? 65_535);
    this.emit('connect', this.#connack);
    this.#ready.resolve(this.#connack);
  }

  #onServerDisconnect(conn: Conn, p: DisconnectPacket): void {
    const props = p.properties ?? {};
    conn.error = new MqttClientError('MQTT_ERR_SERVER_DISCONNECT', `the server disconnected with reason code 0x${p.reasonCode
      .toString(16).padStart(2, '0')}${props.reasonString === undefined ? '' : `: ${props.reasonString}`}`,
    { reasonCode: p.reasonCode });
    conn.redirect = this.#redirectFor(p.reasonCode, props.serverReference);
    conn.stream.destroy();
  }

  #redirectFor(reasonCode: number, reference: string | undefined): Conn['redirect'] {
    if (!this.#o.followServerReference || reference === undefined) return undefined;
    if (reasonCode !== ReasonCode.UseAnotherServer && reasonCode !== ReasonCode.ServerMoved) return undefined;
    return api.parseServerReference(reference, this.#o.target.port);
  }

  /** Closes the current connection for a reason of ours (MQTT 5: DISCONNECT with `reasonCode` first). */
  #dropConnection(error: Error, reasonCode?: number): void {
    const conn = this.#conn;
    if (conn === undefined || conn.isClosing) return;
    conn.error ??= error;
    if (reasonCode !== undefined && this.#o.protocolVersion === 5 && conn.isConnacked) {
      this.#send({ type: 14, reasonCode, properties: {} });
      // Let the DISCONNECT reach the server before the socket goes; destroy it if the server does not close.
      conn.isClosing = true;
      conn.stream.end();
      setTimeout(() => conn.stream.destroy(), 1000).unref();
      return;
    }
    conn.isClosing = true;
    conn.stream.destroy();
  }

  #onClose(conn: Conn): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    clearTimeout(conn.connectTimer);
    conn.keepalive.stop();
    this.#outbound.offline();
    const error = conn.error ?? new MqttClientError('MQTT_ERR_CONNECTION_LOST', 'connection closed');
    this.#auth.fail(error);
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (conn.isConnacked) this.emit('disconnect', { error, willReconnect: this.#canRetry() });
    this.#afterLoss(error, conn.redirect);
  }

  #canRetry(): boolean {
    return this.#backoff !== undefined && (this.#hasConnected || !this.#isFailFast);
  }

  #afterLoss(error: Error, redirect: Conn['redirect']): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (redirect !== undefined && this.#redirects < 5) {
      this.#redirects++;
      this.#o.target = { ...this.#o.target, ...redirect };
      this.#setState('reconnecting');
      this.emit('reconnecting', { attempt: 0, delayMs: 0, error });
      void this.#attempt();
      return;
    }
    if (!this.#canRetry()) {
      this.#finish(error);
      return;
    }
    const delayMs = this.#backoff!.next();
    if (delayMs === undefined) {
      this.#finish(new MqttClientError('MQTT_ERR_CONNECTION_LOST',
        `gave up after ${this.#backoff!.attempt} failed reconnection attempts`, { cause: error }));
      return;
    }
    this.#setState('reconnecting');
    this.emit('reconnecting', { attempt: this.#backoff!.attempt, delayMs, error });
    this.#reconnectTimer = setTimeout(() => {
      if (this.#state === 'reconnecting') void this.#attempt();
    }, delayMs);
  }

  /** Final transition: everything pending settles with `error`; streams end; 'close' is emitted once. */
  #finish(error: Error): void {
    if (this.#state === 'closed') return;
    const wasEnded = this.#state === 'closing';
    this.#setState('closed');
    this.#attemptToken = undefined;
    clearTimeout(this.#reconnectTimer);
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) {
      clearTimeout(conn.connectTimer);
      conn.keepalive.stop();
      conn.stream.destroy();
    }
    this.#outbound.failAll(error);
    this.#subscriptions.failAll(error);
    this.#requests.failAll(error);
    this.#auth.fail(error);
    for (const s of this.#streams) s.finish();
    this.#streams.clear();
    this.#ready.reject(error);
    this.#store.close().catch((err: unknown) => this.#warn(err as Error)).finally(() => {
      this.emit('close', wasEnded ? undefined : error);
      this.#closed.resolve();
    });
  }

  // ----------------------------------------------------------------------------------------------------------
  // Sending and delivering

  #send(packet: Packet): boolean {
    const conn = this.#conn;
    if (conn === undefined || (!conn.isConnacked && packet.type !== 1 && packet.type !== 15)) return false;
    const bytes = encode(packet, this.#o.protocolVersion);
    this.emit('packetSend', packet);
    conn.stream.write(bytes);
    conn.keepalive.packetSent();
    return true;
  }

  #check(m: OutMessage): MqttClientError | undefined {
    const conn = this.#conn;
    return conn === undefined ? undefined : checkOutMessage(m, conn, this.#o.protocolVersion);
  }

  #sendPublish(m: OutMessage, dup: boolean): void {
    const alias = this.#o.protocolVersion === 5 ? this.#conn?.aliases.choose(m.topic) : undefined;
    this.#send(buildPublish(m, dup, alias, this.#o.protocolVersion));
  }

  #deliver(message: ReceivedMessage): void {
    if (this.#requests.offer(message)) return;
    this.emit('message', message);
    for (const s of this.#streams) s.offer(message);
  }

  #warn(error: Error): void {
    this.emit('warning', error);
  }
}

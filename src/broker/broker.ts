/**
 * The broker: wiring only. It owns the registries (sessions, live clients, subscriptions, retained messages), the
 * store, the hooks and the timers, and hands every accepted stream to a Connection. It imports no transport: the
 * composition root (`createBroker`, the CLI) decides where streams come from.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { ReasonCode } from '../protocol/reason-codes.js';
import { parseSharedFilter } from '../protocol/topic.js';
import type { Properties, QoS, Will } from '../protocol/types.js';
import { MemoryPersistence } from '../persistence/memory/memory-persistence.js';
import type { Persistence, StoredMessage, StoredSubscription } from '../persistence/persistence.js';
import type { ByteStream } from './byte-stream.js';
import { resolveOptions, type BrokerOptions, type ResolvedOptions } from './config.js';
import { Connection, type CloseReason } from './connection.js';
import type { BrokerContext } from './context.js';
import { DurableAcks } from './durable-acks.js';
import { sendDurablePublishAck, type DurableAckTicket } from './handlers/publish.js';
import { buildAuthChecks, isPromise, type AuthChecks, type ClientInfo } from './hooks.js';
import { LoginBackoff } from './login-backoff.js';
import { silentLogger, type Logger } from './logger.js';
import { Message } from './message.js';
import { RetainedIndex } from './retained.js';
import { Router, type RouteEntry } from './router.js';
import { Session, type SessionLimits } from './session.js';
import { SharedMember } from './shared.js';
import { Stats } from './stats.js';
import type { SubscriptionTrie } from './subscription-trie.js';
import { SysReporter } from './sys.js';
import { DelayedWills, willMessage, willToStored } from './will.js';
import type { TransportInfo } from './transport-info.js';

export interface BrokerEvents {
  clientConnected: [client: ClientInfo];
  clientDisconnected: [client: ClientInfo, reason: string];
  subscribed: [client: ClientInfo, topicFilters: string[]];
  unsubscribed: [client: ClientInfo, topicFilters: string[]];
  published: [message: Message, client: ClientInfo | undefined];
  error: [error: Error];
}

/** How `disconnectClient` ends a connection (MQTT 5 DISCONNECT reason and properties). */
export interface DisconnectClientOptions {
  /** 0x98 Administrative action by default; 0x9C Use another server / 0x9D Server moved redirect the client. */
  readonly reasonCode?: number;
  /** Sent with 0x9C/0x9D: where the client should connect instead (section 4.11). */
  readonly serverReference?: string;
  readonly reasonString?: string;
}

/** Something the broker closes when it closes (a listener). */
export interface Closable {
  close(): Promise<void>;
}

const NEVER_EXPIRES = 0xffff_ffff;
/** At start-up the broker rebuilds its state a slice per event-loop turn; a slice ends after this many ms. */
const RESTORE_SLICE_MS = 3;
/** How often connect timeouts, keepalives and session expiry are checked. */
const SWEEP_INTERVAL_MS = 250;

export class Broker extends EventEmitter<BrokerEvents> implements BrokerContext {
  readonly options: ResolvedOptions;
  readonly hooks: AuthChecks;
  readonly loginBackoff: LoginBackoff | undefined;
  readonly logger: Logger;
  readonly persistence: Persistence;
  readonly durableAcks: DurableAcks<Connection, DurableAckTicket>;
  readonly stats = new Stats();
  readonly sessions = new Map<string, Session>();
  readonly clients = new Map<string, Connection>();
  readonly retained = new RetainedIndex<Message>();
  readonly ready: Promise<void>;
  #isReady = false;
  /** MQTT 5 wills waiting out their Will Delay Interval. */
  readonly delayedWills: DelayedWills;
  readonly #router: Router;
  /** One object for every session (the options do not change). */
  readonly #sessionLimits: SessionLimits;
  readonly #connections = new Set<Connection>();
  readonly #closables = new Set<Closable>();
  publishingConnection: Connection | null = null;
  #flushQueue: Connection[] = [];
  #isFlushScheduled = false;
  #sweepTimer: NodeJS.Timeout;
  #sysTimer: NodeJS.Timeout | undefined;
  readonly #sys: SysReporter | undefined;
  #isClosed = false;

  constructor(options: BrokerOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.logger = options.logger ?? silentLogger;
    this.hooks = buildAuthChecks(options, options.authLinks ?? [], {
      allowAnonymous: options.allowAnonymous, logger: this.logger,
    });
    this.loginBackoff = options.loginBackoff === false ? undefined : new LoginBackoff(options.loginBackoff);
    const { maxInflight, maxQueuedMessages, maxQueuedBytes } = this.options;
    this.#sessionLimits = { maxInflight, maxQueuedMessages, maxQueuedBytes };
    this.#router = new Router(this.hooks.authorizeRead, this.options.sharedSubscriptionStrategy);
    this.persistence = options.persistence ?? new MemoryPersistence();
    this.durableAcks = new DurableAcks(this.persistence, sendDurablePublishAck);
    this.delayedWills = new DelayedWills(this.persistence, (clientId, will) => this.#publishWill(clientId, will));
    this.stats.sessionCounters.onDrop = (clientId, total, reason) => {
      this.logger.warn(`Dropped a message for client ${clientId} (${reason}); ${total} dropped for it so far.`);
    };
    this.ready = this.#restore();
    this.ready.then(() => { this.#isReady = true; }, () => {});
    this.ready.catch((err: unknown) => this.#reportError(err as Error));
    this.#sweepTimer = setInterval(this.#sweep, SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
    if (this.options.sysIntervalSeconds > 0) {
      this.#sys = new SysReporter(this.stats, this.options.sysIntervalSeconds);
      this.#sysTimer = setInterval(() => this.#publishSys(), this.options.sysIntervalSeconds * 1000);
      this.#sysTimer.unref();
      this.ready.then(() => this.#publishSys(), () => {});
    }
  }

  /** True once the store is open and restored (`ready` resolved). */
  get isReady(): boolean {
    return this.#isReady;
  }

  get subscriptions(): SubscriptionTrie<RouteEntry> {
    return this.#router.trie;
  }

  get hasPublishedListeners(): boolean {
    return this.listenerCount('published') > 0;
  }

  /**
   * Serves one client over any Duplex (TCP, TLS, WebSocket stream, an in-memory pair) or other ByteStream.
   * `transport` carries what the listener knows (its name, TLS, a username from the client certificate).
   */
  handle(stream: ByteStream, remoteAddress?: string, transport?: TransportInfo): void {
    if (this.#isClosed) {
      stream.destroy();
      return;
    }
    const connection = new Connection(stream, this, remoteAddress, transport);
    this.#connections.add(connection);
  }

  /** Publishes a message as the broker itself (no client), e.g. from an embedding application. */
  publish(topic: string, payload: Buffer | string, options: { qos?: QoS; retain?: boolean } = {}): number {
    const message = new Message(topic, typeof payload === 'string' ? Buffer.from(payload) : payload,
      options.qos ?? 0, options.retain ?? false, undefined, undefined);
    if (message.retain) this.retain(message);
    return this.route(message);
  }

  /** Registers something to close with the broker (listeners created by `listen`). */
  addClosable(closable: Closable): void {
    this.#closables.add(closable);
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  route(message: Message): number {
    return this.#router.route(message);
  }

  get lastRouteQuotaDrops(): number {
    return this.#router.lastQuotaDrops;
  }

  retain(message: Message): void {
    if (message.payload.length === 0) {
      // [MQTT-3.3.1-6/10]: an empty retained message removes the one stored and is not stored itself.
      if (this.retained.delete(message.topic)) this.persistence.putRetained(message.topic, undefined);
      return;
    }
    message.detach();
    this.retained.set(message.topic, message);
    this.persistence.putRetained(message.topic, message);
  }

  dropExpiredRetained(message: Message): void {
    if (this.retained.get(message.topic) !== message) return;
    this.retained.delete(message.topic);
    this.persistence.putRetained(message.topic, undefined);
  }

  createSession(clientId: string, isClean: boolean, expiryIntervalSeconds: number): Session {
    return new Session(clientId, isClean, expiryIntervalSeconds, this.#sessionLimits, this.persistence,
      this.stats.sessionCounters);
  }

  /**
   * Indexes a subscription of a session (after it is stored in `session.subscriptions`). A `$share/{name}/{filter}`
   * makes the session a member of that shared group; anything else goes in the subscription trie.
   */
  addSubscription(session: Session, sub: StoredSubscription): void {
    const subscriptionId = sub.subscriptionIdentifier ?? 0;
    const shared = parseSharedFilter(sub.topicFilter);
    if (shared !== undefined) {
      this.#router.joinShared(shared.group, shared.filter,
        new SharedMember(session, sub.qos, sub.retainAsPublished, subscriptionId));
      return;
    }
    this.#router.trie.add(sub.topicFilter, session.clientId, {
      session, qos: sub.qos, noLocal: sub.noLocal, retainAsPublished: sub.retainAsPublished, subscriptionId,
    });
  }

  /**
   * Removes a subscription from the index. Leaving a shared group hands the session's queued messages from it to
   * another member (and, with `includeInflight`, its unacknowledged QoS 1 ones).
   */
  removeSubscription(session: Session, topicFilter: string, includeInflight = false): void {
    const shared = parseSharedFilter(topicFilter);
    if (shared === undefined) {
      this.#router.trie.remove(topicFilter, session.clientId);
      return;
    }
    const group = this.#router.leaveShared(shared.group, shared.filter, session.clientId);
    if (group !== undefined) this.#router.redistribute(session, includeInflight, group);
  }

  endSession(session: Session): void {
    // A delayed will goes out when its session ends, if that is sooner (MQTT 5 section 3.1.3.2.2).
    this.delayedWills.publishNow(session.clientId);
    for (const filter of session.subscriptions.keys()) this.removeSubscription(session, filter, true);
    session.subscriptions.clear();
    session.clearMessages();
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    this.persistence.deleteSession(session.clientId);
  }

  scheduleFlush(connection: Connection): void {
    this.#flushQueue.push(connection);
    if (!this.#isFlushScheduled) {
      this.#isFlushScheduled = true;
      setImmediate(this.#flushAll);
    }
  }

  flushWritten(): void {
    // The end-of-turn flush stays scheduled (for writes still to come this turn): no new setImmediate per chunk.
    if (this.#flushQueue.length > 0) this.#flushQueued();
  }

  #flushAll = (): void => {
    this.#isFlushScheduled = false;
    this.#flushQueued();
  };

  #flushQueued(): void {
    const queue = this.#flushQueue;
    this.#flushQueue = [];
    for (const connection of queue) connection.flush();
  }

  connectionClosed(connection: Connection, reason: CloseReason): void {
    this.#connections.delete(connection);
    const wasConnected = connection.clientId !== '' && this.clients.get(connection.clientId) === connection;
    if (wasConnected) this.clients.delete(connection.clientId);
    const session = connection.session;
    if (session !== null && session.link === connection) {
      session.detach(Date.now());
      // A shared subscriber that went away: its pending messages from shared groups go to other members.
      this.#router.redistribute(session, true);
      if (session.isClean) this.endSession(session);
      else session.persist();
    }
    const will = connection.will;
    connection.will = undefined;
    if (will !== undefined && reason !== 'disconnect') {
      // [MQTT-3.1.2-8]: the will goes out on every close that is not a DISCONNECT — after its Will Delay Interval
      // while the session lives on (MQTT 5 section 3.1.3.2.2), at once when the session ended with the connection.
      const delaySeconds = will.properties?.willDelayInterval ?? 0;
      const isSessionAlive = session !== null && this.sessions.get(session.clientId) === session;
      const clientId = connection.clientId;
      this.#authorizeWill(connection.info, will, (allowed) => {
        if (delaySeconds > 0 && isSessionAlive) this.delayedWills.schedule(clientId, allowed, delaySeconds * 1000);
        else this.#publishWill(clientId, willToStored(allowed));
      });
    }
    if (wasConnected) {
      this.logger.info(reason === 'disconnect'
        ? `Client ${connection.clientId} disconnected.`
        : `Client ${connection.clientId} closed its connection (${reason}).`);
      this.emit('clientDisconnected', connection.info, reason);
    }
  }

  /**
   * A will is a publication by its client: it passes the same publish check, as Mosquitto checks write access
   * before sending a will. Checked when the connection closes; a denied will is dropped and logged.
   */
  #authorizeWill(client: ClientInfo, will: Will, send: (will: Will) => void): void {
    const check = this.hooks.authorizePublish;
    if (check === undefined) {
      send(will);
      return;
    }
    const decide = (isAllowed: boolean, held: Will): void => {
      if (isAllowed) send(held);
      else this.logger.info(`Denied will of ${client.id} to '${held.topic}'.`);
    };
    const request = { topic: will.topic, qos: will.qos, retain: will.retain, payload: will.payload };
    let answer: boolean | Promise<boolean>;
    try {
      answer = check(client, request);
    } catch (err) {
      this.logger.error(`authorizePublish failed for the will of ${client.id}: ${(err as Error).message}`);
      answer = false;
    }
    if (!isPromise(answer)) {
      decide(answer === true, will);
      return;
    }
    const held: Will = { ...will, payload: Buffer.from(will.payload) };
    answer.then((isAllowed) => decide(isAllowed === true, held), (err: unknown) => {
      this.logger.error(`authorizePublish failed for the will of ${client.id}: ${(err as Error).message}`);
    });
  }

  #publishWill(clientId: string, will: StoredMessage): void {
    const message = willMessage(will, clientId, Date.now());
    if (message.retain) this.retain(message);
    this.route(message);
  }

  /**
   * Disconnects a connected client from the embedding application: MQTT 5 clients get DISCONNECT 0x98
   * Administrative action (or the reason given, e.g. 0x9C/0x9D with a Server Reference to redirect them); 3.1.1
   * clients are closed. Its will is published as on any close that is not the client's own DISCONNECT. Returns false
   * when no client with that id is connected.
   *
   * @example
   * broker.disconnectClient('sensor-7');
   * broker.disconnectClient('sensor-8', { reasonCode: 0x9d, serverReference: 'mqtt2.example.com' });
   */
  disconnectClient(clientId: string, options: DisconnectClientOptions = {}): boolean {
    const connection = this.clients.get(clientId);
    if (connection === undefined) return false;
    const reasonCode = options.reasonCode ?? ReasonCode.AdministrativeAction;
    const properties: Properties = {};
    if (options.serverReference !== undefined) properties.serverReference = options.serverReference;
    if (options.reasonString !== undefined) properties.reasonString = options.reasonString;
    const isRedirect = reasonCode === ReasonCode.UseAnotherServer || reasonCode === ReasonCode.ServerMoved;
    this.logger.info(`Client ${clientId} disconnected by the application (reason 0x${reasonCode.toString(16)}).`);
    connection.disconnect(reasonCode, isRedirect ? 'redirected' : 'administrativeAction', properties);
    return true;
  }

  emitEvent(name: 'clientConnected' | 'subscribed' | 'unsubscribed' | 'published', ...args: unknown[]): void {
    (this.emit as (event: string, ...a: unknown[]) => boolean)(name, ...args);
  }

  generateClientId(): string {
    return `culex-${randomBytes(8).toString('hex')}`;
  }

  /** Connect timeouts, keepalive expiry [MQTT-3.1.2-24] and session expiry, checked together. */
  #sweep = (): void => {
    const now = Date.now();
    const { connectTimeoutMs } = this.options;
    for (const connection of this.#connections) {
      if (connection.state === 'awaitingConnect' || connection.state === 'authenticating') {
        if (now - connection.createdAtMs > connectTimeoutMs) {
          this.logger.info(`Client ${connection.label} closed: not connected within ${connectTimeoutMs} ms.`);
          connection.close('connectTimeout');
        }
      } else if (connection.state === 'connected' && connection.authExpiresAtMs !== undefined
        && now >= connection.authExpiresAtMs) {
        // The credentials ran out (e.g. a JWT's exp): MQTT 5 section 3.14.2.1, 0xA0 Maximum connect time.
        this.logger.info(`Client ${connection.clientId} disconnected: its credentials expired.`);
        connection.disconnect(ReasonCode.MaximumConnectTime, 'notAuthorized');
      } else if (connection.state === 'connected' && connection.keepaliveSeconds > 0) {
        if (now - connection.lastActivityMs > connection.keepaliveSeconds * 1500) {
          this.logger.info(`Client ${connection.clientId} has exceeded timeout, disconnecting.`);
          connection.disconnect(ReasonCode.KeepAliveTimeout, 'keepaliveTimeout');
        }
      }
    }
    for (const session of this.sessions.values()) {
      if (session.link !== null || session.disconnectedAtMs === undefined) continue;
      if (session.expiryIntervalSeconds === NEVER_EXPIRES) continue;
      if (now - session.disconnectedAtMs >= session.expiryIntervalSeconds * 1000) this.endSession(session);
    }
  };

  #publishSys(): void {
    if (this.#sys === undefined || this.#isClosed) return;
    let queued = 0;
    for (const s of this.sessions.values()) queued += s.queuedCount + s.inflight.size;
    const pairs = this.#sys.collect({
      version: `culex version ${this.options.version}`,
      clientsConnected: this.clients.size,
      clientsDisconnected: this.sessions.size - this.clients.size,
      subscriptions: this.#router.trie.size + this.#router.sharedMemberCount,
      retained: this.retained.size,
      storedMessages: this.retained.size + queued,
    }, Date.now());
    for (const [topic, value] of pairs) {
      const message = new Message(topic, Buffer.from(value), 0, true, undefined, undefined);
      this.retained.set(topic, message);
      this.route(message);
    }
  }

  async #restore(): Promise<void> {
    const state = await this.persistence.open();
    const now = Date.now();
    // A large store (100 k sessions, 1 M retained messages) is rebuilt a slice per event-loop turn, each slice
    // ending after RESTORE_SLICE_MS (checked every 8 records).
    let count = 0;
    let sliceStart = performance.now();
    const isSliceOver = (): boolean => ++count % 8 === 0 && performance.now() - sliceStart >= RESTORE_SLICE_MS;
    for (const record of state.sessions) {
      if (isSliceOver()) {
        await yieldTurn();
        sliceStart = performance.now();
      }
      const session = this.createSession(record.clientId, false, record.expiryIntervalSeconds);
      session.disconnectedAtMs = record.disconnectedAtMs ?? now;
      for (const sub of record.subscriptions) {
        session.subscriptions.set(sub.topicFilter, sub);
        this.addSubscription(session, sub);
      }
      for (const entry of state.outgoing.get(record.clientId) ?? []) {
        const shared = entry.sharedSubscription === undefined ? undefined : parseSharedFilter(entry.sharedSubscription);
        const group = shared === undefined ? undefined : this.#router.findShared(shared.group, shared.filter);
        session.restoreOutgoing(entry, Message.fromStored(entry.message), group);
      }
      for (const id of state.incomingQos2.get(record.clientId) ?? []) session.incomingQos2.add(id);
      this.sessions.set(record.clientId, session);
    }
    for (const stored of state.retained) {
      if (isSliceOver()) {
        await yieldTurn();
        sliceStart = performance.now();
      }
      // One that expired while the broker was down is dropped from the store instead [MQTT-3.3.2-5].
      if (stored.expiresAtMs !== undefined && now >= stored.expiresAtMs) this.persistence.putRetained(stored.topic, undefined);
      else this.retained.set(stored.topic, Message.fromStored(stored));
    }
    // Wills delayed before a restart: re-armed; one whose session did not survive goes out now (session ended).
    this.delayedWills.restore(state.delayedWills, now);
    for (const will of state.delayedWills) {
      if (!this.sessions.has(will.clientId)) this.delayedWills.publishNow(will.clientId);
    }
  }

  #reportError(err: Error): void {
    this.logger.error(`broker error: ${err.message}`);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Stops accepting, disconnects every client (MQTT 5: 0x8B Server shutting down), closes the store. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#sweepTimer);
    clearInterval(this.#sysTimer);
    // Stop accepting first; a listener's close() resolves only once its sockets are gone, so await it after them.
    const closing = Promise.allSettled([...this.#closables].map((c) => c.close()));
    const connections = [...this.#connections];
    for (const connection of connections) connection.disconnect(ReasonCode.ServerShuttingDown, 'serverShutdown');
    this.#flushAll();
    for (const connection of connections) connection.stream.destroy();
    this.delayedWills.stop();
    await closing;
    await this.ready.catch(() => {});
    await this.persistence.flush().catch(() => {});
    await this.persistence.close();
  }
}

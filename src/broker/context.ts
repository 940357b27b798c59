/**
 * What handlers and connections need from the broker. An interface (types only), so handlers do not import the
 * Broker class and no import cycle forms.
 */
import type { ResolvedOptions } from './config.js';
import type { DurableAcks } from './durable-acks.js';
import type { DurableAckTicket } from './handlers/publish.js';
import type { AuthChecks } from './hooks.js';
import type { LoginBackoff } from './login-backoff.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Persistence, StoredSubscription } from '../persistence/persistence.js';
import type { RetainedIndex } from './retained.js';
import type { Session } from './session.js';
import type { Stats } from './stats.js';
import type { SubscriptionTrie } from './subscription-trie.js';
import type { Connection } from './connection.js';
import type { RouteEntry } from './router.js';
import type { DelayedWills } from './will.js';

export interface BrokerContext {
  readonly options: ResolvedOptions;
  /** The authentication/authorization chain, as the handlers call it. */
  readonly hooks: AuthChecks;
  /** Failed-login back-off by address; undefined when turned off. */
  readonly loginBackoff: LoginBackoff | undefined;
  readonly logger: Logger;
  readonly persistence: Persistence;
  /** PUBACK/PUBREC that wait for the store to make a message durable. */
  readonly durableAcks: DurableAcks<Connection, DurableAckTicket>;
  readonly stats: Stats;
  readonly sessions: Map<string, Session>;
  /** Live connections by client id (only connections past CONNECT). */
  readonly clients: Map<string, Connection>;
  readonly subscriptions: SubscriptionTrie<RouteEntry>;
  readonly retained: RetainedIndex<Message>;
  /** MQTT 5 wills waiting out their Will Delay Interval. */
  readonly delayedWills: DelayedWills;
  /** Waits for the store to be opened and restored. */
  readonly ready: Promise<void>;
  /** True once `ready` has resolved (a CONNECT then needs no wait). */
  readonly isReady: boolean;
  /** Fan a message out to matching subscribers; returns how many sessions got it. */
  route(message: Message): number;
  /** Sessions of the last `route` that dropped the message because their queue was full (a quota). */
  readonly lastRouteQuotaDrops: number;
  /** Store or clear a retained message [MQTT-3.3.1-5/6/7]. */
  retain(message: Message): void;
  /**
   * Drops a retained message found expired (MQTT 5 Message Expiry Interval) from the index and the store, if it is
   * still the one retained for its topic.
   */
  dropExpiredRetained(message: Message): void;
  /** Creates a session bound to this broker's limits and store. */
  createSession(clientId: string, isClean: boolean, expiryIntervalSeconds: number): Session;
  /** Indexes a session's subscription (shared ones join their group). */
  addSubscription(session: Session, sub: StoredSubscription): void;
  /** Removes a session's subscription from the index (shared: leaves the group, its pending messages move on). */
  removeSubscription(session: Session, topicFilter: string, includeInflight?: boolean): void;
  /** Ends a session: removes its subscriptions and its stored state. */
  endSession(session: Session): void;
  /** The connection whose PUBLISH is being routed right now (for backpressure), or null. */
  publishingConnection: Connection | null;
  /** Called by a connection when its buffered writes should be flushed at the end of this event-loop turn. */
  scheduleFlush(connection: Connection): void;
  /** Flushes now every connection written to since the last flush (after an input chunk has been handled). */
  flushWritten(): void;
  /** Called once by a connection when it is finished (any reason). */
  connectionClosed(connection: Connection, reason: string): void;
  emitEvent(name: 'clientConnected' | 'subscribed' | 'unsubscribed' | 'published', ...args: unknown[]): void;
  readonly hasPublishedListeners: boolean;
  generateClientId(): string;
}

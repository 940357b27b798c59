/**
 * Fan-out: deliver a message to every session with a matching subscription, once per session at the highest
 * granted QoS among its matching subscriptions [MQTT-3.3.5-1], capped by the published QoS [MQTT-3.8.4-8], with the
 * Subscription Identifiers of all of them [MQTT-3.3.4-3]; then to one member of each matching shared subscription
 * group (MQTT 5 section 4.8.2), as a separate delivery.
 *
 * Design note: matches are collected into one reused array, and de-duplication uses a per-publish stamp written on
 * the session (no Set or Map per message): pass one records each session's highest QoS, pass two delivers to each
 * session the first time it is seen. Subscription Identifiers cost an array per recipient only when a matching
 * subscription has one. Shared groups live in a second trie, walked only while it is not empty.
 */
import type { QoS } from '../protocol/types.js';
import type { ClientInfo } from './hooks.js';
import type { Message } from './message.js';
import type { Session } from './session.js';
import { SharedGroup, SharedMember, type MemberReadCheck, type SharedSubscriptionStrategy } from './shared.js';
import { SubscriptionTrie } from './subscription-trie.js';

/** What the subscription index stores for one (non-shared) subscription of one session. */
export interface RouteEntry {
  readonly session: Session;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  /** MQTT 5 Subscription Identifier; 0 when the subscription has none. */
  readonly subscriptionId: number;
}

export class Router {
  readonly trie = new SubscriptionTrie<RouteEntry>();
  /** Shared subscription groups, stored on their topic filter under the key `{ShareName}`. */
  readonly sharedTrie = new SubscriptionTrie<SharedGroup>();
  readonly #matches: RouteEntry[] = [];
  readonly #groups: SharedGroup[] = [];
  #stamp = 0;
  readonly #canRead: ((client: ClientInfo, topic: string) => boolean) | undefined;
  /** The same check per shared-group member, for SharedGroup.pick. */
  readonly #memberCanRead: MemberReadCheck | undefined;
  /** Memberships over all shared groups (for `$SYS` subscription counts). */
  sharedMemberCount = 0;
  /** Sessions of the last `route` call that dropped the message because their queue was full. */
  lastQuotaDrops = 0;
  readonly #strategy: SharedSubscriptionStrategy;

  /**
   * `canRead`: the chain's delivery check (Mosquitto checks read access for each message it delivers).
   * `strategy`: how a shared subscription group picks the member that gets a message.
   */
  constructor(canRead?: (client: ClientInfo, topic: string) => boolean,
    strategy: SharedSubscriptionStrategy = 'roundRobin') {
    this.#canRead = canRead;
    this.#memberCanRead = canRead === undefined ? undefined : (session, topic) => isReadable(canRead, session, topic);
    this.#strategy = strategy;
  }

  /** Fans `message` out; returns how many sessions took it (`lastQuotaDrops` says how many could not). */
  route(message: Message): number {
    this.lastQuotaDrops = 0;
    let delivered = this.#routeDirect(message);
    if (this.sharedTrie.size > 0) delivered += this.#routeShared(message);
    return delivered;
  }

  #routeDirect(message: Message): number {
    const matches = this.#matches;
    const count = this.trie.match(message.topic, matches);
    if (count === 0) return 0;
    const publisher = message.publisherId;
    const seen = ++this.#stamp;
    for (let i = 0; i < count; i++) {
      const entry = matches[i]!;
      const session = entry.session;
      // MQTT 5 No Local: not back to the publisher's own session [MQTT-3.8.3-3].
      if (entry.noLocal && session.clientId === publisher) continue;
      const qos = entry.qos < message.qos ? entry.qos : message.qos;
      if (this.#canRead !== undefined && !isReadable(this.#canRead, session, message.topic)) continue;
      if (session.routeStamp !== seen) {
        session.routeStamp = seen;
        session.routeQos = qos;
        session.routeIds = entry.subscriptionId === 0 ? undefined : [entry.subscriptionId];
      } else {
        if (qos > session.routeQos) session.routeQos = qos;
        if (entry.subscriptionId !== 0) {
          if (session.routeIds === undefined) session.routeIds = [entry.subscriptionId];
          else session.routeIds.push(entry.subscriptionId);
        }
      }
    }
    const sent = ++this.#stamp;
    let delivered = 0;
    for (let i = 0; i < count; i++) {
      const entry = matches[i]!;
      const session = entry.session;
      if (session.routeStamp !== seen) continue;
      session.routeStamp = sent;
      // Live messages go out with RETAIN=0 [MQTT-3.3.1-12] unless MQTT 5 Retain As Published says otherwise
      // [MQTT-3.3.1-13].
      if (session.deliver(message, session.routeQos, entry.retainAsPublished && message.retain, false,
        session.routeIds)) delivered++;
      else this.lastQuotaDrops++;
      session.routeIds = undefined;
    }
    // Drop the references, keep the array's capacity (truncating it would free the backing store every message).
    (matches as unknown[]).fill(undefined, 0, count);
    return delivered;
  }

  /** One member of each matching group gets its own copy [MQTT-4.8.2-3: at the QoS granted to that member]. */
  #routeShared(message: Message): number {
    const groups = this.#groups;
    const count = this.sharedTrie.match(message.topic, groups);
    let delivered = 0;
    for (let i = 0; i < count; i++) {
      const member = groups[i]!.pick(message, this.#strategy, undefined, this.#memberCanRead);
      if (member === undefined) continue;
      if (this.#deliverShared(message, member, groups[i]!)) delivered++;
      else this.lastQuotaDrops++;
    }
    (groups as unknown[]).fill(undefined, 0, count);
    return delivered;
  }

  /** `member` was picked among those allowed to read the topic (SharedGroup.pick with #memberCanRead). */
  #deliverShared(message: Message, member: SharedMember, group: SharedGroup): boolean {
    const qos = member.qos < message.qos ? member.qos : message.qos;
    const ids = member.subscriptionId === 0 ? undefined : [member.subscriptionId];
    return member.session.deliver(message, qos, member.retainAsPublished && message.retain, false, ids, group);
  }

  /** Adds (or replaces) a session's membership of `$share/{shareName}/{topicFilter}`. */
  joinShared(shareName: string, topicFilter: string, member: SharedMember): void {
    let group = this.sharedTrie.get(topicFilter, shareName);
    if (group === undefined) {
      group = new SharedGroup(shareName, topicFilter);
      this.sharedTrie.add(topicFilter, shareName, group);
    }
    if (group.join(member)) this.sharedMemberCount++;
  }

  /** The group of `$share/{shareName}/{topicFilter}`, if it has members. */
  findShared(shareName: string, topicFilter: string): SharedGroup | undefined {
    return this.sharedTrie.get(topicFilter, shareName);
  }

  /** Removes a session's membership; returns the group it left (still holding the other members), if any. */
  leaveShared(shareName: string, topicFilter: string, clientId: string): SharedGroup | undefined {
    const group = this.sharedTrie.get(topicFilter, shareName);
    if (group === undefined || !group.leave(clientId)) return undefined;
    this.sharedMemberCount--;
    if (group.isEmpty) this.sharedTrie.remove(topicFilter, shareName);
    return group;
  }

  /**
   * A member went away (disconnected or unsubscribed): its messages from shared groups that it has not started to
   * receive, and its unacknowledged QoS 1 messages when `includeInflight`, go to another connected member of the
   * same group. A QoS 2 message already sent stays with its session [MQTT-4.8.2-4/5].
   */
  redistribute(session: Session, includeInflight: boolean, onlyGroup?: SharedGroup): number {
    if (session.queuedCount === 0 && session.inflightCount === 0) return 0;
    const taken = session.takeSharedEntries(includeInflight,
      (group) => (onlyGroup === undefined || group === onlyGroup) && group.hasOtherConnected(session));
    for (const entry of taken) {
      const member = entry.group.pick(entry.message, this.#strategy, session, this.#memberCanRead);
      if (member !== undefined) this.#deliverShared(entry.message, member, entry.group);
    }
    return taken.length;
  }
}

/**
 * A session whose client is unknown (restored from the store, not reconnected yet) gets nothing through a read
 * check: delivering could leak what the ACL hides, so the message is dropped for it instead.
 */
function isReadable(canRead: (client: ClientInfo, topic: string) => boolean, session: Session, topic: string): boolean {
  return session.client !== undefined && canRead(session.client, topic);
}

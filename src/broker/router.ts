/**
 * Fan-out: deliver a message to every session with a matching subscription, once per session at the highest
 * granted QoS among its matching subscriptions [MQTT-3.3.5-1], capped by the published QoS [MQTT-3.8.4-8].
 *
 * Design note: matches are collected into one reused array, and de-duplication uses a per-publish stamp written on
 * the session (no Set or Map per message): pass one records each session's highest QoS, pass two delivers to each
 * session the first time it is seen.
 */
import type { QoS } from '../protocol/types.js';
import type { ClientInfo } from './hooks.js';
import type { Message } from './message.js';
import type { Session } from './session.js';
import { SubscriptionTrie } from './subscription-trie.js';

/** What the subscription index stores for one subscription of one session. */
export interface RouteEntry {
  readonly session: Session;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
}

export class Router {
  readonly trie = new SubscriptionTrie<RouteEntry>();
  readonly #matches: RouteEntry[] = [];
  #stamp = 0;
  readonly #canRead: ((client: ClientInfo, topic: string) => boolean) | undefined;

  /** `canRead`: the chain's delivery check (Mosquitto checks read access for each message it delivers). */
  constructor(canRead?: (client: ClientInfo, topic: string) => boolean) {
    this.#canRead = canRead;
  }

  route(message: Message): number {
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
      } else if (qos > session.routeQos) {
        session.routeQos = qos;
      }
    }
    const sent = ++this.#stamp;
    let delivered = 0;
    for (let i = 0; i < count; i++) {
      const entry = matches[i]!;
      const session = entry.session;
      if (session.routeStamp !== seen) continue;
      session.routeStamp = sent;
      // Live messages go out with RETAIN=0 [MQTT-3.3.1-9] unless MQTT 5 Retain As Published says otherwise.
      session.deliver(message, session.routeQos, entry.retainAsPublished && message.retain);
      delivered++;
    }
    matches.length = 0;
    return delivered;
  }
}

/**
 * A session whose client is unknown (restored from the store, not reconnected yet) gets nothing through a read
 * check: delivering could leak what the ACL hides, so the message is dropped for it instead.
 */
function isReadable(canRead: (client: ClientInfo, topic: string) => boolean, session: Session, topic: string): boolean {
  return session.client !== undefined && canRead(session.client, topic);
}

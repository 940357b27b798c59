/**
 * Shared subscriptions (MQTT 5 section 4.8.2): `$share/{ShareName}/{filter}`. Every subscriber to the same share
 * name and filter joins one group, and each matching message goes to one member of each group.
 *
 * Design note: a group keeps its members in an array in joining order and a cursor for round robin; picking a
 * member is O(members) at worst (skipping members that are offline) and allocates nothing for the built-in
 * strategies. Connected members are preferred; when none is connected the message goes to an offline member's
 * session (queued if it is persistent, as the spec allows). The strategy is a broker option: a built-in name or a
 * function that gets read-only views of the candidates and returns an index.
 */
import type { QoS } from '../protocol/types.js';
import type { Message } from './message.js';
import type { Session } from './session.js';

/** The broker's delivery check for one member: may its session receive a message on `topic`? */
export type MemberReadCheck = (session: Session, topic: string) => boolean;

/** What a custom strategy sees of one member. */
export interface SharedCandidate {
  readonly clientId: string;
  readonly isConnected: boolean;
  /** QoS 1/2 messages sent to it and not yet acknowledged. */
  readonly inflightCount: number;
  /** Messages waiting in its session queue. */
  readonly queuedCount: number;
}

/** What a custom strategy sees of the message and the group. */
export interface SharedPickContext {
  readonly shareName: string;
  readonly topicFilter: string;
  readonly topic: string;
}

/** Returns the index of the chosen candidate (out-of-range or non-integer answers fall back to the first). */
export type SharedSubscriptionPicker = (candidates: readonly SharedCandidate[], context: SharedPickContext) => number;

/**
 * How one member of a group is chosen: `'roundRobin'` (default) cycles through the members, `'random'` picks one
 * uniformly, `'leastBusy'` picks the one with the fewest in-flight plus queued messages; or a function.
 */
export type SharedSubscriptionStrategy = 'roundRobin' | 'random' | 'leastBusy' | SharedSubscriptionPicker;

export class SharedMember implements SharedCandidate {
  readonly session: Session;
  qos: QoS;
  retainAsPublished: boolean;
  /** MQTT 5 Subscription Identifier, 0 for none. */
  subscriptionId: number;

  constructor(session: Session, qos: QoS, retainAsPublished: boolean, subscriptionId: number) {
    this.session = session;
    this.qos = qos;
    this.retainAsPublished = retainAsPublished;
    this.subscriptionId = subscriptionId;
  }

  get clientId(): string {
    return this.session.clientId;
  }

  get isConnected(): boolean {
    return this.session.link !== null;
  }

  get inflightCount(): number {
    return this.session.inflight.size;
  }

  get queuedCount(): number {
    return this.session.queuedCount;
  }
}

export class SharedGroup {
  readonly shareName: string;
  readonly topicFilter: string;
  readonly members: SharedMember[] = [];
  #cursor = 0;
  readonly #candidates: SharedMember[] = [];

  constructor(shareName: string, topicFilter: string) {
    this.shareName = shareName;
    this.topicFilter = topicFilter;
  }

  /** The whole filter its members subscribed with: `$share/{ShareName}/{filter}`. */
  get subscriptionFilter(): string {
    return `$share/${this.shareName}/${this.topicFilter}`;
  }

  /** Adds a member, or updates the options of the session's existing membership; true when it is new. */
  join(member: SharedMember): boolean {
    const i = this.#indexOf(member.session.clientId);
    if (i >= 0) {
      this.members[i] = member;
      return false;
    }
    this.members.push(member);
    return true;
  }

  /** Removes a session's membership; false when it was not a member. */
  leave(clientId: string): boolean {
    const i = this.#indexOf(clientId);
    if (i < 0) return false;
    this.members.splice(i, 1);
    if (this.#cursor > i) this.#cursor--;
    return true;
  }

  get isEmpty(): boolean {
    return this.members.length === 0;
  }

  /** True when a connected member other than `session` exists (somewhere to hand its messages to). */
  hasOtherConnected(session: Session): boolean {
    for (const m of this.members) if (m.session !== session && m.session.link !== null) return true;
    return false;
  }

  /**
   * Chooses the member that gets `message`: among connected members (other than `excluded`) when there are any,
   * else among all of them; with `canRead` (the broker's delivery check), only among members allowed to read the
   * message's topic, so that a member the ACL denies does not cost the group its copy. Undefined when the group has
   * no eligible member.
   */
  pick(message: Message, strategy: SharedSubscriptionStrategy, excluded?: Session, canRead?: MemberReadCheck): SharedMember | undefined {
    const members = this.members;
    const n = members.length;
    if (n === 0) return undefined;
    const topic = message.topic;
    if (strategy === 'roundRobin') return this.#roundRobin(excluded, topic, canRead);
    const candidates = this.#candidates;
    candidates.length = 0;
    for (const m of members) {
      if (m.session !== excluded && m.session.link !== null && (canRead === undefined || canRead(m.session, topic))) {
        candidates.push(m);
      }
    }
    if (candidates.length === 0) {
      if (excluded !== undefined) return undefined;
      for (const m of members) if (canRead === undefined || canRead(m.session, topic)) candidates.push(m);
      if (candidates.length === 0) return undefined;
    }
    let index = 0;
    if (strategy === 'random') {
      index = Math.floor(Math.random() * candidates.length);
    } else if (strategy === 'leastBusy') {
      let best = Infinity;
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i]!;
        const load = c.session.inflight.size + c.session.queuedCount;
        if (load < best) {
          best = load;
          index = i;
        }
      }
    } else {
      const answer = strategy(candidates, { shareName: this.shareName, topicFilter: this.topicFilter, topic: message.topic });
      index = Number.isInteger(answer) && answer >= 0 && answer < candidates.length ? answer : 0;
    }
    const chosen = candidates[index];
    candidates.length = 0;
    return chosen;
  }

  #roundRobin(excluded: Session | undefined, topic: string, canRead: MemberReadCheck | undefined): SharedMember | undefined {
    const members = this.members;
    const n = members.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#cursor + k) % n;
      const m = members[i]!;
      if (m.session === excluded || m.session.link === null) continue;
      if (canRead !== undefined && !canRead(m.session, topic)) continue;
      this.#cursor = (i + 1) % n;
      return m;
    }
    if (excluded !== undefined) return undefined;
    // Nobody (allowed) is connected: the next member in turn gets it in its (offline) session.
    for (let k = 0; k < n; k++) {
      const i = (this.#cursor + k) % n;
      const m = members[i]!;
      if (canRead !== undefined && !canRead(m.session, topic)) continue;
      this.#cursor = (i + 1) % n;
      return m;
    }
    return undefined;
  }

  #indexOf(clientId: string): number {
    for (let i = 0; i < this.members.length; i++) if (this.members[i]!.session.clientId === clientId) return i;
    return -1;
  }
}

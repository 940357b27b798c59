/**
 * SUBSCRIBE (MQTT 3.1.1 section 3.8.4, MQTT 5 section 3.8.4), per filter: check limits, authorize, store (replacing
 * an existing subscription to the same filter [MQTT-3.8.4-3]); then SUBACK with one code per filter in order
 * [MQTT-3.8.4-6], then the matching retained messages with RETAIN=1, paced by the in-flight window.
 */
import { ReasonCode, SubackFailure } from '../../protocol/reason-codes.js';
import { parseSharedFilter, validateTopicFilter } from '../../protocol/topic.js';
import type { QoS, SubscribePacket, Subscription } from '../../protocol/types.js';
import type { StoredSubscription } from '../../persistence/persistence.js';
import type { Connection } from '../connection.js';
import { isPromise } from '../hooks.js';
import type { Message } from '../message.js';

type Decision = boolean | QoS;

export function handleSubscribe(conn: Connection, packet: SubscribePacket): void | Promise<void> {
  const hook = conn.broker.hooks.authorizeSubscribe;
  const decisions: (Decision | Promise<Decision>)[] = [];
  let hasPromise = false;
  for (const sub of packet.subscriptions) {
    let d: Decision | Promise<Decision> = true;
    if (hook !== undefined) {
      try {
        d = hook(conn.info, { topicFilter: sub.topicFilter, qos: sub.qos });
      } catch (err) {
        conn.broker.logger.error(`authorizeSubscribe hook failed for ${conn.clientId}: ${(err as Error).message}`);
        d = false;
      }
      if (isPromise(d)) {
        hasPromise = true;
        d = d.catch((err: unknown) => {
          conn.broker.logger.error(`authorizeSubscribe hook failed for ${conn.clientId}: ${(err as Error).message}`);
          return false;
        });
      }
    }
    decisions.push(d);
  }
  if (!hasPromise) {
    complete(conn, packet, decisions as Decision[]);
    return;
  }
  return Promise.all(decisions).then((resolved) => complete(conn, packet, resolved));
}

function complete(conn: Connection, packet: SubscribePacket, decisions: Decision[]): void | Promise<void> {
  if (conn.state === 'closed') return;
  const codes: number[] = [];
  const problems: string[] = [];
  const granted: { sub: Subscription; qos: QoS; isNew: boolean }[] = [];
  // MQTT 5: one Subscription Identifier for every filter of this SUBSCRIBE (0 was refused by the decoder).
  const subscriptionId = conn.protocolVersion === 5 ? packet.properties?.subscriptionIdentifiers?.[0] : undefined;
  packet.subscriptions.forEach((sub, i) => {
    const result = subscribeOne(conn, sub, decisions[i]!, subscriptionId);
    codes.push(result.reasonCode);
    if (result.problem !== undefined) problems.push(`'${sub.topicFilter}': ${result.problem}`);
    if (result.reasonCode < 0x80) granted.push({ sub, qos: result.reasonCode as QoS, isNew: result.isNew });
  });
  const session = conn.session!;
  session.persist();
  const { persistence } = conn.broker;
  const ack = (): void => acknowledge(conn, packet, codes, problems, granted, subscriptionId);
  if (!persistence.isDurable || session.isClean) {
    ack();
    return;
  }
  // A durable store: SUBACK once the subscriptions are on disk, so that a crash cannot lose a subscription the
  // client was told about (and the messages acknowledged to publishers after it). Input waits meanwhile.
  return persistence.flush().then(ack, (err: unknown) => {
    conn.broker.logger.error(`store failed while subscribing ${conn.clientId}: ${(err as Error).message}`);
    ack();
  });
}

function acknowledge(conn: Connection, packet: SubscribePacket, codes: number[], problems: string[],
  granted: { sub: Subscription; qos: QoS; isNew: boolean }[], subscriptionId: number | undefined): void {
  if (conn.state === 'closed') return;
  if (conn.protocolVersion === 5) {
    // Reason String only where something was refused; the connection drops it if the client asked for no problem
    // information or it would make the SUBACK too large [MQTT-3.9.2-1].
    const properties = problems.length === 0 ? {} : { reasonString: problems.join('; ') };
    conn.sendPacket({ type: 9, packetId: packet.packetId, reasonCodes: codes, properties });
  } else {
    conn.sendPacket({ type: 9, packetId: packet.packetId, reasonCodes: codes });
  }
  if (granted.length > 0) conn.broker.emitEvent('subscribed', conn.info, granted.map((g) => g.sub.topicFilter));
  for (const g of granted) sendRetained(conn, g.sub, g.qos, g.isNew, subscriptionId);
}

interface Outcome {
  reasonCode: number;
  isNew: boolean;
  problem?: string;
}

function subscribeOne(conn: Connection, sub: Subscription, decision: Decision, subscriptionId: number | undefined): Outcome {
  const { broker } = conn;
  const session = conn.session!;
  const isV5 = conn.protocolVersion === 5;
  const refuse = (v5Code: number, problem: string): Outcome => ({
    reasonCode: isV5 ? v5Code : SubackFailure, isNew: false, problem,
  });
  const { maxTopicBytes, maxTopicLevels, maxSubscriptionsPerClient } = broker.options;
  const invalid = validateTopicFilter(sub.topicFilter, { maxTopicBytes, maxTopicLevels });
  // Invalid filters, invalid share names included, are malformed and refused by the decoder [MQTT-4.8.2-1/2];
  // this catches the configured limits.
  if (invalid !== undefined) return refuse(ReasonCode.TopicFilterInvalid, invalid);
  if (!broker.options.isWildcardSubscriptionAvailable && /[+#]/.test(sub.topicFilter)) {
    // MQTT 5 section 3.2.2.3.14: CONNACK said Wildcard Subscription Available 0; the filter is refused.
    return refuse(ReasonCode.WildcardSubscriptionsNotSupported, 'wildcard subscriptions are not supported');
  }
  if (decision === false) return refuse(ReasonCode.NotAuthorized, 'not authorized');
  const isExisting = session.subscriptions.has(sub.topicFilter);
  if (!isExisting && session.subscriptions.size >= maxSubscriptionsPerClient) {
    return refuse(ReasonCode.QuotaExceeded, 'subscription quota exceeded');
  }
  // [MQTT-3.2.2-10]: a subscription above the broker's Maximum QoS is granted at that maximum.
  const requested = Math.min(sub.qos, broker.options.maximumQoS);
  const qos = (decision === true ? requested : Math.min(requested, decision)) as QoS;
  const stored: StoredSubscription = {
    topicFilter: sub.topicFilter, qos, noLocal: sub.noLocal, retainAsPublished: sub.retainAsPublished,
    retainHandling: sub.retainHandling,
    ...(subscriptionId === undefined ? {} : { subscriptionIdentifier: subscriptionId }),
  };
  // The same filter again replaces the subscription, options and identifier included [MQTT-3.8.4-3].
  session.subscriptions.set(sub.topicFilter, stored);
  broker.addSubscription(session, stored);
  if (conn.broker.options.isVerbose) conn.broker.logger.debug(`\t${sub.topicFilter} (QoS ${sub.qos})`);
  return { reasonCode: qos, isNew: !isExisting };
}

/**
 * Retained messages for a new subscription: RETAIN=1, QoS capped by the grant, exempt from the queue limit, with
 * the subscription's identifier. A shared subscription gets none: MQTT 5 section 3.3.1.3 sends them "when a new
 * Non-shared Subscription is made".
 */
function sendRetained(conn: Connection, sub: Subscription, grantedQos: QoS, isNew: boolean,
  subscriptionId: number | undefined): void {
  if (parseSharedFilter(sub.topicFilter) !== undefined) return;
  // MQTT 5 Retain Handling: 0 always, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11].
  if (sub.retainHandling === 2 || (sub.retainHandling === 1 && !isNew)) return;
  const matches: Message[] = [];
  conn.broker.retained.match(sub.topicFilter, matches);
  const now = Date.now();
  const session = conn.session!;
  const canRead = conn.broker.hooks.authorizeRead;
  const ids = subscriptionId === undefined ? undefined : [subscriptionId];
  for (const message of matches) {
    // [MQTT-3.3.2-5]: an expired retained message is not sent; it is dropped (index and store) when found.
    if (message.isExpired(now)) {
      conn.broker.dropExpiredRetained(message);
      continue;
    }
    // Retained messages pass the same read check as live ones (Mosquitto checks both).
    if (canRead !== undefined && !canRead(conn.info, message.topic)) continue;
    session.deliver(message, Math.min(message.qos, grantedQos) as QoS, true, true, ids);
  }
}

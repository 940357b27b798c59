/**
 * Inbound PUBLISH (MQTT 3.1.1 section 3.3.4, MQTT 5 section 3.3.4), in order: resolve the topic (aliases, limits),
 * drop a QoS 2 duplicate, authorize, retain, route, acknowledge.
 *
 * The hot path: with no asynchronous hook, nothing here allocates beyond the Message and, for QoS 1/2, the ack.
 */
import { isUtf8 } from 'node:buffer';
import { ProtocolError, protocolError } from '../../protocol/errors.js';
import { ReasonCode } from '../../protocol/reason-codes.js';
import { validateTopicName } from '../../protocol/topic.js';
import type { PublishPacket } from '../../protocol/types.js';
import type { Connection } from '../connection.js';
import { isPromise } from '../hooks.js';
import { Message } from '../message.js';
import { sendAck } from './acks.js';

export function handlePublish(conn: Connection, packet: PublishPacket): void | Promise<void> {
  const { options } = conn.broker;
  if (packet.qos > options.maximumQoS || (packet.retain && !options.isRetainAvailable)) checkCapabilities(conn, packet);
  const topic = resolveTopic(conn, packet);
  const session = conn.session!;
  if (packet.qos === 2 && session.incomingQos2.has(packet.packetId!)) {
    // [MQTT-4.3.3-9]: a resent QoS 2 PUBLISH before PUBREL is acknowledged again but not delivered again.
    ackPublish(conn, packet, ReasonCode.Success);
    return;
  }
  if (packet.qos > 0) countInbound(conn, packet);
  if (conn.protocolVersion === 5 && packet.properties !== undefined) checkProperties(packet);
  if (conn.protocolVersion === 5 && packet.properties?.payloadFormatIndicator === 1 && !isUtf8(packet.payload)) {
    // MQTT 5 section 3.3.2.3.2: a payload declared UTF-8 that is not is answered 0x99.
    if (packet.qos === 0) throw new ProtocolError(ReasonCode.PayloadFormatInvalid, 'payload is not UTF-8 as declared');
    ackPublish(conn, packet, ReasonCode.PayloadFormatInvalid);
    return;
  }
  const hook = conn.broker.hooks.authorizePublish;
  if (hook === undefined) {
    accept(conn, packet, topic, true);
    return;
  }
  let answer: boolean | Promise<boolean>;
  try {
    answer = hook(conn.info, { topic, qos: packet.qos, retain: packet.retain, payload: packet.payload });
  } catch (err) {
    conn.broker.logger.error(`authorizePublish hook failed for ${conn.clientId}: ${(err as Error).message}`);
    answer = false;
  }
  if (!isPromise(answer)) {
    decide(conn, packet, topic, answer, true);
    return;
  }
  // Keep the payload valid after this turn: it is a view of a socket chunk.
  const held: PublishPacket = { ...packet, payload: Buffer.from(packet.payload) };
  return answer.then(
    (isAllowed) => decide(conn, held, topic, isAllowed, false),
    (err: unknown) => {
      conn.broker.logger.error(`authorizePublish hook failed for ${conn.clientId}: ${(err as Error).message}`);
      decide(conn, held, topic, false, false);
    },
  );
}

function decide(conn: Connection, packet: PublishPacket, topic: string, isAllowed: boolean, isCurrent: boolean): void {
  if (conn.state === 'closed') return;
  if (isAllowed === true) {
    accept(conn, packet, topic, isCurrent);
    return;
  }
  conn.broker.logger.info(`Denied PUBLISH from ${conn.clientId} to '${topic}'.`);
  // 3.1.1 has no way to refuse a PUBLISH: acknowledge and drop. MQTT 5 answers Not authorized.
  ackPublish(conn, packet, conn.protocolVersion === 5 ? ReasonCode.NotAuthorized : ReasonCode.Success,
    `not authorized to publish to '${topic}'`);
}

/** `isCurrent`: the packet is the one the decoder just returned, so its bytes as received are still at hand. */
function accept(conn: Connection, packet: PublishPacket, topic: string, isCurrent: boolean): void {
  const { broker } = conn;
  broker.stats.publishReceived++;
  const props = packet.properties;
  const expiresAtMs = props?.messageExpiryInterval === undefined
    ? undefined : Date.now() + props.messageExpiryInterval * 1000;
  const message = new Message(topic, packet.payload, packet.qos, packet.retain, props, conn.clientId, expiresAtMs);
  // A 3.1/3.1.1 PUBLISH is forwarded to 3.1/3.1.1 subscribers at its own QoS level as it came: no encoding.
  if (isCurrent && conn.protocolVersion !== 5) message.adoptWire(conn.decoder.lastPacketBytes());
  if (packet.retain) broker.retain(message);
  broker.publishingConnection = conn;
  const delivered = broker.route(message);
  broker.publishingConnection = null;
  if (broker.hasPublishedListeners) broker.emitEvent('published', message, conn.info);
  // MQTT 5: 0x97 Quota exceeded when subscribers matched but every one of them had to drop the message (queue
  // full) and it was not kept as retained either; for QoS 2 that failure PUBREC ends the flow (MQTT 5 section 4.3.3).
  const isOverQuota = delivered === 0 && broker.lastRouteQuotaDrops > 0 && !packet.retain && conn.protocolVersion === 5;
  if (packet.qos === 2 && !isOverQuota) {
    conn.session!.incomingQos2.add(packet.packetId!);
    if (!conn.session!.isClean) broker.persistence.putIncomingQos2(conn.clientId, packet.packetId!);
  }
  if (packet.qos === 0) return;
  if (isOverQuota) {
    ackPublish(conn, packet, ReasonCode.QuotaExceeded, 'the queue of every matching subscriber is full');
    return;
  }
  const reasonCode = delivered === 0 && conn.protocolVersion === 5 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success;
  if (!broker.persistence.isDurable) {
    ackPublish(conn, packet, reasonCode);
    return;
  }
  // A durable store: acknowledge only once the message and the queue entries it caused are on disk.
  waitForStore(conn, packet.qos, packet.packetId!, reasonCode);
}

/**
 * What an acknowledgement waiting for the store needs of its PUBLISH: packet identifier × 4 + QoS in one number
 * (not the packet, which can then die young); with the reason string of an acknowledgement that only waits for its
 * turn, an object.
 */
export type DurableAckTicket = number | { readonly ticket: number; readonly reasonString: string };

/** Queues the acknowledgement behind the store's next commit (see DurableAcks). */
function waitForStore(conn: Connection, qos: number, packetId: number, reasonCode: number, reasonString?: string): void {
  conn.durableAcksPending++;
  const ticket = packetId * 4 + qos;
  conn.broker.durableAcks.add(conn, reasonString === undefined ? ticket : { ticket, reasonString }, reasonCode);
}

/**
 * The acknowledgement of a PUBLISH that waited for the store. When the store failed, one that would have said
 * success says 0x80 Unspecified error instead (MQTT 3.1.1 has no failure PUBACK: a plain one); a refusal keeps its
 * own reason code.
 */
export function sendDurablePublishAck(conn: Connection, ack: DurableAckTicket, reasonCode: number,
  isStoreFailed: boolean, err?: Error): void {
  conn.durableAcksPending--;
  if (conn.state === 'closed') return;
  const ticket = typeof ack === 'number' ? ack : ack.ticket;
  let reasonString = typeof ack === 'number' ? undefined : ack.reasonString;
  let code = reasonCode;
  if (isStoreFailed && reasonCode < 0x80) {
    conn.broker.logger.error(`store failed while accepting a message from ${conn.clientId}: ${err?.message ?? 'error'}`);
    code = conn.protocolVersion === 5 ? ReasonCode.UnspecifiedError : ReasonCode.Success;
    reasonString = undefined;
  }
  ackPublishId(conn, ticket & 3, ticket >>> 2, code, reasonString);
  if (conn.durableAcksPending === 0) conn.onDurableAcksWritten();
}

/** A PUBLISH beyond what CONNACK allowed: QoS above Maximum QoS, or RETAIN without Retain Available. */
function checkCapabilities(conn: Connection, packet: PublishPacket): void {
  if (packet.qos > conn.broker.options.maximumQoS) {
    throw new ProtocolError(ReasonCode.QoSNotSupported, `QoS ${packet.qos} above the maximum`, 'MQTT-3.2.2-11');
  }
  throw new ProtocolError(ReasonCode.RetainNotSupported, 'RETAIN while Retain Available is 0', 'MQTT-3.2.2-14');
}

/**
 * Our Receive Maximum: a client may have at most that many QoS 1/2 PUBLISH packets unacknowledged (QoS 1 until
 * PUBACK, QoS 2 until PUBCOMP) [MQTT-3.3.4-7]; beyond it the answer is DISCONNECT 0x93 (MQTT 5 section 3.3.4), or
 * only a warning in the lenient mode. A 3.1.1 client has no such limit to respect.
 */
function countInbound(conn: Connection, packet: PublishPacket): void {
  const { receiveMaximum, receiveMaximumExceeded } = conn.broker.options;
  if (conn.protocolVersion === 5 && conn.inboundQos1Pending + conn.session!.incomingQos2Count >= receiveMaximum) {
    if (receiveMaximumExceeded === 'disconnect') {
      throw new ProtocolError(ReasonCode.ReceiveMaximumExceeded,
        `more than Receive Maximum (${receiveMaximum}) QoS 1/2 PUBLISH packets unacknowledged`, 'MQTT-3.3.4-7');
    }
    conn.broker.logger.warn(`Client ${conn.clientId} exceeded our Receive Maximum (${receiveMaximum}); `
      + 'accepted anyway (lenient mode).');
  }
  if (packet.qos === 1) conn.inboundQos1Pending++;
}

/** Properties a client may not send on PUBLISH, or not with that content. */
function checkProperties(packet: PublishPacket): void {
  const props = packet.properties!;
  if (props.subscriptionIdentifiers !== undefined) {
    throw protocolError('PUBLISH from a client with a Subscription Identifier', 'MQTT-3.3.4-6');
  }
  if (props.responseTopic !== undefined) {
    const problem = validateTopicName(props.responseTopic);
    // [MQTT-3.3.2-14]: a Response Topic is a topic name: no wildcards.
    if (problem !== undefined) throw protocolError(`Response Topic refused: ${problem}`, 'MQTT-3.3.2-14');
  }
}

/** Topic name after Topic Alias resolution (MQTT 5 section 3.3.2.3.4) and the configured limits. */
function resolveTopic(conn: Connection, packet: PublishPacket): string {
  let topic = packet.topic;
  const alias = packet.properties?.topicAlias;
  if (alias !== undefined) {
    if (alias > conn.broker.options.topicAliasMaximum) {
      throw new ProtocolError(ReasonCode.TopicAliasInvalid, `topic alias ${alias} above the maximum`, 'MQTT-3.3.2-9');
    }
    if (topic.length > 0) {
      conn.topicAliases.set(alias, topic);
    } else {
      const known = conn.topicAliases.get(alias);
      if (known === undefined) throw protocolError(`unknown topic alias ${alias}`);
      topic = known;
    }
  }
  // The options carry maxTopicBytes and maxTopicLevels (no limits object per message).
  const problem = validateTopicName(topic, conn.broker.options);
  if (problem !== undefined) throw new ProtocolError(ReasonCode.TopicNameInvalid, `topic name refused: ${problem}`);
  return topic;
}

/**
 * PUBACK/PUBREC for a PUBLISH that needs nothing from the store. While earlier ones of the connection wait for the
 * store, it waits behind them: acknowledgements go out in the order their PUBLISH packets came [MQTT-4.6.0-2], and a
 * resent QoS 2 PUBLISH is not answered before its first copy is on disk.
 */
function ackPublish(conn: Connection, packet: PublishPacket, reasonCode: number, reasonString?: string): void {
  if (packet.qos === 0) return;
  if (conn.durableAcksPending > 0) waitForStore(conn, packet.qos, packet.packetId!, reasonCode, reasonString);
  else ackPublishId(conn, packet.qos, packet.packetId!, reasonCode, reasonString);
}

/** PUBACK (QoS 1) or PUBREC (QoS 2) for the PUBLISH `packetId`. */
function ackPublishId(conn: Connection, qos: number, packetId: number, reasonCode: number, reasonString?: string): void {
  if (conn.state === 'closed') return;
  if (qos === 1 && conn.inboundQos1Pending > 0) conn.inboundQos1Pending--;
  sendAck(conn, qos === 1 ? 4 : 5, packetId, reasonCode, reasonString);
}

/**
 * One client connection over any ByteStream (a Duplex, or the transport's RawSocket): the decode loop, batched
 * writes, backpressure, and the single place where a protocol violation becomes a DISCONNECT (MQTT 5) or a plain
 * close (3.1/3.1.1).
 *
 * Design note: the decoder is pulled, not pushed: `#pump` takes packets while handlers answer synchronously and
 * stops while one returns a promise (authentication, an asynchronous hook), which keeps a client's packets in order
 * without a promise per message. Writes are collected per connection and the broker flushes every written-to
 * connection when a chunk read from a socket has been handled, and at the end of the event-loop turn (setImmediate)
 * for writes from anywhere else (timers, store commits): the packets that one chunk caused are joined into one Buffer
 * per receiving connection and leave in one `write` (one syscall), instead of one stream chunk per packet. Flushing
 * per chunk rather than per turn lets a message leave before the broker has handled the other sockets' input of the
 * same turn: under `culex bench latency` (1000/s probe, 20k/s background) it lowered the probe's median latency by
 * about a quarter (0.25 -> 0.18 ms at QoS 0), for a few more writes per turn to a subscriber fed by many publishers.
 *
 * Backpressure: when a flush leaves the socket backed up, every connection that publishes to it stops being read
 * (TCP then slows the publisher down) until the socket drains — for at most `publisherHoldMs` per episode, after
 * which this connection counts as slow and holds no one until it drains, so one stuck subscriber cannot stall the
 * publishers for long.
 *
 * Fair turns: a subscriber limited by a small in-flight window gets one window per round trip, and the round trip
 * includes the broker's turn. While such a subscriber waits (SessionCounters.windowWaitAtMs), each connection takes
 * at most PUBLISHES_PER_TURN PUBLISH packets per turn. `culex bench slow --publishers 20 -q 1` against the defaults
 * (window 20, queue 1000), pinned, 2-4 runs each: the fast subscriber got 386-546 msg/s without it and 2,371-3,969
 * with it (Mosquitto, same defaults: 6,405-7,107); with 1 KiB payloads 257-306 and 1,498-3,218 (Mosquitto 4,810).
 * With large windows, as bench:compare runs, it never applies.
 */
import { Decoder } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import { ProtocolError } from '../protocol/errors.js';
import { ConnackReturnCode, ReasonCode } from '../protocol/reason-codes.js';
import type { ConnectPacket, Packet, Properties, ProtocolVersion, QoS, Will } from '../protocol/types.js';
import type { ByteStream } from './byte-stream.js';
import type { BrokerContext } from './context.js';
import { dispatch } from './handlers/index.js';
import { newAuthState, type AuthState, type ClientInfo, type EnhancedAuthExchange } from './hooks.js';
import type { Message } from './message.js';
import { describePacket, describePublish, packetLine } from './packet-log.js';
import { sendAck } from './handlers/acks.js';
import { Output } from './output.js';
import type { Session, SessionLink } from './session.js';
import { OutboundTopicAliases, type AliasPlan } from './topic-aliases.js';
import type { TransportInfo } from './transport-info.js';

/** PUBLISH packets a connection takes per turn while a subscriber waits on its window (see `#pump`). */
const PUBLISHES_PER_TURN = 64;
/** How recent (ms) such a wait must be for the limit to apply. */
const WINDOW_WAIT_RECENT_MS = 100;

/** `authenticating`: an MQTT 5 enhanced authentication exchange runs between CONNECT and CONNACK (AUTH only). */
export type ConnectionState = 'awaitingConnect' | 'connecting' | 'authenticating' | 'connected' | 'closed';

/** Why a connection ended; drives the will and the log line. */
export type CloseReason =
  | 'disconnect' | 'disconnectWithWill' | 'socketClosed' | 'socketError' | 'protocolError' | 'keepaliveTimeout'
  | 'connectTimeout' | 'takenOver' | 'slowConsumer' | 'refused' | 'serverShutdown' | 'notAuthorized'
  | 'administrativeAction' | 'redirected';

/** 1 type byte + 4 remaining-length bytes + the largest remaining length: no MQTT packet is larger. */
const MAX_PACKET_BYTES = 268_435_460;

/** The stream of a connection knows its connection, so that one set of listeners serves every connection. */
const OWNER = Symbol('culex.connection');
type OwnedStream = ByteStream & { [OWNER]?: Connection };

export class Connection implements SessionLink {
  readonly stream: ByteStream;
  readonly decoder: Decoder;
  readonly broker: BrokerContext;
  readonly remoteAddress: string | undefined;
  readonly transport: TransportInfo | undefined;
  readonly createdAtMs = Date.now();
  state: ConnectionState = 'awaitingConnect';
  protocolVersion: ProtocolVersion = 4;
  clientId = '';
  username: string | undefined;
  session: Session | null = null;
  will: Will | undefined;
  keepaliveSeconds = 0;
  lastActivityMs = Date.now();
  /** MQTT 5: the id the broker assigned to a client that sent an empty one. */
  assignedClientId: string | undefined;
  /** MQTT 5: the client's Receive Maximum: at most this many unacknowledged QoS 1/2 messages to it [MQTT-3.3.4-9]. */
  receiveMaximum = 65_535;
  /** MQTT 5: the client's Maximum Packet Size; by default the largest packet MQTT can encode (a small integer). */
  maxOutboundPacketBytes = MAX_PACKET_BYTES;
  /** MQTT 5: inbound Topic Alias mapping (alias → topic name). */
  get topicAliases(): Map<number, string> {
    return this.#topicAliases ??= new Map();
  }
  /** MQTT 5 Request Problem Information: 0 forbids Reason Strings and User Properties on most packets [MQTT-3.1.2-29]. */
  isProblemInfoRequested = true;
  /** MQTT 5: the Authentication Method of CONNECT, fixed for the connection [MQTT-4.12.0-5, MQTT-4.12.1-1]. */
  authMethod: string | undefined;
  /** MQTT 5: the enhanced authentication exchange in progress (at CONNECT or re-authenticating), if any. */
  authExchange: EnhancedAuthExchange | undefined;
  /** The CONNECT waiting for its enhanced authentication exchange to finish (state `authenticating`). */
  pendingConnect: ConnectPacket | undefined;
  /** MQTT 5: aliases the broker assigns on PUBLISH to this client, when it accepts any (Topic Alias Maximum > 0). */
  outboundAliases: OutboundTopicAliases | undefined;
  /** Inbound QoS 1 PUBLISH packets not acknowledged yet (waiting on a hook or the store). */
  inboundQos1Pending = 0;
  /** Acknowledgements of this connection's PUBLISH packets that wait for the store (durable stores only). */
  durableAcksPending = 0;
  closeReason: CloseReason | undefined;
  #topicAliases: Map<number, string> | undefined;
  /** Filled by the authentication chain (token expiry, a link's per-client data); created only when asked for. */
  #auth: AuthState | undefined;
  #isPumpPaused = false;
  /** The peer ended its side: the output ends once the packets read before it are handled. */
  #isInputEnded = false;
  /** `#endOutput` has ended the stream's writable side. */
  #isOutputEnded = false;
  /**
   * Bounds the wait between the end of the input and `#endOutput`; then, while the output is backed up, the wait
   * for the peer to take what is left.
   */
  #endTimer: NodeJS.Timeout | undefined;
  /** Bytes still queued when the end-of-output timer was last armed. */
  #endWriteLength = 0;
  /** PUBLISH packets taken since the last yield or count reset (see `#pump`), across chunks. */
  #publishesTaken = 0;
  #droppedCount = 0;
  /** Packets written this turn, joined and handed to the stream by `flush()`. */
  readonly #output = new Output();
  #isFlushScheduled = false;
  /** The socket did not take everything at the last flush; cleared by 'drain'. */
  #isBackedUp = false;
  /** Backed up for longer than `publisherHoldMs`: holds no publisher until it drains. */
  #isSlow = false;
  /** Publishers whose input this connection holds paused, while backed up. */
  #heldPublishers: Set<Connection> | undefined;
  #holdTimer: NodeJS.Timeout | undefined;
  /**
   * Holds on this connection's input (its stream paused): one per backed-up connection it publishes to, and one
   * while it waits for its next turn after a fair-turn yield.
   */
  #inputHolds = 0;
  #drainTimer: NodeJS.Timeout | undefined;
  #info: ConnectionInfo | undefined;

  constructor(stream: ByteStream, broker: BrokerContext, remoteAddress: string | undefined, transport?: TransportInfo) {
    this.stream = stream;
    this.broker = broker;
    this.remoteAddress = remoteAddress;
    this.transport = transport;
    this.decoder = new Decoder({ maxPacketBytes: broker.options.maxPacketBytes });
    // Shared listeners (no closures per connection: idle connections are many), which find the connection through
    // the stream.
    (stream as OwnedStream)[OWNER] = this;
    stream.on('data', Connection.#onStreamData);
    stream.on('error', Connection.#onStreamError);
    stream.on('close', Connection.#onStreamClose);
    // MQTT has no use for a half-open connection, but a client may send its last packets (PUBLISH, DISCONNECT) and
    // end its side at once, before the broker has answered or handled them (while CONNECT authentication waits, or
    // its input is held). So the connection, not the stream, ends the writable side: once every packet read before
    // the end has been handled (`#pump`). A net.Socket from a server would end it at once by itself.
    stream.allowHalfOpen = true;
    stream.on('end', Connection.#onStreamEnd);
  }

  static #onStreamData(this: OwnedStream, chunk: Buffer): void {
    this[OWNER]!.#onData(chunk);
  }

  static #onStreamError(this: OwnedStream, err: Error): void {
    this[OWNER]!.#onError(err);
  }

  static #onStreamClose(this: OwnedStream): void {
    this[OWNER]!.finish('socketClosed');
  }

  static #onStreamEnd(this: OwnedStream): void {
    const conn = this[OWNER]!;
    conn.#isInputEnded = true;
    // Packets still waiting in the decoder are handled first; the pump ends the output when it runs dry.
    conn.#endOutput();
    // ... but not for longer than a client may take to connect: a hook or store that never answers must not keep
    // a connection whose peer has gone.
    if (!conn.#isOutputEnded && conn.state !== 'closed') {
      conn.#endTimer = setTimeout(Connection.#endTimeoutFired, conn.broker.options.connectTimeoutMs, conn);
      conn.#endTimer.unref();
    }
  }

  static #endTimeoutFired(conn: Connection): void {
    conn.#endTimer = undefined;
    conn.broker.logger.info(`Client ${conn.label} closed: its packets were not handled within `
      + `${conn.broker.options.connectTimeoutMs} ms of the end of its input.`);
    conn.close('socketClosed');
  }

  /** The peer has ended its side (FIN, a WebSocket close): what it sent before is still being handled. */
  get hasInputEnded(): boolean {
    return this.#isInputEnded;
  }

  static #onStreamDrain(this: OwnedStream): void {
    this[OWNER]!.#onDrain();
  }

  static #drainTimeoutFired(conn: Connection): void {
    conn.#onDrainTimeout();
  }

  static #holdTimeoutFired(conn: Connection): void {
    conn.#onHoldTimeout();
  }

  static #resumeHeldPump(conn: Connection): void {
    if (!conn.#isPumpPaused) conn.#pump();
  }

  /** The next turn after a fair-turn yield: drops its input hold and, if it was the last, takes the rest. */
  static #endYield(conn: Connection): void {
    if (!conn.#releaseInputHold()) return;
    if (!conn.#isPumpPaused) conn.#pump();
    conn.broker.flushWritten();
  }

  get info(): ClientInfo {
    return this.#info ??= new ConnectionInfo(this.clientId, this.username, this.remoteAddress, this.protocolVersion,
      this.transport, this.#auth);
  }

  /** Sets the user name the client is known by (an enhanced authentication method may prove one). */
  setUsername(username: string | undefined): void {
    this.username = username;
    this.#info = undefined;
  }

  /** The auth state links fill in at CONNECT; allocated on first use, so connections without auth pay nothing. */
  get auth(): AuthState {
    if (this.#auth === undefined) {
      this.#auth = newAuthState();
      // An info built earlier (e.g. for a redirect hook) sees the state authentication fills in.
      if (this.#info !== undefined) this.#info.auth = this.#auth;
    }
    return this.#auth;
  }

  /** When the client's credentials expire (e.g. a JWT's exp), if a link said so. */
  get authExpiresAtMs(): number | undefined {
    return this.#auth?.expiresAtMs;
  }

  /** A getter, so that checks after an `await` are not narrowed away by the compiler. */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get label(): string {
    return this.clientId === '' ? `<unknown ${this.remoteAddress ?? 'client'}>` : this.clientId;
  }

  #onData(chunk: Buffer): void {
    this.lastActivityMs = Date.now();
    this.broker.stats.bytesReceived += chunk.length;
    this.decoder.push(chunk);
    this.#pump();
    // What this chunk's packets wrote leaves now, not at the end of the turn (see the design note).
    this.broker.flushWritten();
  }

  #onError(err: Error): void {
    this.broker.logger.debug(`Socket error on client ${this.label}: ${err.message}`);
    this.finish('socketError');
  }

  /**
   * Takes packets from the decoder until it needs more bytes or a handler goes asynchronous. Fairness: while some
   * connected subscriber's delivery waits on a small in-flight window (SessionCounters.windowWaitAtMs, recent), a
   * connection takes at most PUBLISHES_PER_TURN PUBLISH packets and leaves the rest of its input to the next turn.
   * Otherwise publishers with deep backlogs make every turn long, and such a subscriber gets one window per turn.
   */
  #pump(): void {
    while (!this.#isPumpPaused && this.#inputHolds === 0 && this.state !== 'closed') {
      let packet: Packet | null;
      try {
        packet = this.decoder.next();
      } catch (err) {
        this.fail(err);
        return;
      }
      if (packet === null) {
        if (this.#isInputEnded) this.#endOutput();
        return;
      }
      // Counted on the connection, not per chunk: a turn can bring one socket many small chunks (large payloads, TLS
      // records, WebSocket frames). Without a recent window wait the count just starts again.
      if (packet.type === 3 && ++this.#publishesTaken === PUBLISHES_PER_TURN) {
        this.#publishesTaken = 0;
        if (Date.now() - this.broker.stats.sessionCounters.windowWaitAtMs < WINDOW_WAIT_RECENT_MS) {
          // This PUBLISH is handled below; what follows it waits for the next turn, held like a backed-up
          // subscriber holds its publishers.
          this.#pauseInput();
          setImmediate(Connection.#endYield, this);
        }
      }
      this.broker.stats.messagesReceived++;
      if (this.broker.options.isVerbose) this.broker.logger.debug(packetLine('in', packet.type === 1 ? packet.clientId : this.label, describePacket(packet)));
      let pending: Promise<void> | void;
      try {
        pending = dispatch(this, packet);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (pending !== undefined) {
        this.#isPumpPaused = true;
        pending.then(() => this.#resume(), (err: unknown) => this.fail(err));
        return;
      }
    }
  }

  /**
   * After the peer's end: what is queued leaves, then this side ends too ('close' then finishes the connection).
   * Not while packets wait to be handled (the pump calls it again when it runs dry) or acknowledgements wait for the
   * store (`onDurableAcksWritten` calls it again).
   */
  #endOutput(): void {
    if (this.state === 'closed' || this.#isOutputEnded || this.#isPumpPaused || this.#inputHolds > 0
      || this.durableAcksPending > 0) return;
    this.flush();
    this.#isOutputEnded = true;
    clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    // What is routed here from now on is dropped, so no publisher waits for this output to drain ('drain' does
    // not come after end()).
    this.#isSlow = true;
    this.#releasePublishers();
    this.stream.end();
    // The stream closes once its last bytes have left. A peer that ended its side but reads nothing never takes
    // them: when none of them has left for drainTimeoutMs (as for any backed-up connection), it is closed as a slow
    // consumer. One that still reads, however slowly, is not.
    if (this.stream.writableLength > 0 && !this.isClosed) this.#armEndWriteTimer();
  }

  #armEndWriteTimer(): void {
    this.#endWriteLength = this.stream.writableLength;
    this.#endTimer = setTimeout(Connection.#endWriteTimeoutFired, this.broker.options.drainTimeoutMs, this);
    this.#endTimer.unref();
  }

  static #endWriteTimeoutFired(conn: Connection): void {
    conn.#endTimer = undefined;
    if (conn.isClosed) return;
    const left = conn.stream.writableLength;
    if (left === 0) {
      conn.close('socketClosed'); // everything left; the stream just has not closed
      return;
    }
    if (left < conn.#endWriteLength) {
      conn.#armEndWriteTimer(); // some of it left: the peer still reads
      return;
    }
    conn.broker.stats.slowConsumersDisconnected++;
    conn.broker.logger.warn(`Client ${conn.label} disconnected: it ended its side and read nothing of what was left `
      + `for it in ${conn.broker.options.drainTimeoutMs} ms (slow consumer).`);
    conn.close('slowConsumer');
  }

  /** The last acknowledgement that waited for the store is written: a peer that has ended may be answered now. */
  onDurableAcksWritten(): void {
    if (this.#isInputEnded) this.#endOutput();
  }

  #resume(): void {
    this.#isPumpPaused = false;
    this.#pump();
  }

  /** Queues bytes; they leave at the end of this event-loop turn. */
  write(bytes: Buffer): void {
    if (this.state === 'closed') return;
    this.#output.append(bytes);
    this.#written(bytes.length);
  }

  /** A 4-byte PUBACK (4), PUBREC (5), PUBREL (6) or PUBCOMP (7): no reason code, no properties. */
  writeAck(type: 4 | 5 | 6 | 7, packetId: number): void {
    if (this.state === 'closed') return;
    this.#output.appendAck(type, packetId);
    this.#written(4);
  }

  #written(length: number): void {
    if (!this.#isFlushScheduled) {
      this.#isFlushScheduled = true;
      this.broker.scheduleFlush(this);
    }
    this.broker.stats.bytesSent += length;
    this.broker.stats.messagesSent++;
  }

  /** Bytes written but not yet taken by the socket. */
  get pendingWriteBytes(): number {
    return this.stream.writableLength + this.#output.bytes;
  }

  /**
   * Hands the turn's packets to the socket as one Buffer; called by the broker once per turn. When the socket stays
   * backed up, starts the slow-consumer timer and (see the design note) holds publishers until 'drain'.
   */
  flush(): void {
    if (!this.#isFlushScheduled) return;
    this.#isFlushScheduled = false;
    const chunk = this.#output.take();
    // After `#endOutput`, until 'close' finishes the connection, what is routed to it is dropped.
    if (chunk === undefined || this.#isOutputEnded) return;
    this.stream.write(chunk);
    if (this.stream.writableNeedDrain && !this.#isBackedUp && this.state !== 'closed') {
      this.#isBackedUp = true;
      this.#drainTimer = setTimeout(Connection.#drainTimeoutFired, this.broker.options.drainTimeoutMs, this);
      this.#drainTimer.unref();
      this.stream.once('drain', Connection.#onStreamDrain);
    }
  }

  #onDrain(): void {
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#isBackedUp = false;
    this.#isSlow = false;
    this.#releasePublishers();
  }

  #onDrainTimeout(): void {
    this.#drainTimer = undefined;
    this.broker.stats.slowConsumersDisconnected++;
    this.broker.logger.warn(`Client ${this.label} disconnected: socket backed up for over `
      + `${this.broker.options.drainTimeoutMs} ms (slow consumer).`);
    this.disconnect(ReasonCode.ServerBusy, 'slowConsumer');
  }

  /**
   * Stops reading `publisher` (its socket, and the packets already decoded after the current one) until this
   * connection drains, bounded by `publisherHoldMs`. True when the publisher is held by this connection.
   */
  #holdPublisher(publisher: Connection): boolean {
    if (publisher === this || this.#isSlow) return false;
    const holdMs = this.broker.options.publisherHoldMs;
    if (holdMs === 0) return false;
    let held = this.#heldPublishers;
    if (held === undefined) {
      held = new Set();
      this.#heldPublishers = held;
    }
    if (held.has(publisher)) return true;
    held.add(publisher);
    this.broker.stats.publishersHeld++;
    publisher.#pauseInput();
    if (this.#holdTimer === undefined) {
      this.#holdTimer = setTimeout(Connection.#holdTimeoutFired, holdMs, this);
      this.#holdTimer.unref();
    }
    return true;
  }

  #onHoldTimeout(): void {
    this.#holdTimer = undefined;
    this.broker.stats.holdTimeouts++;
    this.#isSlow = true;
    this.#releasePublishers();
  }

  #releasePublishers(): void {
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    const held = this.#heldPublishers;
    if (held === undefined || held.size === 0) return;
    this.#heldPublishers = undefined;
    for (const publisher of held) publisher.#resumeInput();
  }

  #pauseInput(): void {
    if (this.#inputHolds++ === 0) this.stream.pause();
  }

  #resumeInput(): void {
    if (!this.#releaseInputHold()) return;
    // Packets decoded before the hold are taken next turn, never re-entrantly from another connection's handler.
    setImmediate(Connection.#resumeHeldPump, this);
  }

  /** Drops one input hold; true when it was the last and the stream reads again. */
  #releaseInputHold(): boolean {
    if (--this.#inputHolds !== 0 || this.state === 'closed') return false;
    this.stream.resume();
    return true;
  }

  sendPacket(packet: Packet): void {
    if (this.state === 'closed') return;
    if (this.protocolVersion === 5 && packet.type !== 3) packet = this.#withProblemInfoAllowed(packet);
    if (this.broker.options.isVerbose) this.broker.logger.debug(packetLine('out', this.label, describePacket(packet)));
    let bytes = encode(packet, this.protocolVersion);
    if (bytes.length > this.maxOutboundPacketBytes && 'properties' in packet && packet.properties !== undefined) {
      // [MQTT-3.2.2-19, MQTT-3.14.2-3, MQTT-3.4.2-2 ...]: a Reason String or User Property is left out rather than
      // exceed the client's Maximum Packet Size.
      bytes = encode({ ...packet, properties: withoutProblemInfo(packet.properties) } as Packet, this.protocolVersion);
    }
    this.write(bytes);
  }

  /** [MQTT-3.1.2-29]: with Request Problem Information 0, only CONNACK, PUBLISH and DISCONNECT carry them. */
  #withProblemInfoAllowed(packet: Packet): Packet {
    if (this.isProblemInfoRequested || packet.type === 2 || packet.type === 14) return packet;
    if (!('properties' in packet) || packet.properties === undefined) return packet;
    const p = packet.properties;
    if (p.reasonString === undefined && p.userProperties === undefined) return packet;
    return { ...packet, properties: withoutProblemInfo(p) } as Packet;
  }

  /** MQTT 5: turns on broker-assigned Topic Aliases within the client's maximum and ours [MQTT-3.3.2-11]. */
  enableOutboundAliases(clientMaximum: number): void {
    const { outboundTopicAliasMaximum, outboundTopicAliasPolicy } = this.broker.options;
    const maximum = Math.min(clientMaximum, outboundTopicAliasMaximum);
    if (maximum > 0) this.outboundAliases = new OutboundTopicAliases(maximum, outboundTopicAliasPolicy);
  }

  /**
   * Writes a PUBLISH; false when it was dropped (socket backed up at QoS 0, expired, or over the client's maximum
   * size). MQTT 5 recipients get their Subscription Identifiers, a Topic Alias and the remaining Message Expiry
   * Interval; a message needing none of these is sent from the message's shared encoding.
   */
  sendPublish(message: Message, qos: QoS, packetId: number, retain: boolean, dup: boolean,
    subscriptionIds: readonly number[] | undefined): boolean {
    if (this.state === 'closed') return false;
    // A held publisher stops after this message, so this one is not dropped: the overshoot is one message each.
    let isHolding = false;
    if (this.#isBackedUp) {
      const publisher = this.broker.publishingConnection;
      if (publisher !== null) isHolding = this.#holdPublisher(publisher);
    }
    if (qos === 0 && !isHolding && this.#isBackedUp
      && this.pendingWriteBytes > this.broker.options.maxWriteBufferBytes) {
      this.#countDrop('socket backed up');
      return false;
    }
    let bytes: Buffer | undefined;
    let plan: AliasPlan | undefined;
    if (this.protocolVersion === 5
      && (subscriptionIds !== undefined || this.outboundAliases !== undefined || message.expiresAtMs !== undefined)) {
      let expirySeconds: number | undefined;
      if (message.expiresAtMs !== undefined) {
        const nowMs = Date.now();
        if (message.isExpired(nowMs)) {
          // [MQTT-3.3.2-5]: an expired message is not delivered.
          this.#countDrop('expired');
          return false;
        }
        // [MQTT-3.3.2-6]: the interval received minus the time the message waited here.
        expirySeconds = Math.ceil((message.expiresAtMs - nowMs) / 1000);
        if (expirySeconds === message.properties?.messageExpiryInterval) expirySeconds = undefined;
      }
      plan = this.outboundAliases?.plan(message.topic);
      if (subscriptionIds !== undefined || plan !== undefined || expirySeconds !== undefined) {
        bytes = encode(message.packetFor(qos, packetId, retain, dup, plan, subscriptionIds, expirySeconds), 5);
      }
    }
    // QoS 1/2 from the shared encoding: copied into the output with this recipient's packet id (no Buffer of its own).
    const template = bytes === undefined && qos !== 0 ? message.encoded(this.protocolVersion, false, retain) : undefined;
    if (template === undefined) bytes ??= message.encoded(this.protocolVersion, true, retain).bytes;
    const length = template === undefined ? bytes!.length : template.bytes.length;
    if (length > this.maxOutboundPacketBytes) {
      // [MQTT-3.1.2-25]: never send a packet over the client's Maximum Packet Size; the message is dropped for it.
      this.#countDrop('over the client\'s Maximum Packet Size');
      return false;
    }
    if (plan !== undefined) this.outboundAliases!.commit(plan);
    if (this.broker.options.isVerbose) {
      this.broker.logger.debug(packetLine('out', this.label,
        describePublish(dup, qos, retain, packetId, message.topic, message.payload.length)));
    }
    this.broker.stats.publishSent++;
    if (template === undefined) this.#output.append(bytes!);
    else this.#output.appendPublishFor(template, packetId, qos as 1 | 2, dup);
    this.#written(length);
    return true;
  }

  /** Counted always; logged on the first drop of a connection and every 1,000th after. */
  #countDrop(reason: string): void {
    this.broker.stats.publishDropped++;
    this.#droppedCount++;
    if (this.#droppedCount === 1 || this.#droppedCount % 1000 === 0) {
      this.broker.logger.warn(`Dropped a message for client ${this.label} (${reason}); `
        + `${this.#droppedCount} dropped on this connection so far.`);
    }
  }

  sendPubrel(packetId: number): void {
    sendAck(this, 6, packetId, 0);
  }

  /**
   * The one place a protocol violation ends a connection [MQTT-4.8.0-1 / MQTT-4.13.1-1]: MQTT 5 peers get a
   * DISCONNECT (or, before CONNACK, a CONNACK) with the reason code; 3.1/3.1.1 peers are closed — except for an
   * unsupported protocol level, which gets CONNACK 0x01 first [MQTT-3.1.2-2].
   */
  fail(err: unknown): void {
    if (this.state === 'closed') return;
    if (!(err instanceof ProtocolError)) {
      this.broker.logger.error(`Internal error handling client ${this.label}: ${(err as Error)?.stack ?? String(err)}`);
      this.disconnect(ReasonCode.UnspecifiedError, 'protocolError');
      return;
    }
    this.broker.stats.protocolErrors++;
    this.broker.logger.info(`Client ${this.label} disconnected: ${err.message} (reason 0x${err.reasonCode.toString(16)}).`);
    if (this.state !== 'connected') {
      this.refuse(err.reasonCode, 'protocolError', { reasonString: err.message });
      return;
    }
    this.disconnect(err.reasonCode, 'protocolError', { reasonString: err.message });
  }

  /**
   * Answers a CONNECT with a refusal and closes. `reasonCode` is in MQTT 5 terms; 3.1/3.1.1 get the return code.
   * `properties` (MQTT 5): a Reason String, a Server Reference.
   */
  refuse(reasonCode: number, reason: CloseReason, properties: Properties = {}): void {
    const version = this.decoder.protocolVersion;
    if (version === 5) {
      this.protocolVersion = 5;
      this.sendPacket({ type: 2, sessionPresent: false, reasonCode, properties });
    } else {
      this.protocolVersion = version;
      const rc = v4ReturnCode(reasonCode);
      if (rc !== undefined) this.sendPacket({ type: 2, sessionPresent: false, reasonCode: rc });
    }
    this.close(reason);
  }

  /**
   * Server-initiated DISCONNECT (MQTT 5 only carries one; never before a successful CONNACK [MQTT-3.14.0-1]) and
   * close. `properties`: a Reason String, a Server Reference (0x9C/0x9D).
   */
  disconnect(reasonCode: number, reason: CloseReason, properties: Properties = {}): void {
    if (this.state === 'closed') return;
    if (this.protocolVersion === 5 && this.state === 'connected') {
      this.sendPacket({ type: 14, reasonCode, properties });
    }
    this.close(reason);
  }

  /** Flushes what is queued, ends the stream, and finishes the connection now. */
  close(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    this.flush();
    this.stream.end();
    this.finish(reason);
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.stream.destroy(), 1000).unref();
  }

  /** Idempotent end of the connection: session detached, will handled, broker told. */
  finish(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.closeReason ??= reason;
    this.state = 'closed';
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    clearTimeout(this.#endTimer);
    this.#endTimer = undefined;
    this.#releasePublishers();
    this.stream.off('data', Connection.#onStreamData);
    if (this.stream.destroyed === false && reason !== 'disconnect' && reason !== 'disconnectWithWill'
      && reason !== 'protocolError' && reason !== 'refused' && reason !== 'notAuthorized'
      && reason !== 'administrativeAction' && reason !== 'redirected') {
      this.stream.destroy();
    }
    this.broker.connectionClosed(this, this.closeReason);
  }
}

/** The ClientInfo of a connection: a plain object of one shape (hooks and events get it often). */
class ConnectionInfo implements ClientInfo {
  readonly id: string;
  readonly username: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: ProtocolVersion;
  readonly transport: TransportInfo | undefined;
  /** Set by the connection when authentication creates its state. */
  auth: AuthState | undefined;

  constructor(id: string, username: string | undefined, remoteAddress: string | undefined,
    protocolVersion: ProtocolVersion, transport: TransportInfo | undefined, auth: AuthState | undefined) {
    this.id = id;
    this.username = username;
    this.remoteAddress = remoteAddress;
    this.protocolVersion = protocolVersion;
    this.transport = transport;
    this.auth = auth;
  }
}

function withoutProblemInfo(properties: Properties): Properties {
  const { reasonString: _reason, userProperties: _user, ...rest } = properties;
  return rest;
}

/** The 3.1/3.1.1 CONNACK return code for an MQTT 5 reason code, or undefined to close without CONNACK. */
function v4ReturnCode(reasonCode: number): number | undefined {
  switch (reasonCode) {
    case ReasonCode.UnsupportedProtocolVersion: return ConnackReturnCode.UnacceptableProtocolVersion;
    case ReasonCode.ClientIdentifierNotValid: return ConnackReturnCode.IdentifierRejected;
    case ReasonCode.ServerUnavailable:
    case ReasonCode.ServerBusy:
    case ReasonCode.QuotaExceeded:
    case ReasonCode.UseAnotherServer:
    case ReasonCode.ServerMoved:
      return ConnackReturnCode.ServerUnavailable;
    case ReasonCode.BadUserNameOrPassword: return ConnackReturnCode.BadUsernameOrPassword;
    case ReasonCode.NotAuthorized: return ConnackReturnCode.NotAuthorized;
    default: return undefined;
  }
}

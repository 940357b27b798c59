/**
 * A bare MQTT 3.1.1 connection for load generation: a TCP, TLS or WebSocket stream (transport.ts), our encoder for
 * CONNECT, SUBSCRIBE and PUBLISH templates. No client state machine, no retries, no keepalive (0): the point is to
 * spend as little CPU per message as possible, so the broker, not the generator, is measured.
 *
 * Inbound packets are framed, not decoded (framer.ts): a PUBLISH reaches the handler as the buffer and range of its
 * payload, with its QoS and packet id, and nothing is allocated for it. Only what the generator acts on is checked
 * (the packet kinds it expects, and that a PUBLISH's fields fit in the packet); anything else from the broker ends
 * the connection with the reason in `closedReason`.
 *
 * Acknowledgements are 4 fixed bytes and are written by hand; all the acks produced while handling one `data`
 * chunk go out in one write.
 */
import type { Duplex } from 'node:stream';
import { encode } from '../protocol/encoder.js';
import type { QoS } from '../protocol/types.js';
import { Framer } from './framer.js';
import { dialTransport, TCP, type Transport, type WsModule } from './transport.js';

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string | undefined;
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  /** Clean session (default) or a persistent one, whose queued messages a broker with a store keeps on disk. */
  readonly isClean?: boolean;
  /** Default: plain TCP. */
  readonly transport?: Transport | undefined;
  /** The CA file's contents for tls/wss verification. */
  readonly ca?: Buffer | undefined;
  /** The `ws` package, for ws/wss. */
  readonly ws?: WsModule | undefined;
}

/** Receives the packets that come in after CONNACK. */
export interface InboundHandler {
  /**
   * A PUBLISH whose payload is buf[payloadStart, payloadEnd) (valid only during the call); packetId is 0 at QoS 0;
   * `nowNs` is the hrtime of the chunk that carried it.
   */
  onPublish(buf: Buffer, payloadStart: number, payloadEnd: number, qos: QoS, packetId: number, nowNs: number): void;
  /** PUBACK (4), PUBREC (5), PUBREL (6) or PUBCOMP (7). */
  onAck(type: number, packetId: number): void;
}

const IGNORE: InboundHandler = {
  onPublish: () => undefined,
  onAck: () => undefined,
};

const CONNACK = 2;
const PUBLISH = 3;
const SUBACK = 9;
const PINGRESP = 13;

/** Thrown while handling a chunk when the broker sent what this connection cannot take. */
class UnexpectedPacket extends Error {}

export class MqttSocket {
  readonly socket: Duplex;
  readonly #abort: () => void;
  readonly #framer = new Framer((firstByte, buf, bodyStart, end) => this.#onPacket(firstByte, buf, bodyStart, end));
  #handler: InboundHandler = IGNORE;
  /** Until CONNACK: called with its return code (or undefined for another packet), and then unset. */
  #onConnack: ((returnCode: number | undefined) => void) | undefined;
  /** The hrtime of the chunk being handled. */
  #nowNs = 0;
  #acks = Buffer.allocUnsafe(4096);
  #ackBytes = 0;
  #subscribeWaiters = new Map<number, (granted: number[]) => void>();
  #nextSubscribeId = 1;
  /** Set once the socket is gone, with the reason if it was not our own close. */
  closedReason: string | undefined;
  #isClosing = false;
  onClose: (reason: string) => void = () => undefined;

  private constructor(socket: Duplex, abort: () => void) {
    this.socket = socket;
    this.#abort = abort;
  }

  /** Opens a connection over the transport, sends CONNECT (clean session) and resolves after a successful CONNACK. */
  static dial(options: DialOptions): Promise<MqttSocket> {
    return new Promise((resolve, reject) => {
      const dialed = dialTransport({
        host: options.host, port: options.port, localAddress: options.localAddress,
        transport: options.transport ?? TCP, ca: options.ca, ws: options.ws,
      });
      const socket = dialed.stream;
      const conn = new MqttSocket(socket, dialed.abort);
      let isSettled = false;
      const fail = (reason: string): void => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        dialed.abort();
        reject(new Error(reason));
      };
      const timer = setTimeout(() => fail(`no CONNACK within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
      conn.#onConnack = (returnCode) => {
        conn.#onConnack = undefined;
        if (returnCode === undefined) return fail('expected CONNACK, got another packet');
        if (returnCode !== 0) return fail(`CONNACK refused with code ${returnCode}`);
        isSettled = true;
        clearTimeout(timer);
        resolve(conn);
      };
      socket.on('error', (err: NodeJS.ErrnoException) => {
        conn.closedReason ??= err.code ?? err.message;
        fail(err.code ?? err.message);
      });
      socket.on('close', () => {
        conn.closedReason ??= conn.#isClosing ? undefined : 'closed by peer';
        fail(conn.closedReason ?? 'closed');
        if (!conn.#isClosing) conn.onClose(conn.closedReason ?? 'closed');
      });
      socket.on('data', (chunk: Buffer) => conn.#onData(chunk));
      socket.write(encode({
        type: 1, protocolName: 'MQTT', protocolVersion: 4, clean: options.isClean ?? true, keepaliveSeconds: 0, clientId: options.clientId,
      }, 4));
    });
  }

  set handler(handler: InboundHandler) {
    this.#handler = handler;
  }

  /** Subscribes to one filter; resolves with the granted QoS (0x80 = refused). */
  async subscribe(filter: string, qos: QoS): Promise<number> {
    const [granted] = await this.subscribeMany([filter], qos, 1);
    return granted ?? 0x80;
  }

  /**
   * Subscribes to `filters`, `perPacket` to a SUBSCRIBE, all packets sent at once without waiting for SUBACKs;
   * resolves with the granted QoS per filter (0x80 = refused) once every SUBACK is in.
   */
  subscribeMany(filters: readonly string[], qos: QoS, perPacket: number): Promise<number[]> {
    const packets: Promise<number[]>[] = [];
    const chunks: Buffer[] = [];
    for (let i = 0; i < filters.length; i += perPacket) {
      const group = filters.slice(i, i + perPacket);
      const packetId = this.#nextSubscribeId;
      this.#nextSubscribeId = packetId === 65_535 ? 1 : packetId + 1;
      packets.push(new Promise((resolve) => this.#subscribeWaiters.set(packetId, resolve)));
      chunks.push(encode({
        type: 8, packetId,
        subscriptions: group.map((topicFilter) => ({ topicFilter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 })),
      }, 4));
    }
    if (chunks.length > 0) this.socket.write(Buffer.concat(chunks));
    return Promise.all(packets).then((granted) => granted.flat());
  }

  /** Queues a 4-byte acknowledgement (PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70); sent after the chunk. */
  ack(firstByte: number, packetId: number): void {
    if (this.#ackBytes + 4 > this.#acks.length) this.#flushAcks();
    const b = this.#acks;
    const o = this.#ackBytes;
    b[o] = firstByte;
    b[o + 1] = 2;
    b[o + 2] = packetId >>> 8;
    b[o + 3] = packetId & 0xff;
    this.#ackBytes = o + 4;
  }

  /** Sends DISCONNECT and closes. */
  close(): void {
    if (this.#isClosing) return;
    this.#isClosing = true;
    if (!this.socket.destroyed) this.socket.end(Buffer.from([0xe0, 0]));
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /**
   * Closes with a TCP reset (or the transport's nearest thing), discarding whatever is still unsent or unread, so a
   * flat-out publisher's backlog does not keep feeding the broker after the run.
   */
  abort(): void {
    this.#isClosing = true;
    if (!this.socket.destroyed) this.#abort();
  }

  #onData(chunk: Buffer): void {
    this.#nowNs = Number(process.hrtime.bigint());
    try {
      this.#framer.push(chunk);
    } catch (err) {
      this.closedReason = `protocol error from broker: ${(err as Error).message}`;
      this.socket.destroy();
      return;
    }
    if (this.#ackBytes > 0) this.#flushAcks();
  }

  #onPacket(firstByte: number, buf: Buffer, start: number, end: number): void {
    const type = firstByte >>> 4;
    if (this.#onConnack !== undefined) {
      this.#onConnack(type === CONNACK && end - start >= 2 ? buf[start + 1]! : undefined);
    } else if (type === PUBLISH) {
      const qos = (firstByte >>> 1) & 3;
      if (end - start < 2 || qos === 3) throw new UnexpectedPacket('malformed PUBLISH');
      let at = start + 2 + ((buf[start]! << 8) | buf[start + 1]!);
      let packetId = 0;
      if (qos > 0) {
        packetId = (buf[at]! << 8) | buf[at + 1]!;
        at += 2;
      }
      if (at > end) throw new UnexpectedPacket('PUBLISH shorter than its topic');
      this.#handler.onPublish(buf, at, end, qos as QoS, packetId, this.#nowNs);
    } else if (type >= 4 && type <= 7) {
      if (end - start < 2) throw new UnexpectedPacket(`packet type ${type} without a packet id`);
      this.#handler.onAck(type, (buf[start]! << 8) | buf[start + 1]!);
    } else if (type === SUBACK) {
      if (end - start < 2) throw new UnexpectedPacket('SUBACK without a packet id');
      const packetId = (buf[start]! << 8) | buf[start + 1]!;
      const waiter = this.#subscribeWaiters.get(packetId);
      this.#subscribeWaiters.delete(packetId);
      waiter?.([...buf.subarray(start + 2, end)]);
    } else if (type !== PINGRESP) {
      throw new UnexpectedPacket(`unexpected packet type ${type}`);
    }
  }

  #flushAcks(): void {
    this.socket.write(Buffer.from(this.#acks.subarray(0, this.#ackBytes)));
    this.#ackBytes = 0;
  }
}

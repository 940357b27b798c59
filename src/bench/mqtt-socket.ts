/**
 * A bare MQTT 3.1.1 connection for load generation: a TCP, TLS or WebSocket stream (transport.ts), our encoder for CONNECT, SUBSCRIBE and
 * PUBLISH templates, our decoder for everything inbound. No client state machine, no retries, no keepalive (0):
 * the point is to spend as little CPU per message as possible, so the broker, not the generator, is measured.
 *
 * Acknowledgements are 4 fixed bytes and are written by hand; all the acks produced while handling one `data`
 * chunk go out in one write.
 */
import type { Duplex } from 'node:stream';
import { Decoder } from '../protocol/decoder.js';
import { encode } from '../protocol/encoder.js';
import type { Packet, QoS } from '../protocol/types.js';
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

/** Called for every inbound packet after CONNACK; `nowNs` is the hrtime of the chunk that carried it. */
export type PacketHandler = (packet: Packet, nowNs: number) => void;

export class MqttSocket {
  readonly socket: Duplex;
  readonly #abort: () => void;
  readonly #decoder = new Decoder({ protocolVersion: 4 });
  #handler: PacketHandler = () => undefined;
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
      conn.#handler = (packet) => {
        if (packet.type !== 2) return fail(`expected CONNACK, got packet type ${packet.type}`);
        if (packet.reasonCode !== 0) return fail(`CONNACK refused with code ${packet.reasonCode}`);
        isSettled = true;
        clearTimeout(timer);
        conn.#handler = () => undefined;
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

  set handler(handler: PacketHandler) {
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
    const nowNs = Number(process.hrtime.bigint());
    this.#decoder.push(chunk);
    try {
      for (let packet = this.#decoder.next(); packet !== null; packet = this.#decoder.next()) {
        if (packet.type === 9) {
          const waiter = this.#subscribeWaiters.get(packet.packetId);
          this.#subscribeWaiters.delete(packet.packetId);
          waiter?.(packet.reasonCodes);
        } else {
          this.#handler(packet, nowNs);
        }
      }
    } catch (err) {
      this.closedReason = `protocol error from broker: ${(err as Error).message}`;
      this.socket.destroy();
    }
    if (this.#ackBytes > 0) this.#flushAcks();
  }

  #flushAcks(): void {
    this.socket.write(Buffer.from(this.#acks.subarray(0, this.#ackBytes)));
    this.#ackBytes = 0;
  }
}

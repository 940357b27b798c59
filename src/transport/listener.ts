/**
 * A listener: TCP or a Unix socket, optionally behind the PROXY protocol, optionally TLS, carrying MQTT either as a
 * byte stream or inside WebSocket frames. Every accepted connection goes through the same stages and ends as a
 * stream handed to `handler.handle(stream, remoteAddress, transport)`:
 *
 *   net.Server accept → per-listener connection limit → [PROXY header] → [TLS] → [HTTP upgrade → WebSocket] → broker
 *
 * A listener with none of the optional stages (plain TCP or a Unix socket) hands over a RawSocket on the accepted
 * handle instead of a `net.Socket` (see raw-socket.ts: a third less CPU and memory per connection), unless
 * `isRawSocketAllowed` is not set (the broker sets it) or this Node lacks what it needs.
 *
 * Design note: one `net.Server` accepts for every kind, and the later stages are fed by emitting `connection` on a
 * non-listening `tls.Server` / `http.Server`. That keeps the PROXY header (which precedes the TLS handshake and the
 * HTTP request) in one place and lets TLS and WebSocket combine freely. Certificates can be replaced while running
 * (`setSecureContext`): new handshakes use the new ones, established connections are untouched.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import { Server as TlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { ByteStream } from '../broker/byte-stream.js';
import type { Logger } from '../broker/logger.js';
import type { TransportInfo } from '../broker/transport-info.js';
import { readProxyHeader } from './proxy-protocol.js';
import { isUsableHandle, loadStreamBinding, RawSocket, uvErrorName } from './raw-socket.js';
import { usernameFromCertificate, type CertificateUsername } from './tls.js';
import { WebSocketDuplex } from './ws-stream.js';

export interface StreamHandler {
  handle(stream: ByteStream, remoteAddress?: string, transport?: TransportInfo): void;
}

export interface ListenerTlsOptions extends SecureContextOptions {
  /** Ask for a client certificate and refuse the handshake without a valid one (`require_certificate`). */
  readonly isCertificateRequired?: boolean;
  /** Take the MQTT username from the client certificate (`use_identity_as_username` / `use_subject_as_username`). */
  readonly usernameFrom?: CertificateUsername;
}

export interface ListenerOptions {
  /** TCP port; 0 picks a free one. Default 1883. Ignored with `path`. */
  readonly port?: number;
  /** Address to bind. Default: all interfaces (IPv6 and IPv4). */
  readonly host?: string;
  /** Listen on this Unix socket instead of TCP; a stale socket file there is replaced. */
  readonly path?: string;
  /** Bind only IPv4 (`0.0.0.0`) or only IPv6 (`::`, IPv6-only) when no host is given. */
  readonly socketDomain?: 'ipv4' | 'ipv6';
  /** `mqtt` (default) or `websockets` (any path, subprotocol `mqtt`). */
  readonly protocol?: 'mqtt' | 'websockets';
  /** Serve TLS (or WSS) with these options. */
  readonly tls?: ListenerTlsOptions;
  /** Every connection starts with a PROXY protocol header of this version. */
  readonly proxyProtocol?: 1 | 2;
  /** Connections open at once on this listener; more are closed at once. Default unlimited. */
  readonly maxConnections?: number;
  /** Time for the PROXY header, the TLS handshake and the WebSocket upgrade. Default 10,000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Largest WebSocket message accepted. Default 16 MiB + 1 KiB. */
  readonly maxWebSocketMessageBytes?: number;
  /** Name passed on as `TransportInfo.listener`. Default `<protocol> <address>`. */
  readonly name?: string;
  /** Pending-connection queue length passed to listen(2). Default 511. */
  readonly backlog?: number;
  /** Where failed handshakes and refused connections are logged (as debug, warn). */
  readonly logger?: Logger;
  /**
   * Serve a listener without PROXY, TLS or WebSocket on the bare libuv handle (RawSocket: a ByteStream, not a
   * Duplex) rather than a `net.Socket`. Default false here; the broker's listeners (`openListener`) default to true.
   * A Node without the internals it uses serves every connection on a `net.Socket`.
   */
  readonly isRawSocketAllowed?: boolean;
}

export interface Listener {
  readonly name: string;
  /** The bound address: an AddressInfo for TCP, the path for a Unix socket. */
  readonly address: AddressInfo | string;
  /** Connections open on this listener now (accepted, not yet closed). */
  readonly connectionCount: number;
  /** Replaces the TLS certificates for new handshakes (SIGHUP); throws on a listener without TLS. */
  setSecureContext(options: SecureContextOptions): void;
  close(): Promise<void>;
}

/** Where a connection came from, carried from stage to stage. */
interface Origin {
  /** The accepted socket. */
  readonly raw: Socket;
  readonly remoteAddress: string | undefined;
  readonly certificateUsername?: string;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/**
 * A TLSSocket made by `tls.Server` keeps the socket it wraps here (Node has since v0.11; not documented). It is how
 * the TLS stage finds the PROXY-protocol address of the connection; test/transport/proxy-protocol tests cover it.
 */
const TLS_PARENT = '_parent';
/** Where `net.Server` keeps its listening handle (since v0.x; not documented). */
const NET_SERVER_HANDLE = '_handle';
const DEFAULT_MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024 + 1024;

/** Opens a listener that hands each connection to `handler`. */
export async function listen(handler: StreamHandler, options: ListenerOptions = {}): Promise<Listener> {
  const server = createNetServer({ noDelay: true, pauseOnConnect: false });
  // `ws` is loaded only for WebSocket listeners: it is the largest import here, and most brokers start without one.
  const wsModule = options.protocol === 'websockets' ? await import('ws') : undefined;
  const pipeline = new Pipeline(handler, options, server, wsModule?.WebSocketServer);
  const address = await bind(server, options);
  const hasStages = options.proxyProtocol !== undefined || options.tls !== undefined || wsModule !== undefined;
  if (!hasStages && options.isRawSocketAllowed === true) pipeline.acceptRawHandles(server);
  // After listening, an accept can still fail (EMFILE at the open-file limit): logged, never thrown.
  server.on('error', (err) => options.logger?.warn(`Accepting a connection on ${pipeline.name} failed: ${err.message}.`));
  const protocol = options.protocol ?? 'mqtt';
  const where = typeof address === 'string' ? address : `${address.address}:${address.port}`;
  pipeline.name = options.name ?? `${protocol}${options.tls === undefined ? '' : '+tls'} ${where}`;
  return {
    get name() { return pipeline.name; },
    address,
    get connectionCount() { return pipeline.sockets.size; },
    setSecureContext: (ctx) => pipeline.setSecureContext(ctx),
    close: () => pipeline.close(),
  };
}

function bind(server: NetServer, options: ListenerOptions): Promise<AddressInfo | string> {
  const backlog = options.backlog ?? 511;
  if (options.path !== undefined) removeStaleSocket(options.path);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve(options.path ?? (server.address() as AddressInfo));
    };
    if (options.path !== undefined) {
      server.listen({ path: options.path, backlog }, done);
      return;
    }
    const host = options.host ?? (options.socketDomain === 'ipv4' ? '0.0.0.0' : options.socketDomain === 'ipv6' ? '::' : undefined);
    server.listen({ port: options.port ?? 1883, host, backlog, ipv6Only: options.socketDomain === 'ipv6' }, done);
  });
}

/** A socket file left by a previous run would make listen fail with EADDRINUSE; other files are left alone. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Absent: nothing to remove.
  }
}

const PIPELINE = Symbol('culex.pipeline');
type PipelineSocket = (Socket | RawSocket) & { [PIPELINE]?: Pipeline };
/** What `net.Server` sets on its listening handle: libuv's accept callback. */
interface ListeningHandle {
  onconnection: (status: number, clientHandle?: object) => void;
}

function ignoreError(): void {}

class Pipeline {
  name = '';
  /** Every open accepted socket, for `maxConnections`. */
  readonly sockets = new Set<Socket | RawSocket>();
  /**
   * Accepted sockets not yet handed to the broker (in the PROXY, TLS or HTTP stage), with the time they were
   * accepted: a sweep closes those still there after the handshake timeout, and `close()` closes the rest.
   */
  readonly #pending = new Map<Socket, number>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #handler: StreamHandler;
  readonly #options: ListenerOptions;
  readonly #server: NetServer;
  readonly #timeoutMs: number;
  readonly #tlsServer: TlsServer | undefined;
  readonly #httpServer: HttpServer | undefined;
  readonly #wss: WebSocketServer | undefined;
  /** The origin of each socket handed to the TLS or HTTP stage, keyed by that socket. */
  readonly #origins = new WeakMap<object, Origin>();
  #sharedTransport: TransportInfo | undefined;

  constructor(handler: StreamHandler, options: ListenerOptions, server: NetServer,
    WebSocketServerClass: typeof WebSocketServer | undefined) {
    this.#handler = handler;
    this.#options = options;
    this.#server = server;
    this.#timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    // One timer per listener, not per socket: a client that stalls in the PROXY, TLS or HTTP stage (e.g. never sends
    // its WebSocket upgrade request) is closed once the handshake timeout has passed.
    this.#sweepTimer = setInterval(() => this.#closeStalled(), Math.max(50, Math.min(1000, this.#timeoutMs / 4)));
    this.#sweepTimer.unref();
    if (options.tls !== undefined) this.#tlsServer = this.#createTlsServer(options.tls);
    if (WebSocketServerClass !== undefined) {
      this.#wss = new WebSocketServerClass({
        noServer: true,
        perMessageDeflate: false,
        maxPayload: options.maxWebSocketMessageBytes ?? DEFAULT_MAX_WS_MESSAGE_BYTES,
        // [MQTT-6.0.0-3/4]: the subprotocol is "mqtt" (MQTT 3.1 clients offer "mqttv3.1").
        handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : offered.has('mqttv3.1') ? 'mqttv3.1' : false),
      });
      this.#httpServer = this.#createHttpServer();
    }
    server.on('connection', (socket) => this.#accept(socket));
  }

  #createTlsServer(tls: ListenerTlsOptions): TlsServer {
    const isRequired = tls.isCertificateRequired === true;
    const server = new TlsServer({
      ...tls, requestCert: isRequired, rejectUnauthorized: isRequired, handshakeTimeout: this.#timeoutMs,
    });
    server.on('secureConnection', (socket: TLSSocket) => this.#onSecure(socket));
    server.on('tlsClientError', (err, socket) => {
      const origin = this.#stageOrigin(socket);
      this.#options.logger?.debug(`TLS handshake failed on ${this.name} from ${origin?.remoteAddress ?? 'unknown'}: `
        + `${err.message}`);
      socket.destroy();
      origin?.raw.destroy();
    });
    return server;
  }

  #createHttpServer(): HttpServer {
    const server = createHttpServer({ requestTimeout: this.#timeoutMs }, (_req, res) => {
      // No http_dir: plain HTTP requests get nothing, as in Mosquitto without it.
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  }

  static #onSocketClose(this: PipelineSocket): void {
    const pipeline = this[PIPELINE]!;
    pipeline.sockets.delete(this);
    if (pipeline.#pending.size > 0) pipeline.#pending.delete(this as Socket);
  }

  /**
   * From now on, `server`'s accepted handles are served on RawSockets (`net.Server` sets `onconnection` on its
   * listening handle; this sets it again). Nothing changes when this Node lacks what RawSocket uses.
   */
  acceptRawHandles(server: NetServer): void {
    const binding = loadStreamBinding();
    const handle = (server as unknown as Record<string, Partial<ListeningHandle> | null | undefined>)[NET_SERVER_HANDLE];
    if (binding === undefined || typeof handle?.onconnection !== 'function') return;
    (handle as ListeningHandle).onconnection = (status, clientHandle) => {
      if (status !== 0 || clientHandle === undefined) {
        this.#options.logger?.warn(`Accepting a connection on ${this.name} failed: ${uvErrorName(status)}.`);
      } else if (isUsableHandle(clientHandle)) {
        this.#acceptRaw(new RawSocket(clientHandle, binding));
      } else {
        (clientHandle as { close?: () => void }).close?.();
      }
    };
  }

  #acceptRaw(socket: RawSocket): void {
    const { maxConnections } = this.#options;
    if (maxConnections !== undefined && this.sockets.size >= maxConnections) {
      this.#refuse(socket, maxConnections);
      return;
    }
    this.sockets.add(socket);
    (socket as PipelineSocket)[PIPELINE] = this;
    socket.on('close', Pipeline.#onSocketClose);
    socket.setNoDelay(true);
    this.#handler.handle(socket, this.#describe(socket), this.#transport());
    socket.resume();
  }

  #refuse(socket: Socket | RawSocket, maxConnections: number): void {
    this.#options.logger?.warn(`Client connection from ${this.#describe(socket)} denied: max_connections `
      + `(${maxConnections}) reached on ${this.name}.`);
    socket.destroy();
  }

  #accept(socket: Socket): void {
    const { maxConnections, logger } = this.#options;
    socket.on('error', ignoreError); // Later stages add their own handlers; an error here must never crash.
    if (maxConnections !== undefined && this.sockets.size >= maxConnections) {
      this.#refuse(socket, maxConnections);
      return;
    }
    this.sockets.add(socket);
    this.#pending.set(socket, Date.now());
    // Shared listener, no closure per socket (idle connections are many): the socket knows its pipeline.
    (socket as PipelineSocket)[PIPELINE] = this;
    socket.on('close', Pipeline.#onSocketClose);
    socket.setNoDelay(true);
    const version = this.#options.proxyProtocol;
    if (version === undefined) {
      this.#afterProxy({ raw: socket, remoteAddress: this.#describe(socket) });
      return;
    }
    readProxyHeader(socket, version, this.#timeoutMs).then(
      (source) => this.#afterProxy({ raw: socket, remoteAddress: source ?? this.#describe(socket) }),
      (err: Error) => {
        logger?.warn(`Client connection from ${this.#describe(socket)} on ${this.name} closed: ${err.message}.`);
        socket.destroy();
      },
    );
  }

  #afterProxy(origin: Origin): void {
    if (this.#tlsServer !== undefined) {
      this.#origins.set(origin.raw, origin);
      // The TLS socket takes over the handle and first consumes what is buffered (the bytes after a PROXY header).
      this.#tlsServer.emit('connection', origin.raw);
      return;
    }
    this.#afterTls(origin.raw, origin);
  }

  /** The origin of a socket in the TLS stage: the TLS server wraps the accepted socket as `_parent`. */
  #stageOrigin(socket: object): Origin | undefined {
    const parent = (socket as Record<string, unknown>)[TLS_PARENT] as object | undefined;
    return this.#origins.get(socket) ?? (parent === undefined ? undefined : this.#origins.get(parent));
  }

  #onSecure(socket: TLSSocket): void {
    const origin = this.#stageOrigin(socket);
    if (origin === undefined) {
      socket.destroy();
      return;
    }
    socket.on('error', ignoreError);
    const from = this.#options.tls?.usernameFrom;
    if (from === undefined) {
      this.#afterTls(socket, origin);
      return;
    }
    const certificateUsername = usernameFromCertificate(socket.getPeerCertificate(), from);
    if (certificateUsername === undefined) {
      this.#options.logger?.warn(`Client connection from ${origin.remoteAddress} on ${this.name} closed: its `
        + `certificate has no ${from === 'identity' ? 'Common Name' : 'subject'} to use as username.`);
      socket.destroy();
      return;
    }
    this.#afterTls(socket, { ...origin, certificateUsername });
  }

  #afterTls(socket: Socket, origin: Origin): void {
    if (this.#httpServer === undefined) {
      this.#handOver(socket, origin);
      return;
    }
    this.#origins.set(socket, origin);
    const buffered: Buffer[] = [];
    if (socket === origin.raw && socket.readableLength > 0) {
      // The HTTP parser reads the handle directly and would miss bytes already read past a PROXY header.
      for (let chunk: Buffer | null = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buffered.push(chunk);
      }
    }
    this.#httpServer.emit('connection', socket);
    for (const chunk of buffered) socket.emit('data', chunk);
    socket.resume();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const origin = this.#origins.get(socket);
    if (origin === undefined) {
      socket.destroy();
      return;
    }
    this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#handOver(new WebSocketDuplex(ws), origin));
  }

  #handOver(stream: Duplex, origin: Origin): void {
    this.#pending.delete(origin.raw);
    const transport = origin.certificateUsername === undefined
      ? this.#transport()
      : { ...this.#transport(), certificateUsername: origin.certificateUsername };
    this.#handler.handle(stream, origin.remoteAddress, transport);
    if (stream === origin.raw) {
      // The handler listens for errors now: the accept stage's catch-all goes (one listener less per connection).
      if (stream.listenerCount('error') > 1) stream.off('error', ignoreError);
      origin.raw.resume();
    }
  }

  /** The TransportInfo of this listener's connections (without a certificate username): one object for all. */
  #transport(): TransportInfo {
    if (this.#sharedTransport?.listener !== this.name) {
      this.#sharedTransport = Object.freeze({
        listener: this.name, isEncrypted: this.#tlsServer !== undefined, protocol: this.#options.protocol ?? 'mqtt',
      });
    }
    return this.#sharedTransport;
  }

  #closeStalled(): void {
    const deadline = Date.now() - this.#timeoutMs;
    for (const [socket, acceptedAtMs] of this.#pending) {
      if (acceptedAtMs > deadline) break; // Accepted in time order: the rest are younger.
      this.#options.logger?.info(`Client connection from ${this.#describe(socket)} on ${this.name} closed: no `
        + `handshake within ${this.#timeoutMs} ms.`);
      this.#pending.delete(socket);
      socket.destroy();
    }
  }

  #describe(socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined }): string | undefined {
    if (this.#options.path !== undefined) return this.#options.path;
    return socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
  }

  setSecureContext(options: SecureContextOptions): void {
    if (this.#tlsServer === undefined) throw new Error(`listener ${this.name} has no TLS`);
    this.#tlsServer.setSecureContext(options);
  }

  /** Stops accepting and closes connections still in a handshake; handed-over ones are the broker's to close. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      clearInterval(this.#sweepTimer);
      for (const socket of this.#pending.keys()) socket.destroy();
      this.#wss?.close();
    });
    // net.Server waits for its own sockets; RawSockets are not its own, so they are waited for here.
    const raw = [...this.sockets].filter((s): s is RawSocket => s instanceof RawSocket && !s.destroyed);
    return Promise.all([closed, ...raw.map((s) => new Promise<void>((resolve) => s.once('close', resolve)))])
      .then(() => undefined);
  }
}

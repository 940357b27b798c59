/**
 * A WebSocket as a Duplex of MQTT bytes, so the broker serves it like a TCP socket.
 *
 * Design note: the broker corks a connection's stream for an event-loop turn and uncorks once, so everything written
 * in that turn reaches `_writev` together and leaves as ONE binary frame (MQTT allows packets to span frames and a
 * frame to hold several packets [MQTT-6.0.0-2]); `ws`'s own `createWebSocketStream` sends a frame per write. The
 * write callback fires when `ws` has handed the frame to the socket, so `writableNeedDrain` and the broker's
 * slow-consumer timer see a backed-up WebSocket as they see a backed-up TCP socket. Reading pauses the WebSocket
 * while the readable side is full.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export class WebSocketDuplex extends Duplex {
  readonly #ws: WebSocket;
  /**
   * The WebSocket has closed (or is closing): whatever is written from now on is dropped, as the peer cannot read it.
   */
  #isPeerGone = false;

  constructor(ws: WebSocket) {
    super({ allowHalfOpen: true });
    this.#ws = ws;
    ws.on('message', this.#onMessage);
    ws.on('close', this.#onClose);
    ws.on('error', this.#onError);
  }

  #onMessage = (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void => {
    if (!isBinary) {
      // [MQTT-6.0.0-1]: a text frame closes the connection.
      this.destroy(new Error('WebSocket text frame received (MQTT needs binary frames)'));
      return;
    }
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!this.push(chunk)) this.#ws.pause();
  };

  #onClose = (): void => {
    this.#isPeerGone = true;
    // What was read before the close frame is still handed on, then the end; the reader ends the writable side
    // when it has handled it (a Connection does), and the stream then closes by itself.
    this.push(null);
  };

  #onError = (err: Error): void => {
    this.destroy(err);
  };

  override _read(): void {
    if (this.#ws.isPaused) this.#ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  #send(bytes: Buffer, callback: (error?: Error | null) => void): void {
    if (this.#isPeerGone || this.#ws.readyState !== this.#ws.OPEN) {
      // Closing (a close frame came, or was sent) or closed: the peer reads nothing more, and what it sent before
      // its close frame is still being handled, so this is dropped, not an error that would end the connection.
      callback();
      return;
    }
    this.#ws.send(bytes, { binary: true }, (err) => callback(err ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(1000);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#ws.off('message', this.#onMessage);
    if (this.#ws.readyState !== this.#ws.CLOSED) this.#ws.terminate();
    callback(error);
  }
}

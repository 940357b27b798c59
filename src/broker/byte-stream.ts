/**
 * What a Connection needs of its transport: the parts of a Duplex it uses. Every Duplex has them (a `net.Socket`, a
 * `TLSSocket`, the WebSocket stream, an in-memory pair in a test); so does the transport's `RawSocket`, which serves
 * plain TCP without a `net.Socket`.
 *
 * Contract: bytes arrive as `data` Buffers (which the Connection may keep: they are not reused); the peer's end as
 * `end`, after which the output stays open until `end()` (half-open); `close` once, last. `write` returns false, and
 * `writableNeedDrain` is true, while `writableLength` bytes wait above the stream's high-water mark, until `drain`.
 */
export interface ByteStream {
  on(event: 'data', listener: (this: ByteStream, chunk: Buffer) => void): this;
  on(event: 'error', listener: (this: ByteStream, error: Error) => void): this;
  on(event: 'end' | 'close' | 'drain', listener: (this: ByteStream) => void): this;
  once(event: 'drain', listener: (this: ByteStream) => void): this;
  off(event: 'data', listener: (this: ByteStream, chunk: Buffer) => void): this;
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(error?: Error): this;
  pause(): this;
  resume(): this;
  readonly destroyed: boolean;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  /** Set to true by the Connection: the stream must not end its output when the peer ends its own. */
  allowHalfOpen: boolean;
}

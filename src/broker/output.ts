/**
 * The bytes a connection writes between two flushes (those one input chunk caused, or one event-loop turn's from
 * timers and store commits), joined into one Buffer for one socket write.
 *
 * Design note: small packets are copied into a staging Buffer as they are written, so an acknowledgement or a
 * per-recipient copy of a PUBLISH (packet id, QoS and DUP patched) costs no Buffer of its own; a packet larger than
 * the stage goes in as it is, after the staged bytes. The stage is sized from the previous flush's output, so a busy
 * subscriber's flush usually fits one stage and is handed to the socket without a join. Nothing is kept between
 * flushes (an idle connection holds no buffer). A connection's first packet (its CONNACK) is not staged: accepting a
 * connection then costs no stage, at the price of a join when more follows it in the same flush.
 */
import { writePublishForRecipient, writeShortAck, type EncodedPublish } from '../protocol/encoder.js';

/** Packets up to this size are staged; larger ones are queued as they are. */
const MAX_STAGED = 16 * 1024;
/** Smallest stage: below the Buffer pool's threshold, so it is a slice of a shared pool, not an allocation. */
const MIN_STAGE = 2048;
const MAX_STAGE = 256 * 1024;

export class Output {
  /**
   * Sealed parts in order: the first in `#first`, the others in `#rest` (only its first `#count - 1` are live), which
   * is created when a flush first has two parts. Most flushes have one (an idle connection's CONNACK, a busy one's
   * stage), so most connections never hold an array here.
   */
  #first: Buffer | undefined;
  #rest: (Buffer | undefined)[] | undefined;
  #count = 0;
  #stage: Buffer | undefined;
  #stageStart = 0;
  #stageEnd = 0;
  /** Bytes queued since the last flush. */
  bytes = 0;
  /** Bytes of the previous flush: the next stage's size. */
  #lastFlushBytes = 0;

  append(bytes: Buffer): void {
    const n = bytes.length;
    // Nothing to write: an empty part would make take() hand the socket an empty Buffer instead of undefined.
    if (n === 0) return;
    this.bytes += n;
    // Large packets go in as they are; so does the first packet of a connection's first flush (its CONNACK, most
    // often all that an idle connection ever writes), which would otherwise take a whole stage for a few bytes.
    if (n > MAX_STAGED || (this.#lastFlushBytes === 0 && this.#count === 0 && this.#stage === undefined)) {
      this.#seal();
      this.#push(bytes);
      return;
    }
    const at = this.#room(n);
    this.#stage!.set(bytes, at);
  }

  /** A 4-byte acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP without reason code or properties). */
  appendAck(type: 4 | 5 | 6 | 7, packetId: number): void {
    this.bytes += 4;
    const at = this.#room(4);
    writeShortAck(this.#stage!, at, type, packetId);
  }

  /** A copy of an encoded QoS 1/2 PUBLISH with this recipient's packet id, QoS and DUP (`writePublishForRecipient`). */
  appendPublishFor(e: EncodedPublish, packetId: number, qos: 1 | 2, dup: boolean): void {
    const n = e.bytes.length;
    this.bytes += n;
    if (n > MAX_STAGED) {
      this.#seal();
      const own = Buffer.allocUnsafe(n);
      writePublishForRecipient(e, own, 0, packetId, qos, dup);
      this.#push(own);
    } else {
      const at = this.#room(n); // may start a new stage: take the stage after it
      writePublishForRecipient(e, this.#stage!, at, packetId, qos, dup);
    }
  }

  /** The bytes since the last flush as one Buffer (undefined when none); the output is empty afterwards. */
  take(): Buffer | undefined {
    this.#seal();
    const count = this.#count;
    if (count === 0) return undefined;
    let chunk = this.#first!;
    if (count > 1) {
      const rest = this.#rest!;
      const first = chunk;
      chunk = Buffer.allocUnsafe(this.bytes);
      chunk.set(first, 0);
      let offset = first.length;
      for (let i = 0; i < count - 1; i++) {
        chunk.set(rest[i]!, offset);
        offset += rest[i]!.length;
      }
      rest.fill(undefined, 0, count - 1);
    }
    this.#first = undefined;
    this.#count = 0;
    this.#lastFlushBytes = this.bytes;
    this.bytes = 0;
    this.#stage = undefined;
    this.#stageStart = 0;
    this.#stageEnd = 0;
    return chunk;
  }

  /** Reserves `n` bytes at the end of the stage (a new stage when it has no room) and returns their offset. */
  #room(n: number): number {
    const stage = this.#stage;
    if (stage === undefined || stage.length - this.#stageEnd < n) {
      this.#seal();
      const size = Math.min(Math.max(n, this.#lastFlushBytes, MIN_STAGE), MAX_STAGE);
      this.#stage = Buffer.allocUnsafe(size < n ? n : size);
      this.#stageStart = 0;
      this.#stageEnd = 0;
    }
    const at = this.#stageEnd;
    this.#stageEnd = at + n;
    return at;
  }

  /** Moves the staged bytes not yet in `#parts` there, as a view of the stage. */
  #seal(): void {
    if (this.#stageEnd === this.#stageStart) return;
    this.#push(this.#stage!.subarray(this.#stageStart, this.#stageEnd));
    this.#stageStart = this.#stageEnd;
  }

  #push(part: Buffer): void {
    if (this.#count === 0) this.#first = part;
    else (this.#rest ??= [])[this.#count - 1] = part;
    this.#count++;
  }
}

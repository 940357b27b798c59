/**
 * `client.messages(filter)`: an async iterator over received messages whose topic matches a filter.
 *
 * Design note: each stream has its own FIFO (an array with a head index) filled from the moment the stream is
 * created, and at most one pending `next()` waiter is served directly. The buffer is bounded (`maxBuffered`, default
 * 10,000): when a consumer falls that far behind the oldest message is dropped and counted in `dropped`, so a
 * forgotten iterator cannot grow memory without limit. The stream ends (done) when the client closes or the loop
 * breaks (`return()`), which unregisters it.
 */
import { matchTopic } from '../protocol/topic.js';
import type { Properties, QoS } from '../protocol/types.js';

export interface ReceivedMessage {
  topic: string;
  /** A private copy: safe to keep. */
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** MQTT 5 properties (responseTopic, correlationData, userProperties, subscriptionIdentifiers, …). */
  properties?: Properties;
}

export interface MessageStreamOptions {
  /** Messages held for a slow consumer before the oldest is dropped. Default 10,000. */
  maxBuffered?: number;
}

export class MessageStream implements AsyncIterableIterator<ReceivedMessage> {
  readonly filter: string | undefined;
  /** Messages dropped because the consumer fell more than `maxBuffered` behind. */
  dropped = 0;
  readonly #maxBuffered: number;
  readonly #onReturn: (stream: MessageStream) => void;
  #buffer: ReceivedMessage[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<ReceivedMessage>) => void) | undefined;
  #isDone = false;

  constructor(filter: string | undefined, onReturn: (stream: MessageStream) => void, options: MessageStreamOptions = {}) {
    this.filter = filter;
    this.#onReturn = onReturn;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
  }

  /** Offers a message; kept only if it matches the filter. */
  offer(message: ReceivedMessage): void {
    if (this.#isDone || (this.filter !== undefined && !matchTopic(this.filter, message.topic))) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter({ value: message, done: false });
      return;
    }
    if (this.#buffer.length - this.#head >= this.#maxBuffered) {
      this.#head++;
      this.dropped++;
    }
    this.#buffer.push(message);
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the stream: buffered messages are still delivered, then `done`. */
  finish(): void {
    this.#isDone = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<ReceivedMessage>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head]!;
      this.#buffer[this.#head++] = undefined as unknown as ReceivedMessage; // release it
      return Promise.resolve({ value, done: false });
    }
    if (this.#isDone) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined) return Promise.reject(new Error('next() called again before the previous one settled'));
    return new Promise((resolve) => { this.#waiter = resolve; });
  }

  return(): Promise<IteratorResult<ReceivedMessage>> {
    this.#buffer = [];
    this.#head = 0;
    this.finish();
    this.#onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ReceivedMessage> {
    return this;
  }
}

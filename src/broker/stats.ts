import type { SessionCounters } from './session.js';

/**
 * Counters behind `$SYS` and metrics. Plain numbers incremented on the hot path; rates are derived at report time.
 */
export class Stats {
  readonly startedAtMs = Date.now();
  messagesReceived = 0;
  messagesSent = 0;
  publishReceived = 0;
  publishSent = 0;
  publishDropped = 0;
  bytesReceived = 0;
  bytesSent = 0;
  clientsTotalEver = 0;
  clientsMaximum = 0;
  connectionsRefused = 0;
  slowConsumersDisconnected = 0;
  /** Times a publisher's input was paused because a subscriber it published to was backed up. */
  publishersHeld = 0;
  /** Times a backed-up subscriber released its publishers after `publisherHoldMs` without draining. */
  holdTimeouts = 0;
  protocolErrors = 0;
  /** Shared with sessions: messages dropped because a queue was full. */
  readonly sessionCounters: SessionCounters = { messagesDropped: 0, windowWaitAtMs: 0 };
}

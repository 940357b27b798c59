/**
 * `culex sub`: mosquitto_sub on the Culex client library. Subscribes to every -t filter in one SUBSCRIBE, sends one
 * UNSUBSCRIBE per -U, and prints each message (-F / -v / -N / --json) unless -R, -T or --random-filter drops it;
 * --remove-retained clears retained messages, --retained-only stops at the first live one, -C after a count, -E
 * after the SUBACK, -W after a timeout (exit 27, "Timed out"), SIGINT/SIGTERM at once (exit 0). Like mosquitto_sub
 * it reconnects after losing an established connection.
 * Messages are handled in Mosquitto's order, after their acknowledgement (see onAcknowledgedMessage).
 */
import { matchTopic } from '../protocol/topic.js';
import type { MqttClient } from '../client/client.js';
import type { ClientConfig } from './client-options/config.js';
import {
  awaitConnack, defaultOnInterrupt, onAcknowledgedMessage, startClient, ToolOutput, type StartedClient, type ToolIo,
} from './client-options/session.js';
import { configOrExit } from './client-options/tool.js';
import type { PrintableMessage } from './output/message.js';
import { systemClock } from './output/message.js';
import { renderMessage } from './output/printer.js';

type Outcome = { kind: 'done' } | { kind: 'timeout' } | { kind: 'closed'; code: number };

export async function run(argv: string[], io: ToolIo): Promise<number> {
  const config = configOrExit('sub', argv, io);
  if (typeof config === 'number') return config;
  if (config.isNoRetain && config.isRetainedOnly) {
    io.stderr.write("\nError: Combining '-R' and '--retained-only' makes no sense.\n");
    return 1;
  }
  const output = new ToolOutput(io, config.isQuiet);
  const started = startClient({ ...config }, output);
  if ('exitCode' in started) return started.exitCode;
  return new Subscriber(config, started, output, io).run();
}

class Subscriber {
  readonly #config: ClientConfig;
  readonly #client: MqttClient;
  readonly #started: StartedClient;
  readonly #output: ToolOutput;
  readonly #io: ToolIo;
  #isProcessing = true;
  #count = 0;
  readonly #removals: Promise<unknown>[] = [];
  #finish: (outcome: Outcome) => void = () => undefined;
  /** Packet id of the SUBSCRIBE, for the `Subscribed (mid: …)` line of -d. */
  #subscribeMid = 0;

  constructor(config: ClientConfig, started: StartedClient, output: ToolOutput, io: ToolIo) {
    this.#config = config;
    this.#started = started;
    this.#client = started.client;
    this.#output = output;
    this.#io = io;
  }

  async run(): Promise<number> {
    const outcome = new Promise<Outcome>((resolve) => { this.#finish = resolve; });
    const timer = this.#config.timeoutSeconds > 0
      ? setTimeout(() => this.#finish({ kind: 'timeout' }), this.#config.timeoutSeconds * 1000)
      : undefined;
    const removeInterrupt = (this.#io.onInterrupt ?? defaultOnInterrupt)(() => this.#finish({ kind: 'done' }));
    // Listen before CONNACK: a kept session's queued messages can arrive in the same read as the CONNACK.
    onAcknowledgedMessage(this.#started, (m) => this.#handle(m));
    // The library subscribes again by itself after a reconnection (unless the session was kept).
    this.#client.on('packetReceive', (p) => {
      if (p.type === 9 && p.packetId === this.#subscribeMid) this.#onSuback(p.reasonCodes);
    });
    try {
      const refused = await awaitConnack(this.#started, this.#config, this.#output);
      if (refused !== undefined) return refused;
      this.#client.on('close', (error) => {
        if (error !== undefined) this.#finish({ kind: 'closed', code: 7 });
      });
      this.#subscribe();
      const result = await outcome;
      return await this.#end(result);
    } finally {
      clearTimeout(timer);
      removeInterrupt();
    }
  }

  async #end(outcome: Outcome): Promise<number> {
    this.#isProcessing = false;
    if (outcome.kind === 'closed') {
      this.#output.error('Error: The connection was lost.\n');
      return outcome.code;
    }
    await Promise.allSettled(this.#removals);
    await this.#client.end({ force: outcome.kind === 'timeout' });
    await this.#output.flush();
    if (outcome.kind === 'timeout') {
      this.#output.error('Timed out\n');
      return 27;
    }
    return 0;
  }

  /** One SUBSCRIBE for all -t filters, then one UNSUBSCRIBE per -U (on every connection, as mosquitto_sub). */
  /**
   * mosquitto_sub's subscribe callback, run as the SUBACK is decoded (before any PUBLISH that came with it), so the
   * `Subscribed` line of -d lands where Mosquitto prints it.
   */
  #onSuback(codes: readonly number[]): void {
    if (this.#config.isDebug) this.#output.out(`Subscribed (mid: ${this.#subscribeMid}): ${codes.join(', ')}\n`);
    if (codes.every((code) => code >= 0x80)) {
      this.#output.error('All subscription requests were denied.\n');
      this.#finish({ kind: 'done' });
    }
    if (this.#config.isExitAfterSubscribe) this.#finish({ kind: 'done' });
  }

  #subscribe(): void {
    const c = this.#config;
    const v5Options = c.protocolVersion === 5
      ? { retainHandling: c.isNoRetain ? 2 as const : 0 as const, retainAsPublished: c.isRetainAsPublished }
      : {};
    this.#client.subscribe(c.topics, { qos: c.qos, ...v5Options, properties: c.properties.subscribe })
      .catch(() => undefined);
    this.#subscribeMid = this.#started.tracker.lastSentMid;
    for (const topic of c.unsubscribeTopics) {
      this.#client.unsubscribe(topic, { properties: c.properties.unsubscribe }).catch(() => undefined);
    }
  }

  /** mosquitto_sub's message callback. */
  #handle(m: PrintableMessage): void {
    const c = this.#config;
    if (!this.#isProcessing) return;
    if (c.isRetainedOnly && !m.isRetained) {
      this.#isProcessing = false;
      this.#finish({ kind: 'done' });
      return;
    }
    if (m.isRetained && c.isNoRetain) return;
    if (c.filterOuts.some((f) => matchTopic(f, m.topic))) return;
    if (c.isRemoveRetained && m.isRetained) {
      this.#removals.push(this.#client.publish(m.topic, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined));
    }
    if (c.randomFilter >= 10000 || Math.floor(Math.random() * 10000) < c.randomFilter) {
      this.#output.out(renderMessage(m, c, systemClock, (line) => this.#output.error(line)));
    }
    if (c.messageCount > 0 && ++this.#count === c.messageCount) {
      this.#isProcessing = false;
      this.#finish({ kind: 'done' });
    }
  }
}

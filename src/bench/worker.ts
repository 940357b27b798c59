/**
 * Entry point of a forked load-generator process. It receives its share of the connections in a `setup` message,
 * opens them, and then follows the coordinator's phases (see messages.ts). It never exits on a broker error: every
 * failure is counted and sampled into the result, so a broken broker shows up as numbers, not as a crash.
 */
import { readFileSync } from 'node:fs';
import type { Counters, ConnPlan, Endpoint, FromWorker, PubSubPlan, ToWorker, WorkerResult } from './messages.js';
import { BareConnections, type BareConnEvents } from './bare-conn.js';
import { NativeConnections } from './native-dialer.js';
import { MqttSocket } from './mqtt-socket.js';
import { loadWebSocket, type WsModule } from './transport.js';
import { Publisher } from './publisher.js';
import { GroupStats, Subscriber } from './subscriber.js';

const PROGRESS_MS = 250;
const TICK_MS = 2;
const MAX_ERROR_SAMPLES = 5;

class Worker {
  readonly #sockets: MqttSocket[] = [];
  /** `conn` over TCP: the native dialer's connections (native-dialer.ts), or the lean Node ones (bare-conn.ts). */
  #bare: BareConnections | NativeConnections | undefined;
  readonly #publishers: Publisher[] = [];
  readonly #subscribers: Subscriber[] = [];
  readonly #groups = new Map<string, GroupStats>();
  readonly #errorSamples: string[] = [];
  #connected = 0;
  #connectFailures = 0;
  #dropped = 0;
  #errors = 0;
  #connectMs: number | undefined;
  #subscribeMs: number | undefined;
  #plan: PubSubPlan | ConnPlan | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #progress: NodeJS.Timeout | undefined;
  #flow: NodeJS.Timeout | undefined;
  #isStopped = false;
  #ca: Buffer | undefined;
  #ws: WsModule | undefined;

  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'setup':
        this.#plan = message.plan;
        if (message.plan.transport.caFile !== undefined) this.#ca = readFileSync(message.plan.transport.caFile);
        this.#ws = await loadWebSocket(message.plan.transport);
        if (message.plan.kind === 'pubsub') {
          await this.#setupPubSub(message.plan);
          send({ type: 'ready', counters: this.counters() });
        } else {
          send({ type: 'ready', counters: this.counters() });
        }
        return;
      case 'start':
        this.#progress = setInterval(() => send({ type: 'progress', counters: this.counters() }), PROGRESS_MS);
        if (this.#plan?.kind === 'pubsub' && (this.#plan.flowMs ?? 0) > 0) {
          this.#flow = setInterval(() => {
            const c = this.counters();
            send({ type: 'flow', sent: c.sent, received: c.receivedMain });
          }, this.#plan.flowMs);
        }
        if (this.#plan?.kind === 'conn') {
          this.#openConnections(this.#plan).catch((err: unknown) => send({ type: 'fatal', message: String((err as Error)?.message ?? err) }));
        } else {
          this.#startPubSub();
        }
        return;
      case 'mark':
        for (const group of this.#groups.values()) {
          group.latency.reset();
          group.isMeasuring = true;
        }
        send({ type: 'snapshot', tag: 'mark', counters: this.counters() });
        return;
      case 'throttle':
        for (const p of this.#publishers) p.setThrottled(message.isOn);
        return;
      case 'stop':
        this.#isStopped = true;
        clearInterval(this.#flow);
        for (const p of this.#publishers) p.stop();
        if (this.#ticker !== undefined) clearInterval(this.#ticker);
        send({ type: 'snapshot', tag: 'stop', counters: this.counters() });
        return;
      case 'finish':
        clearInterval(this.#progress);
        // Leave only once the result has been handed to the channel: a big result (many latency histograms) to a
        // busy coordinator can take longer than a fixed delay, and a worker gone before its result arrives fails
        // the run ("bench worker exited").
        process.send?.({ type: 'result', result: this.result() } satisfies FromWorker, undefined, {}, () => {
          setTimeout(() => process.disconnect(), 200).unref();
        });
        for (const p of this.#publishers) p.conn.abort();
        for (const s of this.#sockets) s.close();
        this.#bare?.closeAll();
        return;
    }
  }

  counters(): Counters {
    const cpu = process.cpuUsage();
    let sent = 0;
    let acked = 0;
    for (const p of this.#publishers) {
      sent += p.sent;
      acked += p.acked;
    }
    let received = 0;
    for (const g of this.#groups.values()) received += g.received;
    return {
      sent, acked, received, receivedMain: this.#groups.get('main')?.received ?? 0,
      connected: this.#connected, dropped: this.#dropped, connectFailures: this.#connectFailures, errors: this.#errors,
      // The native dialer is a process of its own: its CPU is the generator's too.
      cpuUs: cpu.user + cpu.system + (this.#bare instanceof NativeConnections ? this.#bare.cpuUs : 0),
    };
  }

  result(): WorkerResult {
    const groups: WorkerResult['groups'] = {};
    for (const [name, g] of this.#groups) {
      groups[name] = { received: g.received, duplicates: g.duplicates, latency: g.latency.toJSON() };
    }
    return {
      publishers: this.#publishers.map((p) => ({
        id: p.plan.id, topic: p.plan.topic, qos: p.plan.qos, sent: p.sent, acked: p.acked,
        ...(p.ackedSeqs !== undefined ? { ackedSeqs: p.ackedSeqs.toBase64() } : {}),
      })),
      subscribers: this.#subscribers.map((s) => s.result()),
      groups,
      counters: this.counters(),
      errorSamples: this.#errorSamples,
      ...(this.#connectMs !== undefined ? { connectMs: this.#connectMs } : {}),
      ...(this.#subscribeMs !== undefined ? { subscribeMs: this.#subscribeMs } : {}),
    };
  }

  async #dial(plan: Endpoint, index: number, role: string, isClean = true): Promise<MqttSocket | undefined> {
    const local = plan.localAddresses.length > 0 ? plan.localAddresses[index % plan.localAddresses.length] : undefined;
    try {
      const conn = await MqttSocket.dial({
        host: plan.host, port: plan.port, localAddress: local, clientId: `${plan.clientPrefix}-${role}${index}`,
        connectTimeoutMs: plan.connectTimeoutMs, transport: plan.transport, ca: this.#ca, ws: this.#ws, isClean,
      });
      conn.onClose = (reason) => {
        if (this.#isStopped) return;
        this.#dropped++;
        this.#fail(`${role}${index} disconnected: ${reason}`);
      };
      this.#connected++;
      this.#sockets.push(conn);
      return conn;
    } catch (err) {
      this.#connectFailures++;
      this.#fail(`${role}${index} could not connect: ${(err as Error).message}`);
      return undefined;
    }
  }

  #fail(sample: string): void {
    this.#errors++;
    if (this.#errorSamples.length < MAX_ERROR_SAMPLES) this.#errorSamples.push(sample);
  }

  async #setupPubSub(plan: PubSubPlan): Promise<void> {
    const started = performance.now();
    await mapLimited(plan.subscribers, 32, async (s) => {
      const conn = await this.#dial(plan, s.id, 'sub', plan.hasPersistentSubscribers !== true);
      if (conn === undefined) return;
      let group = this.#groups.get(s.group);
      if (group === undefined) {
        group = new GroupStats();
        this.#groups.set(s.group, group);
      }
      this.#subscribers.push(new Subscriber(s, conn, group));
      const filters = s.filters ?? [s.filter];
      const granted = await conn.subscribeMany(filters, s.qos, s.perPacket ?? 1);
      const refused = granted.findIndex((g) => g >= 0x80);
      if (refused >= 0) {
        this.#fail(`sub${s.id}: SUBSCRIBE ${filters[refused]} refused (0x${granted[refused]!.toString(16)})` +
          `${filters.length > 1 ? `, ${granted.filter((g) => g >= 0x80).length} of ${filters.length} refused` : ''}`);
      }
    });
    if (plan.subscribers.length > 0) this.#subscribeMs = performance.now() - started;
    await mapLimited(plan.publishers, 32, async (p) => {
      const conn = await this.#dial(plan, p.id, 'pub');
      if (conn !== undefined) this.#publishers.push(new Publisher(p, conn));
    });
  }

  #startPubSub(): void {
    const now = Number(process.hrtime.bigint());
    let pending = this.#publishers.length;
    for (const p of this.#publishers) {
      p.onDone = () => {
        if (--pending === 0) send({ type: 'published' });
      };
      p.start(now);
    }
    const paced = this.#publishers.filter((p) => p.isPaced);
    if (paced.length > 0) {
      this.#ticker = setInterval(() => {
        const t = Number(process.hrtime.bigint());
        for (const p of paced) p.tick(t);
      }, TICK_MS);
    }
    for (const s of this.#subscribers) if (s.plan.pauseMs > 0) s.pauseReading(s.plan.pauseMs);
  }

  async #openConnections(plan: ConnPlan): Promise<void> {
    const started = performance.now();
    const intervalMs = plan.ratePerSecond > 0 ? 1000 / plan.ratePerSecond : 0;
    if (plan.transport.kind === 'tcp') {
      const events: BareConnEvents = {
        onConnected: () => {
          this.#connected++;
        },
        onFailed: (index, reason) => {
          this.#connectFailures++;
          this.#fail(`conn${index} could not connect: ${reason}`);
        },
        onDropped: (index, reason) => {
          if (this.#isStopped) return;
          this.#dropped++;
          this.#fail(`conn${index} disconnected: ${reason}`);
        },
      };
      this.#bare = plan.dialerPath !== undefined ? new NativeConnections(plan.dialerPath, plan, events) : new BareConnections(plan, events);
      await this.#bare.open(plan.first, plan.count, plan.concurrency, intervalMs);
    } else {
      const indexes = Array.from({ length: plan.count }, (_, i) => plan.first + i);
      await mapLimited(indexes, plan.concurrency, async (index, i) => {
        if (intervalMs > 0) {
          const wait = started + i * intervalMs - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        await this.#dial(plan, index, 'conn');
      });
    }
    this.#connectMs = performance.now() - started;
    send({ type: 'connected', counters: this.counters(), connectMs: this.#connectMs });
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function send(message: FromWorker): void {
  process.send?.(message);
}

const worker = new Worker();
process.on('message', (message: ToWorker) => {
  worker.handle(message).catch((err: unknown) => send({ type: 'fatal', message: String((err as Error)?.stack ?? err) }));
});
process.on('disconnect', () => process.exit(0));

/** Small helpers shared by the client tests. */
import { once } from 'node:events';
import type { ClientEvents, ClientOptions, MqttClient, ReceivedMessage } from '../../src/index.js';
import { connect, createClient } from '../../src/index.js';
import type { Packet } from '../../src/index.js';
import type { Cleanup } from './targets.js';

/** Connects; the client is force-closed after the test. */
export async function clientFor(t: Cleanup, url: string, options: ClientOptions = {}): Promise<MqttClient> {
  const client = await connect(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
  t.after(() => client.end({ force: true }));
  return client;
}

/** createClient; force-closed after the test. */
export function backgroundClient(t: Cleanup, url: string, options: ClientOptions = {}): MqttClient {
  const client = createClient(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
  t.after(() => client.end({ force: true }));
  return client;
}

/** The next `event` from the client, or a rejection after `timeoutMs`. */
export async function nextEvent<K extends keyof ClientEvents>(client: MqttClient, event: K, timeoutMs = 3000):
Promise<ClientEvents[K]> {
  return (await once(client as never, event as string, { signal: AbortSignal.timeout(timeoutMs) })) as ClientEvents[K];
}

/** The first `count` messages of an iterator, or a rejection after `timeoutMs`. */
export async function take(it: AsyncIterator<ReceivedMessage>, count: number, timeoutMs = 3000): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${out.length} of ${count} messages within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    while (out.length < count) {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done === true) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Records the packets a client sends and receives. */
export function recordPackets(client: MqttClient): { sent: Packet[]; received: Packet[] } {
  const log = { sent: [] as Packet[], received: [] as Packet[] };
  client.on('packetSend', (p) => log.sent.push(p));
  client.on('packetReceive', (p) => log.received.push(p));
  return log;
}

/** Resolves once `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

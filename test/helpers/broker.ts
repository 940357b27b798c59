/**
 * Starts an in-process broker on an ephemeral loopback port for integration tests.
 */
import { createBroker } from '../../src/index.js';
import type { Cleanup } from './raw-client.js';

export type BrokerOptions = NonNullable<Parameters<typeof createBroker>[0]>;
export type Broker = ReturnType<typeof createBroker>;

export interface StartedBroker {
  broker: Broker;
  port: number;
  close: () => Promise<void>;
}

/** Creates a broker and listens on 127.0.0.1, port 0. The caller closes it (usually in `t.after`). */
export async function startBroker(options: BrokerOptions = {}): Promise<StartedBroker> {
  const broker = createBroker(options);
  const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
  return { broker, port, close: () => broker.close() };
}

/** startBroker, closed automatically after the test. */
export async function brokerFor(t: Cleanup, options: BrokerOptions = {}): Promise<StartedBroker> {
  const started = await startBroker(options);
  t.after(() => started.close());
  return started;
}

/** Minimal event-emitter view of the broker, so waits do not depend on its exact event typing. */
interface Emitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/**
 * Resolves with the arguments of the first `event` for which `predicate` holds; rejects after `timeoutMs`.
 * Register it before triggering the event.
 */
export function waitForEvent<A extends unknown[]>(
  broker: Broker,
  event: string,
  predicate: (...args: A) => boolean = () => true,
  timeoutMs = 2000,
): Promise<A> {
  const emitter = broker as unknown as Emitter;
  return new Promise((resolve, reject) => {
    const listener = (...args: never[]): void => {
      if (!predicate(...(args as unknown as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as unknown as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`broker event '${event}' not emitted within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Resolves when the broker reports that the client with `clientId` disconnected. */
export function waitForDisconnect(broker: Broker, clientId: string, timeoutMs = 2000): Promise<unknown[]> {
  return waitForEvent<[{ id: string }, ...unknown[]]>(
    broker,
    'clientDisconnected',
    (client) => client.id === clientId,
    timeoutMs,
  );
}

/** Resolves when the broker reports that the client with `clientId` connected. */
export function waitForConnect(broker: Broker, clientId: string, timeoutMs = 2000): Promise<unknown[]> {
  return waitForEvent<[{ id: string }, ...unknown[]]>(
    broker,
    'clientConnected',
    (client) => client.id === clientId,
    timeoutMs,
  );
}

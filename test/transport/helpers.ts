/** Shared helpers for the transport tests: an in-process broker with extra listeners, MQTT.js round trips. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { createBroker, type CulexBroker } from '../../src/create-broker.ts';
import type { ClientInfo } from '../../src/broker/hooks.ts';
import type { Logger } from '../../src/broker/logger.ts';

export interface Cleanup {
  after(fn: () => unknown): void;
}

export interface MemoryLogger extends Logger {
  readonly lines: string[];
  /** Resolves with the first line (already logged or to come) matching `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** A logger that keeps every line, for asserting what was logged. */
export function memoryLogger(): MemoryLogger {
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  const push = (m: string): void => {
    lines.push(m);
    for (const w of waiters) w(m);
  };
  const waitFor = (pattern: RegExp, timeoutMs = 3000): Promise<string> => new Promise((resolve, reject) => {
    const found = lines.find((l) => pattern.test(l));
    if (found !== undefined) {
      resolve(found);
      return;
    }
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no log line matching ${pattern} in:\n${lines.join('\n')}`));
    }, timeoutMs);
    const check = (line: string): void => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(line);
    };
    waiters.add(check);
  });
  return { lines, waitFor, debug: push, info: push, warn: push, error: push };
}

export function brokerWithLog(t: Cleanup): { broker: CulexBroker; log: MemoryLogger } {
  const log = memoryLogger();
  const broker = createBroker({ logger: log, sysIntervalSeconds: 0 });
  t.after(() => broker.close());
  return { broker, log };
}

/** Resolves with the ClientInfo of the next client that connects with `clientId`. */
export function connected(broker: CulexBroker, clientId: string, timeoutMs = 3000): Promise<ClientInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      broker.off('clientConnected', on);
      reject(new Error(`${clientId} did not connect within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (client: ClientInfo): void => {
      if (client.id !== clientId) return;
      clearTimeout(timer);
      broker.off('clientConnected', on);
      resolve(client);
    };
    broker.on('clientConnected', on);
  });
}

/** Connects with MQTT.js (no reconnect), closed after the test. */
export async function mqttClient(t: Cleanup, url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
  t.after(() => client.endAsync(true));
  return client;
}

/** Subscribes, publishes to itself at QoS 1 and checks the message comes back. */
export async function roundTrip(client: MqttClient, topic: string, payload: string): Promise<void> {
  await client.subscribeAsync(topic, { qos: 1 });
  const received = new Promise<string>((resolve) => {
    client.once('message', (_t, p) => resolve(p.toString()));
  });
  await client.publishAsync(topic, payload, { qos: 1 });
  assert.equal(await received, payload);
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
export function runCommand(file: string, args: string[], timeoutMs = 5000):
  Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Connects with MQTT.js and expects the connection to fail before CONNACK (a refused TLS handshake may show up as an
 * error or only as a close, depending on the TLS version). Resolves with the error message, or '' for a bare close.
 */
export function expectRefused(url: string, options: IClientOptions = {}, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: timeoutMs, ...options });
    let message = '';
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`${url}: neither refused nor connected within ${timeoutMs} ms`));
    }, timeoutMs + 500);
    client.on('error', (err) => { message = err.message; });
    client.on('connect', () => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`${url}: connected, expected a refusal`));
    });
    client.on('close', () => {
      clearTimeout(timer);
      client.end(true);
      resolve(message);
    });
  });
}

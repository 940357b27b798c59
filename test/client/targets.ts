/**
 * The servers the one client suite runs against: the Culex broker in process and a real Mosquitto child process.
 * Each can be restarted on the same port (losing its sessions) to exercise reconnection, and takes the few limits
 * the MQTT 5 tests need, mapped to each server's own configuration.
 */
import { createBroker } from '../../src/index.js';
import { freePort, mosquittoSkip, startMosquitto, type StartedMosquitto } from '../helpers/mosquitto.js';

export interface Limits {
  /** Largest packet the server accepts (MQTT 5 CONNACK Maximum Packet Size). */
  maxPacketBytes?: number;
  /** Longest keepalive the server allows; a longer one is answered with Server Keep Alive. */
  maxKeepaliveSeconds?: number;
  /** QoS 1/2 messages the server accepts in flight (CONNACK Receive Maximum), where the server supports it. */
  receiveMaximum?: number;
}

export interface Server {
  port: number;
  url(): string;
  /** Stops the server; `start()` brings it back on the same port, with no sessions. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface Target {
  name: string;
  skip: false | string;
  /** MQTT 5 features of this server the suite can check (the others are tested against a scripted server). */
  has: { receiveMaximum: boolean; serverKeepAlive: boolean };
  start(limits?: Limits): Promise<Server>;
}

export interface Cleanup {
  after(fn: () => unknown): void;
}

export const culexTarget: Target = {
  name: 'Culex broker',
  skip: false,
  has: { receiveMaximum: false, serverKeepAlive: true },
  async start(limits = {}) {
    const port = await freePort();
    let broker: ReturnType<typeof createBroker> | undefined;
    const server: Server = {
      port,
      url: () => `mqtt://127.0.0.1:${port}`,
      start: async () => {
        broker = createBroker({
          sysIntervalSeconds: 0,
          ...(limits.maxPacketBytes === undefined ? {} : { maxPacketBytes: limits.maxPacketBytes }),
          ...(limits.maxKeepaliveSeconds === undefined ? {} : { maxKeepaliveSeconds: limits.maxKeepaliveSeconds }),
        });
        await broker.listen({ port, host: '127.0.0.1' });
      },
      stop: async () => {
        await broker?.close();
        broker = undefined;
      },
      close: () => server.stop(),
    };
    await server.start();
    return server;
  },
};

export const mosquittoTarget: Target = {
  name: 'Mosquitto',
  skip: mosquittoSkip,
  has: { receiveMaximum: true, serverKeepAlive: true },
  async start(limits = {}) {
    const port = await freePort();
    const config: string[] = [];
    if (limits.maxPacketBytes !== undefined) config.push(`max_packet_size ${limits.maxPacketBytes}`);
    if (limits.maxKeepaliveSeconds !== undefined) config.push(`max_keepalive ${limits.maxKeepaliveSeconds}`);
    if (limits.receiveMaximum !== undefined) config.push(`max_inflight_messages ${limits.receiveMaximum}`);
    let mosquitto: StartedMosquitto | undefined;
    const server: Server = {
      port,
      url: () => `mqtt://127.0.0.1:${port}`,
      start: async () => {
        mosquitto = await startMosquitto({ listeners: [{ port }], config });
      },
      stop: async () => {
        await mosquitto?.close();
        mosquitto = undefined;
      },
      close: () => server.stop(),
    };
    await server.start();
    return server;
  },
};

export const targets: Target[] = [culexTarget, mosquittoTarget];

export async function serverFor(t: Cleanup, target: Target, limits?: Limits): Promise<Server> {
  const server = await target.start(limits);
  t.after(() => server.close());
  return server;
}

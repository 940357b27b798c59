/**
 * The embedding entry point: a Broker plus listeners (TCP, TLS, WebSocket, Unix sockets, PROXY protocol). The broker
 * itself knows no transport; this composition root adds them.
 */
import type { AddressInfo } from 'node:net';
import { Broker } from './broker/broker.js';
import type { BrokerOptions } from './broker/config.js';
import { listen, type Listener, type ListenerOptions } from './transport/listener.js';

export class CulexBroker extends Broker {
  /**
   * Opens a listener of any kind; it closes with the broker. Resolves once listening and once the store is restored.
   * @example
   * const broker = createBroker();
   * await broker.openListener({ port: 8883, tls: { cert, key } });
   * await broker.openListener({ port: 8080, protocol: 'websockets' });
   * await broker.openListener({ path: '/run/culex.sock' });
   */
  async openListener(options: ListenerOptions): Promise<Listener> {
    await this.ready;
    const listener = await listen(this, {
      logger: this.logger,
      // A WebSocket message holds at most one whole packet from well-behaved clients; allow the packet limit plus
      // a little (a frame may also end with the start of the next packet).
      maxWebSocketMessageBytes: this.options.maxPacketBytes + 1024,
      handshakeTimeoutMs: this.options.connectTimeoutMs,
      // A Connection takes the bare-handle RawSocket (a ByteStream); a custom handler of `listen()` gets a net.Socket.
      isRawSocketAllowed: true,
      ...options,
    });
    this.addClosable(listener);
    return listener;
  }

  /**
   * Listens for MQTT over TCP (or, with more options, anything `openListener` takes) and resolves with the bound
   * address.
   * @example
   * const broker = createBroker();
   * const { port } = await broker.listen({ port: 1883 });
   */
  async listen(options: Omit<ListenerOptions, 'path'> = {}): Promise<AddressInfo> {
    const listener = await this.openListener(options);
    return listener.address as AddressInfo;
  }
}

/**
 * Creates a broker. Options and hooks are all optional; see `BrokerOptions`.
 * @example
 * import { createBroker } from 'culex';
 * const broker = createBroker({
 *   authenticate: ({ username, password }) => username === 'alice' && password?.toString() === 'secret',
 * });
 * await broker.listen({ port: 1883 });
 * broker.on('clientConnected', (client) => console.log('connected', client.id));
 */
export function createBroker(options: BrokerOptions = {}): CulexBroker {
  return new CulexBroker(options);
}

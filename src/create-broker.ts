/**
 * The embedding entry point: a Broker plus `listen()` on TCP. The broker itself knows no transport; this
 * composition root adds one.
 */
import type { AddressInfo } from 'node:net';
import { Broker } from './broker/broker.js';
import type { BrokerOptions } from './broker/config.js';
import { listenTcp, type TcpListenOptions } from './transport/tcp.js';

export class CulexBroker extends Broker {
  /**
   * Listens for MQTT over TCP. Resolves with the bound address once listening and once the store is restored.
   * @example
   * const broker = createBroker();
   * const { port } = await broker.listen({ port: 1883 });
   */
  async listen(options: TcpListenOptions = {}): Promise<AddressInfo> {
    await this.ready;
    const listener = await listenTcp(this, options);
    this.addClosable(listener);
    return listener.address;
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

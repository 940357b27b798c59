/**
 * MQTT 5 enhanced authentication (section 4.12): the AUTH exchange during CONNECT and re-authentication.
 *
 * The Authentication Method goes in CONNECT; each AUTH from the server with Continue authentication (0x18) is
 * answered through the `onAuth` callback with AUTH 0x18 carrying the same method [MQTT-4.12.0-5]. `reauthenticate`
 * sends AUTH 0x19 and settles when the server answers AUTH Success (0x00); a failed re-authentication ends with the
 * server's DISCONNECT, which rejects it. A server AUTH with another method, or one that arrives when no exchange
 * is possible, is a Protocol Error.
 */
import { ProtocolError } from '../protocol/errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { AuthPacket } from '../protocol/types.js';
import { MqttClientError } from './errors.js';
import type { AuthChallenge, AuthResponse } from './options.js';

export type AuthCallback = (challenge: AuthChallenge) => AuthResponse | Promise<AuthResponse>;

export interface AuthLink {
  send(packet: AuthPacket): boolean;
  isConnected(): boolean;
  /** Closes the connection for a failure found while answering a challenge (callback threw, no callback). */
  fail(error: Error): void;
}

export class Authenticator {
  readonly #method: string | undefined;
  readonly #onAuth: AuthCallback | undefined;
  readonly #link: AuthLink;
  #reauth: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(method: string | undefined, onAuth: AuthCallback | undefined, link: AuthLink) {
    this.#method = method;
    this.#onAuth = onAuth;
    this.#link = link;
  }

  reauthenticate(data?: Buffer): Promise<void> {
    if (this.#method === undefined) {
      return Promise.reject(new MqttClientError('MQTT_ERR_INVALID_ARGUMENT',
        're-authentication needs the authenticationMethod used to connect'));
    }
    if (!this.#link.isConnected()) {
      return Promise.reject(new MqttClientError('MQTT_ERR_CONNECTION_LOST', 'not connected'));
    }
    if (this.#reauth !== undefined) {
      return Promise.reject(new MqttClientError('MQTT_ERR_AUTH', 'a re-authentication is already in progress'));
    }
    return new Promise((resolve, reject) => {
      this.#reauth = { resolve, reject };
      this.#link.send(this.#packet(ReasonCode.ReAuthenticate, data));
    });
  }

  /** An AUTH from the server. Throws ProtocolError when it is not allowed. */
  onAuth(packet: AuthPacket): void {
    const method = packet.properties?.authenticationMethod;
    if (this.#method === undefined || method !== this.#method) {
      throw new ProtocolError(ReasonCode.ProtocolError, 'AUTH with an Authentication Method other than CONNECT\'s',
        'MQTT-4.12.0-5');
    }
    if (packet.reasonCode === ReasonCode.Success) {
      if (this.#reauth === undefined) throw new ProtocolError(ReasonCode.ProtocolError, 'unexpected AUTH Success');
      const { resolve } = this.#reauth;
      this.#reauth = undefined;
      resolve();
      return;
    }
    if (packet.reasonCode !== ReasonCode.ContinueAuthentication) {
      throw new ProtocolError(ReasonCode.ProtocolError, 'a server may not send AUTH Re-authenticate');
    }
    void this.#answer(packet);
  }

  async #answer(packet: AuthPacket): Promise<void> {
    if (this.#onAuth === undefined) {
      this.#link.fail(new MqttClientError('MQTT_ERR_AUTH', 'the server continued authentication but no onAuth is set',
        { reasonCode: packet.reasonCode }));
      return;
    }
    let response: AuthResponse;
    try {
      response = await this.#onAuth({
        reasonCode: packet.reasonCode,
        method: this.#method!,
        data: packet.properties?.authenticationData,
        properties: packet.properties ?? {},
      });
    } catch (cause) {
      this.#link.fail(new MqttClientError('MQTT_ERR_AUTH', 'onAuth threw', { cause }));
      return;
    }
    const reply = this.#packet(ReasonCode.ContinueAuthentication, response.data);
    if (response.userProperties !== undefined) reply.properties!.userProperties = response.userProperties;
    this.#link.send(reply);
  }

  #packet(reasonCode: number, data: Buffer | undefined): AuthPacket {
    const packet: AuthPacket = { type: 15, reasonCode, properties: { authenticationMethod: this.#method! } };
    if (data !== undefined) packet.properties!.authenticationData = data;
    return packet;
  }

  /** The connection ended or the client closed: a pending re-authentication fails. */
  fail(error: Error): void {
    const pending = this.#reauth;
    this.#reauth = undefined;
    pending?.reject(error);
  }
}

/**
 * Client error classes. Each has a stable string `code` to match on (never the message text), and those that come
 * from the server carry its reason code (MQTT 5) or CONNACK return code (3.1/3.1.1).
 */

export type ClientErrorCode =
  | 'MQTT_ERR_CONNACK'
  | 'MQTT_ERR_CONNECT_TIMEOUT'
  | 'MQTT_ERR_CONNECTION_LOST'
  | 'MQTT_ERR_CLIENT_CLOSED'
  | 'MQTT_ERR_PUBLISH_REFUSED'
  | 'MQTT_ERR_QUEUE_FULL'
  | 'MQTT_ERR_PACKET_TOO_LARGE'
  | 'MQTT_ERR_INVALID_ARGUMENT'
  | 'MQTT_ERR_SERVER_DISCONNECT'
  | 'MQTT_ERR_AUTH'
  | 'MQTT_ERR_REQUEST_TIMEOUT'
  | 'MQTT_ERR_STORE'
  | 'MQTT_ERR_PROTOCOL';

export class MqttClientError extends Error {
  readonly code: ClientErrorCode;
  /** The server's reason code (MQTT 5), CONNACK return code (3.1/3.1.1), or the code we sent; absent if none. */
  readonly reasonCode: number | undefined;

  constructor(code: ClientErrorCode, message: string, options: { reasonCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MqttClientError';
    this.code = code;
    this.reasonCode = options.reasonCode;
  }
}

/** The server refused the connection: CONNACK with a failure code. */
export class ConnackError extends MqttClientError {
  /** MQTT 5 Reason String, when the server sent one. */
  readonly reasonString: string | undefined;
  constructor(reasonCode: number, reasonString?: string) {
    super('MQTT_ERR_CONNACK', `connection refused: ${connackText(reasonCode)} (0x${hex(reasonCode)})`
      + (reasonString === undefined ? '' : `: ${reasonString}`), { reasonCode });
    this.name = 'ConnackError';
    this.reasonString = reasonString;
  }
}

/** A PUBACK or PUBREC with a failure reason code (0x80 and above), or a PUBCOMP with Packet Identifier Not Found. */
export class PublishError extends MqttClientError {
  readonly reasonString: string | undefined;
  constructor(reasonCode: number, reasonString?: string) {
    super('MQTT_ERR_PUBLISH_REFUSED', `publish refused with reason code 0x${hex(reasonCode)}`
      + (reasonString === undefined ? '' : `: ${reasonString}`), { reasonCode });
    this.name = 'PublishError';
    this.reasonString = reasonString;
  }
}

export function hex(code: number): string {
  return code.toString(16).padStart(2, '0');
}

const connackTexts: Record<number, string> = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable',
  4: 'bad user name or password', 5: 'not authorized', 0x80: 'unspecified error', 0x81: 'malformed packet',
  0x82: 'protocol error', 0x83: 'implementation specific error', 0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid', 0x86: 'bad user name or password', 0x87: 'not authorized',
  0x88: 'server unavailable', 0x89: 'server busy', 0x8a: 'banned', 0x8c: 'bad authentication method',
  0x90: 'topic name invalid', 0x95: 'packet too large', 0x97: 'quota exceeded', 0x99: 'payload format invalid',
  0x9a: 'retain not supported', 0x9b: 'QoS not supported', 0x9c: 'use another server', 0x9d: 'server moved',
  0x9f: 'connection rate exceeded',
};

export function connackText(code: number): string {
  return connackTexts[code] ?? 'refused';
}

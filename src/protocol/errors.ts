import { ReasonCode } from './reason-codes.js';

/**
 * A violation of the MQTT specification found in input. It carries the reason code to answer with (MQTT 5
 * DISCONNECT or CONNACK; a 3.1.1 peer is simply disconnected) and, where one applies, the normative statement
 * violated, e.g. `MQTT-3.3.1-4`.
 */
export class ProtocolError extends Error {
  readonly code = 'MQTT_ERR_PROTOCOL';
  readonly reasonCode: number;
  readonly statement: string | undefined;

  constructor(reasonCode: number, message: string, statement?: string, options?: { cause?: unknown }) {
    super(statement === undefined ? message : `${message} [${statement}]`, options);
    this.name = 'ProtocolError';
    this.reasonCode = reasonCode;
    this.statement = statement;
  }
}

export function malformed(message: string, statement?: string): ProtocolError {
  return new ProtocolError(ReasonCode.MalformedPacket, message, statement);
}

export function protocolError(message: string, statement?: string): ProtocolError {
  return new ProtocolError(ReasonCode.ProtocolError, message, statement);
}

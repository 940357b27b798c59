/**
 * libmosquitto's wording, so that the CLI tools print what mosquitto_pub / _sub / _rr print: MQTT 5 reason strings
 * (mosquitto_reason_string), 3.1.1 CONNACK strings (mosquitto_connack_string), and the C library's strerror text
 * for the socket errors Node reports by errno name.
 */

const reasonStrings: Readonly<Record<number, string>> = {
  0x00: 'Success', 0x01: 'Granted QoS 1', 0x02: 'Granted QoS 2', 0x04: 'Disconnect with Will Message',
  0x10: 'No matching subscribers', 0x11: 'No subscription existed', 0x18: 'Continue authentication',
  0x19: 'Re-authenticate', 0x80: 'Unspecified error', 0x81: 'Malformed Packet', 0x82: 'Protocol Error',
  0x83: 'Implementation specific error', 0x84: 'Unsupported Protocol Version', 0x85: 'Client Identifier not valid',
  0x86: 'Bad User Name or Password', 0x87: 'Not authorized', 0x88: 'Server unavailable', 0x89: 'Server busy',
  0x8a: 'Banned', 0x8b: 'Server shutting down', 0x8c: 'Bad authentication method', 0x8d: 'Keep Alive timeout',
  0x8e: 'Session taken over', 0x8f: 'Topic Filter invalid', 0x90: 'Topic Name invalid',
  0x91: 'Packet Identifier in use', 0x92: 'Packet Identifier not found', 0x93: 'Receive Maximum exceeded',
  0x94: 'Topic Alias invalid', 0x95: 'Packet too large', 0x96: 'Message rate too high', 0x97: 'Quota exceeded',
  0x98: 'Administrative action', 0x99: 'Payload format invalid', 0x9a: 'Retain not supported',
  0x9b: 'QoS not supported', 0x9c: 'Use another server', 0x9d: 'Server moved',
  0x9e: 'Shared Subscriptions not supported', 0x9f: 'Connection rate exceeded', 0xa0: 'Maximum connect time',
  0xa1: 'Subscription identifiers not supported', 0xa2: 'Wildcard Subscriptions not supported',
};

export function reasonString(code: number): string {
  return reasonStrings[code] ?? 'Unknown reason';
}

const connackStrings: readonly string[] = [
  'Connection Accepted.', 'Connection Refused: unacceptable protocol version.',
  'Connection Refused: identifier rejected.', 'Connection Refused: broker unavailable.',
  'Connection Refused: bad user name or password.', 'Connection Refused: not authorised.',
];

export function connackString(code: number): string {
  return connackStrings[code] ?? 'Connection Refused: unknown reason.';
}

const errnoTexts: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer', ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable', ENOENT: 'No such file or directory',
  EACCES: 'Permission denied', EADDRNOTAVAIL: 'Cannot assign requested address', EADDRINUSE: 'Address already in use',
  EPIPE: 'Broken pipe', ENOTSOCK: 'Socket operation on non-socket', EINVAL: 'Invalid argument',
};

/**
 * What the Mosquitto tools print, and their exit status, when the connection cannot be made: `Error: <strerror>`
 * for a socket error, `Unable to connect (Lookup error.).` when the host name does not resolve, `Error: A TLS error
 * occurred.` (status 8) when the handshake fails, else the error's own message.
 */
export function connectFailure(err: unknown): { text: string; exitCode: number } {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return { text: 'Unable to connect (Lookup error.).\n', exitCode: 1 };
  }
  if (typeof code === 'string' && errnoTexts[code] !== undefined) return { text: `Error: ${errnoTexts[code]}\n`, exitCode: 1 };
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')
    || code.includes('CERT') || code.includes('SELF_SIGNED') || code.includes('VERIFY'))) {
    // MOSQ_ERR_TLS
    return { text: 'Error: A TLS error occurred.\n', exitCode: 8 };
  }
  return { text: `Error: ${err instanceof Error ? err.message : String(err)}\n`, exitCode: 1 };
}

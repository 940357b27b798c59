/**
 * The PROXY protocol (HAProxy, versions 1 and 2): a header a load balancer writes before the client's bytes, naming
 * the client's real address. `parseProxyHeader` is pure (bytes in, a result out); `readProxyHeader` reads it off a
 * socket and puts back whatever followed it.
 *
 * v1: one text line, at most 107 bytes: `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`.
 * v2: a 16-byte binary header (12-byte signature, version/command, family/transport, length) and that many address
 * bytes (IPv4 12, IPv6 36, Unix 216, then optional TLVs, which are skipped). The LOCAL command (health checks from
 * the proxy itself) and UNKNOWN/UNSPEC families carry no client address: the socket's own is kept.
 */
import type { Socket } from 'node:net';

export type ProxyHeader =
  | { readonly isComplete: false }
  | { readonly isComplete: true; readonly headerBytes: number; readonly source: string | undefined };

export class ProxyProtocolError extends Error {
  readonly code = 'CULEX_ERR_PROXY_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'ProxyProtocolError';
  }
}

const V1_MAX_BYTES = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
const INCOMPLETE: ProxyHeader = { isComplete: false };

/** Parses a PROXY header of `version` at the start of `bytes`; throws ProxyProtocolError when it is malformed. */
export function parseProxyHeader(bytes: Buffer, version: 1 | 2): ProxyHeader {
  return version === 1 ? parseV1(bytes) : parseV2(bytes);
}

function parseV1(bytes: Buffer): ProxyHeader {
  const prefix = 'PROXY ';
  const checked = Math.min(bytes.length, prefix.length);
  if (bytes.toString('latin1', 0, checked) !== prefix.slice(0, checked)) {
    throw new ProxyProtocolError('connection does not start with a PROXY protocol v1 header');
  }
  const end = bytes.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    if (bytes.length >= V1_MAX_BYTES) throw new ProxyProtocolError('PROXY protocol v1 header longer than 107 bytes');
    return INCOMPLETE;
  }
  if (end + 2 > V1_MAX_BYTES) throw new ProxyProtocolError('PROXY protocol v1 header longer than 107 bytes');
  const fields = bytes.toString('latin1', 0, end).split(' ');
  const family = fields[1];
  if (family === 'UNKNOWN') return { isComplete: true, headerBytes: end + 2, source: undefined };
  if ((family !== 'TCP4' && family !== 'TCP6') || fields.length !== 6) {
    throw new ProxyProtocolError(`malformed PROXY protocol v1 header "${fields.join(' ')}"`);
  }
  const address = fields[2]!;
  const port = Number(fields[4]);
  if (!/^\d{1,5}$/.test(fields[4]!) || port > 65_535) throw new ProxyProtocolError('bad source port in PROXY v1 header');
  const canonical = family === 'TCP4' ? (isIpv4(address) ? address : undefined) : canonicalIpv6(address);
  if (canonical === undefined) throw new ProxyProtocolError(`bad source address "${address}" in PROXY v1 header`);
  return { isComplete: true, headerBytes: end + 2, source: formatAddress(canonical, port) };
}

function parseV2(bytes: Buffer): ProxyHeader {
  const checked = Math.min(bytes.length, V2_SIGNATURE.length);
  if (!bytes.subarray(0, checked).equals(V2_SIGNATURE.subarray(0, checked))) {
    throw new ProxyProtocolError('connection does not start with a PROXY protocol v2 header');
  }
  if (bytes.length < V2_FIXED_BYTES) return INCOMPLETE;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError(`unsupported PROXY protocol version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError(`unknown PROXY protocol v2 command ${command}`);
  const length = bytes.readUInt16BE(14);
  const total = V2_FIXED_BYTES + length;
  if (bytes.length < total) return INCOMPLETE;
  if (command === 0) return { isComplete: true, headerBytes: total, source: undefined }; // LOCAL
  const family = bytes[13]! >> 4;
  const body = bytes.subarray(V2_FIXED_BYTES, total);
  if (family === 1) {
    if (length < 12) throw new ProxyProtocolError('PROXY v2 IPv4 address block too short');
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return { isComplete: true, headerBytes: total, source: formatAddress(address, body.readUInt16BE(8)) };
  }
  if (family === 2) {
    if (length < 36) throw new ProxyProtocolError('PROXY v2 IPv6 address block too short');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    const address = canonicalIpv6(groups.join(':'))!;
    return { isComplete: true, headerBytes: total, source: formatAddress(address, body.readUInt16BE(32)) };
  }
  if (family === 3) {
    if (length < 216) throw new ProxyProtocolError('PROXY v2 Unix address block too short');
    const path = body.subarray(0, 108);
    const nul = path.indexOf(0);
    return { isComplete: true, headerBytes: total, source: path.toString('utf8', 0, nul === -1 ? 108 : nul) };
  }
  return { isComplete: true, headerBytes: total, source: undefined }; // UNSPEC
}

function isIpv4(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** The compressed lower-case form of an IPv6 address (`2001:db8::7`), or undefined when it is not one. */
function canonicalIpv6(address: string): string | undefined {
  if (!address.includes(':') || !/^[0-9a-fA-F:.]+$/.test(address)) return undefined;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Reads a PROXY header off `socket`, then pauses it with the bytes after the header put back (`unshift`), so the
 * next reader (TLS, HTTP or the broker) sees the stream as if the header had never been there. Resolves with the
 * client address from the header (undefined: keep the socket's own). Rejects on a malformed header or on timeout.
 */
export function readProxyHeader(socket: Socket, version: 1 | 2, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new ProxyProtocolError('no PROXY protocol header in time')), timeoutMs);
    const finish = (error: Error | undefined, source?: string, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onEnd);
      socket.off('end', onEnd);
      socket.pause();
      if (error !== undefined) {
        reject(error);
        return;
      }
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve(source);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let header: ProxyHeader;
      try {
        header = parseProxyHeader(buffered, version);
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (header.isComplete) finish(undefined, header.source, buffered.subarray(header.headerBytes));
    };
    const onEnd = (): void => finish(new ProxyProtocolError('connection closed before the PROXY protocol header'));
    socket.on('data', onData);
    socket.on('error', onEnd);
    socket.on('end', onEnd);
  });
}

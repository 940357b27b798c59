/**
 * MQTT 5 property bytes for the routing tests (test/mqtt5), written from the spec's property table (section 2.2.2.2) and
 * independent of src/protocol: builders for the properties tests send, and a parser for the ones the broker sends.
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { str, u16, varint } from './packets.js';
import type { Cleanup } from './raw-client.js';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const byte = (id: number, n: number): Buffer => Buffer.from([id, n]);

/** One property each; concatenate them with `props(...)`. */
export const prop = {
  payloadFormatIndicator: (n: number): Buffer => byte(0x01, n),
  messageExpiryInterval: (n: number): Buffer => Buffer.concat([Buffer.from([0x02]), u32(n)]),
  contentType: (s: string): Buffer => Buffer.concat([Buffer.from([0x03]), str(s)]),
  responseTopic: (s: string): Buffer => Buffer.concat([Buffer.from([0x08]), str(s)]),
  correlationData: (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x09]), str(b)]),
  subscriptionIdentifier: (n: number): Buffer => Buffer.concat([Buffer.from([0x0b]), varint(n)]),
  sessionExpiryInterval: (n: number): Buffer => Buffer.concat([Buffer.from([0x11]), u32(n)]),
  requestProblemInformation: (n: number): Buffer => byte(0x17, n),
  receiveMaximum: (n: number): Buffer => Buffer.concat([Buffer.from([0x21]), u16(n)]),
  topicAliasMaximum: (n: number): Buffer => Buffer.concat([Buffer.from([0x22]), u16(n)]),
  topicAlias: (n: number): Buffer => Buffer.concat([Buffer.from([0x23]), u16(n)]),
  userProperty: (k: string, v: string): Buffer => Buffer.concat([Buffer.from([0x26]), str(k), str(v)]),
  maximumPacketSize: (n: number): Buffer => Buffer.concat([Buffer.from([0x27]), u32(n)]),
};

export const props = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

export type PropertyValue = number | string | Buffer | readonly [string, string];

/** Identifier → wire type, for the properties a broker sends. */
const wireTypes: Record<number, 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair'> = {
  0x01: 'byte', 0x02: 'u32', 0x03: 'utf8', 0x08: 'utf8', 0x09: 'binary', 0x0b: 'varint', 0x11: 'u32',
  0x12: 'utf8', 0x13: 'u16', 0x15: 'utf8', 0x16: 'binary', 0x1a: 'utf8', 0x1c: 'utf8', 0x1f: 'utf8', 0x21: 'u16',
  0x22: 'u16', 0x23: 'u16', 0x24: 'byte', 0x25: 'byte', 0x26: 'pair', 0x27: 'u32', 0x28: 'byte', 0x29: 'byte',
  0x2a: 'byte',
};

/** The properties in wire order as [identifier, value] pairs. Throws on an identifier the broker must not send. */
export function parseProperties(bytes: Buffer | undefined): [number, PropertyValue][] {
  const out: [number, PropertyValue][] = [];
  if (bytes === undefined) return out;
  let at = 0;
  const readVarint = (): number => {
    let n = 0;
    let mult = 1;
    let b: number;
    do {
      b = bytes[at++]!;
      n += (b & 0x7f) * mult;
      mult *= 128;
    } while (b & 0x80);
    return n;
  };
  const readString = (): Buffer => {
    const len = bytes.readUInt16BE(at);
    const s = bytes.subarray(at + 2, at + 2 + len);
    at += 2 + len;
    return s;
  };
  while (at < bytes.length) {
    const id = readVarint();
    switch (wireTypes[id]) {
      case 'byte': out.push([id, bytes[at++]!]); break;
      case 'u16': out.push([id, bytes.readUInt16BE(at)]); at += 2; break;
      case 'u32': out.push([id, bytes.readUInt32BE(at)]); at += 4; break;
      case 'varint': out.push([id, readVarint()]); break;
      case 'utf8': out.push([id, readString().toString('utf8')]); break;
      case 'binary': out.push([id, Buffer.from(readString())]); break;
      case 'pair': {
        const k = readString().toString('utf8');
        out.push([id, [k, readString().toString('utf8')]]);
        break;
      }
      default: throw new Error(`unexpected property identifier 0x${id.toString(16)}`);
    }
  }
  return out;
}

/** All values of one property, in wire order. */
export function propertyValues(bytes: Buffer | undefined, id: number): PropertyValue[] {
  return parseProperties(bytes).filter(([i]) => i === id).map(([, v]) => v);
}

export const PropertyId = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  ReasonString: 0x1f,
  ReceiveMaximum: 0x21,
  TopicAliasMaximum: 0x22,
  TopicAlias: 0x23,
  UserProperty: 0x26,
  SubscriptionIdentifiersAvailable: 0x29,
  SharedSubscriptionAvailable: 0x2a,
} as const;

/** Connects an MQTT.js client with MQTT 5 (no reconnect); ended after the test. */
export async function openMqttJs(t: Cleanup, port: number, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync({
    host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000, ...options,
  });
  t.after(() => client.end(true));
  return client;
}

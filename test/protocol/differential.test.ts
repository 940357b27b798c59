/**
 * Differential tests against the independent `mqtt-packet` package (the parser and generator MQTT.js uses):
 * every hand-written fixture and every generated valid packet must mean the same thing to both codecs, in both
 * directions (our bytes through their parser; their bytes through our decoder).
 *
 * The two object models differ, so `toMqttPacket` and `fromMqttPacket` below map between them explicitly. Where
 * mqtt-packet cannot represent a valid packet, or departs from the specification, the case is excluded next to a
 * comment saying why (see `theyCannotGenerate` and `theyCannotParse`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { decodePacket } from '../../src/protocol/decoder.js';
import { encode } from '../../src/protocol/encoder.js';
import type { Packet, Properties, ProtocolVersion, UserProperty } from '../../src/protocol/types.js';
import { packetArbitraries } from './arbitraries.js';
import { fixtures } from './fixtures.js';

type Obj = Record<string, unknown>;

const CMD: Record<number, string> = {
  1: 'connect', 2: 'connack', 3: 'publish', 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp', 8: 'subscribe',
  9: 'suback', 10: 'unsubscribe', 11: 'unsuback', 12: 'pingreq', 13: 'pingresp', 14: 'disconnect', 15: 'auth',
};
const TYPE: Record<string, Packet['type']> = Object.fromEntries(
  Object.entries(CMD).map(([t, c]) => [c, Number(t) as Packet['type']]),
);

/** Byte properties mqtt-packet models as booleans (its type 'byte'); Maximum QoS stays a number ('int8'). */
const BOOLEAN_PROPERTIES = new Set<string>([
  'payloadFormatIndicator', 'requestProblemInformation', 'requestResponseInformation', 'retainAvailable',
  'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable',
]);

// ---- our model -> mqtt-packet ----

function toMqttProperties(props: Properties | undefined, type: number): Obj | undefined {
  if (props === undefined) return undefined;
  const out: Obj = {};
  for (const [key, value] of Object.entries(props)) {
    if (BOOLEAN_PROPERTIES.has(key)) out[key] = value === 1;
    else if (key === 'subscriptionIdentifiers') {
      const ids = value as number[];
      out.subscriptionIdentifier = type === 8 || ids.length === 1 ? ids[0] : ids;
    } else if (key === 'userProperties') {
      // mqtt-packet keys user properties by name: values of one name keep their order, the interleaving is lost.
      const grouped: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
      for (const [name, v] of value as UserProperty[]) {
        const prev = grouped[name];
        grouped[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      out.userProperties = grouped;
    } else out[key] = value;
  }
  return out;
}

export function toMqttPacket(p: Packet, version: ProtocolVersion): Obj {
  const cmd = CMD[p.type]!;
  switch (p.type) {
    case 1: {
      const m: Obj = {
        cmd, protocolId: p.protocolName, protocolVersion: p.protocolVersion, clean: p.clean,
        keepalive: p.keepaliveSeconds, clientId: p.clientId,
      };
      if (p.username !== undefined) m.username = p.username;
      if (p.password !== undefined) m.password = p.password;
      if (p.will !== undefined) {
        m.will = {
          topic: p.will.topic, payload: p.will.payload, qos: p.will.qos, retain: p.will.retain,
          properties: toMqttProperties(p.will.properties, 1),
        };
      }
      if (p.properties !== undefined) m.properties = toMqttProperties(p.properties, 1);
      return m;
    }
    case 2:
      return version === 5
        ? { cmd, sessionPresent: p.sessionPresent, reasonCode: p.reasonCode, properties: toMqttProperties(p.properties, 2) }
        : { cmd, sessionPresent: p.sessionPresent, returnCode: p.reasonCode };
    case 3: {
      const m: Obj = { cmd, topic: p.topic, payload: p.payload, qos: p.qos, dup: p.dup, retain: p.retain };
      if (p.packetId !== undefined) m.messageId = p.packetId;
      if (p.properties !== undefined) m.properties = toMqttProperties(p.properties, 3);
      return m;
    }
    case 4: case 5: case 6: case 7: {
      const m: Obj = { cmd, messageId: p.packetId, reasonCode: p.reasonCode };
      if (p.properties !== undefined) m.properties = toMqttProperties(p.properties, p.type);
      return m;
    }
    case 8:
      return {
        cmd, messageId: p.packetId, properties: toMqttProperties(p.properties, 8),
        subscriptions: p.subscriptions.map((s) => ({
          topic: s.topicFilter, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling,
        })),
      };
    case 9: return { cmd, messageId: p.packetId, granted: p.reasonCodes, properties: toMqttProperties(p.properties, 9) };
    case 10:
      return { cmd, messageId: p.packetId, unsubscriptions: p.topicFilters, properties: toMqttProperties(p.properties, 10) };
    case 11: return { cmd, messageId: p.packetId, granted: p.reasonCodes, properties: toMqttProperties(p.properties, 11) };
    case 12: case 13: return { cmd };
    case 14: case 15: return { cmd, reasonCode: p.reasonCode, properties: toMqttProperties(p.properties, p.type) };
  }
}

// ---- mqtt-packet -> our model (canonical shapes) ----

function fromMqttProperties(m: unknown): Properties {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((m ?? {}) as Obj)) {
    if (BOOLEAN_PROPERTIES.has(key)) out[key] = value === true ? 1 : 0;
    else if (key === 'subscriptionIdentifier') out.subscriptionIdentifiers = Array.isArray(value) ? value : [value];
    else if (key === 'userProperties') {
      const pairs: UserProperty[] = [];
      for (const [name, v] of Object.entries(value as Record<string, string | string[]>)) {
        for (const one of Array.isArray(v) ? v : [v]) pairs.push([name, one]);
      }
      out.userProperties = pairs;
    } else out[key] = value;
  }
  return out as Properties;
}

export function fromMqttPacket(m: Obj, version: ProtocolVersion): Packet {
  const type = TYPE[m.cmd as string]!;
  const v5 = version === 5;
  const props = (): { properties?: Properties } => (v5 ? { properties: fromMqttProperties(m.properties) } : {});
  switch (type) {
    case 1: {
      const cv = m.protocolVersion as ProtocolVersion;
      const p: Packet = {
        type, protocolName: m.protocolId as string, protocolVersion: cv, clean: m.clean as boolean,
        keepaliveSeconds: m.keepalive as number, clientId: m.clientId as string,
      };
      if (m.username !== undefined) p.username = m.username as string;
      if (m.password !== undefined) p.password = m.password as Buffer;
      const w = m.will as Obj | undefined;
      if (w !== undefined) {
        p.will = { topic: w.topic as string, payload: w.payload as Buffer, qos: w.qos as 0 | 1 | 2, retain: w.retain as boolean };
        if (cv === 5) p.will.properties = fromMqttProperties(w.properties);
      }
      if (cv === 5) p.properties = fromMqttProperties(m.properties);
      return p;
    }
    case 2:
      return { type, sessionPresent: m.sessionPresent as boolean, reasonCode: (v5 ? m.reasonCode : m.returnCode) as number, ...props() };
    case 3: {
      const p: Packet = {
        type, topic: m.topic as string, payload: m.payload as Buffer, qos: m.qos as 0 | 1 | 2, retain: m.retain as boolean,
        dup: m.dup as boolean,
      };
      if (p.qos > 0) p.packetId = m.messageId as number;
      return { ...p, ...props() };
    }
    case 4: case 5: case 6: case 7:
      return { type, packetId: m.messageId as number, reasonCode: (m.reasonCode as number | undefined) ?? 0, ...props() };
    case 8:
      return {
        type, packetId: m.messageId as number, ...props(),
        subscriptions: (m.subscriptions as Obj[]).map((s) => ({
          topicFilter: s.topic as string, qos: s.qos as 0 | 1 | 2, noLocal: v5 && s.nl === true,
          retainAsPublished: v5 && s.rap === true, retainHandling: (v5 ? s.rh : 0) as 0 | 1 | 2,
        })),
      };
    case 9: return { type, packetId: m.messageId as number, reasonCodes: m.granted as number[], ...props() };
    case 10: return { type, packetId: m.messageId as number, topicFilters: m.unsubscriptions as string[], ...props() };
    case 11: return { type, packetId: m.messageId as number, reasonCodes: v5 ? (m.granted as number[]) : [], ...props() };
    case 12: return { type: 12 };
    case 13: return { type: 13 };
    case 14: case 15: return { type, reasonCode: (m.reasonCode as number | undefined) ?? 0, ...props() };
  }
  throw new Error(`unknown cmd ${String(m.cmd)}`);
}

// ---- running mqtt-packet ----

function theirParse(bytes: Buffer, version: ProtocolVersion): Obj[] {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const out: Obj[] = [];
  let error: unknown;
  parser.on('packet', (p) => out.push(p as unknown as Obj));
  parser.on('error', (e) => { error ??= e; });
  parser.parse(bytes);
  if (error !== undefined) throw error;
  return out;
}

function theirGenerate(p: Packet, version: ProtocolVersion): Buffer {
  return mqttPacket.generate(toMqttPacket(p, version) as unknown as mqttPacket.Packet, { protocolVersion: version });
}

/** Sorts user properties by name, stably: the order mqtt-packet's model can keep. */
function sortUserProperties(props: Properties | undefined): Properties | undefined {
  if (props?.userProperties === undefined) return props;
  const sorted = props.userProperties
    .map((pair, i) => ({ pair, i }))
    .toSorted((a, b) => (a.pair[0] < b.pair[0] ? -1 : a.pair[0] > b.pair[0] ? 1 : a.i - b.i))
    .map(({ pair }) => pair);
  return { ...props, userProperties: sorted };
}

/** The packet with its user properties (and its Will's) in `sortUserProperties` order. Applied to both sides. */
function normalize(p: Packet): Packet {
  const q = { ...p } as Packet & { properties?: Properties };
  if ('properties' in p && p.properties !== undefined) q.properties = sortUserProperties(p.properties);
  if (q.type === 1 && q.will?.properties !== undefined) {
    q.will = { ...q.will, properties: sortUserProperties(q.will.properties)! };
  }
  return q;
}

function userPropertyLists(p: Packet): UserProperty[][] {
  const lists: UserProperty[][] = [];
  if ('properties' in p && p.properties?.userProperties !== undefined) lists.push(p.properties.userProperties);
  if (p.type === 1 && p.will?.properties?.userProperties !== undefined) lists.push(p.will.properties.userProperties);
  return lists;
}

/**
 * Valid packets mqtt-packet's generator refuses or garbles. Returns the reason, or undefined.
 */
function theyCannotGenerate(p: Packet): string | undefined {
  if (p.type === 1) {
    // MQTT 5 lets a client send a zero-length client id with Clean Start 0 (the server assigns one, 3.1.3.1);
    // mqtt-packet refuses it for every version ("clientId must be given if cleanSession set to 0").
    if (p.clientId === '' && !p.clean) return 'empty client id without clean start';
    // MQTT 5 allows a password without a user name (3.1.2.9); mqtt-packet refuses it.
    if (p.password !== undefined && p.username === undefined) return 'password without user name';
  }
  return theyLoseUserProperties(p);
}

/** Valid encodings mqtt-packet's parser rejects or misreads. Returns the reason, or undefined. */
function theyCannotParse(p: Packet, bytes: Buffer): string | undefined {
  // The short AUTH (remaining length 0, section 3.15.2.1) is valid; mqtt-packet reads the missing reason code as
  // undefined and rejects it ("Invalid auth reason code").
  if (bytes.length === 2 && bytes[0] === 0xf0 && bytes[1] === 0) return 'short AUTH';
  return theyLoseUserProperties(p);
}

function theyLoseUserProperties(p: Packet): string | undefined {
  for (const list of userPropertyLists(p)) {
    // mqtt-packet's parser tests `if (result[name])` to decide whether a name repeats, so a repeated name whose
    // first value is the empty string loses that value.
    const seen = new Map<string, string>();
    for (const [name, value] of list) {
      if (seen.get(name) === '') return 'repeated user property whose first value is empty';
      if (!seen.has(name)) seen.set(name, value);
    }
  }
  return undefined;
}

// ---- tests ----

describe('fixtures against mqtt-packet', () => {
  for (const f of fixtures) {
    const fixtureBytes = Buffer.from(f.hex, 'hex');
    test(`mqtt-packet parses ${f.name}`, { skip: theyCannotParse(f.packet, fixtureBytes) }, () => {
      const theirs = theirParse(fixtureBytes, f.version);
      assert.equal(theirs.length, 1);
      assert.deepStrictEqual(normalize(fromMqttPacket(theirs[0]!, f.version)), normalize(f.packet));
    });
    if (f.decodeOnly === true) continue;
    const cannotGenerate = theyCannotGenerate(f.packet);
    test(`we decode mqtt-packet's ${f.name}`, { skip: cannotGenerate }, () => {
      const bytes = theirGenerate(f.packet, f.version);
      assert.deepStrictEqual(normalize(decodePacket(bytes, f.version)), normalize(f.packet));
    });
  }
});

for (const version of [4, 5] as const) {
  describe(`generated packets against mqtt-packet, version ${version}`, () => {
    for (const [type, arb] of packetArbitraries(version)) {
      test(`${CMD[type]!}: our bytes parse to the same packet with mqtt-packet`, () => {
        fc.assert(
          fc.property(arb, (p) => {
            const bytes = encode(p, version);
            fc.pre(theyCannotParse(p, bytes) === undefined);
            const theirs = theirParse(bytes, version);
            assert.equal(theirs.length, 1);
            assert.deepStrictEqual(normalize(fromMqttPacket(theirs[0]!, version)), normalize(p));
          }),
          { numRuns: 150 },
        );
      });

      test(`${CMD[type]!}: mqtt-packet's bytes decode to the same packet with ours`, () => {
        fc.assert(
          fc.property(arb.filter((p) => theyCannotGenerate(p) === undefined), (p) => {
            assert.deepStrictEqual(normalize(decodePacket(theirGenerate(p, version), version)), normalize(p));
          }),
          { numRuns: 150 },
        );
      });
    }
  });
}

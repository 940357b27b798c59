/**
 * fast-check arbitraries for valid, canonical packets of every type in every protocol version.
 *
 * "Valid" means everything the specifications require of a well-formed packet: UTF-8 strings without U+0000 and
 * without lone surrogates, topic names without wildcards (empty only in MQTT 5 with a Topic Alias), topic filters
 * with '+' and '#' only as whole levels, shared subscriptions only in MQTT 5 and never with No Local, packet
 * identifiers 1–65535, QoS 0–2, DUP only at QoS > 0, reason codes from the packet's own table, and MQTT 5
 * properties only where section 2.2.2.2 allows them, with their value constraints (0/1 flags, non-zero Receive
 * Maximum, Maximum Packet Size, Topic Alias and Subscription Identifier, Authentication Data only with an
 * Authentication Method, at most one Subscription Identifier in SUBSCRIBE).
 *
 * "Canonical" is the shape rule of types.ts: optional fields absent, `properties` present (maybe {}) on MQTT 5
 * packets that have them and absent otherwise, `packetId` only at QoS > 0, `reasonCode` always on acks,
 * DISCONNECT and AUTH.
 */
import * as fc from 'fast-check';
import { propertyDefinitions, type PropertyDefinition, type PropertyPlace } from '../../src/protocol/properties.js';
import { validReasonCodes } from '../../src/protocol/reason-codes.js';
import type {
  Packet,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription,
  UserProperty,
  Will,
} from '../../src/protocol/types.js';

export const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];

// ---- strings ----

/** One code point: mostly a few interesting ones, sometimes any Unicode scalar value except U+0000. */
const anyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'z', '0', ' ', '$', '/', '+', '#', 'ü', '€', '😀', '\u{10ffff}') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
).filter((c) => c !== '\u0000');

/** A UTF-8 string valid in MQTT: no U+0000, no lone surrogate ('binary' units are whole code points). */
export const mqttString = (maxLength = 12, minLength = 0): fc.Arbitrary<string> =>
  fc.string({ unit: anyChar, minLength, maxLength });

const levelChar = anyChar.filter((c) => c !== '/' && c !== '+' && c !== '#');
const level = (maxLength = 6): fc.Arbitrary<string> => fc.string({ unit: levelChar, maxLength });

/** A non-empty topic name: levels (possibly empty) joined by '/', no wildcards. */
export const topicName: fc.Arbitrary<string> = fc
  .array(level(), { minLength: 1, maxLength: 4 })
  .map((levels) => levels.join('/'))
  .filter((t) => t.length > 0);

/** A valid non-shared topic filter: '+' as whole levels, '#' only as the whole last level. */
const plainFilter: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: level() }, { weight: 1, arbitrary: fc.constant('+') }), {
      minLength: 0,
      maxLength: 4,
    }),
    fc.boolean(),
  )
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f.length > 0 && !f.startsWith('$share/'));

/** `$share/{ShareName}/{filter}` (MQTT 5 section 4.8.2). */
const sharedFilter: fc.Arbitrary<string> = fc
  .tuple(level(6).filter((g) => g.length > 0), plainFilter)
  .map(([group, filter]) => `$share/${group}/${filter}`);

export const topicFilter = (version: ProtocolVersion): fc.Arbitrary<string> =>
  version === 5 ? fc.oneof({ weight: 4, arbitrary: plainFilter }, { weight: 1, arbitrary: sharedFilter }) : plainFilter;

// ---- numbers and bytes ----

export const packetId = fc.integer({ min: 1, max: 65_535 });
export const qos: fc.Arbitrary<QoS> = fc.constantFrom(0, 1, 2);
const uint16 = fc.integer({ min: 0, max: 0xffff });
const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const varint = fc.oneof(
  fc.integer({ min: 1, max: 268_435_455 }),
  fc.constantFrom(1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455),
);
export const bytes = (maxLength = 16): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

// ---- properties ----

const userProperties: fc.Arbitrary<UserProperty[]> = fc.array(
  fc.tuple(mqttString(6), mqttString(6)).map(([k, v]): UserProperty => [k, v]),
  { minLength: 1, maxLength: 3 },
);

function valueArb(def: PropertyDefinition, place: PropertyPlace): fc.Arbitrary<unknown> {
  switch (def.name) {
    case 'subscriptionIdentifiers':
      return fc.array(varint, { minLength: 1, maxLength: place === 8 ? 1 : 3 });
    case 'userProperties':
      return userProperties;
    case 'responseTopic':
      return topicName;
    default:
      break;
  }
  if (def.allowedValues !== undefined) return fc.constantFrom(...def.allowedValues);
  const nonZero = def.isZeroForbidden === true;
  switch (def.wireType) {
    case 'byte': return fc.integer({ min: nonZero ? 1 : 0, max: 0xff });
    case 'uint16': return nonZero ? fc.integer({ min: 1, max: 0xffff }) : uint16;
    case 'uint32': return nonZero ? fc.integer({ min: 1, max: 0xffff_ffff }) : uint32;
    case 'varint': return varint;
    case 'utf8': return mqttString(10);
    case 'binary': return bytes(8);
    case 'pair': return userProperties;
  }
}

const propertiesCache = new Map<PropertyPlace, fc.Arbitrary<Properties>>();

/** Properties allowed in `place` (packet type number or 'will'), any subset, values within their constraints. */
export function properties(place: PropertyPlace): fc.Arbitrary<Properties> {
  const cached = propertiesCache.get(place);
  if (cached !== undefined) return cached;
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const def of propertyDefinitions) if (def.places.has(place)) model[def.name] = valueArb(def, place);
  const arb = fc
    .record(model, { requiredKeys: [], noNullPrototype: true })
    .map((raw) => {
      const props = { ...raw } as Properties;
      // Authentication Data without an Authentication Method is a Protocol Error (section 3.1.2.11.10).
      if (props.authenticationMethod === undefined) delete props.authenticationData;
      return props;
    });
  propertiesCache.set(place, arb);
  return arb;
}

// ---- packets ----

const protocolNames = { 3: 'MQIsdp', 4: 'MQTT', 5: 'MQTT' } as const;

function will(version: ProtocolVersion): fc.Arbitrary<Will> {
  return fc
    .record({ topic: topicName, payload: bytes(), qos, retain: fc.boolean() }, { noNullPrototype: true })
    .chain((w) => (version === 5 ? properties('will').map((p): Will => ({ ...w, properties: p })) : fc.constant<Will>(w)));
}

export function connect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .record({
      clean: fc.boolean(),
      keepaliveSeconds: fc.oneof(uint16, fc.constantFrom(0, 65_535)),
      // MQTT 3.1 requires a client id of 1 to 23 characters (section 3.1, Payload).
      clientId: version === 3 ? mqttString(23, 1) : mqttString(12),
      username: fc.option(mqttString(10), { nil: undefined }),
      password: fc.option(bytes(10), { nil: undefined }),
      will: fc.option(will(version), { nil: undefined }),
      properties: version === 5 ? properties(1) : fc.constant(undefined),
    }, { noNullPrototype: true })
    .map((r) => {
      const p: Packet = {
        type: 1, protocolName: protocolNames[version], protocolVersion: version, clean: r.clean,
        keepaliveSeconds: r.keepaliveSeconds, clientId: r.clientId,
      };
      if (r.username !== undefined) p.username = r.username;
      // In MQTT 3.1.1 a password requires a user name [MQTT-3.1.2-22]; 3.1 and 5 allow one without.
      if (r.password !== undefined && (version !== 4 || r.username !== undefined)) p.password = r.password;
      if (r.will !== undefined) p.will = r.will;
      if (r.properties !== undefined) p.properties = r.properties;
      return p;
    });
}

function reasonCode(type: number): fc.Arbitrary<number> {
  return fc.constantFrom(...validReasonCodes[type]!);
}

export function connack(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) {
    return fc.integer({ min: 0, max: 5 }).chain((rc) =>
      // Session Present is 0 with a non-zero return code [MQTT-3.2.2-4], and does not exist in 3.1.
      (rc === 0 && version === 4 ? fc.boolean() : fc.constant(false)).map(
        (sp): Packet => ({ type: 2, sessionPresent: sp, reasonCode: rc }),
      ));
  }
  return fc.tuple(reasonCode(2), fc.boolean(), properties(2)).map(
    ([rc, sp, props]): Packet => ({ type: 2, sessionPresent: rc === 0 && sp, reasonCode: rc, properties: props }),
  );
}

export function publish(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .record({
      topic: version === 5 ? fc.oneof({ weight: 6, arbitrary: topicName }, { weight: 1, arbitrary: fc.constant('') }) : topicName,
      payload: fc.oneof({ weight: 5, arbitrary: bytes(40) }, { weight: 1, arbitrary: bytes(300) }),
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId,
      properties: version === 5 ? properties(3) : fc.constant(undefined),
    }, { noNullPrototype: true })
    .map((r) => {
      const p: Packet = { type: 3, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, dup: r.qos > 0 && r.dup };
      if (r.qos > 0) p.packetId = r.packetId;
      if (r.properties !== undefined) {
        p.properties = r.properties;
        // An empty topic name is allowed only with a Topic Alias (section 3.3.2.1).
        if (r.topic === '' && r.properties.topicAlias === undefined) p.properties = { ...r.properties, topicAlias: 1 };
      }
      return p;
    });
}

export function ack(version: ProtocolVersion, type: 4 | 5 | 6 | 7): fc.Arbitrary<Packet> {
  if (version !== 5) return packetId.map((id): Packet => ({ type, packetId: id, reasonCode: 0 }));
  return fc.tuple(packetId, reasonCode(type), properties(type)).map(
    ([id, rc, props]): Packet => ({ type, packetId: id, reasonCode: rc, properties: props }),
  );
}

function subscription(version: ProtocolVersion): fc.Arbitrary<Subscription> {
  return fc
    .record({
      topicFilter: topicFilter(version),
      qos,
      noLocal: fc.boolean(),
      retainAsPublished: fc.boolean(),
      retainHandling: fc.constantFrom(0, 1, 2),
    }, { noNullPrototype: true })
    .map((s): Subscription =>
      version === 5
        // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
        ? { ...s, noLocal: s.noLocal && !s.topicFilter.startsWith('$share/') }
        : { topicFilter: s.topicFilter, qos: s.qos, noLocal: false, retainAsPublished: false, retainHandling: 0 });
}

export function subscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .tuple(packetId, fc.array(subscription(version), { minLength: 1, maxLength: 4 }),
      version === 5 ? properties(8) : fc.constant(undefined))
    .map(([id, subs, props]): Packet => {
      const p: Packet = { type: 8, packetId: id, subscriptions: subs };
      if (props !== undefined) p.properties = props;
      return p;
    });
}

export function suback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  // 3.1 grants QoS only; 3.1.1 adds the failure code 0x80 [MQTT-3.9.3-2].
  const code = version === 5 ? reasonCode(9) : version === 4 ? fc.constantFrom(0, 1, 2, 0x80) : fc.constantFrom(0, 1, 2);
  return fc
    .tuple(packetId, fc.array(code, { minLength: 1, maxLength: 5 }), version === 5 ? properties(9) : fc.constant(undefined))
    .map(([id, codes, props]): Packet => {
      const p: Packet = { type: 9, packetId: id, reasonCodes: codes };
      if (props !== undefined) p.properties = props;
      return p;
    });
}

export function unsubscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .tuple(packetId, fc.array(topicFilter(version), { minLength: 1, maxLength: 4 }),
      version === 5 ? properties(10) : fc.constant(undefined))
    .map(([id, filters, props]): Packet => {
      const p: Packet = { type: 10, packetId: id, topicFilters: filters };
      if (props !== undefined) p.properties = props;
      return p;
    });
}

export function unsuback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return packetId.map((id): Packet => ({ type: 11, packetId: id, reasonCodes: [] }));
  return fc.tuple(packetId, fc.array(reasonCode(11), { minLength: 1, maxLength: 5 }), properties(11)).map(
    ([id, codes, props]): Packet => ({ type: 11, packetId: id, reasonCodes: codes, properties: props }),
  );
}

export function disconnect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return fc.constant<Packet>({ type: 14, reasonCode: 0 });
  return fc.tuple(reasonCode(14), properties(14)).map(
    ([rc, props]): Packet => ({ type: 14, reasonCode: rc, properties: props }),
  );
}

export const auth: fc.Arbitrary<Packet> = fc.tuple(reasonCode(15), properties(15)).map(
  ([rc, props]): Packet => ({ type: 15, reasonCode: rc, properties: props }),
);

/** Arbitraries for every packet type of `version`, keyed by type number. */
export function packetArbitraries(version: ProtocolVersion): Map<number, fc.Arbitrary<Packet>> {
  const m = new Map<number, fc.Arbitrary<Packet>>([
    [1, connect(version)],
    [2, connack(version)],
    [3, publish(version)],
    [4, ack(version, 4)],
    [5, ack(version, 5)],
    [6, ack(version, 6)],
    [7, ack(version, 7)],
    [8, subscribe(version)],
    [9, suback(version)],
    [10, unsubscribe(version)],
    [11, unsuback(version)],
    [12, fc.constant<Packet>({ type: 12 })],
    [13, fc.constant<Packet>({ type: 13 })],
    [14, disconnect(version)],
  ]);
  if (version === 5) m.set(15, auth);
  return m;
}

/** Any valid packet of `version`, every type equally likely. */
export function packet(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.oneof(...packetArbitraries(version).values());
}

/** A version and a valid packet of that version. */
export const versionedPacket: fc.Arbitrary<{ version: ProtocolVersion; packet: Packet }> = fc
  .constantFrom(...VERSIONS)
  .chain((version) => packet(version).map((p) => ({ version, packet: p })));

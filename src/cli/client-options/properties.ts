/**
 * `-D command identifier value` (and `--property`): MQTT 5 properties by Mosquitto's hyphenated names, checked in
 * Mosquitto's order so that each mistake gets its message: command name, property name, property allowed in that
 * packet [MQTT-2.2.2-2], packet supported by the tools, value range. After all flags are read, checkProperties()
 * applies the checks Mosquitto's `mosquitto_property_check_all` makes (zero values and duplicates).
 */
import { propertyByName } from '../../protocol/properties.js';
import type { Properties } from '../../protocol/types.js';
import type { ClientConfig, PropertyCommand } from './config.js';

/** Mosquitto's property names, mapped to the codec's field names. */
const propertyNames: ReadonlyMap<string, keyof Properties> = new Map<string, keyof Properties>([
  ['payload-format-indicator', 'payloadFormatIndicator'],
  ['message-expiry-interval', 'messageExpiryInterval'],
  ['content-type', 'contentType'],
  ['response-topic', 'responseTopic'],
  ['correlation-data', 'correlationData'],
  ['subscription-identifier', 'subscriptionIdentifiers'],
  ['session-expiry-interval', 'sessionExpiryInterval'],
  ['assigned-client-identifier', 'assignedClientIdentifier'],
  ['server-keep-alive', 'serverKeepAlive'],
  ['authentication-method', 'authenticationMethod'],
  ['authentication-data', 'authenticationData'],
  ['request-problem-information', 'requestProblemInformation'],
  ['will-delay-interval', 'willDelayInterval'],
  ['request-response-information', 'requestResponseInformation'],
  ['response-information', 'responseInformation'],
  ['server-reference', 'serverReference'],
  ['reason-string', 'reasonString'],
  ['receive-maximum', 'receiveMaximum'],
  ['topic-alias-maximum', 'topicAliasMaximum'],
  ['topic-alias', 'topicAlias'],
  ['maximum-qos', 'maximumQoS'],
  ['retain-available', 'retainAvailable'],
  ['user-property', 'userProperties'],
  ['maximum-packet-size', 'maximumPacketSize'],
  ['wildcard-subscription-available', 'wildcardSubscriptionAvailable'],
  ['subscription-identifier-available', 'subscriptionIdentifiersAvailable'],
  ['shared-subscription-available', 'sharedSubscriptionAvailable'],
]);

/** Packet names -D accepts, with their packet type (or 'will'). Only the first six are supported by the tools. */
const commandPlaces: ReadonlyMap<string, number | 'will'> = new Map<string, number | 'will'>([
  ['connect', 1], ['connack', 2], ['publish', 3], ['puback', 4], ['pubrec', 5], ['pubrel', 6], ['pubcomp', 7],
  ['subscribe', 8], ['suback', 9], ['unsubscribe', 10], ['unsuback', 11], ['disconnect', 14], ['auth', 15],
  ['will', 'will'],
]);
const supportedCommands: ReadonlySet<string> = new Set(['connect', 'publish', 'subscribe', 'unsubscribe', 'disconnect',
  'will']);

const MAX_BY_WIRE_TYPE = { byte: 0xff, uint16: 0xffff, uint32: 0xffffffff, varint: 268_435_455 } as const;
const NOT_ENOUGH = 'Error: --property argument given but not enough arguments specified.\n\n';

/** C's atoi/strtol on a decimal prefix: leading spaces, a sign, digits; 0 when there are none. */
export function cInteger(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m === null ? 0 : Number(m[1]);
}

/**
 * Reads one -D at `argv[i]` (the token after -D). Returns the index of the last token used, or an error message
 * (stderr text, ending in newlines as Mosquitto prints it).
 */
export function parsePropertyOption(config: ClientConfig, argv: readonly string[], i: number): number | string {
  const commandName = argv[i];
  const propertyName = argv[i + 1];
  if (commandName === undefined || propertyName === undefined || argv[i + 2] === undefined) return NOT_ENOUGH;
  const place = commandPlaces.get(commandName.toLowerCase());
  if (place === undefined) return 'Error: Invalid command given in --property argument.\n\n';
  const field = propertyNames.get(propertyName.toLowerCase());
  if (field === undefined) return 'Error: Invalid property name given in --property argument.\n\n';
  const def = propertyByName.get(field)!;
  if (!def.places.has(place)) {
    return `Error: ${propertyName} property not allowed for ${commandName} in --property argument.\n\n`;
  }
  const command = commandName.toLowerCase();
  if (!supportedCommands.has(command) || (command === 'publish' && field === 'subscriptionIdentifiers')) {
    return `Error: ${propertyName} property not supported for ${commandName} in --property argument.\n\n`;
  }
  const value = argv[i + 2]!;
  switch (def.wireType) {
    case 'pair': {
      const pairValue = argv[i + 3];
      if (pairValue === undefined) return NOT_ENOUGH;
      (config.properties[command as PropertyCommand].userProperties ??= []).push([value, pairValue]);
      return i + 3;
    }
    case 'utf8':
    case 'binary': {
      if (Buffer.byteLength(value) > 0xffff) return `Error: Property value too long for property ${propertyName}.\n\n`;
      setProperty(config, command as PropertyCommand, field, def.wireType === 'binary' ? Buffer.from(value) : value);
      return i + 2;
    }
    default: {
      const n = cInteger(value);
      if (n < 0 || n > MAX_BY_WIRE_TYPE[def.wireType]) {
        return `Error: Property value (${n}) out of range for property ${propertyName}.\n\n`;
      }
      setProperty(config, command as PropertyCommand, field, field === 'subscriptionIdentifiers' ? [n] : n);
      return i + 2;
    }
  }
}

function setProperty(config: ClientConfig, command: PropertyCommand, field: keyof Properties, value: unknown): void {
  const props = config.properties[command];
  if (props[field] !== undefined) config.duplicatedProperties.add(command);
  (props as Record<string, unknown>)[field] = value;
}

const CHECK_ORDER: readonly [PropertyCommand, string][] = [
  ['connect', 'CONNECT'], ['publish', 'PUBLISH'], ['subscribe', 'SUBSCRIBE'], ['unsubscribe', 'UNSUBSCRIBE'],
  ['disconnect', 'DISCONNECT'], ['will', 'Will'],
];
const PROTOCOL_ERROR = 'A network protocol error occurred when communicating with the broker.';
const DUPLICATE = 'Duplicate property in property list.';

/** Mosquitto's whole-list checks, run once all flags are read. Returns an error message or undefined. */
export function checkProperties(config: ClientConfig): string | undefined {
  for (const [command, label] of CHECK_ORDER) {
    const props = config.properties[command];
    let problem: string | undefined;
    if (config.duplicatedProperties.has(command)) problem = DUPLICATE;
    for (const [field, value] of Object.entries(props)) {
      const def = propertyByName.get(field as keyof Properties);
      if (def === undefined) continue;
      const n = Array.isArray(value) && typeof value[0] === 'number' ? value[0] : value;
      if (typeof n !== 'number') continue;
      if (def.isZeroForbidden === true && n === 0) problem ??= PROTOCOL_ERROR;
      // libmosquitto checks the 0/1 flags but not the Payload Format Indicator.
      if (def.allowedValues !== undefined && field !== 'payloadFormatIndicator' && !def.allowedValues.has(n)) {
        problem ??= PROTOCOL_ERROR;
      }
    }
    if (problem !== undefined) return `Error in ${label} properties: ${problem}\n`;
  }
  return undefined;
}

/**
 * The JSON object of `-F %j` (payload as a string, up to its first NUL byte) and
 * `-F %J` (payload parsed as JSON), with mosquitto_sub's keys in mosquitto_sub's order; and the `--json` line that
 * Culex adds (the same object, payload always safe: a string when it is valid UTF-8, else base64).
 */
import type { Properties } from '../../protocol/types.js';
import { cj, parsePayloadJson, type CJsonValue } from './cjson.js';
import type { PrintableMessage, Timestamp } from './message.js';
import { strftime } from './strftime.js';

/** `2020-05-06T21:48:00.123456Z+0000`: mosquitto_sub's "tst" (local time, microseconds, 'Z' then the offset). */
export function jsonTimestamp(ts: Timestamp): string {
  const micros = String(Math.floor(ts.nanoseconds / 1000)).padStart(6, '0');
  return `${strftime('%Y-%m-%dT%H:%M:%S', ts.date)}.${micros}Z${strftime('%z', ts.date)}`;
}

/** Properties as mosquitto_sub prints them: only these six kinds, in wire order, user properties as one object. */
function propertiesJson(props: Properties): CJsonValue {
  const entries: [string, CJsonValue][] = [];
  for (const key of Object.keys(props) as (keyof Properties)[]) {
    switch (key) {
      case 'payloadFormatIndicator': entries.push(['payload-format-indicator', cj.number(props[key]!)]); break;
      case 'messageExpiryInterval': entries.push(['message-expiry-interval', cj.number(props[key]!)]); break;
      case 'contentType': entries.push(['content-type', cj.string(props[key]!)]); break;
      case 'responseTopic': entries.push(['response-topic', cj.string(props[key]!)]); break;
      case 'correlationData': entries.push(['correlation-data', cj.string(props[key]!)]); break;
      case 'subscriptionIdentifiers':
        for (const id of props[key]!) entries.push(['subscription-identifier', cj.number(id)]);
        break;
      case 'topicAlias': entries.push(['topic-alias', cj.number(props[key]!)]); break;
      case 'userProperties':
        entries.push(['user-properties', cj.object(props[key]!.map(([k, v]) => [k, cj.string(v)]))]);
        break;
      default: break;
    }
  }
  return cj.object(entries);
}

function header(msg: PrintableMessage, ts: Timestamp): [string, CJsonValue][] {
  const entries: [string, CJsonValue][] = [
    ['tst', cj.string(jsonTimestamp(ts))],
    ['topic', cj.string(msg.topic)],
    ['qos', cj.number(msg.qos)],
    ['retain', cj.number(msg.isRetained ? 1 : 0)],
    ['payloadlen', cj.number(msg.payload.length)],
  ];
  if (msg.qos > 0) entries.push(['mid', cj.number(msg.mid)]);
  if (msg.properties !== undefined && Object.keys(msg.properties).length > 0) {
    entries.push(['properties', propertiesJson(msg.properties)]);
  }
  return entries;
}

/** `%j` (escaped = true) or `%J` (escaped = false; undefined when the payload is not JSON). */
export function messageJson(msg: PrintableMessage, ts: Timestamp, isEscaped: boolean): CJsonValue | undefined {
  const entries = header(msg, ts);
  let payload: CJsonValue | undefined;
  if (msg.payload.length === 0) {
    // libmosquitto hands over a NULL payload for zero bytes, which mosquitto_sub prints as null.
    payload = cj.null();
  } else if (isEscaped) {
    // mosquitto_sub 2.0 hands the payload to cJSON as a C string: it ends at the first NUL byte.
    payload = cj.string(msg.payload);
  } else {
    payload = parsePayloadJson(msg.payload);
    if (payload === undefined) return undefined;
  }
  entries.push(['payload', payload]);
  return cj.object(entries);
}

/** `--json` (Culex): one object per message with a lossless payload. */
export function culexJson(msg: PrintableMessage, ts: Timestamp): CJsonValue {
  const entries = header(msg, ts);
  const text = new TextDecoder('utf-8', { fatal: true });
  let payload: CJsonValue;
  try {
    payload = { kind: 'string', value: Buffer.from(text.decode(msg.payload)) };
  } catch {
    entries.push(['payloadEncoding', cj.string('base64')]);
    payload = cj.string(msg.payload.toString('base64'));
  }
  entries.push(['payload', payload]);
  return cj.object(entries);
}

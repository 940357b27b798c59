/**
 * Topic names and topic filters (MQTT 3.1.1 section 4.7, MQTT 5 sections 4.7 and 4.8.2): validation, shared
 * subscription parsing and matching.
 *
 * Design note: everything here works on the string with index arithmetic (`charCodeAt`, `indexOf`) instead of
 * `split('/')`, so matching a name against a filter allocates nothing. Validation returns a short reason (or
 * undefined) rather than throwing: the decoder turns a reason into a ProtocolError, the broker into a SUBACK code.
 * A reason that follows from a numbered normative statement ends with it in brackets, e.g. "[MQTT-4.7.1-2]".
 */
import { MAX_STRING_BYTES } from './utf8.js';

export interface TopicLimits {
  /** Largest name or filter in UTF-8 bytes. Default and upper bound 65,535. */
  maxTopicBytes?: number;
  /** Most levels ('/'-separated parts) a name or filter may have. Default unlimited. */
  maxTopicLevels?: number;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;
const SHARE_PREFIX = '$share/';

/**
 * Checks a topic name (PUBLISH, Will Topic): undefined when valid, otherwise a short reason.
 *
 * @example validateTopicName('a/b') === undefined; validateTopicName('a/+') !== undefined
 */
export function validateTopicName(name: string, limits?: TopicLimits): string | undefined {
  if (name.length === 0) return 'topic name is empty [MQTT-4.7.3-1]';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === PLUS || c === HASH) return 'topic name contains a wildcard [MQTT-3.3.2-2]';
    if (c === 0) return 'topic name contains U+0000 [MQTT-4.7.3-2]';
  }
  return checkCommon(name, limits);
}

/**
 * Checks a topic filter (SUBSCRIBE, UNSUBSCRIBE), including the `$share/{group}/{filter}` form: undefined when
 * valid, otherwise a short reason.
 *
 * @example validateTopicFilter('a/+/#') === undefined; validateTopicFilter('a/#/b') !== undefined
 */
export function validateTopicFilter(filter: string, limits?: TopicLimits): string | undefined {
  if (filter.length === 0) return 'topic filter is empty [MQTT-4.7.3-1]';
  if (filter.includes('\u0000')) return 'topic filter contains U+0000 [MQTT-4.7.3-2]';
  const common = checkCommon(filter, limits);
  if (common !== undefined) return common;
  let start = 0;
  if (filter.startsWith(SHARE_PREFIX)) {
    const slash = filter.indexOf('/', SHARE_PREFIX.length);
    if (slash === SHARE_PREFIX.length) return 'shared subscription has an empty share name [MQTT-4.8.2-1]';
    if (slash === -1) return 'shared subscription has no topic filter [MQTT-4.8.2-2]';
    for (let i = SHARE_PREFIX.length; i < slash; i++) {
      const c = filter.charCodeAt(i);
      if (c === PLUS || c === HASH) return 'share name contains a wildcard [MQTT-4.8.2-2]';
    }
    if (slash + 1 === filter.length) return 'shared subscription has an empty topic filter [MQTT-4.8.2-2]';
    start = slash + 1;
  }
  return checkWildcards(filter, start);
}

/** '#' only as the whole last level, '+' only as a whole level, from index `start` on. */
function checkWildcards(filter: string, start: number): string | undefined {
  const last = filter.length - 1;
  for (let i = start; i <= last; i++) {
    const c = filter.charCodeAt(i);
    if (c === HASH) {
      if (i !== last || (i > start && filter.charCodeAt(i - 1) !== SLASH)) {
        return "'#' is not the whole last level [MQTT-4.7.1-2]";
      }
    } else if (c === PLUS) {
      const isLevelStart = i === start || filter.charCodeAt(i - 1) === SLASH;
      const isLevelEnd = i === last || filter.charCodeAt(i + 1) === SLASH;
      if (!isLevelStart || !isLevelEnd) return "'+' is not a whole level [MQTT-4.7.1-3]";
    }
  }
  return undefined;
}

function checkCommon(topic: string, limits: TopicLimits | undefined): string | undefined {
  if (!(topic as unknown as { isWellFormed(): boolean }).isWellFormed()) return 'topic contains a lone surrogate';
  const maxBytes = Math.min(limits?.maxTopicBytes ?? MAX_STRING_BYTES, MAX_STRING_BYTES);
  // Three UTF-8 bytes per UTF-16 unit at most: skip the byte count when the string is clearly short enough.
  if (topic.length * 3 > maxBytes && Buffer.byteLength(topic, 'utf8') > maxBytes) return 'topic is too long';
  const maxLevels = limits?.maxTopicLevels;
  if (maxLevels !== undefined) {
    let levels = 1;
    for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === SLASH) levels++;
    if (levels > maxLevels) return 'topic has too many levels';
  }
  return undefined;
}

/**
 * Splits a shared subscription filter. Assumes a valid filter.
 *
 * @example parseSharedFilter('$share/g/a/+') // { group: 'g', filter: 'a/+' }
 */
export function parseSharedFilter(filter: string): SharedFilter | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  if (slash === -1) return undefined;
  return { group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1) };
}

/**
 * True when topic name `name` matches topic filter `filter` (a valid, non-shared filter). '+' matches exactly one
 * level, '#' the level it stands in and all below, including the parent ("a/#" matches "a") [MQTT-4.7.1-2].
 * A filter starting with a wildcard never matches a name starting with '$' [MQTT-4.7.2-1].
 *
 * @example matchTopic('sport/+/player1', 'sport/tennis/player1') === true
 */
export function matchTopic(filter: string, name: string): boolean {
  const fl = filter.length;
  const nl = name.length;
  if (nl > 0 && name.charCodeAt(0) === DOLLAR) {
    const f0 = filter.charCodeAt(0);
    if (f0 === PLUS || f0 === HASH) return false;
  }
  let fs = 0; // start of the current filter level
  let ns = 0; // start of the current name level; nl + 1 once the name has no levels left
  for (;;) {
    let fe = filter.indexOf('/', fs);
    if (fe === -1) fe = fl;
    const isHash = fe - fs === 1 && filter.charCodeAt(fs) === HASH;
    if (ns > nl) return isHash; // the name ended one level early: only a trailing '#' matches the parent
    if (isHash) return true;
    let ne = name.indexOf('/', ns);
    if (ne === -1) ne = nl;
    const isPlus = fe - fs === 1 && filter.charCodeAt(fs) === PLUS;
    if (!isPlus) {
      const len = fe - fs;
      if (len !== ne - ns) return false;
      for (let i = 0; i < len; i++) {
        if (filter.charCodeAt(fs + i) !== name.charCodeAt(ns + i)) return false;
      }
    }
    if (fe === fl) return ne === nl;
    fs = fe + 1;
    ns = ne + 1;
  }
}

/** True when the filter contains '+' or '#' (a share name cannot, so shared filters work too). */
export function isWildcardFilter(filter: string): boolean {
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if (c === PLUS || c === HASH) return true;
  }
  return false;
}

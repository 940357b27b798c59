/**
 * `acl_file`: Mosquitto's access control list as a link of the authorization chain.
 *
 * Format (mosquitto.conf(5)): `topic [read|write|readwrite|deny] <filter>` lines before any `user` line apply to
 * clients without a username; after `user <name>` they apply to that user; `pattern [access] <filter>` lines apply
 * to every client wherever they appear, with `%c` and `%u` replaced by the client id and username.
 * No access word means readwrite. `#` starts a comment line. Anything else is an error naming the line.
 *
 * Decisions, as Mosquitto 2.0 makes them: `deny` entries are checked first; then the client's own entries, then
 * the patterns, grant an access they include; nothing granted is a denial. Clients never write to `$SYS/...`
 * (except `$SYS/broker/connection/...`). A pattern is skipped when the id or username it would substitute contains
 * `+`, `#` or `/` (it could widen the pattern; Mosquitto's CVE-2017-7650).
 *
 * Where Culex goes further: Mosquitto grants every SUBSCRIBE and filters at delivery. Culex filters at delivery too
 * (read access is checked for every message, retained ones included), and also refuses a SUBSCRIBE that could never
 * deliver anything — no read entry overlaps the filter except where a deny entry covers the overlap — with 0x80
 * (3.1.1) / 0x87 (MQTT 5). So Culex delivers exactly what Mosquitto would and says so earlier.
 */
import { readFile } from 'node:fs/promises';
import { matchTopic, parseSharedFilter, validateTopicFilter } from '../protocol/topic.js';
import type { AuthLink, ClientInfo, SubscribeRequest, Verdict } from '../broker/hooks.js';

export const AclAccess = { None: 0, Read: 1, Write: 2, ReadWrite: 3 } as const;

export interface AclEntry {
  readonly filter: string;
  /** Bit set of AclAccess; 0 = deny. */
  readonly access: number;
}

export interface AclTable {
  /** Entries before the first `user` line: clients without a username. */
  readonly anonymous: AclEntry[];
  readonly users: Map<string, AclEntry[]>;
  readonly patterns: AclEntry[];
}

export class AclFileError extends Error {
  readonly code = 'CULEX_ERR_ACL_FILE';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'AclFileError';
    this.line = line;
  }
}

const accessWords: ReadonlyMap<string, number> = new Map([
  ['read', AclAccess.Read], ['write', AclAccess.Write], ['readwrite', AclAccess.ReadWrite], ['deny', AclAccess.None],
]);

/** Parses ACL file text; throws AclFileError naming the file and line. */
export function parseAclFile(text: string, fileName: string): AclTable {
  const table: AclTable = { anonymous: [], users: new Map(), patterns: [] };
  let current = table.anonymous;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fail = (problem: string): never => {
      throw new AclFileError(`${problem} in ${fileName}:${i + 1}.`, i + 1);
    };
    const match = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
    const keyword = match[1]!;
    const rest = match[2] ?? '';
    if (keyword === 'user') {
      if (rest === '') fail('Missing username in acl_file');
      current = table.users.get(rest) ?? [];
      table.users.set(rest, current);
    } else if (keyword === 'topic' || keyword === 'pattern') {
      const parts = /^(\S+)(?:\s+(.*))?$/.exec(rest);
      if (parts === null) return fail(`Empty ${keyword} in acl_file`);
      let access: number = AclAccess.ReadWrite;
      let filter = parts[1]!;
      if (parts[2] !== undefined) {
        const word = accessWords.get(parts[1]!);
        if (word === undefined) fail(`Invalid topic access type "${parts[1]!}" in acl_file`);
        access = word!;
        filter = parts[2];
      }
      if (validateTopicFilter(filter) !== undefined) fail(`Invalid ACL topic "${filter}" in acl_file`);
      (keyword === 'pattern' ? table.patterns : current).push({ filter, access });
    } else {
      fail(`Invalid line in acl_file: ${line}`);
    }
  }
  return table;
}

/**
 * Replaces %c / %u wherever they appear (Mosquitto 2.0 does, though its manual says a whole level); undefined when
 * the pattern cannot apply to this client (no username for %u, or a value that would widen the filter).
 */
export function expandPattern(filter: string, client: ClientInfo): string | undefined {
  if (!filter.includes('%')) return filter;
  let isApplicable = true;
  const expanded = filter.replace(/%[cu]/g, (token) => {
    const value = token === '%c' ? client.id : client.username;
    if (value === undefined || /[+#/]/.test(value)) {
      isApplicable = false;
      return token;
    }
    return value;
  });
  return isApplicable ? expanded : undefined;
}

/** The client's effective entries: its own, then the patterns expanded for it. */
function entriesFor(table: AclTable, client: ClientInfo): AclEntry[] {
  const own = client.username === undefined ? table.anonymous : table.users.get(client.username) ?? [];
  if (table.patterns.length === 0) return own;
  const out = own.slice();
  for (const p of table.patterns) {
    const filter = expandPattern(p.filter, client);
    if (filter !== undefined) out.push({ filter, access: p.access });
  }
  return out;
}

/** Mosquitto's decision for one topic name. */
export function checkAcl(table: AclTable, client: ClientInfo, topic: string, access: number): boolean {
  return checkEntries(entriesFor(table, client), topic, access);
}

/** The decision over a client's effective entries (see `entriesFor`). */
function checkEntries(entries: readonly AclEntry[], topic: string, access: number): boolean {
  if (access === AclAccess.Write && topic.startsWith('$SYS') && !topic.startsWith('$SYS/broker/connection/')) {
    return false;
  }
  for (const e of entries) if (e.access === AclAccess.None && matchTopic(e.filter, topic)) return false;
  for (const e of entries) if ((e.access & access) !== 0 && matchTopic(e.filter, topic)) return true;
  return false;
}

function isWild(level: string | undefined): boolean {
  return level === '+' || level === '#';
}

/** Levels of the topics both filters match, as a filter; undefined when none (MQTT-4.7.2-1 for `$` topics). */
export function intersectFilters(a: string, b: string): string | undefined {
  const x = a.split('/');
  const y = b.split('/');
  if ((isWild(x[0]) && y[0]?.startsWith('$') === true) || (isWild(y[0]) && x[0]?.startsWith('$') === true)) {
    return undefined;
  }
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#') return [...out, ...y.slice(i)].join('/');
    if (q === '#') return [...out, ...x.slice(i)].join('/');
    if (p === undefined || q === undefined) return p === q ? out.join('/') : undefined;
    if (p === '+') out.push(q);
    else if (q === '+' || p === q) out.push(p);
    else return undefined;
  }
}

/** True when every topic `inner` matches is matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  if ((o[0] === '+' || o[0] === '#') && n[0]?.startsWith('$') === true) return false;
  for (let i = 0; ; i++) {
    const p = o[i];
    const q = n[i];
    if (p === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (q === '#') return false;
    if (p === '+') continue;
    if (q === '+' || p !== q) return false;
  }
}

/** Whether a subscription to `filter` could deliver any topic this client may read. */
export function canReadAny(table: AclTable, client: ClientInfo, filter: string): boolean {
  const entries = entriesFor(table, client);
  const denies = entries.filter((e) => e.access === AclAccess.None);
  for (const e of entries) {
    if ((e.access & AclAccess.Read) === 0) continue;
    const overlap = intersectFilters(e.filter, filter);
    if (overlap !== undefined && !denies.some((d) => filterCovers(d.filter, overlap))) return true;
  }
  return false;
}

export class AclFileAuth implements AuthLink {
  readonly name = 'acl_file';
  readonly path: string;
  #table: AclTable = { anonymous: [], users: new Map(), patterns: [] };
  /**
   * Each client's effective entries (patterns expanded), computed once per client and table: the read check runs
   * for every delivery. Keyed by the connection's ClientInfo object, so it goes away with the connection.
   */
  readonly #expanded = new WeakMap<ClientInfo, { table: AclTable; entries: AclEntry[] }>();

  constructor(path: string) {
    this.path = path;
  }

  /** Reads and parses the file; on failure throws and keeps the previous table. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new Error(`Unable to open acl_file "${this.path}": ${(err as Error).message}`, { cause: err });
    }
    this.#table = parseAclFile(text, this.path);
  }

  #entries(client: ClientInfo): AclEntry[] {
    const cached = this.#expanded.get(client);
    if (cached !== undefined && cached.table === this.#table) return cached.entries;
    const entries = entriesFor(this.#table, client);
    this.#expanded.set(client, { table: this.#table, entries });
    return entries;
  }

  authorizePublish(client: ClientInfo, request: { topic: string }): Verdict {
    return checkEntries(this.#entries(client), request.topic, AclAccess.Write) ? 'allow' : 'deny';
  }

  /** A shared subscription (`$share/group/filter`) is judged by its filter: that is what it delivers. */
  authorizeSubscribe(client: ClientInfo, request: SubscribeRequest): Verdict {
    const filter = parseSharedFilter(request.topicFilter)?.filter ?? request.topicFilter;
    return canReadAny(this.#table, client, filter) ? 'allow' : 'deny';
  }

  authorizeRead(client: ClientInfo, topic: string): Verdict {
    return checkEntries(this.#entries(client), topic, AclAccess.Read) ? 'allow' : 'deny';
  }
}

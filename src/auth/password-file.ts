/**
 * `password_file`: Mosquitto's password file (`username:hash` per line, see password-hash.ts) as a link of the
 * authentication chain. A username in the file is accepted with its password and refused with any other; a
 * username not in the file, or no username, is left to the next link ("next").
 *
 * Like Mosquitto, an entry whose hash cannot be read is dropped with a logged error (its user cannot log in) and a
 * line without a username is skipped with a warning; the file as a whole is refused only when it cannot be read.
 * `reload()` swaps the table in one step: a login in progress finishes against the table it started with.
 */
import { readFile } from 'node:fs/promises';
import type { AuthenticateRequest, AuthLink, Verdict } from '../broker/hooks.js';
import type { Logger } from '../broker/logger.js';
import { parsePasswordHash, verifyPassword, type PasswordHash } from './password-hash.js';

export interface ParsedPasswordFile {
  /** Usernames with their hash; undefined = listed without a usable password (always refused). */
  readonly users: Map<string, PasswordHash | undefined>;
  /** One line per skipped or dropped entry, in Mosquitto's words. */
  readonly problems: string[];
}

/** Parses password file text; never throws. */
export function parsePasswordFile(text: string, fileName: string): ParsedPasswordFile {
  const users = new Map<string, PasswordHash | undefined>();
  const problems: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const username = colon === -1 ? line : line.slice(0, colon);
    if (username === '') {
      problems.push(`Warning: Invalid line in password file '${fileName}': ${line}`);
      continue;
    }
    if (colon === -1) {
      users.set(username, undefined);
      continue;
    }
    const parsed = parsePasswordHash(line.slice(colon + 1));
    if (typeof parsed === 'string') {
      problems.push(`Error: ${parsed[0]!.toUpperCase()}${parsed.slice(1)} for user ${username}, removing entry.`);
      users.set(username, undefined);
      continue;
    }
    users.set(username, parsed);
  }
  return { users, problems };
}

export class PasswordFileAuth implements AuthLink {
  readonly name = 'password_file';
  readonly path: string;
  readonly #logger: Logger;
  #users = new Map<string, PasswordHash | undefined>();

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#logger = logger;
  }

  get userCount(): number {
    return this.#users.size;
  }

  /** Reads the file; throws (keeping the previous table) when it cannot be read. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new Error(`Unable to open pwfile "${this.path}": ${(err as Error).message}`, { cause: err });
    }
    const parsed = parsePasswordFile(text, this.path);
    for (const problem of parsed.problems) this.#logger.error(problem);
    this.#users = parsed.users;
  }

  authenticate(request: AuthenticateRequest): Verdict | Promise<Verdict> {
    if (request.username === undefined) return 'next';
    const users = this.#users;
    if (!users.has(request.username)) return 'next';
    const stored = users.get(request.username);
    if (stored === undefined || request.password === undefined) return 'deny';
    return verifyPassword(request.password, stored).then((isValid) => (isValid ? 'allow' : 'deny'));
  }
}

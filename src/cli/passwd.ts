/**
 * `culex passwd`: mosquitto_passwd's command line, messages and exit codes, writing `$7$` PBKDF2-SHA512 hashes with
 * 210,000 iterations (Mosquitto 2 reads them; Debian's mosquitto_passwd writes 101). Differences, on purpose: an
 * empty username or an unknown option is refused (mosquitto_passwd writes `:hash`, or reads `-x` as a file name), the
 * file is replaced atomically (written beside it, then renamed) keeping its mode, and lines the command does not
 * touch (comments, other users) are kept as they were.
 *
 * Exit status as mosquitto_passwd: 0 done; 1 usage or file error, empty password, user not found for -D; 2 the two
 * passwords typed did not match.
 */
import { readFileSync } from 'node:fs';
import { readFile, rename, stat, writeFile, chmod, rm } from 'node:fs/promises';
import { DEFAULT_ITERATIONS, hashPassword, type PasswordHash } from '../auth/password-hash.js';
import type { CliIo } from './index.js';
import { SecretLineReader } from './prompt.js';

const MAX_FIELD_CHARS = 65_535;

interface PasswdArgs {
  readonly mode: 'create' | 'update' | 'delete' | 'upgrade';
  readonly kind: PasswordHash['kind'];
  readonly isBatch: boolean;
  readonly file: string;
  readonly username: string;
  readonly password: string | undefined;
}

class Failure extends Error {
  readonly exitCode: number;
  readonly isUsage: boolean;
  constructor(message: string, exitCode = 1, isUsage = false) {
    super(message);
    this.exitCode = exitCode;
    this.isUsage = isUsage;
  }
}

const usage = (): Failure => new Failure('', 1, true);

/** mosquitto_passwd's argument rules, in its order of checks. */
export function parsePasswdArgs(argv: readonly string[]): PasswdArgs {
  let isBatch = false;
  let isCreate = false;
  let isDelete = false;
  let isUpgrade = false;
  let kind: PasswordHash['kind'] = 'sha512-pbkdf2';
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-b') isBatch = true;
    else if (arg === '-c') isCreate = true;
    else if (arg === '-D') isDelete = true;
    else if (arg === '-U') isUpgrade = true;
    else if (arg === '-H') {
      const value = argv[++i];
      if (value === undefined || i + 1 >= argv.length) {
        throw new Failure('Error: -H argument given but not enough other arguments.');
      }
      if (value === 'sha512') kind = 'sha512';
      else if (value === 'sha512-pbkdf2') kind = 'sha512-pbkdf2';
      else throw new Failure(`Error: Unknown hash type '${value}'`);
    } else if (arg === '-h' || arg === '--help') {
      throw usage();
    } else if (arg.startsWith('-') && arg.length > 1) {
      throw new Failure(`Error: Unknown option '${arg}'.`, 1, true);
    } else break;
  }
  const rest = argv.slice(i);
  if (isCreate && isDelete) throw new Failure('Error: -c and -D cannot be used together.');
  if (isCreate && isUpgrade) throw new Failure('Error: -c and -U cannot be used together.');
  if (isDelete && isUpgrade) throw new Failure('Error: -D and -U cannot be used together.');
  if (isDelete && isBatch) throw new Failure('Error: -b and -D cannot be used together.');
  if (isUpgrade) {
    if (rest.length !== 1) throw new Failure('Error: -U argument given but password file missing.');
    return { mode: 'upgrade', kind, isBatch, file: rest[0]!, username: '', password: undefined };
  }
  if (isCreate && rest.length < 2) throw new Failure('Error: -c argument given but password file or username missing.');
  if (isDelete && rest.length < 2) throw new Failure('Error: -D argument given but password file or username missing.');
  if (isBatch ? rest.length < 3 : !isCreate && !isDelete && rest.length !== 2) throw usage();
  const [file, username, password] = rest as [string, string, string | undefined];
  if (username.includes(':')) throw new Failure('Error: Username must not contain the \':\' character.');
  if (username === '') throw new Failure('Error: Username must not be empty.');
  if (username.length > MAX_FIELD_CHARS) throw new Failure('Error: Username must be less than 65536 characters long.');
  if (isBatch && password!.length > MAX_FIELD_CHARS) {
    throw new Failure('Error: Password must be less than 65536 characters long.');
  }
  const mode = isCreate ? 'create' : isDelete ? 'delete' : 'update';
  return { mode, kind, isBatch, file, username, password: isBatch ? password : undefined };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    const args = parsePasswdArgs(argv);
    await execute(args, io);
    return 0;
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    if (err.message !== '') io.stderr.write(`${err.message}\n`);
    if (err.isUsage) io.stdout.write(readFileSync(new URL('../../src/cli/help/passwd.txt', import.meta.url), 'utf8'));
    return err.exitCode;
  }
}

async function execute(args: PasswdArgs, io: CliIo): Promise<void> {
  const hash = (password: string) => hashPassword(Buffer.from(password), { kind: args.kind, iterations: DEFAULT_ITERATIONS });
  if (args.mode === 'create') {
    const password = args.password ?? await promptTwice(io);
    await replaceFile(args.file, `${args.username}:${await hash(password)}\n`, true);
    return;
  }
  const lines = await readLines(args.file);
  if (args.mode === 'delete') {
    const kept = lines.filter((l) => usernameOf(l) !== args.username);
    if (kept.length === lines.length) throw new Failure(`Warning: User ${args.username} not found in password file.`);
    await replaceFile(args.file, joinLines(kept), false);
    return;
  }
  if (args.mode === 'upgrade') {
    const out: string[] = [];
    for (const line of lines) {
      const user = usernameOf(line);
      out.push(user === undefined ? line : `${user}:${await hash(line.slice(user.length + 1))}`);
    }
    await replaceFile(args.file, joinLines(out), false);
    return;
  }
  const password = args.password ?? await promptTwice(io);
  const entry = `${args.username}:${await hash(password)}`;
  let isReplaced = false;
  const out = lines.map((l) => {
    if (usernameOf(l) !== args.username) return l;
    isReplaced = true;
    return entry;
  });
  if (!isReplaced) out.push(entry);
  await replaceFile(args.file, joinLines(out), false);
}

/** The username of an entry line; undefined for comments, blank lines and lines without one. */
function usernameOf(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const colon = trimmed.indexOf(':');
  if (colon === 0) return undefined;
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

async function readLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Failure(`Error: Unable to open password file ${file}. ${describe(err)}.`);
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Writes beside the file, then renames over it: a crash never leaves half a password file. */
async function replaceFile(file: string, text: string, isCreate: boolean): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  let mode: number | undefined;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch {
    mode = undefined;
  }
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    if (mode !== undefined) await chmod(temporary, mode);
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    const what = isCreate ? 'file' : 'password file';
    throw new Failure(`Error: Unable to open ${what} ${file} for writing. ${describe(err)}.`);
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES') return 'Permission denied';
  if (code === 'EISDIR') return 'Is a directory';
  return (err as Error).message;
}

/** "Password:" and "Reenter password:" as mosquitto_passwd prompts, on stdout; no echo on a terminal. */
async function promptTwice(io: CliIo): Promise<string> {
  const reader = new SecretLineReader(io.stdin ?? process.stdin);
  try {
    const first = await ask(io, reader, 'Password: ');
    const second = await ask(io, reader, 'Reenter password: ');
    if (first !== second) throw new Failure('Error: Passwords do not match.', 2);
    return first;
  } finally {
    reader.close();
  }
}

async function ask(io: CliIo, reader: SecretLineReader, prompt: string): Promise<string> {
  io.stdout.write(prompt);
  const answer = await reader.next();
  if (answer === undefined || answer === '') throw new Failure('Error: Empty password.');
  io.stdout.write('\n');
  if (answer.length > MAX_FIELD_CHARS) throw new Failure('Error: Password must be less than 65536 characters long.');
  return answer;
}

/**
 * Reads every record of a store file in a child process. LMDB trusts its pages: a damaged file can crash the reading
 * process with SIGSEGV or SIGBUS instead of throwing, so the broker lets a child take that risk first. The child
 * exits 0 when every record reads and passes its check, 1 with the problem on stderr otherwise; a crash shows as
 * the signal.
 *
 * Run directly: `node verify.js <file>`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open as openLmdb } from 'lmdb';
import { toIncoming, toMessage, toOutgoing, toSession, toWill } from './records.js';

const checks: Record<string, (value: unknown) => unknown> = {
  sessions: toSession,
  outgoing: toOutgoing,
  incoming: toIncoming,
  retained: (v) => toMessage(v, 'retained message'),
  wills: toWill,
};

/** Resolves with undefined when the file is sound, or with what is wrong with it. */
export function verifyInChild(file: string): Promise<string | undefined> {
  const self = fileURLToPath(import.meta.url);
  // Under a TypeScript loader (tests), the child needs the same loader, found from here rather than from its cwd.
  const loader = self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...loader, self, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    child.on('error', (err) => resolve(`could not start the check: ${err.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(undefined);
      else if (signal !== null) resolve(`reading it crashed the checking process (${signal})`);
      else resolve(stderr.trim().split('\n').at(-1) ?? `check failed (exit ${code})`);
    });
  });
}

function verify(file: string): void {
  const root = openLmdb({ path: file, noSubdir: true, maxDbs: 8, readOnly: true });
  for (const [name, check] of Object.entries(checks)) {
    const db = root.openDB({ name });
    for (const { value } of db.getRange()) check(value);
  }
  root.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    verify(process.argv[2]!);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

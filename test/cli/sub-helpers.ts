/**
 * Runs `culex pub|sub|rr` (bin/culex.js, compiled dist/) and the matching Mosquitto tool as child processes with the
 * same arguments, so tests can compare their output byte for byte. Every process is killed in `t.after`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const WAIT_MS = 30_000;

export interface Run {
  readonly child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  /** Resolves when the process exits (rejects after WAIT_MS, killing it). */
  readonly exited: Promise<number | null>;
}

export function runTool(t: TestContext, tool: 'culex' | 'mosquitto', command: 'pub' | 'sub' | 'rr', args: string[],
  stdin?: string | Buffer): Run {
  const child = tool === 'culex'
    ? spawn(process.execPath, [bin, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(`mosquitto_${command}`, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(stdin);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${tool} ${command} ${args.join(' ')} did not exit within ${WAIT_MS} ms; stdout: `
        + `${Buffer.concat(out).toString()} stderr: ${err}`));
    }, WAIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  exited.catch(() => undefined);
  return { child, stdout: () => Buffer.concat(out), stderr: () => err, exited };
}

/** Runs both tools to completion with the same arguments. */
export async function runBoth(t: TestContext, command: 'pub' | 'sub' | 'rr', args: string[], stdin?: string):
Promise<{ culex: { code: number | null; stdout: Buffer; stderr: string }; mosquitto: { code: number | null; stdout: Buffer; stderr: string } }> {
  const c = runTool(t, 'culex', command, args, stdin);
  const m = runTool(t, 'mosquitto', command, args, stdin);
  const [cc, mc] = await Promise.all([c.exited, m.exited]);
  return {
    culex: { code: cc, stdout: c.stdout(), stderr: c.stderr() },
    mosquitto: { code: mc, stdout: m.stdout(), stderr: m.stderr() },
  };
}

/** Mosquitto's messages name the Mosquitto tool; ours name `culex <tool>`. */
export function asCulex(text: string): string {
  return text.replace(/mosquitto_(pub|sub|rr)/g, 'culex $1');
}

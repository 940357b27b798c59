/** Runs `culex bench … --json` in this process and returns its exit code, parsed JSON and stderr. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/bench.js';

export async function bench(args: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await run(args, { stdout, stderr });
  assert.ok(out.startsWith('{'), `expected JSON, got: ${out}${err}`);
  return { code, json: JSON.parse(out) as Record<string, unknown>, stderr: err };
}

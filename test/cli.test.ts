import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../bin/culex.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

async function culex(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('culex --version prints the package version', async () => {
  const r = await culex('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `culex ${pkg.version}\n`);
});

test('culex --help lists usage and exits 0', async () => {
  const r = await culex('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: culex <command>/m);
});

test('culex with no arguments prints usage and exits 1', async () => {
  const r = await culex();
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Usage: culex/);
});

test('an unknown subcommand is an error naming it, exit 1', async () => {
  const r = await culex('frobnicate');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

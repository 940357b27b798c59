/**
 * The README's client example runs as written: the block between the `client-example` markers is run unchanged
 * but for the port (1883 → 0), with tsx, inside the package directory so that `import … from 'culex'` resolves to
 * this package (its built `dist/`) by self-reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);

test('the README client example runs as written', async (t) => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const match = /<!-- client-example -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'README.md has a client example between <!-- client-example --> markers');
  const code = match[1]!;
  assert.match(code, /port: 1883/);
  const file = new URL('readme-client-example.tmp.mts', root);
  writeFileSync(file, code.replace('port: 1883', 'port: 0'));
  t.after(() => rmSync(file, { force: true }));
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', fileURLToPath(file)], { cwd: fileURLToPath(root), timeout: 20_000 },
      (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stdout}${stderr}`))));
  });
  assert.equal(output, [
    'granted QoS 1',
    'sensors/kitchen/temp 21.5',
    'reply: noon',
    'error code: MQTT_ERR_INVALID_ARGUMENT',
    '',
  ].join('\n'));
});

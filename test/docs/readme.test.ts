/**
 * The README's embedding example runs as written: the code block between the `embedding-example` markers is
 * executed unchanged but for the port (1883 → 0, so tests never take the real port), inside the package directory
 * so that `import … from 'culex'` resolves to this package by self-reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';

const root = new URL('../../', import.meta.url);

function extractExample(): string {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const match = /<!-- embedding-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'README.md has an embedding example between <!-- embedding-example --> markers');
  return match[1]!;
}

test('the README embedding example runs as written and enforces its hooks', async (t) => {
  const code = extractExample();
  assert.match(code, /port: 1883/);
  const file = new URL('readme-example.tmp.mjs', root);
  writeFileSync(file, code.replace('port: 1883', 'port: 0'));
  t.after(() => rmSync(file, { force: true }));
  const child = spawn(process.execPath, [file.pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => { output += chunk; });
  const waitFor = (pattern: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output: ${output}`)), 5000);
    const check = () => {
      const m = pattern.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(m);
      }
    };
    child.stdout.on('data', check);
    check();
  });
  const port = Number((await waitFor(/listening on (\d+)/))[1]);

  await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    username: 'alice', password: 'wrong', reconnectPeriod: 0,
  }), /Not authorized/i);

  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'alice-1', username: 'alice', password: 'secret', reconnectPeriod: 0,
  });
  t.after(() => client.end(true));
  await waitFor(/alice-1 connected/);
  const granted = await client.subscribeAsync('users/alice/#');
  assert.deepEqual(granted.map((g) => g.qos), [0]);
  // MQTT.js rejects a subscribe call whose SUBACK refuses a filter (return code 0x80).
  await assert.rejects(client.subscribeAsync('$SYS/#'));
  await client.publishAsync('users/alice/hello', 'hi', { qos: 1 });
  await waitFor(/alice-1 -> users\/alice\/hello/);

  child.kill('SIGINT');
  const code2 = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code2, 0);
});

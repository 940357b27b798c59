/**
 * Interoperability with Mosquitto's command-line clients (Debian `mosquitto-clients`) run as child processes.
 * Skipped, with the reason shown, when mosquitto_pub is not on PATH.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { brokerFor, waitForConnect, waitForEvent } from '../helpers/broker.js';
import { openClient, type Cleanup } from '../helpers/raw-client.js';

const hasMosquitto = spawnSync('sh', ['-c', 'command -v mosquitto_pub && command -v mosquitto_sub']).status === 0;
const skip = hasMosquitto ? false : 'mosquitto_pub/mosquitto_sub not on PATH (apt-get install mosquitto-clients)';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a mosquitto client; `done` resolves when it exits (killed after timeoutMs). Killed after the test. */
function start(t: Cleanup, command: string, args: string[], input?: string, timeoutMs = 5000) {
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, done };
}

async function run(t: Cleanup, command: string, args: string[], input?: string): Promise<Run> {
  return start(t, command, args, input).done;
}

const at = (port: number): string[] => ['-h', '127.0.0.1', '-p', String(port)];

describe('12 interop: mosquitto_pub / mosquitto_sub', { skip }, () => {
  test('mosquitto_sub receives what mosquitto_pub publishes at QoS 0, 1 and 2 (MQTT 3.1.1)', async (t) => {
    const { broker, port } = await brokerFor(t);
    const subscribed = waitForEvent(broker, 'subscribed');
    const sub = start(t, 'mosquitto_sub', [...at(port), '-V', 'mqttv311', '-i', 'msub', '-q', '2', '-t', 'mq/#', '-C', '3', '-v']);
    await subscribed;
    for (const qos of ['0', '1', '2']) {
      const r = await run(t, 'mosquitto_pub', [...at(port), '-V', 'mqttv311', '-q', qos, '-t', `mq/${qos}`, '-m', `q${qos}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await sub.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mq/0 q0\nmq/1 q1\nmq/2 q2\n');
  });

  test('MQTT 3.1 (mqttv31): a retained message is delivered to a later wildcard subscriber with the retain flag', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await run(t, 'mosquitto_pub', [...at(port), '-V', 'mqttv31', '-q', '1', '-r', '-t', 'mr/x', '-m', 'kept']);
    assert.equal(pub.code, 0, pub.stderr);
    const sub = await run(t, 'mosquitto_sub', [...at(port), '-V', 'mqttv31', '-q', '1', '-t', 'mr/+', '-C', '1', '-F', '%r %q %t %p']);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(sub.stdout, '1 1 mr/x kept\n');
  });

  test('mosquitto_pub -l sends 100 lines at QoS 1; all arrive in order', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { clientId: 'lines-sub' });
    await sub.subscribe([['ml/t', 1]]);
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const r = await run(t, 'mosquitto_pub', [...at(port), '-q', '1', '-t', 'ml/t', '-l'], `${lines.join('\n')}\n`);
    assert.equal(r.code, 0, r.stderr);
    const got: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const p = await sub.expect('publish');
      got.push(p.payload.toString());
      await sub.acknowledge(p);
    }
    assert.deepEqual(got, lines);
  });

  test('user name and password reach authenticate; a refusal makes mosquitto_pub fail with "not authorised"', async (t) => {
    const { port } = await brokerFor(t, {
      authenticate: async ({ username, password }) => username === 'alice' && password?.toString() === 's3cret',
    });
    const ok = await run(t, 'mosquitto_pub', [...at(port), '-u', 'alice', '-P', 's3cret', '-t', 'a', '-m', 'x']);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await run(t, 'mosquitto_pub', [...at(port), '-u', 'alice', '-P', 'wrong', '-t', 'a', '-m', 'x']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not authori[sz]ed/i);
  });

  test('the will of a killed mosquitto_sub is published', async (t) => {
    const { broker, port } = await brokerFor(t);
    const watcher = await openClient(t, port, { clientId: 'will-watch' });
    await watcher.subscribe([['mw/#', 1]]);
    const connected = waitForConnect(broker, 'mwill');
    const sub = start(t, 'mosquitto_sub', [
      ...at(port), '-i', 'mwill', '-t', 'mw/ignored', '--will-topic', 'mw/status', '--will-payload', 'died', '--will-qos', '1',
    ]);
    await connected;
    sub.child.kill('SIGKILL');
    const p = await watcher.expect('publish');
    assert.deepEqual([p.topic, p.payload.toString(), p.qos], ['mw/status', 'died', 1]);
  });

  test('mosquitto_sub -c resumes its persistent session and gets the message queued while it was away', async (t) => {
    const { port } = await brokerFor(t);
    const first = await run(t, 'mosquitto_sub', [...at(port), '-c', '-i', 'mpersist', '-q', '1', '-t', 'mp/t', '-E']);
    assert.equal(first.code, 0, first.stderr);
    const pub = await run(t, 'mosquitto_pub', [...at(port), '-q', '1', '-t', 'mp/t', '-m', 'queued']);
    assert.equal(pub.code, 0, pub.stderr);
    const again = await run(t, 'mosquitto_sub', [...at(port), '-c', '-i', 'mpersist', '-q', '1', '-t', 'mp/t', '-C', '1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'queued\n');
  });
});

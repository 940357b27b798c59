/**
 * Golden tests: `culex sub` and `mosquitto_sub` subscribe to the same Culex broker (in-process, port 0) with the
 * same arguments, receive the same messages, and must print the same bytes and exit with the same status. Time
 * fields (%I %U @… and the "tst" of %j/%J) are compared after masking digits, since the two processes print at
 * slightly different moments.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { brokerFor, waitForEvent, type StartedBroker } from '../helpers/broker.js';
import { runTool, type Run } from './sub-helpers.js';

interface Message {
  topic: string;
  payload: string | Buffer;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  properties?: mqtt.IClientPublishOptions['properties'];
}

async function publishAll(port: number, messages: Message[], version: 4 | 5 = 5): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: version, reconnectPeriod: 0 });
  for (const m of messages) {
    await client.publishAsync(m.topic, m.payload, { qos: m.qos ?? 0, retain: m.retain ?? false,
      ...(m.properties === undefined ? {} : { properties: m.properties }) });
  }
  await client.endAsync();
}

/** Starts both subscribers, waits until the broker has both subscriptions, then publishes `live`. */
async function goldenRun(t: TestContext, broker: StartedBroker, args: string[], live: Message[], version: 4 | 5 = 5):
Promise<[Run, Run]> {
  const subscribed = waitForEvent(broker.broker, 'subscribed', (() => { let n = 0; return () => ++n === 2; })(), 30_000);
  const common = ['-h', '127.0.0.1', '-p', String(broker.port), ...args];
  const c = runTool(t, 'culex', 'sub', common);
  const m = runTool(t, 'mosquitto', 'sub', common);
  await subscribed;
  if (live.length > 0) await publishAll(broker.port, live, version);
  await Promise.all([c.exited, m.exited]);
  return [c, m];
}

const mask = (b: Buffer): string => b.toString('latin1').replace(/\d/g, '9');

async function assertSame(c: Run, m: Run, options: { maskDigits?: boolean } = {}): Promise<void> {
  const [cc, mc] = await Promise.all([c.exited, m.exited]);
  if (options.maskDigits === true) assert.equal(mask(c.stdout()), mask(m.stdout()));
  else assert.equal(c.stdout().toString('latin1'), m.stdout().toString('latin1'));
  assert.equal(c.stderr(), m.stderr());
  assert.equal(cc, mc);
}

const props = {
  payloadFormatIndicator: true, messageExpiryInterval: 3600, contentType: 'text/plain', responseTopic: 'reply/to',
  correlationData: Buffer.from('corr'), userProperties: { k1: 'v1', k2: 'v2' },
};

describe('culex sub prints what mosquitto_sub prints (golden, against the Culex broker)', { concurrency: 2 }, () => {
  test('plain payloads, one per line; an empty payload prints nothing', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-C', '3'],
      [{ topic: 'g/1', payload: 'one' }, { topic: 'g/2', payload: '' }, { topic: 'g/3', payload: 'three' }]);
    await assertSame(c, m);
    assert.equal(c.stdout().toString(), 'one\nthree\n');
  });

  test('-v prints "topic payload", and "topic (null)" for an empty payload', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-v', '-C', '2'], [{ topic: 'g/a', payload: 'x y' }, { topic: 'g/b', payload: '' }]);
    await assertSame(c, m);
    assert.equal(c.stdout().toString(), 'g/a x y\ng/b (null)\n');
  });

  test('-N leaves out the end of line; binary payloads pass through unchanged', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-N', '-v', '-C', '2'],
      [{ topic: 'g/a', payload: Buffer.from([0, 1, 0xff, 0x0a]) }, { topic: 'g/b', payload: 'z' }]);
    await assertSame(c, m);
  });

  test('-F with every message field, flags, widths and precisions', async (t) => {
    const b = await brokerFor(t);
    const format = '[%t|%p|%q|%r|%l|%m|%x|%X|%10t|%-10t|%.3t|%5.2t|%05l|%-5l|%5l|%%|%10x|%-p|%5p|%3p|%-8p|%08p|%2x|%-10x]\\t\\\\@@';
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-q', '2', '-F', format, '-C', '3'],
      [{ topic: 'g/abc', payload: 'hello', qos: 0 }, { topic: 'g/q1', payload: 'wörld', qos: 1 }, { topic: 'g/q2', payload: 'x', qos: 2 }]);
    await assertSame(c, m);
  });

  test('-F with MQTT 5 properties (%A %C %D %E %F %P %R %S) and their widths', async (t) => {
    const b = await brokerFor(t);
    const format = '%E|%5E|%F|%A|%5A|%05A|%S|%C|%10C|%-10C|%.1C|%D|%R|%P';
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-V', '5', '-F', format, '-C', '2'],
      [{ topic: 'g/p', payload: 'x', properties: props }, { topic: 'g/none', payload: 'y' }]);
    await assertSame(c, m);
  });

  test('-F time fields: %I, %U and @-strftime conversions with @N nanoseconds', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-F', '%I|%U|@Y-@m-@dT@H:@M:@S.@N|@s|@z|@j', '-C', '1'],
      [{ topic: 'g/t', payload: 'x' }]);
    await assertSame(c, m, { maskDigits: true });
  });

  test('-F %j (and --pretty), with properties, a QoS 1 message id and a non-printable payload', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-V', '5', '-q', '1', '-F', '%j', '-C', '3'],
      [{ topic: 'g/j', payload: 'he said "hi"\\', properties: props }, { topic: 'g/q', payload: 'x', qos: 1 },
        { topic: 'g/bin', payload: Buffer.from([1, 2, 200]) }]);
    await assertSame(c, m, { maskDigits: true });
    const [cp, mp] = await goldenRun(t, b, ['-t', 'g/#', '-V', '5', '-F', '%j', '--pretty', '-C', '1'],
      [{ topic: 'g/j', payload: 'x', properties: props }]);
    await assertSame(cp, mp, { maskDigits: true });
  });

  test('-F %J reprints a JSON payload as cJSON does, and reports one that is not JSON', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-F', '%J', '-C', '3'], [
      { topic: 'g/1', payload: '{ "a" : [1, 2.50, -0.000001, 1e21, true, null], "s": "\\u00e9\\n/" }' },
      { topic: 'g/2', payload: 'not json' },
      { topic: 'g/3', payload: '' },
    ]);
    await assertSame(c, m, { maskDigits: true });
  });

  test('-R skips retained messages; -T filters topics out', async (t) => {
    const b = await brokerFor(t);
    await publishAll(b.port, [{ topic: 'g/old', payload: 'stale', retain: true }]);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-R', '-T', 'g/skip/#', '-v', '-C', '1'],
      [{ topic: 'g/skip/x', payload: 'no' }, { topic: 'g/new', payload: 'fresh' }]);
    await assertSame(c, m);
    assert.equal(c.stdout().toString(), 'g/new fresh\n');
  });

  test('--retained-only prints the retained messages and exits at the first live one', async (t) => {
    const b = await brokerFor(t);
    await publishAll(b.port, [{ topic: 'g/r1', payload: 'a', retain: true }]);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '--retained-only', '-F', '%t %p %r'], [{ topic: 'g/live', payload: 'b' }]);
    await assertSame(c, m);
    assert.equal(c.stdout().toString(), 'g/r1 a 1\n');
  });

  test('-E exits once subscribed; -d prints packets and the Subscribed line like mosquitto_sub', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-t', 'h', '-q', '1', '-E', '-d', '-i', 'same-length-id-1'], []);
    // Both cannot use one client id at once: mosquitto_sub gets its own, of the same length.
    const expected = m.stdout().toString();
    assert.equal(c.stdout().toString().replaceAll('same-length-id-1', 'X'), expected.replaceAll('same-length-id-1', 'X'));
  });

  test('-d with QoS 1 and 2: the acknowledgements are logged before the message is printed', async (t) => {
    const b = await brokerFor(t);
    const cArgs = ['-t', 'g/#', '-q', '2', '-d', '-v', '-C', '2'];
    const subscribed = waitForEvent(b.broker, 'subscribed', (() => { let n = 0; return () => ++n === 2; })(), 30_000);
    const c = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-i', 'sub-c', ...cArgs]);
    const m = runTool(t, 'mosquitto', 'sub', ['-p', String(b.port), '-i', 'sub-m', ...cArgs]);
    await subscribed;
    await publishAll(b.port, [{ topic: 'g/1', payload: 'one', qos: 1 }, { topic: 'g/2', payload: 'two', qos: 2 }]);
    await Promise.all([c.exited, m.exited]);
    assert.equal(c.stdout().toString().replaceAll('sub-c', 'X'), m.stdout().toString().replaceAll('sub-m', 'X'));
  });

  test('a refused subscription: "All subscription requests were denied." and the same exit status', async (t) => {
    const b = await brokerFor(t, { authorizeSubscribe: () => false });
    const args = ['-p', String(b.port), '-t', 'g/#', '-d'];
    const c = runTool(t, 'culex', 'sub', [...args, '-i', 'deny-c']);
    const m = runTool(t, 'mosquitto', 'sub', [...args, '-i', 'deny-m']);
    assert.equal(await c.exited, await m.exited);
    assert.equal(c.stdout().toString().replaceAll('deny-c', 'X'), m.stdout().toString().replaceAll('deny-m', 'X'));
    assert.equal(c.stderr(), m.stderr());
    assert.equal(await c.exited, await m.exited);
  });

  test('-W exits with status 27 and "Timed out" when no message comes', async (t) => {
    const b = await brokerFor(t);
    const [c, m] = await goldenRun(t, b, ['-t', 'g/#', '-W', '1'], []);
    await assertSame(c, m);
    assert.equal(await c.exited, 27);
  });

  test('--remove-retained clears each retained message it receives', async (t) => {
    const b = await brokerFor(t);
    await publishAll(b.port, [{ topic: 'g/r', payload: 'keep?', retain: true }]);
    const c = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'g/#', '--remove-retained', '-C', '1', '-v']);
    assert.equal(await c.exited, 0);
    assert.equal(c.stdout().toString(), 'g/r keep?\n');
    const check = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'g/#', '-W', '1']);
    assert.equal(await check.exited, 27);
    assert.equal(check.stdout().length, 0);
  });
});

/** -I appends the process id, which differs between the two tools. */
function withoutPid(text: string): string {
  return text.replace(/pfx-\d+/g, 'pfx-PID');
}

describe('culex sub session and connection flags', { concurrency: 2 }, () => {
  test('-V 31, -I prefix, -k: same packets as mosquitto_sub (ids carry each process id); -U unsubscribes', async (t) => {
    const b = await brokerFor(t);
    const args = ['-p', String(b.port), '-t', 'g/#', '-V', '31', '-I', 'pfx-', '-k', '30', '-E', '-d'];
    const c = runTool(t, 'culex', 'sub', args);
    const m = runTool(t, 'mosquitto', 'sub', args);
    assert.equal(await c.exited, await m.exited);
    assert.equal(withoutPid(c.stdout().toString()), withoutPid(m.stdout().toString()));
    const u = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'g/#', '-U', 'old/#', '-E', '-d']);
    assert.equal(await u.exited, 0);
    assert.match(u.stdout().toString(), /sending UNSUBSCRIBE \(Mid: 2, Topic: old\/#\)/);
  });

  test('-c -i keeps the session: a QoS 1 message published while away arrives on the next run (-x for MQTT 5)', async (t) => {
    const b = await brokerFor(t);
    for (const extra of [[], ['-V', '5', '-x', '60']]) {
      const id = `keep-${extra.length}`;
      const first = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 's/#', '-q', '1', '-c', '-i', id, '-E', ...extra]);
      assert.equal(await first.exited, 0);
      const pub = runTool(t, 'culex', 'pub', ['-p', String(b.port), '-t', 's/x', '-m', `while away ${id}`, '-q', '1']);
      assert.equal(await pub.exited, 0);
      const second = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 's/#', '-q', '1', '-c', '-i', id, '-C', '1', '-v', ...extra]);
      assert.equal(await second.exited, 0);
      assert.equal(second.stdout().toString(), `s/x while away ${id}\n`);
    }
  });

  test('--unix connects through a Unix socket; -A binds the local address', async (t) => {
    const b = await brokerFor(t);
    const path = join(mkdtempSync(join(tmpdir(), 'culex-unix-')), 'mqtt.sock');
    await b.broker.openListener({ path });
    const sub = runTool(t, 'culex', 'sub', ['--unix', path, '-t', 'u/#', '-C', '1', '-v']);
    const pub = runTool(t, 'culex', 'pub', ['-h', '127.0.0.1', '-A', '127.0.0.1', '-p', String(b.port), '-t', 'u/x', '-m', 'via unix', '--repeat', '20', '--repeat-delay', '0.1']);
    assert.equal(await sub.exited, 0);
    assert.equal(sub.stdout().toString(), 'u/x via unix\n');
    pub.child.kill('SIGTERM');
  });
});

/**
 * Crash tests: `culex broker` (bin/culex.js, the compiled dist/) in a child process over a temporary store, killed
 * with SIGKILL at a random moment while a publisher is mid-stream, then restarted on the same store.
 *
 * The rule checked: every message the broker acknowledged (PUBACK for QoS 1, PUBREC for QoS 2, seen on the wire
 * through MQTT.js's `packetreceive`) reaches the persistent subscriber that was offline throughout; at QoS 2 none
 * arrives twice. Messages sent but not acknowledged may or may not arrive. Also: retained messages, session expiry
 * across a restart, a delayed will due during the outage, and a corrupt store at start.
 *
 * CULEX_CRASH_RUNS=n repeats each random-kill test n times (default 2) and prints one line per run.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const bin = new URL('../../bin/culex.js', import.meta.url).pathname;
const RUNS = Number(process.env.CULEX_CRASH_RUNS ?? 2);
const WAIT_MS = 8000;

interface BrokerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'culex-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `culex broker` on 127.0.0.1, port 0, over the store in `dir`; resolves once it listens. */
async function startBroker(t: TestContext, dir: string, extraArgs: string[] = []): Promise<BrokerProcess> {
  const conf = join(dir, 'culex.conf');
  writeFileSync(conf, 'bind_address 127.0.0.1\nsys_interval 0\nmax_queued_messages 0\n');
  const child = spawn(process.execPath,
    [bin, 'broker', '-c', conf, '-p', '0', '--persistence-location', join(dir, 'store'), ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start:\n${err}`)), WAIT_MS);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /Opening ipv4 listen socket on port (\d+)\./.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`broker exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
  return { child, port, stderr: () => err, exited };
}

async function kill9(broker: BrokerProcess): Promise<void> {
  broker.child.kill('SIGKILL');
  const { signal } = await broker.exited;
  assert.equal(signal, 'SIGKILL');
}

/** An MQTT.js client (no reconnect), connected; `clean: false` clients get a fixed id. */
async function client(t: TestContext, port: number, options: IClientOptions): Promise<MqttClient> {
  const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: WAIT_MS, ...options });
  c.on('error', () => {});
  t.after(() => c.end(true));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return c;
}

/** Reconnects a persistent subscriber and collects payloads until `isDone` or the wait ends. */
/**
 * A `collect` predicate: true once every one of `expected` has arrived. It reads each new message once (a check that
 * scanned everything received on every message took seconds of CPU with a few thousand messages, past the window).
 */
function receivedAll(expected: ReadonlySet<string>): (got: string[]) => boolean {
  const seen = new Set<string>();
  let read = 0;
  return (got) => {
    for (; read < got.length; read++) if (expected.has(got[read]!)) seen.add(got[read]!);
    return seen.size === expected.size;
  };
}

async function collect(t: TestContext, port: number, options: IClientOptions, isDone: (got: string[]) => boolean,
  waitMs = WAIT_MS): Promise<{ got: string[]; sessionPresent: boolean }> {
  const got: string[] = [];
  const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: WAIT_MS, ...options });
  c.on('error', () => {});
  t.after(() => c.end(true));
  let sessionPresent = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    c.on('connect', (connack) => {
      sessionPresent = connack.sessionPresent;
      if (isDone(got)) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.on('message', (_topic, payload) => {
      got.push(payload.toString());
      if (isDone(got)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { got, sessionPresent };
}

/**
 * Publishes `count` messages (50 outstanding at most) and records which the broker acknowledged (PUBACK at QoS 1,
 * PUBREC at QoS 2). Stops when the connection drops. Resolves with the acknowledged payloads.
 */
function publishUntilKilled(pub: MqttClient, qos: 1 | 2, count: number, topicOf: (i: number) => string,
  retain = false): { acked: Set<string>; sent: () => number; done: Promise<void> } {
  const acked = new Set<string>();
  const pending = new Map<number, string>();
  let sent = 0;
  pub.on('packetsend', (packet) => {
    if (packet.cmd === 'publish' && packet.messageId !== undefined) pending.set(packet.messageId, String(packet.payload));
  });
  pub.on('packetreceive', (packet) => {
    if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.messageId !== undefined) {
      const payload = pending.get(packet.messageId);
      if (payload !== undefined) acked.add(payload);
    }
  });
  const done = new Promise<void>((resolve) => {
    let outstanding = 0;
    const state = { isClosed: false };
    pub.once('close', () => {
      state.isClosed = true;
      resolve();
    });
    const pump = (): void => {
      while (!state.isClosed && outstanding < 50 && sent < count) {
        const i = sent++;
        outstanding++;
        pub.publish(topicOf(i), `m${i}`, { qos, retain }, () => {
          outstanding--;
          if (sent === count && outstanding === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return { acked, sent: () => sent, done };
}

function report(what: string, run: number, sent: number, acked: number, received: number, duplicates: number): void {
  process.stdout.write(`# crash ${what} run ${run}: sent ${sent}, acknowledged ${acked}, received ${received}`
    + ` (duplicates ${duplicates})\n`);
}

for (const qos of [1, 2] as const) {
  describe(`crash: kill -9 while a publisher sends QoS ${qos}`, { timeout: 60_000 * RUNS }, () => {
    for (let run = 1; run <= RUNS; run++) {
      test(`run ${run}: every acknowledged message reaches the offline persistent subscriber${qos === 2 ? ', once' : ''}`,
        async (t) => {
          const dir = tempDir(t);
          const first = await startBroker(t, dir);
          const subOptions: IClientOptions = { clientId: `crash-sub-${qos}`, clean: false };
          const sub = await client(t, first.port, subOptions);
          await sub.subscribeAsync('crash/#', { qos });
          await sub.endAsync();

          const pub = await client(t, first.port, { clientId: `crash-pub-${qos}` });
          const stream = publishUntilKilled(pub, qos, 20_000, (i) => `crash/${i % 10}`);
          // Kill at a random moment once at least a few messages were acknowledged.
          await new Promise<void>((resolve) => {
            const check = setInterval(() => {
              if (stream.acked.size >= 20) {
                clearInterval(check);
                setTimeout(resolve, Math.floor(Math.random() * 300));
              }
            }, 5);
          });
          await kill9(first);
          await stream.done;
          const acked = new Set(stream.acked);

          const second = await startBroker(t, dir);
          const { got, sessionPresent } = await collect(t, second.port, subOptions,
            receivedAll(acked));
          assert.equal(sessionPresent, true, 'the session survived the crash');
          const received = new Set(got);
          const missing = [...acked].filter((p) => !received.has(p));
          const duplicates = got.length - received.size;
          report(`QoS ${qos}`, run, stream.sent(), acked.size, received.size, duplicates);
          assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged messages lost`);
          if (qos === 2) assert.equal(duplicates, 0, 'no QoS 2 message arrives twice');
          // Per publisher and topic, messages keep their order [MQTT-4.6.0-6] (after dropping resends).
          const order = got.filter((p, i) => got.indexOf(p) === i).map((p) => Number(p.slice(1)));
          for (let topic = 0; topic < 10; topic++) {
            const seq = order.filter((n) => n % 10 === topic);
            assert.deepEqual(seq, seq.toSorted((a, b) => a - b), `order on crash/${topic}`);
          }
        });
    }
  });
}

const v5 = (clientId: string, seconds: number): IClientOptions => ({
  clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: seconds },
});

describe('crash: retained messages, session expiry, delayed wills, corruption', { timeout: 60_000 }, () => {
  test('every acknowledged retained message is there after kill -9', async (t) => {
    const dir = tempDir(t);
    const first = await startBroker(t, dir);
    const pub = await client(t, first.port, { clientId: 'crash-ret-pub' });
    const stream = publishUntilKilled(pub, 1, 20_000, (i) => `ret/${i}`, true);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (stream.acked.size >= 50) {
          clearInterval(check);
          setTimeout(resolve, Math.floor(Math.random() * 200));
        }
      }, 5);
    });
    await kill9(first);
    await stream.done;
    const acked = new Set(stream.acked);
    const second = await startBroker(t, dir);
    const sub = await client(t, second.port, { clientId: 'crash-ret-sub' });
    const got = new Set<string>();
    const all = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WAIT_MS);
      sub.on('message', (_topic, payload, packet) => {
        if (packet.retain) got.add(payload.toString());
        if ([...acked].every((p) => got.has(p))) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await sub.subscribeAsync('ret/#', { qos: 0 });
    await all;
    report('retained', 1, stream.sent(), acked.size, got.size, 0);
    assert.deepEqual([...acked].filter((p) => !got.has(p)).slice(0, 10), []);
  });

  test('session expiry runs on across a kill -9: a 1 s session is gone after 1.5 s down, a 1 h session is not', async (t) => {
    const dir = tempDir(t);
    const first = await startBroker(t, dir);
    for (const [id, seconds] of [['exp-short', 1], ['exp-long', 3600]] as const) {
      const c = await client(t, first.port, v5(id, seconds));
      await c.subscribeAsync(`exp/${id}`, { qos: 1 });
      await c.endAsync();
    }
    const pub = await client(t, first.port, { clientId: 'exp-pub' });
    await pub.publishAsync('exp/exp-long', 'kept', { qos: 1 });
    await kill9(first);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const second = await startBroker(t, dir);
    const long = await collect(t, second.port, v5('exp-long', 3600), (g) => g.length >= 1);
    assert.equal(long.sessionPresent, true);
    assert.deepEqual(long.got, ['kept']);
    const short = await collect(t, second.port, v5('exp-short', 1), () => true, 0);
    assert.equal(short.sessionPresent, false, 'the 1 s session expired while the broker was down');
  });

  test('a delayed will that falls due while the broker is down goes out after the restart', async (t) => {
    const dir = tempDir(t);
    const first = await startBroker(t, dir);
    const subOptions: IClientOptions = { clientId: 'will-sub', clean: false };
    const sub = await client(t, first.port, subOptions);
    await sub.subscribeAsync('will/#', { qos: 1 });
    await sub.endAsync();
    const dying = await client(t, first.port, {
      clientId: 'will-owner', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 },
      will: { topic: 'will/owner', payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
    });
    // The connection drops without DISCONNECT: the will waits 1 s; the broker dies before that.
    const closed = new Promise((resolve) => dying.stream.once('close', resolve));
    dying.stream.destroy();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    await kill9(first);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = await startBroker(t, dir);
    const { got } = await collect(t, second.port, subOptions, (g) => g.length >= 1);
    assert.deepEqual(got, ['gone']);
  });

  test('a corrupt store: moved aside with an error line and the broker serves; --refuse-corrupt-store exits 1', async (t) => {
    const dir = tempDir(t);
    const first = await startBroker(t, dir);
    const pub = await client(t, first.port, { clientId: 'corrupt-pub' });
    await pub.publishAsync('c/r', 'retained', { qos: 1, retain: true });
    await kill9(first);
    const fd = openSync(join(dir, 'store', 'culex.mdb'), 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5A), 0, 8192, 0);
    closeSync(fd);

    const refused = spawn(process.execPath, [bin, 'broker', '-c', join(dir, 'culex.conf'), '-p', '0',
      '--persistence-location', join(dir, 'store'), '--refuse-corrupt-store'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let refusedErr = '';
    refused.stderr.on('data', (c: Buffer) => { refusedErr += c.toString(); });
    const code = await new Promise((resolve) => refused.on('close', resolve));
    assert.equal(code, 1);
    assert.match(refusedErr, /culex: Error: Unable to open the store: .*culex\.mdb is corrupt .*refusing to start/);

    const second = await startBroker(t, dir);
    assert.match(second.stderr(), /STORE CORRUPT: .*culex\.mdb could not be read .* moved to .*culex\.mdb\.bad-/);
    const sub = await client(t, second.port, { clientId: 'corrupt-sub' });
    await sub.subscribeAsync('c/#', { qos: 1 });
    const live = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())));
    const pub2 = await client(t, second.port, { clientId: 'corrupt-pub2' });
    await pub2.publishAsync('c/live', 'live', { qos: 1 });
    assert.equal(await live, 'live', 'the broker serves, starting empty (the old retained message is gone)');
  });
});

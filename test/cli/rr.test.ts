/**
 * `culex rr` against mosquitto_rr on the Culex broker: an MQTT.js responder answers each request on its Response
 * Topic (echoing Correlation Data); both tools print the response the same way and exit 0. -W without a responder
 * exits 27 ("Timed out"). Also `culex sub --json` and `-L ws://` (both beyond Mosquitto 2.0).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { brokerFor } from '../helpers/broker.js';
import { runBoth, runTool } from './sub-helpers.js';

async function responder(t: TestContext, port: number): Promise<string[]> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => client.end(true));
  const requests: string[] = [];
  client.on('message', (_topic, payload, packet) => {
    requests.push(payload.toString());
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic === undefined) return;
    const correlationData = packet.properties?.correlationData;
    void client.publishAsync(responseTopic, `re:${payload.toString()}`,
      { properties: correlationData === undefined ? {} : { correlationData } });
  });
  await client.subscribeAsync('svc/#');
  return requests;
}

describe('culex rr behaves like mosquitto_rr', { concurrency: 3 }, () => {
  test('publishes the request with a Response Topic and prints the response (-v, -F with %D)', async (t) => {
    const b = await brokerFor(t);
    const requests = await responder(t, b.port);
    const args = ['-p', String(b.port), '-t', 'svc/echo', '-e', 'rr/reply', '-m', 'ping', '-v',
      '-D', 'publish', 'correlation-data', 'c1'];
    const r = await runBoth(t, 'rr', args);
    assert.equal(r.culex.stdout.toString(), 'rr/reply re:ping\n');
    assert.equal(r.culex.stdout.toString(), r.mosquitto.stdout.toString());
    const f = await runBoth(t, 'rr', [...args, '-F', '%t|%p|%D|%q']);
    assert.equal(f.culex.stdout.toString(), 'rr/reply|re:ping|c1|0\n');
    assert.equal(f.culex.stdout.toString(), f.mosquitto.stdout.toString());
    assert.equal(r.culex.code, 0);
    assert.equal(r.mosquitto.code, r.culex.code);
    assert.deepEqual(requests, ['ping', 'ping', 'ping', 'ping']);
  });

  test('-W ends with "Timed out" and status 27 when nobody answers', async (t) => {
    const b = await brokerFor(t);
    const r = await runBoth(t, 'rr', ['-p', String(b.port), '-t', 'nobody', '-e', 'rr/none', '-m', 'x', '-W', '1']);
    assert.equal(r.culex.stderr, 'Timed out\n');
    assert.equal(r.culex.stderr, r.mosquitto.stderr);
    assert.equal(r.culex.code, 27);
    assert.equal(r.mosquitto.code, 27);
  });
});

describe('beyond Mosquitto', { concurrency: 2 }, () => {
  test('culex sub --json prints one JSON object per message; --pretty indents it', async (t) => {
    const b = await brokerFor(t);
    await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 }).then(async (c) => {
      await c.publishAsync('j/1', Buffer.from([0xc3, 0x28]), { retain: true });
      await c.publishAsync('j/2', 'text', { retain: true, qos: 1 });
      await c.endAsync();
    });
    const r = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'j/#', '--json', '-C', '2']);
    assert.equal(await r.exited, 0);
    const lines = r.stdout().toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l['topic'], l['payload'], l['payloadEncoding'], l['retain']]),
      [['j/1', 'wyg=', 'base64', 1], ['j/2', 'text', undefined, 1]]);
    const p = runTool(t, 'culex', 'sub', ['-p', String(b.port), '-t', 'j/2', '--json', '--pretty', '-C', '1']);
    assert.equal(await p.exited, 0);
    assert.match(p.stdout().toString(), /^\{\n\t"tst":\t"/);
  });

  test('-L ws://host:port/topic publishes and subscribes over WebSocket', async (t) => {
    const b = await brokerFor(t);
    const ws = await b.broker.openListener({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
    const url = `ws://127.0.0.1:${(ws.address as { port: number }).port}`;
    const sub = runTool(t, 'culex', 'sub', ['-L', `${url}/w/#`, '-C', '1', '-v', '-d', '-i', 'ws-sub']);
    for (let i = 0; i < 200 && !sub.stdout().toString().includes('received SUBACK'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const pub = runTool(t, 'culex', 'pub', ['-L', `${url}/w/x`, '-m', 'over ws']);
    assert.equal(await pub.exited, 0);
    assert.equal(await sub.exited, 0);
    assert.match(sub.stdout().toString(), /\nw\/x over ws\n/);
  });
});

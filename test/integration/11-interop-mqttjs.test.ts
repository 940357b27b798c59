/**
 * Interoperability with an independent client: MQTT.js (the `mqtt` npm package) over MQTT 3.1.1 and 3.1.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { brokerFor, waitForDisconnect } from '../helpers/broker.js';
import type { Cleanup } from '../helpers/raw-client.js';

/** Resolves with the arguments of the client's next `event` (MqttClient is not a plain EventEmitter to TS). */
function once(client: MqttClient, event: 'connect' | 'close'): Promise<unknown[]> {
  return new Promise((resolve) => {
    (client as unknown as { once(e: string, fn: (...args: unknown[]) => void): void }).once(event, (...args) =>
      resolve(args),
    );
  });
}

/** Connects an MQTT.js client (no automatic reconnect unless asked) and ends it after the test. */
async function mqttjs(t: Cleanup, port: number, options: IClientOptions): Promise<MqttClient> {
  const client = connect({
    host: '127.0.0.1',
    port,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 2000,
    ...options,
  });
  t.after(() => client.end(true));
  client.on('error', () => {}); // failures surface through the awaited events below
  await once(client, 'connect');
  return client;
}

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Collects messages; `waitFor(n)` resolves once n have arrived (or rejects after timeoutMs). */
function collector(client: MqttClient) {
  const messages: Received[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
    messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain });
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (count: number, timeoutMs = 2000): Promise<Received[]> => {
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) assert.fail(`expected ${count} messages, got ${JSON.stringify(messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return messages;
  };
  return { messages, waitFor };
}

describe('11 interop: MQTT.js', () => {
  test('MQTT.js 3.1.1 and 3.1 clients exchange messages at QoS 0, 1 and 2', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await mqttjs(t, port, { clientId: 'js-sub', protocolVersion: 3, protocolId: 'MQIsdp' });
    const got = collector(sub);
    await sub.subscribeAsync('js/#', { qos: 2 });
    const pub = await mqttjs(t, port, { clientId: 'js-pub' });
    for (const qos of [0, 1, 2] as const) await pub.publishAsync(`js/${qos}`, `q${qos}`, { qos });
    const messages = await got.waitFor(3);
    assert.deepEqual(messages, [
      { topic: 'js/0', payload: 'q0', qos: 0, retain: false },
      { topic: 'js/1', payload: 'q1', qos: 1, retain: false },
      { topic: 'js/2', payload: 'q2', qos: 2, retain: false },
    ]);
  });

  test('takeover: a second MQTT.js client with the same id closes the first [MQTT-3.1.4-2]', async (t) => {
    const { port } = await brokerFor(t);
    const first = await mqttjs(t, port, { clientId: 'js-same' });
    const closed = once(first, 'close');
    const second = await mqttjs(t, port, { clientId: 'js-same' });
    await closed;
    assert.ok(second.connected);
  });

  test('a persistent MQTT.js session gets QoS 1 messages published while it was offline', async (t) => {
    const { port } = await brokerFor(t);
    const first = await mqttjs(t, port, { clientId: 'js-persist', clean: false });
    await first.subscribeAsync('jp/t', { qos: 1 });
    await first.endAsync();
    const pub = await mqttjs(t, port, { clientId: 'js-persist-pub' });
    for (let i = 0; i < 3; i++) await pub.publishAsync('jp/t', String(i), { qos: 1 });

    const again = connect({ host: '127.0.0.1', port, clientId: 'js-persist', clean: false, reconnectPeriod: 0 });
    t.after(() => again.end(true));
    const got = collector(again);
    const [connack] = (await once(again, 'connect')) as [{ sessionPresent: boolean }];
    assert.equal(connack.sessionPresent, true);
    assert.deepEqual((await got.waitFor(3)).map((m) => m.payload), ['0', '1', '2']);
  });

  test('QoS 2 from MQTT.js is delivered exactly once although its connection drops mid-flow', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await mqttjs(t, port, { clientId: 'js-eo-sub' });
    const got = collector(sub);
    await sub.subscribeAsync('eo/#', { qos: 2 });

    // The publisher's connection is cut right after each PUBREC, before its PUBREL gets through; MQTT.js
    // reconnects with the same session and resends the PUBREL (or the PUBLISH with DUP).
    const pub = await mqttjs(t, port, { clientId: 'js-eo-pub', clean: false, reconnectPeriod: 50 });
    let cuts = 0;
    pub.on('packetreceive', (packet) => {
      if (packet.cmd === 'pubrec' && cuts < 3) {
        cuts++;
        pub.stream.destroy();
      }
    });
    const count = 5;
    await Promise.all(Array.from({ length: count }, (_, i) => pub.publishAsync(`eo/${i}`, String(i), { qos: 2 })));
    await got.waitFor(count, 5000);
    await sub.publishAsync('eo/end', 'end', { qos: 2 });
    await got.waitFor(count + 1);
    assert.ok(cuts > 0, 'the connection was cut at least once');
    const payloads = got.messages.map((m) => m.payload).filter((p) => p !== 'end').toSorted();
    assert.deepEqual(payloads, ['0', '1', '2', '3', '4'], 'each message exactly once');
  });

  test('retained messages reach an MQTT.js subscriber through wildcard filters with the retain flag', async (t) => {
    const { port } = await brokerFor(t);
    const pub = await mqttjs(t, port, { clientId: 'js-ret-pub' });
    await pub.publishAsync('jr/a', 'A', { qos: 1, retain: true });
    await pub.publishAsync('jr/b/c', 'BC', { qos: 1, retain: true });
    await pub.publishAsync('jrx', 'no', { qos: 1, retain: true });
    const sub = await mqttjs(t, port, { clientId: 'js-ret-sub' });
    const got = collector(sub);
    await sub.subscribeAsync({ 'jr/#': { qos: 1 } });
    const messages = await got.waitFor(2);
    assert.deepEqual(
      messages.map((m) => `${m.topic}=${m.payload} retain=${m.retain}`).toSorted(),
      ['jr/a=A retain=true', 'jr/b/c=BC retain=true'],
    );
    await sub.subscribeAsync({ 'jr/+': { qos: 0 } });
    const more = await got.waitFor(3);
    assert.deepEqual(more[2], { topic: 'jr/a', payload: 'A', qos: 0, retain: true });
  });

  test('the will of an MQTT.js client whose connection drops is published', async (t) => {
    const { port } = await brokerFor(t);
    const watcher = await mqttjs(t, port, { clientId: 'js-watch' });
    const got = collector(watcher);
    await watcher.subscribeAsync('jw/#', { qos: 1 });
    const mortal = await mqttjs(t, port, {
      clientId: 'js-mortal',
      will: { topic: 'jw/status', payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    mortal.stream.destroy();
    assert.deepEqual(await got.waitFor(1), [{ topic: 'jw/status', payload: 'offline', qos: 1, retain: false }]);
  });

  test('an MQTT.js client with keepalive 1 that stops talking is disconnected and its will published', async (t) => {
    const { broker, port } = await brokerFor(t);
    const watcher = await mqttjs(t, port, { clientId: 'js-watch-ka' });
    const got = collector(watcher);
    await watcher.subscribeAsync('jk/#', { qos: 0 });
    const quiet = await mqttjs(t, port, {
      clientId: 'js-quiet',
      keepalive: 1,
      will: { topic: 'jk/status', payload: Buffer.from('expired'), qos: 0, retain: false },
    });
    // Silence the client completely: no PINGREQ from its keepalive timer, and nothing else written.
    quiet.keepaliveManager.destroy();
    quiet.stream.cork();
    const started = Date.now();
    await waitForDisconnect(broker, 'js-quiet', 3000);
    const elapsedMs = Date.now() - started;
    assert.ok(elapsedMs >= 1000, `disconnected after ${elapsedMs} ms`);
    assert.deepEqual(await got.waitFor(1), [{ topic: 'jk/status', payload: 'expired', qos: 0, retain: false }]);
  });

  test('overlapping MQTT.js subscriptions deliver one copy at the highest QoS [MQTT-3.3.5-1]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await mqttjs(t, port, { clientId: 'js-overlap' });
    const got = collector(sub);
    const granted = await sub.subscribeAsync({ 'jo/#': { qos: 1 }, 'jo/+': { qos: 2 }, 'jo/x': { qos: 0 } });
    assert.deepEqual(granted.map((g) => g.qos), [1, 2, 0]);
    const pub = await mqttjs(t, port, { clientId: 'js-overlap-pub' });
    await pub.publishAsync('jo/x', 'one', { qos: 2 });
    await pub.publishAsync('jo/y/z', 'marker', { qos: 1 });
    const messages = await got.waitFor(2);
    assert.deepEqual(messages, [
      { topic: 'jo/x', payload: 'one', qos: 2, retain: false },
      { topic: 'jo/y/z', payload: 'marker', qos: 1, retain: false },
    ]);
  });
});

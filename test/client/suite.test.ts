/**
 * The client suite, run unchanged against the Culex broker and against a real Mosquitto: connect (3.1, 3.1.1, 5,
 * credentials in the URL), QoS 0/1/2 flows, subscribe/unsubscribe results, persistent-session resume, resend with
 * DUP after a lost acknowledgement, reconnection with resubscription, the bounded offline queue, and no hanging
 * promises when the connection is lost.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore, MqttClientError, type PublishPacket } from '../../src/index.js';
import { backgroundClient, clientFor, nextEvent, recordPackets, take, until } from './helpers.js';
import { Proxy } from './proxy.js';
import { serverFor, targets } from './targets.js';

for (const target of targets) {
  describe(`client against ${target.name}`, { skip: target.skip }, () => {
    for (const protocolVersion of [3, 4, 5] as const) {
      test(`connects, subscribes and round-trips QoS 0, 1 and 2 with MQTT protocol level ${protocolVersion}`, async (t) => {
        const server = await serverFor(t, target);
        const url = `mqtt://user:p%40ss@127.0.0.1:${server.port}`;
        const sub = await clientFor(t, url, { protocolVersion });
        const pub = await clientFor(t, server.url(), { protocolVersion });
        assert.equal(sub.state, 'connected');
        const grants = await sub.subscribe(['q/0', 'q/1', 'q/2'].map((topicFilter, qos) => ({ topicFilter, qos: qos as 0 | 1 | 2 })));
        assert.deepEqual(grants.map((g) => g.qos), [0, 1, 2]);
        const it = sub.messages('q/+');
        const log = recordPackets(pub);
        for (const qos of [0, 1, 2] as const) {
          await pub.publish(`q/${qos}`, `m${qos}`, { qos });
          // The promise settles only once the flow completed: PUBACK for QoS 1, PUBCOMP for QoS 2.
          if (qos === 1) assert.equal(log.received.at(-1)?.type, 4);
          if (qos === 2) assert.equal(log.received.at(-1)?.type, 7);
        }
        const got = await take(it, 3);
        assert.deepEqual(got.map((m) => [m.topic, m.payload.toString(), m.qos]), [['q/0', 'm0', 0], ['q/1', 'm1', 1], ['q/2', 'm2', 2]]);
        const unsub = await sub.unsubscribe(['q/0', 'q/1', 'q/2']);
        assert.deepEqual(unsub.map((u) => u.reasonCode), [0, 0, 0]);
      });
    }

    test('retained messages and typed message events', async (t) => {
      const server = await serverFor(t, target);
      const pub = await clientFor(t, server.url());
      await pub.publish('ret/a', 'kept', { qos: 1, retain: true });
      const sub = await clientFor(t, server.url());
      const event = nextEvent(sub, 'message');
      await sub.subscribe('ret/#');
      const [m] = await event;
      assert.equal(m.topic, 'ret/a');
      assert.equal(m.retain, true);
      await pub.publish('ret/a', '', { qos: 1, retain: true });
    });

    for (const protocolVersion of [4, 5] as const) test(`a persistent session resumes (MQTT protocol level ${protocolVersion}): Session Present, no resubscription, queued QoS 1 messages delivered`, async (t) => {
      const server = await serverFor(t, target);
      const options = {
        clientId: `persist-${protocolVersion}`, clean: false, protocolVersion,
        ...(protocolVersion === 5 ? { sessionExpiryIntervalSeconds: 300 } : {}),
      };
      const first = await clientFor(t, server.url(), options);
      await first.subscribe('s/#', { qos: 1 });
      await first.end();
      const pub = await clientFor(t, server.url());
      for (let i = 0; i < 3; i++) await pub.publish('s/x', `offline ${i}`, { qos: 1 });
      const second = backgroundClient(t, server.url(), options);
      const log = recordPackets(second);
      const it = second.messages('s/#');
      const info = await second.ready;
      assert.equal(info.sessionPresent, true);
      const got = await take(it, 3);
      assert.deepEqual(got.map((m) => m.payload.toString()), ['offline 0', 'offline 1', 'offline 2']);
      assert.ok(!log.sent.some((p) => p.type === 8), 'no SUBSCRIBE is sent when the session is present');
    });

    test('an unacknowledged QoS 1 and 2 publish is resent with DUP and its packet id after reconnecting [MQTT-4.4.0-1]', async (t) => {
      const server = await serverFor(t, target);
      const proxy = await Proxy.start(t, server.port);
      const client = await clientFor(t, proxy.url, { clientId: 'dup-resend', clean: false });
      const log = recordPackets(client);
      proxy.isServerMuted = true; // acknowledgements are lost
      const p1 = client.publish('d/1', 'one', { qos: 1 });
      const p2 = client.publish('d/2', 'two', { qos: 2 });
      await until(() => log.sent.filter((p) => p.type === 3).length === 2, 3000, 'both PUBLISH sent');
      let settled = false;
      void Promise.allSettled([p1, p2]).then(() => { settled = true; });
      const reconnected = nextEvent(client, 'connect');
      proxy.isServerMuted = false;
      proxy.dropAll();
      const [info] = await reconnected;
      assert.equal(info.sessionPresent, true);
      await Promise.all([p1, p2]);
      assert.equal(settled, true);
      const publishes = log.sent.filter((p): p is PublishPacket => p.type === 3);
      const resent = publishes.slice(2);
      assert.ok(resent.length >= 1, 'the QoS 1 message is resent');
      for (const p of resent) {
        assert.equal(p.dup, true);
        assert.equal(p.packetId, publishes.find((q) => q.topic === p.topic)!.packetId);
      }
    });

    test('reconnects with backoff after the server restarts, resubscribes, and delivers publishes queued meanwhile', async (t) => {
      const server = await serverFor(t, target);
      const sub = await clientFor(t, server.url(), { protocolVersion: 5 });
      const pub = await clientFor(t, server.url(), { protocolVersion: 5 });
      await sub.subscribe('r/#', { qos: 1 });
      const log = recordPackets(sub);
      const reconnecting = nextEvent(sub, 'reconnecting');
      await server.stop();
      const [info] = await reconnecting;
      assert.ok(info.delayMs >= 10 && info.delayMs <= 20, `first delay ${info.delayMs} is in [initial/2, initial]`);
      const queued = [pub.publish('r/a', 'during outage', { qos: 1 }), pub.publish('r/b', 'qos0 too', { qos: 0 })];
      assert.equal(pub.pendingPublishes, 2);
      const subBack = nextEvent(sub, 'connect');
      const pubBack = nextEvent(pub, 'connect');
      await server.start();
      const [[subInfo]] = await Promise.all([subBack, pubBack]);
      assert.equal(subInfo.sessionPresent, false);
      await until(() => log.received.some((p) => p.type === 9), 3000, 'resubscription SUBACK');
      const it = sub.messages('r/c');
      await Promise.all(queued);
      // The queued messages may reach the server before the subscriber resubscribed: check with a new one.
      await pub.publish('r/c', 'after', { qos: 1 });
      const [m] = await take(it, 1);
      assert.equal(m!.topic, 'r/c');
    });

    test('the offline queue is bounded: beyond maxQueuedMessages publish rejects with MQTT_ERR_QUEUE_FULL', async (t) => {
      const server = await serverFor(t, target);
      const client = await clientFor(t, server.url(), { maxQueuedMessages: 2 });
      const reconnecting = nextEvent(client, 'reconnecting');
      await server.stop();
      await reconnecting;
      const a = client.publish('o/1', 'a', { qos: 1 });
      const b = client.publish('o/2', 'b', { qos: 1 });
      await assert.rejects(client.publish('o/3', 'c', { qos: 1 }), { code: 'MQTT_ERR_QUEUE_FULL' });
      await server.start();
      await Promise.all([a, b]);
    });

    test('keepalive: an idle connection is kept alive by PINGREQ, and a server that stops answering is left', async (t) => {
      const server = await serverFor(t, target);
      const proxy = await Proxy.start(t, server.port);
      const client = await clientFor(t, proxy.url, { keepaliveSeconds: 1 });
      const log = recordPackets(client);
      await until(() => log.received.some((p) => p.type === 13), 3000, 'a PINGRESP');
      assert.equal(client.state, 'connected');
      proxy.isServerMuted = true;
      const [{ error, willReconnect }] = await nextEvent(client, 'disconnect', 5000);
      assert.match(error.message, /PINGRESP/);
      assert.equal(willReconnect, true);
      proxy.isServerMuted = false;
      await nextEvent(client, 'connect');
    });

    test('publishes made while offline survive a process restart with a FileStore (SIGKILL, then a new process)', async (t) => {
      const server = await serverFor(t, target);
      const dir = mkdtempSync(join(tmpdir(), 'culex-client-store-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const fixture = fileURLToPath(new URL('fixtures/offline-publisher.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, server.url()], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
      t.after(() => child.kill('SIGKILL'));
      await until(() => readdirSync(dir).filter((f) => f.endsWith('.msg')).length === 3, 60_000, '3 stored messages')
        .catch((err: Error) => { throw new Error(`${err.message}; files: ${readdirSync(dir).join(' ')}; child: ${output}`); });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      const sub = await clientFor(t, server.url());
      await sub.subscribe('restart/#', { qos: 2 });
      const it = sub.messages();
      const restarted = await clientFor(t, server.url(), { clientId: 'restart-publisher', clean: false, store: new FileStore(dir) });
      const got = await take(it, 3, 10_000);
      assert.deepEqual(got.map((m) => [m.payload.toString(), m.qos]), [['offline 0', 1], ['offline 1', 1], ['offline 2', 2]]);
      await until(() => restarted.pendingPublishes === 0, 3000, 'all acknowledged');
      await until(() => readdirSync(dir).length === 0, 3000, 'the store emptied');
    });

    test('a lost connection rejects pending publishes when reconnection is off (no hang)', async (t) => {
      const server = await serverFor(t, target);
      const proxy = await Proxy.start(t, server.port);
      const client = await clientFor(t, proxy.url, { reconnect: false });
      proxy.isServerMuted = true;
      const pending = client.publish('h/1', 'x', { qos: 1 });
      const closed = nextEvent(client, 'close');
      proxy.dropAll();
      await assert.rejects(pending, (err: unknown) => err instanceof MqttClientError && err.code === 'MQTT_ERR_CONNECTION_LOST');
      const [error] = await closed;
      assert.equal((error as MqttClientError).code, 'MQTT_ERR_CONNECTION_LOST');
      await assert.rejects(client.publish('h/1', 'y'), { code: 'MQTT_ERR_CLIENT_CLOSED' });
    });

    test('end() waits for in-flight publishes, then settles what is left with MQTT_ERR_CLIENT_CLOSED', async (t) => {
      const server = await serverFor(t, target);
      const client = await clientFor(t, server.url());
      const done = client.publish('e/1', 'x', { qos: 2 });
      await client.end();
      await done;
      assert.equal(client.state, 'closed');
      const again = await clientFor(t, server.url(), { reconnect: { initialDelayMs: 10_000 } });
      const reconnecting = nextEvent(again, 'reconnecting');
      await server.stop();
      await reconnecting;
      const stuck = again.publish('e/2', 'x', { qos: 1 });
      const sub = again.subscribe('e/#');
      await again.end();
      await assert.rejects(stuck, { code: 'MQTT_ERR_CLIENT_CLOSED' });
      await assert.rejects(sub, { code: 'MQTT_ERR_CLIENT_CLOSED' });
    });
  });
}

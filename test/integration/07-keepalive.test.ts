/**
 * Keep Alive and PINGREQ/PINGRESP (MQTT 3.1.1 sections 3.1.2.10, 3.12, 3.13). Uses a 1-second keepalive, the
 * smallest the protocol allows, so the slowest test here takes about two seconds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { brokerFor } from '../helpers/broker.js';
import { openClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';

describe('07 keepalive', () => {
  test('PINGREQ is answered by PINGRESP [MQTT-3.12.4-1]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'pinger', keepaliveSeconds: 60 });
    c.send(P.pingreq());
    assert.deepEqual(await c.next(), { type: 'pingresp' });
  });

  test('a client silent for 1.5 × keepalive is disconnected; one with keepalive 0 is not [MQTT-3.1.2-24]', async (t) => {
    const { port } = await brokerFor(t);
    const forever = await openClient(t, port, { clientId: 'no-keepalive', keepaliveSeconds: 0 });
    const started = Date.now();
    const c = await openClient(t, port, { clientId: 'silent', keepaliveSeconds: 1 });
    await c.expectClosed(3000);
    const elapsedMs = Date.now() - started;
    assert.ok(elapsedMs >= 1400, `closed after ${elapsedMs} ms, before 1.5 × keepalive`);
    assert.ok(!forever.isClosed);
    await forever.ping();
  });

  test('a client that sends a packet within each keepalive period stays connected', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { clientId: 'chatty', keepaliveSeconds: 1 });
    // 2.4 s in total, well past 1.5 s: PINGREQ and PUBLISH both count as activity.
    for (let i = 0; i < 3; i++) {
      await delay(800);
      if (i % 2 === 0) await c.ping();
      else c.send(P.publish({ topic: 'chatty', payload: String(i) }));
    }
    await c.ping();
    assert.ok(!c.isClosed);
  });
});

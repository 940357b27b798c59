/**
 * MQTT 5 DISCONNECT from the server (section 3.14, reason codes in 3.14.2.1), over raw sockets: every reason the
 * broker closes a connection for, with the reason code on the wire before the close.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFor, startBroker } from '../helpers/broker.js';
import { openClient } from '../helpers/raw-client.js';
import * as P from '../helpers/packets.js';
import { Prop, openV5, prop, props, publishV5, subscribeV5 } from '../helpers/v5.js';

const DISCONNECT = 14, PUBLISH = 3, SUBACK = 9;

describe('21 MQTT 5 server DISCONNECT', () => {
  test('0x8E Session taken over, to the old connection of a client id [MQTT-3.1.4-3]', async (t) => {
    const { port } = await brokerFor(t);
    const { c: old } = await openV5(t, port, { clientId: 'twin' });
    await openV5(t, port, { clientId: 'twin' });
    assert.equal((await old.expect(DISCONNECT)).reasonCode, 0x8e);
    await old.expectClosed();
  });

  test('0x8D Keep Alive timeout after 1.5 times the keepalive [MQTT-3.1.2-24]', async (t) => {
    const { port } = await brokerFor(t);
    const { c } = await openV5(t, port, { clientId: 'idle', keepaliveSeconds: 1 });
    assert.equal((await c.expect(DISCONNECT, 3000)).reasonCode, 0x8d);
    await c.expectClosed();
  });

  test('0x81 Malformed Packet, with a Reason String', async (t) => {
    const { port } = await brokerFor(t);
    const { c } = await openV5(t, port, { clientId: 'malformed' });
    // A property identifier that does not exist (0x7F) in PUBLISH properties.
    c.send(P.publish({ topic: 'm/t', properties: Buffer.from([0x7f, 0x00]) }));
    const d = await c.expect(DISCONNECT);
    assert.equal(d.reasonCode, 0x81);
    assert.equal(typeof prop(d, Prop.ReasonString), 'string');
    await c.expectClosed();
  });

  test('0x82 Protocol Error: a second CONNECT [MQTT-3.1.0-2]', async (t) => {
    const { port } = await brokerFor(t);
    const { c } = await openV5(t, port, { clientId: 'twice' });
    c.send(P.connect({ protocolVersion: 5, clientId: 'twice' }));
    assert.equal((await c.expect(DISCONNECT)).reasonCode, 0x82);
    await c.expectClosed();
  });

  test('0x8B Server shutting down, to every client on broker.close()', async (t) => {
    const started = await startBroker();
    t.after(() => started.close());
    const { c: a } = await openV5(t, started.port, { clientId: 'sd-a' });
    const { c: b } = await openV5(t, started.port, { clientId: 'sd-b' });
    const closing = started.close();
    assert.equal((await a.expect(DISCONNECT)).reasonCode, 0x8b);
    assert.equal((await b.expect(DISCONNECT)).reasonCode, 0x8b);
    await closing;
  });

  describe('broker.disconnectClient (embedding API)', () => {
    test('0x98 Administrative action by default; the will goes out; false for an unknown id', async (t) => {
      const { broker, port } = await brokerFor(t);
      const watcher = await openClient(t, port, { clientId: 'watcher' });
      await watcher.subscribe([['adm/will', 0]]);
      const { c } = await openV5(t, port, { clientId: 'admin-me', will: { topic: 'adm/will', payload: 'bye' } });
      assert.equal(broker.disconnectClient('nobody'), false);
      assert.equal(broker.disconnectClient('admin-me', { reasonString: 'maintenance' }), true);
      const d = await c.expect(DISCONNECT);
      assert.equal(d.reasonCode, 0x98);
      assert.equal(prop(d, Prop.ReasonString), 'maintenance');
      await c.expectClosed();
      assert.equal((await watcher.expect('publish')).payload.toString(), 'bye');
      assert.equal(broker.clients.has('admin-me'), false);
    });

    test('0x9C Use another server and 0x9D Server moved carry the Server Reference', async (t) => {
      const { broker, port } = await brokerFor(t);
      const { c: a } = await openV5(t, port, { clientId: 'move-a' });
      const { c: b } = await openV5(t, port, { clientId: 'move-b' });
      broker.disconnectClient('move-a', { reasonCode: 0x9c, serverReference: 'spare.example:1883' });
      broker.disconnectClient('move-b', { reasonCode: 0x9d, serverReference: 'new.example:1883' });
      const da = await a.expect(DISCONNECT);
      const db = await b.expect(DISCONNECT);
      assert.deepEqual([da.reasonCode, prop(da, Prop.ServerReference)], [0x9c, 'spare.example:1883']);
      assert.deepEqual([db.reasonCode, prop(db, Prop.ServerReference)], [0x9d, 'new.example:1883']);
    });

    test('a 3.1.1 client is closed without a DISCONNECT (3.1.1 has none from the server)', async (t) => {
      const { broker, port } = await brokerFor(t);
      const c = await openClient(t, port, { clientId: 'old-style' });
      assert.equal(broker.disconnectClient('old-style'), true);
      await c.expectClosed();
      assert.deepEqual(c.received.map((p) => p.type), ['connack']);
    });

    test('the rest of the broker carries on: other clients still get messages', async (t) => {
      const { broker, port } = await brokerFor(t);
      const { c: stay } = await openV5(t, port, { clientId: 'stay' });
      stay.send(subscribeV5(1, [['carry/on', 0]]));
      await stay.expect(SUBACK);
      await openV5(t, port, { clientId: 'leave' });
      broker.disconnectClient('leave');
      const { c: pub } = await openV5(t, port, { clientId: 'pub' });
      pub.send(publishV5({ topic: 'carry/on', payload: 'yes', properties: props() }));
      assert.equal((await stay.expect(PUBLISH)).payload?.toString(), 'yes');
    });
  });
});

/**
 * MQTT 5 PUBLISH routing over real sockets: properties forwarded, Message Expiry, Topic Aliases both ways, flow
 * control, Maximum Packet Size, reason codes and Reason Strings, mixed protocol versions. Raw packets and MQTT.js.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerFor } from '../helpers/broker.js';
import { publish, pubrel, subscribe, unsubscribe } from '../helpers/packets.js';
import { openClient } from '../helpers/raw-client.js';
import { openMqttJs, parseProperties, prop, props, propertyValues, PropertyId } from '../helpers/v5-routing.js';

const V5 = { protocolVersion: 5 } as const;
const NO_PROPS = Buffer.alloc(0);

describe('MQTT 5 PUBLISH properties', () => {
  test('forwarded unchanged, User Properties in order [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { ...V5, clientId: 'sub' });
    await sub.subscribe([['p', 1]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    const sent = props(prop.payloadFormatIndicator(1), prop.contentType('text/plain'), prop.responseTopic('reply/here'),
      prop.correlationData(Buffer.from([0, 1, 2])), prop.userProperty('k', 'v2'), prop.userProperty('a', 'v1'),
      prop.userProperty('k', 'v0'));
    await pub.publish({ topic: 'p', payload: 'héllo', qos: 1, properties: sent });
    const p = await sub.nextOf('publish');
    assert.deepEqual(parseProperties(p.properties), parseProperties(sent));
  });

  test('a Response Topic with a wildcard is a Protocol Error: DISCONNECT 0x82 [MQTT-3.3.2-14]', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'a', payload: 'x', properties: prop.responseTopic('reply/+') }));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x82);
    await c.expectClosed();
  });

  test('Payload Format Indicator 1 with a payload that is not UTF-8: PUBACK 0x99 (QoS 0: DISCONNECT 0x99)', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'a', payload: Buffer.from([0xff, 0xfe]), qos: 1, packetId: 1,
      properties: prop.payloadFormatIndicator(1) }));
    const ack = await c.expect('puback');
    assert.equal(ack.reasonCode, 0x99);
    c.send(publish({ topic: 'a', payload: Buffer.from([0xc0]), properties: prop.payloadFormatIndicator(1) }));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x99);
  });

  test('Message Expiry Interval: decremented by the time waited; an expired message is never delivered [MQTT-3.3.2-5] [MQTT-3.3.2-6]', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { port, broker } = await brokerFor(t);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'e/long', payload: 'l', qos: 1, retain: true, properties: prop.messageExpiryInterval(10) });
    await pub.publish({ topic: 'e/short', payload: 's', qos: 1, retain: true, properties: prop.messageExpiryInterval(2) });
    const session = { ...V5, clientId: 'away', clean: false, properties: prop.sessionExpiryInterval(60) };
    const away = await openClient(t, port, session);
    await away.subscribe([['q/#', 1]]);
    away.destroy();
    await new Promise((r) => away.socket.once('close', r));
    await pub.publish({ topic: 'q/long', payload: 'l', qos: 1, properties: prop.messageExpiryInterval(10) });
    await pub.publish({ topic: 'q/short', payload: 's', qos: 1, properties: prop.messageExpiryInterval(2) });
    t.mock.timers.tick(3_000);
    const sub = await openClient(t, port, { ...V5, clientId: 'sub' });
    await sub.subscribe([['e/#', 1]]);
    const retained = await sub.nextOf('publish');
    assert.equal(retained.topic, 'e/long');
    assert.deepEqual(propertyValues(retained.properties, PropertyId.MessageExpiryInterval), [7]);
    await sub.expectNothing(100);
    // Found expired, the retained message is dropped, not kept forever.
    assert.equal(broker.retained.get('e/short'), undefined);
    assert.equal(broker.retained.get('e/long')?.topic, 'e/long');
    const back = await openClient(t, port, session);
    const queued = await back.nextOf('publish');
    assert.equal(queued.topic, 'q/long');
    assert.deepEqual(propertyValues(queued.properties, PropertyId.MessageExpiryInterval), [7]);
    await back.acknowledge(queued);
    await back.expectNothing(100);
  });

  test('MQTT.js: properties reach a v5 subscriber', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openMqttJs(t, port, { clientId: 'js-sub' });
    await sub.subscribeAsync('props', { qos: 1 });
    const got = new Promise<Record<string, unknown>>((resolve) => sub.once('message', (_t, _p, packet) => {
      resolve(packet.properties as Record<string, unknown>);
    }));
    const pub = await openMqttJs(t, port, { clientId: 'js-pub' });
    await pub.publishAsync('props', 'x', { qos: 1, properties: {
      contentType: 'application/json', responseTopic: 'r/1', correlationData: Buffer.from('id-1'),
      userProperties: { a: '1', b: '2' }, messageExpiryInterval: 60, payloadFormatIndicator: true,
    } });
    const p = await got;
    assert.equal(p['contentType'], 'application/json');
    assert.equal(p['responseTopic'], 'r/1');
    assert.equal(String(p['correlationData']), 'id-1');
    assert.deepEqual({ ...(p['userProperties'] as object) }, { a: '1', b: '2' });
    assert.equal(p['messageExpiryInterval'], 60);
    assert.equal(p['payloadFormatIndicator'], true);
  });
});

describe('MQTT 5 Topic Aliases', () => {
  test('inbound: an alias above our Topic Alias Maximum gets DISCONNECT 0x94 [MQTT-3.3.2-9]', async (t) => {
    const { port } = await brokerFor(t, { topicAliasMaximum: 2 });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    const sub = await openClient(t, port, { ...V5, clientId: 'sub' });
    await sub.subscribe([['al/#', 0]]);
    c.send(publish({ topic: 'al/1', payload: 'a', properties: prop.topicAlias(2) }));
    c.send(publish({ topic: '', payload: 'b', properties: prop.topicAlias(2) }));
    assert.equal((await sub.nextOf('publish')).topic, 'al/1');
    assert.equal((await sub.nextOf('publish')).topic, 'al/1', 'the alias stands for the topic');
    c.send(publish({ topic: 'al/2', payload: 'c', properties: prop.topicAlias(3) }));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x94);
  });

  test('outbound: the broker assigns aliases within the client\'s Topic Alias Maximum, LRU reuse [MQTT-3.3.2-11]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { ...V5, clientId: 'sub', properties: prop.topicAliasMaximum(2) });
    await sub.subscribe([['t/#', 0]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    for (const topic of ['t/x', 't/y', 't/x', 't/z', 't/y']) await pub.publish({ topic, payload: topic, properties: NO_PROPS });
    const seen: [string, number[]][] = [];
    for (let i = 0; i < 5; i++) {
      const p = await sub.nextOf('publish');
      seen.push([p.topic, propertyValues(p.properties, PropertyId.TopicAlias) as number[]]);
    }
    assert.deepEqual(seen, [
      ['t/x', [1]], // new alias 1
      ['t/y', [2]], // new alias 2
      ['', [1]], // known: topic omitted
      ['t/z', [2]], // all taken: the least recently used (t/y) is reassigned
      ['t/y', [1]], // t/x is now the least recently used
    ]);
  });

  test('outbound: none for a client that accepts none, nor with outboundTopicAliasMaximum 0; \'fill\' stops assigning', async (t) => {
    const { port } = await brokerFor(t, { outboundTopicAliasPolicy: 'fill' });
    const none = await openClient(t, port, { ...V5, clientId: 'none' });
    const fill = await openClient(t, port, { ...V5, clientId: 'fill', properties: prop.topicAliasMaximum(1) });
    await none.subscribe([['f/#', 0]]);
    await fill.subscribe([['f/#', 0]]);
    const off = await brokerFor(t, { outboundTopicAliasMaximum: 0 });
    const offSub = await openClient(t, off.port, { ...V5, clientId: 'off', properties: prop.topicAliasMaximum(5) });
    await offSub.subscribe([['f/#', 0]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    const offPub = await openClient(t, off.port, { ...V5, clientId: 'pub' });
    for (const topic of ['f/a', 'f/b', 'f/a']) {
      await pub.publish({ topic, payload: 'x', properties: NO_PROPS });
      await offPub.publish({ topic, payload: 'x', properties: NO_PROPS });
    }
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(propertyValues((await none.nextOf('publish')).properties, PropertyId.TopicAlias), []);
      assert.deepEqual(propertyValues((await offSub.nextOf('publish')).properties, PropertyId.TopicAlias), []);
    }
    const f = [await fill.nextOf('publish'), await fill.nextOf('publish'), await fill.nextOf('publish')];
    assert.deepEqual(f.map((p) => [p.topic, propertyValues(p.properties, PropertyId.TopicAlias)]),
      [['f/a', [1]], ['f/b', []], ['', [1]]]);
  });

  test('MQTT.js with topicAliasMaximum: aliased messages arrive under their topic names', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openMqttJs(t, port, { clientId: 'js-sub', properties: { topicAliasMaximum: 1 } });
    await sub.subscribeAsync('js/#', { qos: 0 });
    const topics: string[] = [];
    const aliases: unknown[] = [];
    sub.on('message', (topic, _p, packet) => {
      topics.push(topic);
      aliases.push(packet.properties?.topicAlias);
    });
    const pub = await openMqttJs(t, port, { clientId: 'js-pub' });
    for (const topic of ['js/a', 'js/a', 'js/b', 'js/b']) await pub.publishAsync(topic, 'x', { qos: 1 });
    while (topics.length < 4) await new Promise((r) => setImmediate(r));
    assert.deepEqual(topics, ['js/a', 'js/a', 'js/b', 'js/b']);
    assert.deepEqual(aliases, [1, 1, 1, 1]);
  });
});

describe('MQTT 5 flow control and Maximum Packet Size', () => {
  test('never more unacknowledged QoS 1/2 messages than the client\'s Receive Maximum [MQTT-3.3.4-9]', async (t) => {
    const { port } = await brokerFor(t);
    const sub = await openClient(t, port, { ...V5, clientId: 'sub', properties: prop.receiveMaximum(2) });
    await sub.subscribe([['w', 2]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    for (const payload of ['1', '2', '3', '4']) await pub.publish({ topic: 'w', payload, qos: 1, properties: NO_PROPS });
    const first = [await sub.nextOf('publish'), await sub.nextOf('publish')];
    await sub.expectNothing(150);
    await sub.acknowledge(first[0]!);
    assert.equal((await sub.nextOf('publish')).payload.toString(), '3');
    await sub.expectNothing(100);
  });

  test('our Receive Maximum: CONNACK says it; one more unacknowledged QoS 2 PUBLISH gets DISCONNECT 0x93 [MQTT-3.3.4-7]', async (t) => {
    const { port } = await brokerFor(t, { receiveMaximum: 2 });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    const connack = c.received[0]!;
    assert.deepEqual(propertyValues(connack.type === 'connack' ? connack.properties : undefined,
      PropertyId.ReceiveMaximum), [2]);
    c.send(publish({ topic: 'a', qos: 2, packetId: 1, properties: NO_PROPS }));
    c.send(publish({ topic: 'a', qos: 2, packetId: 2, properties: NO_PROPS }));
    await c.nextOf('pubrec');
    await c.nextOf('pubrec');
    c.send(publish({ topic: 'a', qos: 2, packetId: 3, properties: NO_PROPS }));
    assert.equal((await c.expect('disconnect')).reasonCode, 0x93);
    await c.expectClosed();
  });

  test('our Receive Maximum in lenient mode: logged, the PUBLISH is processed', async (t) => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const { port } = await brokerFor(t, { receiveMaximum: 1, receiveMaximumExceeded: 'log', logger });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'a', qos: 2, packetId: 1, properties: NO_PROPS }));
    c.send(publish({ topic: 'a', qos: 2, packetId: 2, properties: NO_PROPS }));
    await c.nextOf('pubrec', (p) => p.packetId === 2);
    assert.ok(warnings.some((w) => w.includes('Receive Maximum')), warnings.join('\n'));
    await c.ping();
  });

  test('a PUBLISH over the client\'s Maximum Packet Size is dropped for that client only [MQTT-3.1.2-25]', async (t) => {
    const { port } = await brokerFor(t);
    const small = await openClient(t, port, { ...V5, clientId: 'small', properties: prop.maximumPacketSize(64) });
    const big = await openClient(t, port, { ...V5, clientId: 'big' });
    await small.subscribe([['m', 1]]);
    await big.subscribe([['m', 1]]);
    const pub = await openClient(t, port, { ...V5, clientId: 'pub' });
    await pub.publish({ topic: 'm', payload: 'x'.repeat(100), qos: 1, properties: NO_PROPS });
    await pub.publish({ topic: 'm', payload: 'fits', qos: 1, properties: NO_PROPS });
    assert.equal((await small.nextOf('publish')).payload.toString(), 'fits');
    assert.equal((await big.nextOf('publish')).payload.length, 100);
  });
});

describe('MQTT 5 reason codes and Reason Strings', () => {
  test('PUBACK/PUBREC 0x10 No matching subscribers, 0x00 once someone subscribes', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'nobody', qos: 1, packetId: 1, properties: NO_PROPS }));
    assert.equal((await c.nextOf('puback')).reasonCode, 0x10);
    c.send(publish({ topic: 'nobody', qos: 2, packetId: 2, properties: NO_PROPS }));
    assert.equal((await c.nextOf('pubrec')).reasonCode, 0x10);
    await c.subscribe([['nobody', 0]]);
    c.send(publish({ topic: 'nobody', qos: 1, packetId: 3, properties: NO_PROPS }));
    assert.equal((await c.nextOf('puback')).reasonCode, 0);
  });

  test('PUBACK 0x87 Not authorized; SUBACK per filter 0x87 / 0x97 Quota exceeded with a Reason String', async (t) => {
    const { port } = await brokerFor(t, {
      authorizePublish: (_c, req) => req.topic !== 'secret',
      authorizeSubscribe: (_c, req) => req.topicFilter !== 'secret',
      maxSubscriptionsPerClient: 2,
    });
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'secret', qos: 1, packetId: 1, properties: NO_PROPS }));
    assert.equal((await c.nextOf('puback')).reasonCode, 0x87);
    c.send(subscribe(2, [['a', 1], ['secret', 1], ['b', 2], ['c', 0]], NO_PROPS));
    const suback = await c.nextOf('suback');
    assert.deepEqual(suback.codes, [1, 0x87, 2, 0x97]);
    const [reason] = propertyValues(suback.properties, PropertyId.ReasonString) as string[];
    assert.match(reason ?? '', /secret.*not authorized.*'c'.*quota/);
  });

  test('PUBACK/PUBREC 0x97 Quota exceeded when every matching subscriber\'s queue is full (MQTT.js too)', async (t) => {
    const { port } = await brokerFor(t, { maxQueuedMessages: 1 });
    const away = { ...V5, clientId: 'away', clean: false, properties: prop.sessionExpiryInterval(60) };
    const sub = await openClient(t, port, away);
    await sub.subscribe([['full', 2]]);
    sub.destroy();
    await new Promise((r) => sub.socket.once('close', r));
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    c.send(publish({ topic: 'full', payload: 'fits', qos: 1, packetId: 1, properties: NO_PROPS }));
    assert.equal((await c.nextOf('puback')).reasonCode, 0);
    c.send(publish({ topic: 'full', payload: 'over', qos: 1, packetId: 2, properties: NO_PROPS }));
    const over = await c.nextOf('puback');
    assert.equal(over.reasonCode, 0x97);
    assert.match(String(propertyValues(over.properties, PropertyId.ReasonString)[0]), /queue/);
    c.send(publish({ topic: 'full', payload: 'over', qos: 2, packetId: 3, properties: NO_PROPS }));
    assert.equal((await c.nextOf('pubrec')).reasonCode, 0x97);
    // A failure PUBREC ends the QoS 2 flow: the id is not waiting for PUBREL.
    c.send(pubrel(3));
    const comp = await c.nextOf('pubcomp');
    assert.equal(comp.reasonCode, 0x92);
    const js = await openMqttJs(t, port, { clientId: 'js' });
    await assert.rejects(js.publishAsync('full', 'over', { qos: 1 }), /Quota exceeded/);
    const back = await openClient(t, port, away);
    assert.equal((await back.nextOf('publish')).payload.toString(), 'fits');
    await back.expectNothing(100);
  });

  test('UNSUBACK per filter: 0x00, and 0x11 No subscription existed', async (t) => {
    const { port } = await brokerFor(t);
    const c = await openClient(t, port, { ...V5, clientId: 'c' });
    await c.subscribe([['a', 0], ['$share/g/b', 0]]);
    c.send(unsubscribe(9, ['a', 'never', '$share/g/b'], NO_PROPS));
    assert.deepEqual((await c.nextOf('unsuback')).codes, [0, 0x11, 0]);
  });

  test('no Reason String when the client sets Request Problem Information 0 [MQTT-3.1.2-29]', async (t) => {
    const { port } = await brokerFor(t, { authorizeSubscribe: () => false });
    const c = await openClient(t, port, { ...V5, clientId: 'c', properties: prop.requestProblemInformation(0) });
    c.send(subscribe(1, [['a', 0]], NO_PROPS));
    const suback = await c.nextOf('suback');
    assert.deepEqual(suback.codes, [0x87]);
    assert.deepEqual(parseProperties(suback.properties), []);
  });

  test('the Reason String is left out when it would exceed the client\'s Maximum Packet Size [MQTT-3.9.2-1]', async (t) => {
    const { port } = await brokerFor(t, { authorizeSubscribe: () => false });
    const c = await openClient(t, port, { ...V5, clientId: 'c', properties: prop.maximumPacketSize(20) });
    c.send(subscribe(1, [['a-rather-long-filter-name', 0]], NO_PROPS));
    const suback = await c.nextOf('suback');
    assert.deepEqual(suback.codes, [0x87]);
    assert.deepEqual(parseProperties(suback.properties), []);
  });

  test('MQTT.js: reason codes in PUBACK and SUBACK', async (t) => {
    const { port } = await brokerFor(t, { authorizeSubscribe: (_c, req) => req.topicFilter !== 'no' });
    const c = await openMqttJs(t, port, { clientId: 'js' });
    const granted = await c.subscribeAsync('yes', { qos: 1 });
    assert.deepEqual(granted.map((g) => g.qos), [1]);
    // MQTT.js turns a SUBACK failure code into an error named after it.
    await assert.rejects(c.subscribeAsync('no', { qos: 1 }), /Not authorized/);
    const acks: (number | undefined)[] = [];
    c.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback') acks.push(packet.reasonCode);
    });
    await c.publishAsync('nobody/listens', 'x', { qos: 1 });
    assert.deepEqual(acks, [0x10]);
  });
});

describe('Mixed protocol versions', () => {
  test('a 3.1.1 subscriber gets a 5.0 publisher\'s message without properties; a 5.0 subscriber gets a 3.1.1 one with none', async (t) => {
    const { port } = await brokerFor(t);
    const sub4 = await openClient(t, port, { clientId: 'sub4' });
    const sub5 = await openClient(t, port, { ...V5, clientId: 'sub5' });
    await sub4.subscribe([['mix', 1]]);
    await sub5.subscribe([['mix', 1]]);
    const pub5 = await openClient(t, port, { ...V5, clientId: 'pub5' });
    await pub5.publish({ topic: 'mix', payload: 'from5', qos: 1,
      properties: props(prop.userProperty('a', 'b'), prop.contentType('text/plain')) });
    const got4 = await sub4.nextOf('publish');
    // The 3.1.1 parser reads no properties: the payload is exact only if none were sent.
    assert.equal(got4.payload.toString(), 'from5');
    assert.equal(got4.properties, undefined);
    await sub4.acknowledge(got4);
    await sub5.acknowledge(await sub5.nextOf('publish'));
    const pub4 = await openClient(t, port, { clientId: 'pub4' });
    await pub4.publish({ topic: 'mix', payload: 'from4', qos: 1 });
    const got5 = await sub5.nextOf('publish');
    assert.equal(got5.payload.toString(), 'from4');
    assert.deepEqual(parseProperties(got5.properties), []);
  });

  test('MQTT.js 3.1.1 and 5.0 clients exchange messages', async (t) => {
    const { port } = await brokerFor(t);
    const v4 = await openMqttJs(t, port, { clientId: 'js4', protocolVersion: 4 });
    const v5 = await openMqttJs(t, port, { clientId: 'js5' });
    await v4.subscribeAsync('x/5', { qos: 1 });
    await v5.subscribeAsync('x/4', { qos: 1 });
    const at4 = new Promise<[string, unknown]>((r) => v4.once('message', (_t, p, packet) => r([p.toString(), packet.properties])));
    const at5 = new Promise<[string, unknown]>((r) => v5.once('message', (_t, p, packet) => r([p.toString(), packet.properties])));
    await v5.publishAsync('x/5', 'hello 4', { qos: 1, properties: { userProperties: { k: 'v' } } });
    await v4.publishAsync('x/4', 'hello 5', { qos: 1 });
    assert.deepEqual(await at4, ['hello 4', undefined]);
    const [payload5] = await at5;
    assert.equal(payload5, 'hello 5');
  });
});

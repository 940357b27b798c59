/**
 * Unit tests of the client's timing and bookkeeping parts, on an injected clock (no real sleeps): keepalive, the
 * backoff schedule, automatic topic aliases, URL and Server Reference parsing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keepalive, type Clock } from '../../src/client/keepalive.js';
import { Backoff } from '../../src/client/reconnect.js';
import { TopicAliases } from '../../src/client/topic-aliases.js';
import { resolveOptions } from '../../src/client/options.js';
import { parseServerReference } from '../../src/client/api.js';

/** A manual clock: `advance(ms)` fires due timers in order; deferred callbacks run on `flush()`. */
class FakeClock implements Clock {
  time = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #deferred: Array<() => void> = [];
  #nextId = 1;
  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  };
  defer = (fn: () => void): void => {
    this.#deferred.push(fn);
  };
  /** Jumps to `time + ms` in one step, like a stalled event loop, firing due timers (not deferred ones). */
  jump(ms: number): void {
    this.time += ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= this.time).toSorted((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      this.clearTimeout(due.id);
      due.fn();
    }
  }
  /** Advances in 1 ms steps, running deferred callbacks after each step (a live event loop). */
  advance(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.jump(1);
      this.flush();
    }
  }
  flush(): void {
    const d = this.#deferred;
    this.#deferred = [];
    for (const fn of d) fn();
  }
}

function keepalive(intervalMs: number) {
  const clock = new FakeClock();
  const events: string[] = [];
  const k = new Keepalive({
    sendPing: () => events.push(`ping@${clock.time}`),
    timedOut: () => events.push(`timeout@${clock.time}`),
  }, intervalMs, clock);
  return { clock, events, k };
}

describe('client keepalive', () => {
  test('pings after the interval with nothing sent [MQTT-3.1.2-23], and not while packets are being sent', () => {
    const { clock, events, k } = keepalive(1000);
    k.start();
    clock.advance(600);
    k.packetSent();
    clock.advance(900);
    assert.deepEqual(events, []);
    clock.advance(100);
    assert.deepEqual(events, ['ping@1600']);
    k.packetSent();
    k.pingResponse();
    clock.advance(999);
    assert.deepEqual(events, ['ping@1600']);
    clock.advance(1);
    assert.deepEqual(events, ['ping@1600', 'ping@2600']);
  });

  test('closes when no PINGRESP comes back within the timeout', () => {
    const { clock, events, k } = keepalive(1000);
    k.start();
    clock.advance(1000);
    clock.advance(1000);
    assert.deepEqual(events, ['ping@1000', 'timeout@2000']);
  });

  test('a stalled event loop does not cause a false timeout: pending I/O (the PINGRESP) runs first', () => {
    const { clock, events, k } = keepalive(1000);
    k.start();
    clock.advance(1000);
    assert.deepEqual(events, ['ping@1000']);
    clock.jump(5000); // the loop was blocked for 5 s; the PINGRESP is already in the socket buffer
    k.pingResponse(); // the I/O callback runs before the deferred check
    clock.flush();
    assert.deepEqual(events, ['ping@1000']);
    k.stop();
  });

  test('a late timer does not accumulate drift: the next ping is measured from the last packet sent', () => {
    const { clock, events, k } = keepalive(1000);
    k.start();
    clock.jump(1700); // fires 700 ms late
    assert.deepEqual(events, ['ping@1700']);
    k.packetSent();
    k.pingResponse();
    clock.advance(1000);
    assert.deepEqual(events, ['ping@1700', 'ping@2700']);
    k.stop();
  });

  test('interval 0 disables pings; setInterval (Server Keep Alive) reschedules', () => {
    const { clock, events, k } = keepalive(0);
    k.start();
    clock.advance(5000);
    assert.deepEqual(events, []);
    k.packetSent();
    k.setInterval(200);
    clock.advance(200);
    assert.deepEqual(events, ['ping@5200']);
    k.stop();
  });
});

describe('reconnect backoff', () => {
  test('doubles up to the cap, with jitter between half and all of the step', () => {
    const low = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Infinity }, () => 0);
    assert.deepEqual(Array.from({ length: 6 }, () => low.next()), [50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Infinity }, () => 0.999999);
    assert.deepEqual(Array.from({ length: 6 }, () => high.next()), [100, 200, 400, 800, 1000, 1000]);
  });

  test('gives up after maxAttempts and starts over after reset()', () => {
    const b = new Backoff({ initialDelayMs: 10, maxDelayMs: 100, maxAttempts: 2 }, () => 0.5);
    assert.equal(typeof b.next(), 'number');
    assert.equal(typeof b.next(), 'number');
    assert.equal(b.next(), undefined);
    b.reset();
    assert.equal(b.next(), 8);
  });
});

describe('automatic topic aliases', () => {
  test('assigns aliases up to the maximum and reuses the least recently used one', () => {
    const a = new TopicAliases(2);
    assert.deepEqual(a.choose('x'), { alias: 1, isNew: true });
    assert.deepEqual(a.choose('y'), { alias: 2, isNew: true });
    assert.deepEqual(a.choose('x'), { alias: 1, isNew: false });
    assert.deepEqual(a.choose('z'), { alias: 2, isNew: true }); // y was least recently used
    assert.deepEqual(a.choose('x'), { alias: 1, isNew: false });
    a.reset(0);
    assert.equal(a.choose('x'), undefined);
  });
});

describe('client options', () => {
  test('URLs give protocol, credentials (percent-decoded), host, port and WebSocket path', () => {
    const o = resolveOptions('wss://al%40ice:p%3Ass@example.org:9001/mqtt-ws', { protocolVersion: 5 });
    assert.deepEqual([o.target.protocol, o.target.host, o.target.port, o.target.path], ['wss', 'example.org', 9001, '/mqtt-ws']);
    assert.equal(o.username, 'al@ice');
    assert.equal(o.password?.toString(), 'p:ss');
    assert.equal(resolveOptions('mqtts://h').target.port, 8883);
    assert.equal(resolveOptions('ws://h').target.path, '/mqtt');
    assert.equal(resolveOptions({ url: 'mqtt://h', port: 1 }).target.port, 1);
    assert.throws(() => resolveOptions('http://h'), { code: 'MQTT_ERR_INVALID_ARGUMENT' });
    assert.throws(() => resolveOptions('mqtt://h', { clientId: '', clean: false }), { code: 'MQTT_ERR_INVALID_ARGUMENT' });
  });

  test('MQTT 5 with clean start leaves the client id empty for the server to assign', () => {
    assert.equal(resolveOptions('mqtt://h', { protocolVersion: 5 }).clientId, '');
    assert.match(resolveOptions('mqtt://h', { protocolVersion: 4 }).clientId, /^culex-/);
  });

  test('Server References: host, host:port, [v6]:port, first of a list', () => {
    assert.deepEqual(parseServerReference('other', 1883), { host: 'other', port: 1883 });
    assert.deepEqual(parseServerReference('other:2000 third:3000', 1883), { host: 'other', port: 2000 });
    assert.deepEqual(parseServerReference('[::1]:2001', 1883), { host: '::1', port: 2001 });
    assert.equal(parseServerReference('', 1883), undefined);
  });
});

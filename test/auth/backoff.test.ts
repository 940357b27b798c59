/**
 * Login back-off: the schedule on an injected clock, then on a real broker — repeated wrong passwords from one
 * address get slower CONNACKs, parallel attempts are spaced, a queue too long is refused without a check.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { hostOf, LoginBackoff } from '../../src/broker/login-backoff.js';
import { brokerFor } from '../helpers/broker.js';
import { openRaw, type Cleanup } from '../helpers/raw-client.js';

describe('LoginBackoff schedule', () => {
  test('the delay doubles per failure up to the maximum', () => {
    const b = new LoginBackoff({ initialDelayMs: 100, maxDelayMs: 700 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => b.delayFor(n)), [0, 100, 200, 400, 700, 700]);
  });

  test('attempts from an address with failures are spaced one delay apart; others are not delayed', () => {
    const b = new LoginBackoff({ initialDelayMs: 100, maxDelayMs: 1000 });
    assert.deepEqual(b.reserve('1.2.3.4', 0), { waitMs: 0 });
    b.failed('1.2.3.4', 0);
    b.failed('1.2.3.4', 0);
    // Two failures: 200 ms from the last one, then one slot every 200 ms.
    assert.deepEqual(b.reserve('1.2.3.4', 10), { waitMs: 190 });
    assert.deepEqual(b.reserve('1.2.3.4', 10), { waitMs: 390 });
    assert.deepEqual(b.reserve('1.2.3.4', 10), { waitMs: 590 });
    assert.deepEqual(b.reserve('5.6.7.8', 10), { waitMs: 0 });
  });

  test('an attempt whose slot is more than the maximum away is refused', () => {
    const b = new LoginBackoff({ initialDelayMs: 400, maxDelayMs: 800 });
    b.failed('a', 0);
    assert.deepEqual(b.reserve('a', 0), { waitMs: 400 });
    assert.deepEqual(b.reserve('a', 0), { waitMs: 800 });
    assert.equal(b.reserve('a', 0), 'refuse');
  });

  test('failures are forgotten after the quiet period, and the oldest address goes first when full', () => {
    const b = new LoginBackoff({ initialDelayMs: 100, forgetAfterMs: 1000, maxAddresses: 2 });
    b.failed('a', 0);
    assert.equal(b.failures('a', 999), 1);
    assert.equal(b.failures('a', 1001), 0);
    b.failed('x', 0);
    b.failed('y', 1);
    b.failed('z', 2);
    assert.deepEqual([b.failures('x', 3), b.failures('y', 3), b.failures('z', 3)], [0, 1, 1]);
  });

  test('the host of a remote address, IPv4 and IPv6', () => {
    assert.equal(hostOf('127.0.0.1:5000'), '127.0.0.1');
    assert.equal(hostOf('::ffff:127.0.0.1:5000'), '::ffff:127.0.0.1');
    assert.equal(hostOf('/run/culex.sock'), '/run/culex.sock');
  });
});

async function timedConnack(t: Cleanup, port: number, password: string, protocolVersion: 4 | 5 = 4):
Promise<{ code: number; ms: number; atMs: number }> {
  const c = await openRaw(t, port, { protocolVersion });
  const start = performance.now();
  const connack = await c.connect({ clientId: `c${Math.random()}`, username: 'u', password, protocolVersion }, 5000);
  const atMs = performance.now();
  return { code: connack.returnCode, ms: atMs - start, atMs };
}

function authenticate({ password }: { password: Buffer | undefined }): boolean {
  return password?.toString() === 'right';
}

describe('login back-off in the broker', () => {
  test('repeated wrong passwords from one address get slower answers; the right one waits its turn too',
    async (t) => {
      const { port } = await brokerFor(t, { authenticate, loginBackoff: { initialDelayMs: 400, maxDelayMs: 2000 } });
      const first = await timedConnack(t, port, 'wrong');
      assert.equal(first.code, 5);
      // The slot counts from the failure, just before its CONNACK: compare arrival times, with slack for a loaded
      // machine delaying one arrival more than another.
      const second = await timedConnack(t, port, 'wrong');
      assert.equal(second.code, 5);
      const gap1 = second.atMs - first.atMs;
      assert.ok(gap1 >= 250, `second answer ${gap1} ms after the first, expected ~400`);
      const third = await timedConnack(t, port, 'right');
      assert.equal(third.code, 0);
      const gap2 = third.atMs - second.atMs;
      assert.ok(gap2 >= 600, `third answer ${gap2} ms after the second, expected ~800`);
    });

  // Slots 800 ms apart, at most 1,600 ms ahead: of three parallel attempts the third is refused as long as they
  // arrive within 800 ms of each other (generous for a loaded machine).
  test('parallel attempts are spaced, and one queued too far is refused at once (Server unavailable)',
    async (t) => {
      const { port } = await brokerFor(t, { authenticate, loginBackoff: { initialDelayMs: 800, maxDelayMs: 1600 } });
      assert.equal((await timedConnack(t, port, 'wrong')).code, 5);
      const results = await Promise.all([1, 2, 3].map(() => timedConnack(t, port, 'wrong')));
      const answered = results.filter((r) => r.code === 5).map((r) => r.atMs).toSorted((a, b) => a - b);
      const refused = results.filter((r) => r.code === 3);
      assert.equal(answered.length, 2, JSON.stringify(results));
      assert.equal(refused.length, 1, JSON.stringify(results));
      assert.ok(answered[1]! - answered[0]! >= 600, `checks ${answered.join(', ')} ms: not spaced`);
      assert.ok(refused[0]!.atMs < answered[0]!, 'the refusal does not wait');
    });

  test('MQTT 5 clients get 0x89 Server busy for a refused slot; loginBackoff false turns it all off', async (t) => {
    const slow = await brokerFor(t, { authenticate, loginBackoff: { initialDelayMs: 1000, maxDelayMs: 1000 } });
    await timedConnack(t, slow.port, 'wrong', 5);
    const pair = await Promise.all([timedConnack(t, slow.port, 'wrong', 5), timedConnack(t, slow.port, 'x', 5)]);
    assert.deepEqual(pair.map((r) => r.code).toSorted(), [0x87, 0x89]);
    const off = await brokerFor(t, { authenticate, loginBackoff: false });
    for (let i = 0; i < 5; i++) assert.equal((await timedConnack(t, off.port, 'wrong')).code, 5);
    const fast = await timedConnack(t, off.port, 'wrong');
    // With the default back-off the sixth failure would wait 4 s.
    assert.ok(fast.ms < 1000, `no back-off, yet ${fast.ms} ms`);
  });
});

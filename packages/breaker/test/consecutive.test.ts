import { BreakerOpenError, ConfigError, TimeoutError } from '@rpcx/core';
import { callWithBreaker, consecutiveBreaker } from '../src/index.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('consecutiveBreaker (Go ConsecCircuitBreaker)', () => {
  it('is ready when new', () => {
    const b = consecutiveBreaker({ failureThreshold: 3, windowMs: 100, now: clock(0).now });
    expect(b.ready()).toBe(true);
  });

  it('opens at the threshold and stays open for the window after the last failure', () => {
    const c = clock();
    const b = consecutiveBreaker({ failureThreshold: 3, windowMs: 100, now: c.now });
    expect(b.ready()).toBe(true);
    b.fail();
    b.fail();
    expect(b.ready()).toBe(true); // 2 < 3
    c.t += 10;
    b.fail(); // last failure at start + 10
    expect(b.ready()).toBe(false);
    c.t += 100; // exactly the window: Go needs strictly more
    expect(b.ready()).toBe(false);
    c.t += 1;
    expect(b.ready()).toBe(true);
    expect(b.failures()).toBe(0);
  });

  it('is fully closed after the window: one new failure does not re-open it (no half-open in Go)', () => {
    const c = clock();
    const b = consecutiveBreaker({ failureThreshold: 2, windowMs: 50, now: c.now });
    b.fail();
    b.fail();
    expect(b.ready()).toBe(false);
    c.t += 51;
    expect(b.ready()).toBe(true);
    b.fail();
    expect(b.ready()).toBe(true);
    b.fail();
    expect(b.ready()).toBe(false);
  });

  it('resets on success', () => {
    const b = consecutiveBreaker({ failureThreshold: 2, windowMs: 1000, now: clock().now });
    b.fail();
    b.success();
    b.fail();
    expect(b.ready()).toBe(true);
    expect(b.failures()).toBe(1);
  });

  it('forgets failures only inside ready(), as Go does', () => {
    const c = clock();
    const b = consecutiveBreaker({ failureThreshold: 3, windowMs: 100, now: c.now });
    // Failures far apart but with no ready() between them still add up …
    b.fail();
    c.t += 500;
    b.fail();
    c.t += 500;
    b.fail();
    expect(b.ready()).toBe(false);
    // … while a ready() after a quiet window clears them.
    const d = consecutiveBreaker({ failureThreshold: 3, windowMs: 100, now: c.now });
    d.fail();
    c.t += 500;
    expect(d.ready()).toBe(true);
    d.fail();
    d.fail();
    expect(d.ready()).toBe(true);
    expect(d.failures()).toBe(2);
  });

  it('with threshold 0 lets one call through per quiet window (Go quirk)', () => {
    const c = clock();
    const b = consecutiveBreaker({ failureThreshold: 0, windowMs: 100, now: c.now });
    expect(b.ready()).toBe(true);
    expect(b.ready()).toBe(false);
    c.t += 101;
    expect(b.ready()).toBe(true);
  });

  it('checks its options', () => {
    expect(() => consecutiveBreaker({ failureThreshold: -1, windowMs: 1 })).toThrow(ConfigError);
    expect(() => consecutiveBreaker({ failureThreshold: 1.5, windowMs: 1 })).toThrow(ConfigError);
    expect(() => consecutiveBreaker({ failureThreshold: 1, windowMs: NaN })).toThrow(ConfigError);
  });

  it('uses a monotonic clock by default', () => {
    const b = consecutiveBreaker({ failureThreshold: 1, windowMs: 60_000 });
    expect(b.ready()).toBe(true);
    b.fail();
    expect(b.ready()).toBe(false);
  });
});

describe('callWithBreaker (Go Breaker.Call)', () => {
  it('opens after the configured failures, rejects with "breaker open" without calling, and lets a probe through after the window', async () => {
    const c = clock();
    const b = consecutiveBreaker({ failureThreshold: 3, windowMs: 1000, now: c.now });
    let dials = 0;
    const dial = async (): Promise<string> => {
      dials++;
      throw new Error('connection refused');
    };
    for (let i = 0; i < 3; i++) await expect(callWithBreaker(b, dial)).rejects.toThrow('connection refused');
    expect(dials).toBe(3);

    const rejected = callWithBreaker(b, dial);
    await expect(rejected).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(rejected).rejects.toMatchObject({ message: 'breaker open', code: 'RPCX_ERR_BREAKER_OPEN' });
    expect(dials).toBe(3);

    c.t += 1001;
    await expect(callWithBreaker(b, async () => 'ok')).resolves.toBe('ok');
    expect(b.failures()).toBe(0);
  });

  it('times out with "breaker time out", counts it as a failure and aborts the work', async () => {
    const b = consecutiveBreaker({ failureThreshold: 1, windowMs: 1000, now: clock().now });
    let seen: AbortSignal | undefined;
    const p = callWithBreaker(
      b,
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      1,
    );
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    await expect(p).rejects.toMatchObject({ message: 'breaker time out', code: 'RPCX_ERR_BREAKER_TIMEOUT' });
    expect(seen?.aborted).toBe(true);
    expect(b.failures()).toBe(1);
    expect(b.ready()).toBe(false);
  });

  it('returns the result and reports success; a late result after a timeout is dropped quietly', async () => {
    const b = consecutiveBreaker({ failureThreshold: 2, windowMs: 1000, now: clock().now });
    b.fail();
    await expect(callWithBreaker(b, () => 42, 1000)).resolves.toBe(42);
    expect(b.failures()).toBe(0);
    let signal: AbortSignal | undefined;
    await expect(
      callWithBreaker(b, (s) => {
        signal = s;
        return 'sync';
      }),
    ).resolves.toBe('sync');
    expect(signal?.aborted).toBe(false);
  });

  it('counts a synchronous throw as a failure', async () => {
    const b = consecutiveBreaker({ failureThreshold: 5, windowMs: 1000, now: clock().now });
    const boom = (): never => {
      throw new Error('boom');
    };
    await expect(callWithBreaker(b, boom)).rejects.toThrow('boom');
    await expect(callWithBreaker(b, boom, 50)).rejects.toThrow('boom');
    expect(b.failures()).toBe(2);
  });

  it('lets isFailure keep errors that say nothing about the server from counting', async () => {
    const b = consecutiveBreaker({ failureThreshold: 1, windowMs: 1000, now: clock().now });
    const appError = Object.assign(new Error('bad input'), { app: true });
    const isFailure = (e: unknown) => !(e as { app?: boolean }).app;
    await expect(callWithBreaker(b, async () => Promise.reject(appError), 0, { isFailure })).rejects.toBe(appError);
    expect(b.ready()).toBe(true);
    await expect(callWithBreaker(b, async () => Promise.reject(new Error('down')), 0, { isFailure })).rejects.toThrow('down');
    expect(b.ready()).toBe(false);
  });
});

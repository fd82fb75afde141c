import { BreakerOpenError, ConfigError, type Breaker } from '@rpcx/core';
import { callWithBreaker, rateBreaker, type BreakerState, type RateBreakerOptions } from '../src/index.js';

function setup(options: RateBreakerOptions = {}) {
  const c = { t: 0 };
  const changes: string[] = [];
  const b = rateBreaker({
    now: () => c.t,
    onStateChange: (from: BreakerState, to: BreakerState) => changes.push(`${from}->${to}`),
    ...options,
  });
  const outcomes = (ok: number, failed: number) => {
    for (let i = 0; i < ok; i++) b.success();
    for (let i = 0; i < failed; i++) b.fail();
  };
  return { c, b, changes, outcomes };
}

describe('rateBreaker: closed → open', () => {
  it('needs minSamples before judging the rate', () => {
    const { b, outcomes } = setup(); // 0.5 over 20 samples by default
    outcomes(0, 19);
    expect(b.state()).toBe('closed');
    expect(b.ready()).toBe(true);
    b.fail();
    expect(b.state()).toBe('open');
    expect(b.ready()).toBe(false);
  });

  it('opens when the failure ratio reaches the threshold', () => {
    const { b, outcomes } = setup({ failureRate: 0.5, minSamples: 10 });
    outcomes(6, 4);
    expect(b.state()).toBe('closed'); // 4/10
    b.fail();
    expect(b.state()).toBe('closed'); // 5/11
    b.fail();
    expect(b.state()).toBe('open'); // 6/12
  });

  it('forgets outcomes older than the window, one bucket at a time', () => {
    const { c, b, outcomes } = setup({ failureRate: 1, minSamples: 10, windowMs: 1000, buckets: 10 });
    c.t = 950; // bucket 9
    outcomes(0, 9);
    c.t = 1899; // bucket 18: bucket 9 is still inside the last 10
    b.fail();
    expect(b.state()).toBe('open');

    const other = setup({ failureRate: 1, minSamples: 10, windowMs: 1000, buckets: 10 });
    other.c.t = 950;
    other.outcomes(0, 9);
    other.c.t = 1900; // bucket 19: bucket 9 has left
    other.b.fail();
    expect(other.b.state()).toBe('closed');
  });

  it('reuses a bucket slot without mixing old counts in', () => {
    const { c, b, outcomes } = setup({ failureRate: 0.5, minSamples: 4, windowMs: 100, buckets: 2 });
    outcomes(0, 3); // bucket 0
    c.t = 100; // bucket 2 lands in slot 0: the three failures must be gone
    outcomes(3, 1);
    expect(b.state()).toBe('closed'); // 1/4
  });
});

describe('rateBreaker: open → half-open → closed / open', () => {
  const trip = (options: RateBreakerOptions = {}) => {
    const s = setup({ failureRate: 1, minSamples: 2, openMs: 5000, ...options });
    s.outcomes(0, 2);
    expect(s.b.state()).toBe('open');
    return s;
  };

  it('rejects for openMs, then lets one probe through; its success closes', () => {
    const { c, b, changes } = trip();
    c.t += 4999;
    expect(b.ready()).toBe(false);
    c.t += 1;
    expect(b.ready()).toBe(true);
    expect(b.state()).toBe('half-open');
    expect(b.ready()).toBe(false); // one probe at a time
    b.success();
    expect(b.state()).toBe('closed');
    expect(b.ready()).toBe(true);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('closes with an empty window', () => {
    const { c, b } = trip();
    c.t += 5000;
    b.ready();
    b.success();
    b.fail();
    expect(b.state()).toBe('closed'); // 1 sample < 2: the failures before opening are gone
    b.fail();
    expect(b.state()).toBe('open');
  });

  it('re-opens on a failed probe, for openMs from then', () => {
    const { c, b, changes } = trip();
    c.t += 5000;
    expect(b.ready()).toBe(true);
    c.t += 300;
    b.fail();
    expect(b.state()).toBe('open');
    c.t += 4999;
    expect(b.ready()).toBe(false);
    c.t += 1;
    expect(b.ready()).toBe(true);
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
  });

  it('admits halfOpenProbes probes and closes only when all succeed', () => {
    const { c, b } = trip({ halfOpenProbes: 3 });
    c.t += 5000;
    expect([b.ready(), b.ready(), b.ready(), b.ready()]).toEqual([true, true, true, false]);
    b.success();
    b.success();
    expect(b.state()).toBe('half-open');
    b.success();
    expect(b.state()).toBe('closed');
  });

  it('ignores outcomes reported while open, and successes nobody was admitted for', () => {
    const { c, b } = trip();
    b.success();
    b.success();
    expect(b.state()).toBe('open');
    c.t += 5000;
    b.success(); // half-open now, but no probe was admitted
    expect(b.state()).toBe('half-open');
    expect(b.ready()).toBe(true);
    b.success();
    expect(b.state()).toBe('closed');
  });

  it('gives up on probes that never report after openMs', () => {
    const { c, b } = trip();
    c.t += 5000;
    expect(b.ready()).toBe(true);
    c.t += 4999;
    expect(b.ready()).toBe(false);
    c.t += 1;
    expect(b.ready()).toBe(true);
  });

  it('with callWithBreaker: rejects without calling while open, probes after openMs', async () => {
    const { c, b } = trip();
    let calls = 0;
    const call = async () => {
      calls++;
      return 'pong';
    };
    await expect(callWithBreaker(b, call)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(0);
    c.t += 5000;
    await expect(callWithBreaker(b, call)).resolves.toBe('pong');
    expect(calls).toBe(1);
    expect(b.state()).toBe('closed');
  });
});

describe('rateBreaker options', () => {
  it('rejects invalid values', () => {
    for (const bad of [
      { failureRate: 0 },
      { failureRate: 1.5 },
      { minSamples: 0 },
      { windowMs: 0 },
      { buckets: 0 },
      { buckets: 2.5 },
      { openMs: -1 },
      { halfOpenProbes: 0 },
    ]) {
      expect(() => rateBreaker(bad)).toThrow(ConfigError);
    }
  });
});

// The README's adapter for a third-party breaker, checked against a stand-in with opossum's shape.
interface OpossumLike {
  readonly opened: boolean;
  fire(ok: boolean): Promise<unknown>;
}
function adaptBreaker(cb: OpossumLike): Breaker {
  return {
    ready: () => !cb.opened,
    success: () => void cb.fire(true).catch(() => {}),
    fail: () => void cb.fire(false).catch(() => {}),
  };
}

describe('adaptBreaker (README example)', () => {
  it('maps an opossum-like breaker onto ready / success / fail', async () => {
    // Opens after two failed fires, as an opossum breaker might with a low threshold.
    let failures = 0;
    const fake: OpossumLike = {
      get opened() {
        return failures >= 2;
      },
      fire: async (ok: boolean) => {
        if (ok) failures = 0;
        else {
          failures++;
          throw new Error('failed');
        }
      },
    };
    const b = adaptBreaker(fake);
    expect(b.ready()).toBe(true);
    await expect(callWithBreaker(b, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(callWithBreaker(b, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(callWithBreaker(b, async () => 1)).rejects.toBeInstanceOf(BreakerOpenError);
  });
});

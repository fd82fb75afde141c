// Client-side limits as interceptors of a real XClient against real servers: a rate limit
// that never reaches the server, a limit of requests in flight per server (with Failover
// moving on), and a retry budget that ends a retry storm.
import { createServer } from 'node:net';
import { AbortError, ConcurrencyLimitError, DialError, RateLimitError, RetryBudgetExhaustedError } from '@rpcx/core';
import { FailMode, multipleServers } from '@rpcx/xclient';
import { clientRateLimit, concurrencyLimit, retryBudget } from '../src/index.js';
import { client, serve } from './support.js';

const HOUR = 3_600_000;

test('clientRateLimit refuses calls past the rate before they are sent; Failover does not retry them', async () => {
  const { server, arith, key } = await serve();
  const c = client(key, { failMode: FailMode.Failover, interceptors: [clientRateLimit({ rate: 1, periodMs: HOUR, burst: 2 })] });
  try {
    expect(await c.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    expect(await c.call('Mul', { A: 2, B: 4 })).toEqual({ C: 8 });
    const refused = await c.call('Mul', { A: 2, B: 5 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as Error).message).toBe('request reached rate limit');
    expect(arith.calls).toBe(2);
  } finally {
    await c.close();
    await server.close();
  }
});

test('clientRateLimit with block waits for a token, and stops waiting when the call is aborted', async () => {
  const { server, key } = await serve();
  const c = client(key, { interceptors: [clientRateLimit({ rate: 1, periodMs: HOUR, burst: 1, block: true, maxWaitMs: HOUR })] });
  try {
    await c.call('Mul', { A: 1, B: 1 });
    const abort = new AbortController();
    const waiting = c.call('Mul', { A: 1, B: 1 }, { signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(await waiting).toBeInstanceOf(AbortError);
  } finally {
    await c.close();
    await server.close();
  }
  const fast = await serve();
  const c2 = client(fast.key, { interceptors: [clientRateLimit({ rate: 20, burst: 1, block: true })] });
  try {
    expect(await Promise.all([1, 2, 3].map((a) => c2.call('Mul', { A: a, B: 2 })))).toEqual([{ C: 2 }, { C: 4 }, { C: 6 }]);
  } finally {
    await c2.close();
    await fast.server.close();
  }
});

/** Resolves once `check()` holds; fails the test after 10 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !check(); ) {
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('concurrencyLimit: past maxInFlight to one server a call fails at once, or waits for a slot with maxWaitMs', async () => {
  const { server, arith, key } = await serve();
  const c = client(key, { interceptors: [concurrencyLimit({ maxInFlight: 2 })] });
  const w = client(key, { interceptors: [concurrencyLimit({ maxInFlight: 1, maxWaitMs: 10_000 })] });
  try {
    const slow = [c.call('Slow', { A: 1 }), c.call('Slow', { A: 2 })];
    const third = await c.call('Mul', { A: 1, B: 1 }).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(ConcurrencyLimitError);
    expect((third as ConcurrencyLimitError).message).toBe(`too many calls in flight to ${key}: the limit is 2`);
    // The waiting client: its second call starts only when the first has finished.
    const first = w.call('Slow', { A: 3 });
    const second = w.call('Mul', { A: 2, B: 2 });
    await until(() => arith.calls === 3, "three Slow calls at the server");
    await new Promise((r) => setTimeout(r, 50));
    expect(arith.calls).toBe(3); // w's Mul still waits for w's Slow
    arith._open();
    expect(await Promise.all([...slow, first, second])).toEqual([{ C: 1 }, { C: 2 }, { C: 3 }, { C: 4 }]);
    // Slots are given back: the first client has both again.
    expect(await Promise.all([c.call('Mul', { A: 1, B: 5 }), c.call('Mul', { A: 1, B: 6 })])).toEqual([{ C: 5 }, { C: 6 }]);
  } finally {
    await c.close();
    await w.close();
    await server.close();
  }
});

test('concurrencyLimit with Failover: a full server is passed over for another', async () => {
  const a = await serve();
  const b = await serve();
  // Picks a, then a again (full: the limit fails the attempt), then b.
  const picks = [a.key, a.key, b.key];
  const c = client(a.key, {
    failMode: FailMode.Failover,
    discovery: multipleServers([
      { key: a.key, value: '' },
      { key: b.key, value: '' },
    ]),
    selector: () => ({ select: () => picks.shift(), updateServers: () => undefined }),
    interceptors: [concurrencyLimit({ maxInFlight: 1 })],
  });
  try {
    const one = c.call('Slow', { A: 1 });
    await until(() => a.arith.calls === 1, 'the first call at server a');
    const two = c.call('Slow', { A: 2 });
    await until(() => b.arith.calls === 1, 'the second call at server b');
    expect([a.arith.calls, b.arith.calls, picks.length]).toEqual([1, 1, 0]);
    a.arith._open();
    b.arith._open();
    expect(await Promise.all([one, two])).toEqual([{ C: 1 }, { C: 2 }]);
  } finally {
    await c.close();
    await a.server.close();
    await b.server.close();
  }
});

/** A TCP port nothing listens on: dials to it are refused at once. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('retryBudget ends a retry storm: retries past the budget fail the call, with the last failure as cause', async () => {
  const port = await deadPort();
  let attempts = 0;
  const c = client(`tcp@127.0.0.1:${port}`, {
    failMode: FailMode.Failtry,
    retries: 5,
    interceptors: [
      // 2 retries per 10 s window, and none earned by first attempts.
      retryBudget({ ratio: 0, minRetriesPerSecond: 0.2, windowMs: 10_000 }),
      {
        attempts: (next) => (attempt) => {
          attempts++;
          return next(attempt);
        },
      },
    ],
  });
  try {
    const first = await c.call('Mul', { A: 1, B: 1 }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(first).toBeInstanceOf(RateLimitError);
    expect((first as Error).message).toBe('retry budget exhausted');
    expect((first as Error).cause).toBeInstanceOf(DialError);
    expect(attempts).toBe(3); // the first and two retries, not 6
    const second = await c.call('Mul', { A: 1, B: 1 }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(attempts).toBe(4); // no retry left in this window
  } finally {
    await c.close();
  }
});

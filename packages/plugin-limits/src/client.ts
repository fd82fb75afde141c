import {
  AbortError,
  ConcurrencyLimitError,
  ConfigError,
  RateLimitError,
  RetryBudgetExhaustedError,
  type ClientAttempt,
  type ClientCall,
  type ClientInterceptor,
  type ClientInterceptors,
} from '@rpcx/core';
import { KeyedBuckets, sleep, type Clock, type RateOptions } from './token-bucket.js';

export interface ClientRateLimitOptions extends RateOptions {
  /** One bucket for the client, or one per `servicePath.serviceMethod`. @default 'client' */
  by?: 'client' | 'method' | ((call: ClientCall) => string);
  /** Wait for a token (up to `maxWaitMs`, or until the call's signal fires) instead of failing at once. @default false */
  block?: boolean;
  /** Longest wait for a token when `block` is set. @default 1000 */
  maxWaitMs?: number;
  /** Most buckets kept with `by` other than 'client'. @default 10000 */
  maxKeys?: number;
  clock?: Clock;
}

/**
 * A client-side rate limit, as a call interceptor: each logical call takes a token before a
 * server is chosen; without one it fails with `RateLimitError` (`request reached rate limit`,
 * the text Go's client-side Redis limiter returns), which the fail modes never retry.
 */
export function clientRateLimit(options: ClientRateLimitOptions): ClientInterceptor {
  const { by = 'client', block = false, maxWaitMs = 1000, maxKeys = 10_000, clock } = options;
  const key: (call: ClientCall) => string =
    typeof by === 'function' ? by : by === 'method' ? (call) => `${call.servicePath}.${call.serviceMethod}` : () => '';
  if (typeof by !== 'function' && by !== 'client' && by !== 'method') {
    throw new ConfigError(`client rate limit: unknown key ${JSON.stringify(by)}: use 'client', 'method' or a function`);
  }
  const buckets = new KeyedBuckets(options, maxKeys, by !== 'client', clock);
  // Not an async function when it never waits: each async frame costs a promise and microtask turns per call.
  if (!block) return (next) => (call) => (buckets.bucket(key(call)).tryTake() ? next(call) : Promise.reject(new RateLimitError()));
  return (next) => async (call) => {
    const bucket = buckets.bucket(key(call));
    const waitMs = bucket.reserve(call.timeoutMs > 0 ? Math.min(maxWaitMs, call.timeoutMs) : maxWaitMs);
    if (waitMs < 0) throw new RateLimitError();
    if (waitMs > 0) {
      try {
        await sleep(waitMs, call.signal);
      } catch (reason) {
        bucket.release();
        throw new AbortError({ cause: reason });
      }
    }
    return next(call);
  };
}

export interface ConcurrencyLimitOptions {
  /** Most requests in flight to one server at a time (≥ 1). */
  maxInFlight: number;
  /**
   * How long a request may wait for a free slot; 0 fails it at once. Either way a request
   * that gets none fails with `ConcurrencyLimitError`, which Failover and Failtry retry
   * (Failover on another server). @default 0
   */
  maxWaitMs?: number;
}

/** One server's slots: how many are taken, and who waits for one (first come, first served). */
interface Slots {
  inFlight: number;
  waiting: (() => void)[];
}

/**
 * At most `maxInFlight` requests in flight to each server, as an attempt interceptor: the
 * count is per selected server (`attempt.server`), so a slow server cannot take all of a
 * client's calls.
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ClientInterceptors {
  const { maxInFlight, maxWaitMs = 0 } = options;
  if (!(maxInFlight >= 1)) throw new ConfigError(`concurrency limit: maxInFlight (${maxInFlight}) must be at least 1`);
  // Only servers with requests in flight or waiting have an entry: bounded by the servers in use.
  const servers = new Map<string, Slots>();

  const acquire = async (attempt: ClientAttempt): Promise<Slots> => {
    let slots = servers.get(attempt.server);
    if (!slots) servers.set(attempt.server, (slots = { inFlight: 0, waiting: [] }));
    if (slots.inFlight < maxInFlight) {
      slots.inFlight++;
      return slots;
    }
    if (maxWaitMs <= 0) throw new ConcurrencyLimitError(attempt.server, maxInFlight);
    if (attempt.signal?.aborted) throw new AbortError({ cause: attempt.signal.reason });
    const s = slots;
    await new Promise<void>((resolve, reject) => {
      const signal = attempt.signal;
      const give = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const leave = (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.waiting.splice(s.waiting.indexOf(give), 1);
        forget(attempt.server, s);
        reject(error);
      };
      const onAbort = () => leave(new AbortError({ cause: signal!.reason }));
      const timer = setTimeout(() => leave(new ConcurrencyLimitError(attempt.server, maxInFlight)), maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      s.waiting.push(give);
    });
    // The slot was handed over by `release` without being freed.
    return s;
  };

  const forget = (server: string, slots: Slots) => {
    if (slots.inFlight === 0 && slots.waiting.length === 0) servers.delete(server);
  };

  const release = (server: string, slots: Slots) => {
    const nextWaiter = slots.waiting.shift();
    if (nextWaiter) nextWaiter();
    else {
      slots.inFlight--;
      forget(server, slots);
    }
  };

  return {
    attempts: (next) => async (attempt) => {
      const slots = await acquire(attempt);
      try {
        return await next(attempt);
      } finally {
        release(attempt.server, slots);
      }
    },
  };
}

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt, over the window. @default 0.1 */
  ratio?: number;
  /** Retries allowed per second on top of the ratio, so that a quiet client can still retry. @default 10 */
  minRetriesPerSecond?: number;
  /** The window the counts cover, in ms. @default 10000 */
  windowMs?: number;
  clock?: Clock;
}

/** Counts over a sliding window of ten slices. */
class WindowCounter {
  private readonly slices = new Float64Array(10);
  private readonly sliceMs: number;
  private current = 0;
  private currentStart: number;

  constructor(
    windowMs: number,
    private readonly now: Clock,
  ) {
    this.sliceMs = windowMs / 10;
    this.currentStart = now();
  }

  private advance(): void {
    const now = this.now();
    let steps = Math.floor((now - this.currentStart) / this.sliceMs);
    if (steps <= 0) return;
    this.currentStart += steps * this.sliceMs;
    for (steps = Math.min(steps, 10); steps > 0; steps--) {
      this.current = (this.current + 1) % 10;
      this.slices[this.current] = 0;
    }
  }

  add(): void {
    this.advance();
    this.slices[this.current]++;
  }

  total(): number {
    this.advance();
    let sum = 0;
    for (const n of this.slices) sum += n;
    return sum;
  }
}

const LAST_ERROR = Symbol('retry-budget.last-error');

/**
 * A retry budget (as in Finagle and gRPC): over the last `windowMs`, retries and backup
 * requests may be at most `ratio` × first attempts + `minRetriesPerSecond` × the window in
 * seconds. Past that, a retry fails the call with `RetryBudgetExhaustedError` (its `cause`:
 * the failure it would have retried) instead of adding load to servers already failing.
 * An attempt interceptor: it counts every retry of Failover / Failtry and Failbackup's backup.
 */
export function retryBudget(options: RetryBudgetOptions = {}): ClientInterceptors {
  const { ratio = 0.1, minRetriesPerSecond = 10, windowMs = 10_000, clock = () => performance.now() } = options;
  if (!(ratio >= 0) || !(minRetriesPerSecond >= 0) || !(windowMs > 0)) {
    throw new ConfigError('retry budget: ratio and minRetriesPerSecond must be ≥ 0, windowMs > 0');
  }
  const firsts = new WindowCounter(windowMs, clock);
  const retries = new WindowCounter(windowMs, clock);
  const floor = (minRetriesPerSecond * windowMs) / 1000;
  return {
    attempts: (next) => async (attempt) => {
      if (attempt.attempt <= 1) firsts.add();
      else {
        if (retries.total() + 1 > ratio * firsts.total() + floor) {
          throw new RetryBudgetExhaustedError({ cause: attempt.call.values.get(LAST_ERROR) });
        }
        retries.add();
      }
      try {
        return await next(attempt);
      } catch (err) {
        attempt.call.values.set(LAST_ERROR, err);
        throw err;
      }
    },
  };
}

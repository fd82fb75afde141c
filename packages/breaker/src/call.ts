import { BreakerOpenError, BreakerTimeoutError, type Breaker } from '@rpcx/core';

export interface CallOptions {
  /**
   * Whether an error counts against the server. Default: every error does (Go). Return false
   * for errors that say nothing about the server's health, e.g. a `ServiceError` from your
   * own validation; those are reported as successes.
   */
  isFailure?: (error: unknown) => boolean;
}

// Passed to fn when there is no timeout: a signal that never aborts.
const NEVER = new AbortController().signal;

/**
 * Go's `Breaker.Call(fn, d)`: rejects with `BreakerOpenError` ("breaker open") without
 * running `fn` when the breaker is not ready; otherwise runs `fn`, with a time limit when
 * `timeoutMs > 0` (then `TimeoutError` "breaker time out"), and reports the outcome:
 * success → `breaker.success()`, error or timeout → `breaker.fail()`.
 *
 * Unlike Go, `fn` receives an AbortSignal that aborts on the timeout, so the work can stop
 * instead of running on unobserved. A result arriving after the timeout is dropped.
 */
export async function callWithBreaker<T>(
  breaker: Breaker,
  fn: (signal: AbortSignal) => T | Promise<T>,
  timeoutMs = 0,
  options: CallOptions = {},
): Promise<T> {
  if (!breaker.ready()) throw new BreakerOpenError();
  const isFailure = options.isFailure ?? (() => true);
  let result: T;
  try {
    result = timeoutMs > 0 ? await withTimeout(fn, timeoutMs) : await fn(NEVER);
  } catch (err) {
    if (isFailure(err)) breaker.fail();
    else breaker.success();
    throw err;
  }
  breaker.success();
  return result;
}

function withTimeout<T>(fn: (signal: AbortSignal) => T | Promise<T>, timeoutMs: number): Promise<T> {
  const ac = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new BreakerTimeoutError();
      ac.abort(err);
      reject(err);
    }, timeoutMs);
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn(ac.signal));
    } catch (err) {
      pending = Promise.reject(err);
    }
    // After a timeout the promise is already settled; a late outcome is ignored here.
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

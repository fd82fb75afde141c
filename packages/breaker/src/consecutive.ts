import { ConfigError, type Breaker } from '@rpcx/core';

export interface ConsecutiveBreakerOptions {
  /** Failures within the window that open the breaker. Go `failureThreshold`. */
  failureThreshold: number;
  /** Ms after the last failure at which the breaker forgets all failures. Go `window`. */
  windowMs: number;
  /** Clock in ms. Default `performance.now` (monotonic). Inject a fake one in tests. */
  now?: () => number;
}

/** A consecutive-failures breaker with a readable state, for logs and tests. */
export interface ConsecutiveBreaker extends Breaker {
  /** Failures counted since the last reset. */
  failures(): number;
}

/**
 * Go's `ConsecCircuitBreaker(failureThreshold, window)`, with its exact semantics:
 * - `ready()`: if more than `windowMs` passed since the last failure (or since the last reset),
 *   reset (failures = 0, last = now) and return true; otherwise `failures < failureThreshold`.
 * - `fail()`: failures + 1, last failure = now.
 * - `success()`: reset.
 *
 * There is no half-open state: once the window has passed after the last failure, the
 * breaker is fully closed again and needs `failureThreshold` new failures to open.
 */
export function consecutiveBreaker(options: ConsecutiveBreakerOptions): ConsecutiveBreaker {
  const { failureThreshold, windowMs } = options;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 0) {
    throw new ConfigError('consecutiveBreaker: failureThreshold must be an integer ≥ 0');
  }
  if (!(windowMs >= 0)) throw new ConfigError('consecutiveBreaker: windowMs must be ≥ 0');
  const now = options.now ?? (() => performance.now());
  let failures = 0;
  // Go starts at the Unix epoch, i.e. "long ago": the first ready() resets and passes.
  let lastFailure = -Infinity;
  const reset = (): void => {
    failures = 0;
    lastFailure = now();
  };
  return {
    ready(): boolean {
      if (now() - lastFailure > windowMs) {
        reset();
        return true;
      }
      return failures < failureThreshold;
    },
    success(): void {
      reset();
    },
    fail(): void {
      failures++;
      lastFailure = now();
    },
    failures(): number {
      return failures;
    },
  };
}

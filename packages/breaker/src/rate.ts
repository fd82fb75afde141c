import { ConfigError, type Breaker } from '@rpcx/core';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface RateBreakerOptions {
  /** Failure ratio (0 < r ≤ 1) over the window at or above which the breaker opens. Default 0.5. */
  failureRate?: number;
  /** Outcomes the window must hold before the rate is judged. Default 20. */
  minSamples?: number;
  /** Length of the rolling window in ms. Default 10000. */
  windowMs?: number;
  /** Slots the window is divided into; outcomes leave it one slot at a time. Default 10. */
  buckets?: number;
  /** How long the breaker stays open before letting probes through, in ms. Default 5000. */
  openMs?: number;
  /** Trial calls let through while half-open; all must succeed to close. Default 1. */
  halfOpenProbes?: number;
  /** Clock in ms. Default `performance.now` (monotonic). Inject a fake one in tests. */
  now?: () => number;
  /** Called on every state change (for logs and metrics). */
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

/** A failure-rate breaker with a readable state. */
export interface RateBreaker extends Breaker {
  /** The current state, after applying any time-based transition (open → half-open). */
  state(): BreakerState;
}

/**
 * A failure-rate breaker with half-open probing (the model of the rubyist/circuitbreaker
 * `RateBreaker` that Go rpcx offers as `client.CircuitBreaker`, with a fixed open time):
 *
 * - **closed**: every call passes. Outcomes go into a rolling window of `buckets` slots
 *   covering `windowMs`. When a failure leaves the window with at least `minSamples`
 *   outcomes and a failure ratio ≥ `failureRate`, the breaker opens.
 * - **open**: `ready()` is false for `openMs`, then the breaker turns half-open.
 * - **half-open**: `ready()` admits `halfOpenProbes` calls in total. When that many successes
 *   are reported it closes with an empty window; the first failure re-opens it for `openMs`.
 *   Probes whose outcome never comes are given up after `openMs`, and new ones admitted,
 *   so a lost report cannot wedge the breaker.
 *
 * Outcomes reported while open belong to calls admitted before it opened and are ignored.
 */
export function rateBreaker(options: RateBreakerOptions = {}): RateBreaker {
  const failureRate = options.failureRate ?? 0.5;
  const minSamples = options.minSamples ?? 20;
  const windowMs = options.windowMs ?? 10000;
  const buckets = options.buckets ?? 10;
  const openMs = options.openMs ?? 5000;
  const halfOpenProbes = options.halfOpenProbes ?? 1;
  const now = options.now ?? (() => performance.now());
  const onStateChange = options.onStateChange;
  if (!(failureRate > 0 && failureRate <= 1)) throw new ConfigError('rateBreaker: failureRate must be in (0, 1]');
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new ConfigError('rateBreaker: minSamples must be an integer ≥ 1');
  if (!(windowMs > 0)) throw new ConfigError('rateBreaker: windowMs must be > 0');
  if (!Number.isInteger(buckets) || buckets < 1) throw new ConfigError('rateBreaker: buckets must be an integer ≥ 1');
  if (!(openMs >= 0)) throw new ConfigError('rateBreaker: openMs must be ≥ 0');
  if (!Number.isInteger(halfOpenProbes) || halfOpenProbes < 1) {
    throw new ConfigError('rateBreaker: halfOpenProbes must be an integer ≥ 1');
  }

  const bucketMs = windowMs / buckets;
  // Slot i holds the outcomes of bucket number slotEpoch[i] (= floor(time / bucketMs)).
  const slotEpoch = new Float64Array(buckets).fill(-Infinity);
  const slotOk = new Float64Array(buckets);
  const slotFail = new Float64Array(buckets);

  let state: BreakerState = 'closed';
  let since = 0; // when the current open / half-open period started
  let admitted = 0; // probes admitted in this half-open period
  let succeeded = 0; // probes that succeeded in it

  const setState = (to: BreakerState, t: number): void => {
    const from = state;
    state = to;
    since = t;
    admitted = 0;
    succeeded = 0;
    if (to === 'closed') {
      slotEpoch.fill(-Infinity);
      slotOk.fill(0);
      slotFail.fill(0);
    }
    if (from !== to) onStateChange?.(from, to);
  };

  const record = (t: number, ok: boolean): void => {
    const epoch = Math.floor(t / bucketMs);
    const slot = ((epoch % buckets) + buckets) % buckets;
    if (slotEpoch[slot] !== epoch) {
      slotEpoch[slot] = epoch;
      slotOk[slot] = 0;
      slotFail[slot] = 0;
    }
    if (ok) slotOk[slot]++;
    else slotFail[slot]++;
  };

  const shouldTrip = (t: number): boolean => {
    const epoch = Math.floor(t / bucketMs);
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < buckets; i++) {
      if (slotEpoch[i] > epoch - buckets) {
        ok += slotOk[i];
        failed += slotFail[i];
      }
    }
    const total = ok + failed;
    return total >= minSamples && failed / total >= failureRate;
  };

  // open → half-open once openMs has passed.
  const advance = (t: number): void => {
    if (state === 'open' && t - since >= openMs) setState('half-open', t);
  };

  return {
    ready(): boolean {
      const t = now();
      advance(t);
      if (state === 'closed') return true;
      if (state === 'open') return false;
      if (admitted >= halfOpenProbes && t - since >= openMs) {
        // The admitted probes never reported: start a fresh set.
        since = t;
        admitted = 0;
        succeeded = 0;
      }
      if (admitted < halfOpenProbes) {
        admitted++;
        return true;
      }
      return false;
    },
    success(): void {
      const t = now();
      advance(t);
      if (state === 'closed') record(t, true);
      else if (state === 'half-open' && succeeded < admitted) {
        // Only admitted probes count: a late success from before the breaker opened proves little.
        if (++succeeded >= halfOpenProbes) setState('closed', t);
      }
    },
    fail(): void {
      const t = now();
      advance(t);
      if (state === 'closed') {
        record(t, false);
        if (shouldTrip(t)) setState('open', t);
      } else if (state === 'half-open') {
        setState('open', t);
      }
    },
    state(): BreakerState {
      advance(now());
      return state;
    },
  };
}

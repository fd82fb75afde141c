import { ConfigError } from '@rpcx/core';

/** A rate: `rate` events per `periodMs`, with up to `burst` at once. */
export interface RateOptions {
  /** Events allowed per period (> 0). */
  rate: number;
  /** The period in milliseconds. @default 1000 */
  periodMs?: number;
  /** Events allowed at once after a quiet spell: the bucket's capacity (≥ 1). @default rate */
  burst?: number;
}

/** Milliseconds from a monotonic clock; replaceable for tests. */
export type Clock = () => number;

const monotonic: Clock = () => performance.now();

/**
 * A token bucket: it holds up to `burst` tokens, gains `rate / periodMs` per millisecond and
 * starts full. It refills lazily when asked, so an idle bucket costs nothing. Go rpcx's
 * plugins use juju/ratelimit's bucket, which adds one token per fill interval:
 * `NewBucket(fillInterval, capacity)` is `{ rate: 1, periodMs: fillInterval, burst: capacity }`.
 */
export class TokenBucket {
  readonly capacity: number;
  /** Tokens gained per millisecond. */
  private readonly perMs: number;
  /** May go below 0: tokens reserved by callers that wait for them. */
  private tokens: number;
  private last: number;

  constructor(
    options: RateOptions,
    private readonly now: Clock = monotonic,
  ) {
    const { rate, periodMs = 1000, burst = rate } = options;
    if (!(rate > 0) || !(periodMs > 0) || !Number.isFinite(rate / periodMs)) {
      throw new ConfigError(`rate limit: rate (${rate}) and periodMs (${periodMs}) must be positive`);
    }
    if (!(burst >= 1)) throw new ConfigError(`rate limit: burst (${burst}) must be at least 1`);
    this.capacity = burst;
    this.perMs = rate / periodMs;
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }

  /** Take a token if one is there now (juju's `TakeAvailable(1)`). */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Reserve a token: resolves how many milliseconds to wait for it (0: take it now), or -1
   * when that would be longer than `maxWaitMs`, and then nothing is taken. Reservations are
   * served in order, so waiting callers are served first come, first served.
   */
  reserve(maxWaitMs: number): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    const waitMs = (1 - this.tokens) / this.perMs;
    if (waitMs > maxWaitMs) return -1;
    this.tokens -= 1;
    return waitMs;
  }

  /** Give back a reserved token whose caller gave up waiting. */
  release(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }
}

/**
 * A map that keeps at most `maxKeys` entries, dropping the least recently used one to make
 * room: per-client and per-method limiters cannot be grown without bound by made-up names.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly maxKeys: number) {
    if (!(maxKeys >= 1)) throw new ConfigError(`maxKeys (${maxKeys}) must be at least 1`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, made by `create` when absent; either way it becomes the most recent. */
  get(key: K, create: () => V): V {
    let value = this.map.get(key);
    if (value !== undefined) {
      // Re-inserting moves it to the end of Map's insertion order.
      this.map.delete(key);
    } else {
      value = create();
      if (this.map.size >= this.maxKeys) this.map.delete(this.map.keys().next().value as K);
    }
    this.map.set(key, value);
    return value;
  }
}

/**
 * The buckets of a limit: one per key (a client's address, a method), at most `maxKeys` of
 * them, or a single one when the key is always the same (`keyed` false: no map per call).
 */
export class KeyedBuckets {
  private readonly buckets: BoundedMap<string, TokenBucket> | undefined;
  /** The only bucket when not keyed; checks the rate at construction either way. */
  private readonly single: TokenBucket;

  constructor(
    private readonly rate: RateOptions,
    maxKeys: number,
    keyed: boolean,
    private readonly now?: Clock,
  ) {
    this.single = new TokenBucket(rate, now);
    this.buckets = keyed ? new BoundedMap(maxKeys) : undefined;
  }

  bucket(key: string): TokenBucket {
    return this.buckets ? this.buckets.get(key, () => new TokenBucket(this.rate, this.now)) : this.single;
  }
}

/** Resolves after `ms`, or rejects with the signal's abort when it fires first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

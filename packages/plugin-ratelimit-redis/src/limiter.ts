import { Redis, type Cluster } from 'ioredis';
import {
  ConfigError,
  RateLimitError,
  RateLimitStoreError,
  type ClientCall,
  type ClientInterceptor,
  type Logger,
  type ServerCall,
  type ServerInterceptor,
} from '@rpcx/core';
import { GCRA_SCRIPT, GCRA_SHA1, parseGcraReply, type GcraResult } from './gcra.js';

export interface RedisRateLimitOptions {
  /**
   * Redis: `host:port`, or an ioredis `Redis` / `Cluster` you made (TLS, auth, a cluster) and
   * close yourself. A Go server's `RedisRateLimitingPlugin` takes a cluster's addresses; point
   * both at the same Redis. @default '127.0.0.1:6379'
   */
  redis?: string | Redis | Cluster;
  /** Requests allowed per period (redis_rate `Limit.Rate`). */
  rate: number;
  /** Requests allowed at once (redis_rate `Limit.Burst`). @default rate */
  burst?: number;
  /** The period in ms (redis_rate `Limit.Period`). @default 1000 */
  periodMs?: number;
  /** Prefix of every key, as redis_rate's. @default 'rate:' */
  keyPrefix?: string;
  /**
   * Deadline of each Redis call in ms: past it the call counts as a Redis failure, so a slow
   * or frozen Redis never holds a request longer than this. @default 200
   */
  timeoutMs?: number;
  /**
   * What a request gets when Redis fails or misses the deadline: `'allow'` lets it through
   * (fail open: the limit is off while Redis is away), `'reject'` refuses it with
   * `RateLimitError` whose `cause` is a `RateLimitStoreError` (fail closed). Either way a
   * warning is logged (at most one per 10 s). @default 'allow'
   */
  onRedisError?: 'allow' | 'reject';
  /** Where the warnings go. @default console */
  logger?: Pick<Logger, 'warn'>;
}

const WARN_EVERY_MS = 10_000;

/**
 * A rate limit kept in Redis and shared by every server (or client) that uses the same key,
 * Go or TypeScript: go-redis/redis_rate's GCRA with its keys (`rate:` + key). Go rpcx's
 * `RedisRateLimitingPlugin(addrs, rate, burst, period)` keys by `servicePath/serviceMethod`,
 * as `serverInterceptor()` does by default.
 */
export class RedisRateLimiter {
  private readonly redis: Redis | Cluster;
  private readonly ownsRedis: boolean;
  private readonly args: string[];
  private readonly keyPrefix: string;
  private readonly timeoutMs: number;
  private readonly failOpen: boolean;
  private readonly logger: Pick<Logger, 'warn'>;
  private lastWarning = -Infinity;
  private everReady = false;
  private readonly firstReady: Promise<void>;
  private quietFailures = 0;
  /** Redis failures so far (each answered as `onRedisError` says). */
  storeErrors = 0;

  constructor(options: RedisRateLimitOptions) {
    const { rate, periodMs = 1000, burst = rate, keyPrefix = 'rate:', timeoutMs = 200, onRedisError = 'allow' } = options;
    if (!(rate > 0) || !(periodMs > 0) || !(burst >= 1)) {
      throw new ConfigError(`redis rate limit: rate (${rate}) and periodMs (${periodMs}) must be positive, burst (${burst}) at least 1`);
    }
    if (onRedisError !== 'allow' && onRedisError !== 'reject') {
      throw new ConfigError(`redis rate limit: onRedisError must be 'allow' or 'reject', not ${JSON.stringify(onRedisError)}`);
    }
    if (!(timeoutMs > 0)) throw new ConfigError(`redis rate limit: timeoutMs (${timeoutMs}) must be positive`);
    // ARGV as redis_rate sends them: burst, rate, period in seconds, cost.
    this.args = [String(burst), String(rate), String(periodMs / 1000), '1'];
    this.keyPrefix = keyPrefix;
    this.timeoutMs = timeoutMs;
    this.failOpen = onRedisError === 'allow';
    this.logger = options.logger ?? console;
    const redis = options.redis ?? '127.0.0.1:6379';
    this.ownsRedis = typeof redis === 'string';
    this.redis = typeof redis === 'string' ? connect(redis, timeoutMs) : redis;
    // One listener however many calls wait: resolved on the first 'ready'.
    this.firstReady = new Promise((resolve) =>
      this.redis.once('ready', () => {
        this.everReady = true;
        resolve();
      }),
    );
  }

  /**
   * Take one request from `key`'s limit. Rejects with `RateLimitStoreError` when Redis fails
   * or misses the deadline; never waits longer than `timeoutMs`.
   */
  async take(key: string): Promise<GcraResult> {
    const fullKey = this.keyPrefix + key;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RateLimitStoreError(`redis rate limit: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return parseGcraReply(await Promise.race([this.connected().then(() => this.run(fullKey)), deadline]));
    } catch (err) {
      if (err instanceof RateLimitStoreError) throw err;
      throw new RateLimitStoreError(`redis rate limit: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Until the connection made here is first up, calls wait for it (within their deadline)
   * rather than fail: a server that starts with its limiter is not failing open (or closed)
   * for its first few requests. Later, while Redis is away, calls fail at once.
   */
  private connected(): Promise<void> {
    return this.everReady || !this.ownsRedis ? Promise.resolve() : this.firstReady;
  }

  /** EVALSHA, loading the script with EVAL the first time a Redis has not seen it. */
  private async run(key: string): Promise<unknown> {
    const redis = this.redis as Redis;
    try {
      return await redis.evalsha(GCRA_SHA1, 1, key, ...this.args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return redis.eval(GCRA_SCRIPT, 1, key, ...this.args);
    }
  }

  /** Whether a request under `key` may go ahead; Redis failures answered as `onRedisError` says. */
  async check(key: string): Promise<void> {
    let result: GcraResult;
    try {
      result = await this.take(key);
    } catch (err) {
      this.storeFailed(err as RateLimitStoreError);
      if (this.failOpen) return;
      throw new RateLimitError(undefined, { cause: err });
    }
    if (!result.allowed) throw new RateLimitError();
  }

  private storeFailed(error: RateLimitStoreError): void {
    this.storeErrors++;
    const now = performance.now();
    if (now - this.lastWarning < WARN_EVERY_MS) {
      this.quietFailures++;
      return;
    }
    const more = this.quietFailures > 0 ? ` (and ${this.quietFailures} more since the last warning)` : '';
    this.lastWarning = now;
    this.quietFailures = 0;
    this.logger.warn(`rpcx: ${error.message}${more}; requests are ${this.failOpen ? 'let through (fail open)' : 'refused (fail closed)'}`);
  }

  /**
   * A server interceptor: each call takes one request from its key's limit, and fails with
   * Go's `request reached rate limit` past it. The key is Go's, `servicePath/serviceMethod`,
   * unless `key` says otherwise.
   */
  serverInterceptor(key: (call: ServerCall) => string = (call) => `${call.servicePath}/${call.serviceMethod}`): ServerInterceptor {
    return (next) => async (call) => {
      await this.check(key(call));
      return next(call);
    };
  }

  /**
   * A client call interceptor (Go's client-side `RedisRateLimitingPlugin`, a PreCall hook):
   * the same keys, so clients and servers can share one limit too.
   */
  clientInterceptor(key: (call: ClientCall) => string = (call) => `${call.servicePath}/${call.serviceMethod}`): ClientInterceptor {
    return (next) => async (call) => {
      await this.check(key(call));
      return next(call);
    };
  }

  /** Resolves once the Redis connection made here is up (Redis given by you: at once). */
  async ready(): Promise<void> {
    if (!this.ownsRedis || this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new RateLimitStoreError(`redis rate limit: not connected within ${10 * this.timeoutMs} ms`)), 10 * this.timeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      this.redis.on('ready', onReady);
    });
  }

  /** Closes the Redis connection made here; one you passed in is left to you. */
  async close(): Promise<void> {
    if (this.ownsRedis) this.redis.disconnect();
  }
}

/**
 * A connection that never queues commands while Redis is away (each fails at once, and the
 * limiter answers as `onRedisError` says) and reconnects every 50 to 500 ms.
 */
function connect(address: string, timeoutMs: number): Redis {
  const colon = address.lastIndexOf(':');
  const host = (colon > 0 ? address.slice(0, colon) : address).replace(/^\[(.*)\]$/, '$1');
  const port = colon > 0 ? Number(address.slice(colon + 1)) : 6379;
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new ConfigError(`redis rate limit: bad address ${address}`);
  const redis = new Redis({
    host,
    port,
    connectTimeout: Math.max(1000, timeoutMs),
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // close() ends the socket; one to a frozen Redis is destroyed after this instead of 2 s.
    disconnectTimeout: 200,
    retryStrategy: (times) => Math.min(times * 50, 500),
  });
  // Failures reach the callers; without a listener ioredis would print each reconnect error.
  redis.on('error', () => undefined);
  return redis;
}

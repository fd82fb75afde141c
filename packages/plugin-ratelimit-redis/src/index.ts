/**
 * A rate limit shared through Redis by Go and TypeScript rpcx servers and clients:
 * go-redis/redis_rate v10's GCRA and keys, as Go rpcx's `RedisRateLimitingPlugin` uses them.
 *
 * @packageDocumentation
 * @module @rpcx/plugin-ratelimit-redis
 */
export { RedisRateLimiter, type RedisRateLimitOptions } from './limiter.js';
export { GCRA_SCRIPT, type GcraResult } from './gcra.js';

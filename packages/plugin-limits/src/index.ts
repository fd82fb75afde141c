/**
 * Local limits for `@rpcx` servers and clients: request and connection rate limits (Go rpcx's
 * `ReqRateLimitingPlugin` and `RateLimitingPlugin`), per server, per method or per client;
 * and on the client a rate limit, a limit of requests in flight per server, and a retry
 * budget, all as interceptors.
 *
 * @packageDocumentation
 * @module @rpcx/plugin-limits
 */
export { TokenBucket, BoundedMap, type RateOptions, type Clock } from './token-bucket.js';
export {
  requestRateLimit,
  connectionRateLimit,
  type RequestRateLimitOptions,
  type RequestLimitKey,
  type ConnectionRateLimitOptions,
} from './server.js';
export {
  clientRateLimit,
  concurrencyLimit,
  retryBudget,
  type ClientRateLimitOptions,
  type ConcurrencyLimitOptions,
  type RetryBudgetOptions,
} from './client.js';

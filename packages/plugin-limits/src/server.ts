import {
  ConnectionRateLimitError,
  ConfigError,
  RateLimitError,
  type Connection,
  type ServerCall,
  type ServerInterceptor,
  type ServerPlugin,
} from '@rpcx/core';
import { clientHost } from './host.js';
import { KeyedBuckets, sleep, type Clock, type RateOptions } from './token-bucket.js';

/**
 * Whose calls share one bucket: the whole server, each `servicePath.serviceMethod`, each
 * client host, or the key a function returns.
 */
export type RequestLimitKey = 'server' | 'method' | 'client' | ((call: ServerCall) => string);

export interface RequestRateLimitOptions extends RateOptions {
  /** Whose calls share a bucket. @default 'server' */
  by?: RequestLimitKey;
  /**
   * Wait for a token instead of refusing at once (Go's `block`), for up to `maxWaitMs`; a
   * call that would wait longer is refused at once. @default false
   */
  block?: boolean;
  /**
   * Longest wait for a token when `block` is set. A call also stops waiting when its own
   * deadline (`__ServerTimeout`) passes or its client goes. @default 1000
   */
  maxWaitMs?: number;
  /** Most buckets kept with `by` other than 'server'; the least recently used goes first. @default 10000 */
  maxKeys?: number;
  /** Clock in ms (tests). @default performance.now */
  clock?: Clock;
}

function keyOf(by: RequestLimitKey): (call: ServerCall) => string {
  if (typeof by === 'function') return by;
  switch (by) {
    case 'server':
      return () => '';
    case 'method':
      return (call) => `${call.servicePath}.${call.serviceMethod}`;
    case 'client':
      return (call) => clientHost(call.remoteAddress);
    default:
      throw new ConfigError(`rate limit: unknown key ${JSON.stringify(by)}: use 'server', 'method', 'client' or a function`);
  }
}

/**
 * A request rate limit, as a server interceptor: every call that comes in (rpcx, the HTTP
 * gateway, JSON-RPC) takes a token, and a call without one fails with Go's
 * `request reached rate limit` (`RateLimitError`; a Go client gets it as a ServiceError with
 * that text). Go's `ReqRateLimitingPlugin(fillInterval, capacity, block)` is
 * `requestRateLimit({ rate: 1, periodMs: fillInterval, burst: capacity, block })`.
 *
 * ```ts
 * new Server({ ..., interceptors: [requestRateLimit({ rate: 1000 }), requestRateLimit({ rate: 50, by: 'client' })] });
 * ```
 */
export function requestRateLimit(options: RequestRateLimitOptions): ServerInterceptor {
  const { by = 'server', block = false, maxWaitMs = 1000, maxKeys = 10_000, clock } = options;
  const key = keyOf(by);
  const buckets = new KeyedBuckets(options, maxKeys, by !== 'server', clock);
  // Not an async function when it never waits: each async frame costs a promise and microtask turns per call.
  if (!block) return (next) => (call) => (buckets.bucket(key(call)).tryTake() ? next(call) : Promise.reject(new RateLimitError()));
  return (next) => async (call) => {
    const bucket = buckets.bucket(key(call));
    const deadline = call.context.deadline;
    const limit = deadline === undefined ? maxWaitMs : Math.min(maxWaitMs, deadline - Date.now());
    const waitMs = bucket.reserve(limit);
    if (waitMs < 0) throw new RateLimitError();
    if (waitMs > 0) {
      try {
        await sleep(waitMs, call.context.signal);
      } catch (err) {
        bucket.release();
        throw new RateLimitError(undefined, { cause: err });
      }
    }
    return next(call);
  };
}

export interface ConnectionRateLimitOptions extends RateOptions {
  /** One bucket for the server, or one per client host. @default 'server' */
  by?: 'server' | 'client';
  /** Most client buckets kept with `by: 'client'`; the least recently used goes first. @default 10000 */
  maxKeys?: number;
  clock?: Clock;
}

/**
 * A limit on new connections, as a server plugin (Go's `RateLimitingPlugin`): each accepted
 * connection takes a token, and one without is closed at once, whatever protocol it was going
 * to speak. Go's `NewRateLimitingPlugin(fillInterval, capacity)` is
 * `connectionRateLimit({ rate: 1, periodMs: fillInterval, burst: capacity })`.
 */
export function connectionRateLimit(options: ConnectionRateLimitOptions): ServerPlugin {
  const { by = 'server', maxKeys = 10_000, clock } = options;
  if (by !== 'server' && by !== 'client') throw new ConfigError(`connection rate limit: unknown key ${JSON.stringify(by)}: use 'server' or 'client'`);
  const buckets = new KeyedBuckets(options, maxKeys, by === 'client', clock);
  return {
    name: 'connection-rate-limit',
    connAccept(connection: Connection) {
      const key = by === 'client' ? clientHost(connection.remoteAddress) : '';
      if (buckets.bucket(key).tryTake()) return true;
      connection.destroy(new ConnectionRateLimitError(connection.remoteAddress));
      return false;
    },
  };
}

import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, ConnectionError, TimeoutError } from '@rpcx/core';

/** How to reach Redis; shared by the register plugin and the discovery. */
export interface RedisConnectionOptions {
  /**
   * The server, `host:port` (Go takes one: libkv's Redis store refuses several).
   * Default `127.0.0.1:6379`.
   */
  address?: string;
  /** `AUTH` password (Go: `store.Config.Password`). Default: none. */
  password?: string;
  /** Database number (Go: `store.Config.Bucket`, parsed as a number). Default 0. */
  db?: number;
  /** Deadline of each request, and of connecting, in ms. Default 10000. */
  timeoutMs?: number;
  /** Extra ioredis options (TLS, username…) for the connections made here. */
  redisOptions?: Omit<RedisOptions, 'host' | 'port' | 'password' | 'db' | 'lazyConnect' | 'enableOfflineQueue'>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Reconnect delays: 50 ms growing to at most 500 ms, so a watch resumes within a second of
 * Redis coming back (ioredis' default waits up to 2 s).
 */
const retryStrategy = (times: number) => Math.min(times * 50, 500);

/**
 * An ioredis connection that fails fast while Redis is away, instead of queueing commands
 * until it is back (`enableOfflineQueue: false`): a request made while disconnected first
 * waits up to `timeoutMs` for the connection, then runs with that deadline.
 */
export function createRedis(options: RedisConnectionOptions): Redis {
  const address = options.address ?? '127.0.0.1:6379';
  const colon = address.lastIndexOf(':');
  const host = (colon > 0 ? address.slice(0, colon) : address).replace(/^\[(.*)\]$/, '$1');
  const port = colon > 0 ? Number(address.slice(colon + 1)) : 6379;
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new ConfigError(`redis: bad address ${address}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Redis({
    retryStrategy,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    ...options.redisOptions,
    host,
    port,
    password: options.password,
    db: options.db ?? 0,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
}

/** Resolve once `redis` is ready (connecting it if it never was); reject after `timeoutMs`. */
export async function ready(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'end') throw new ConnectionError('redis connection is closed');
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // errors arrive as events
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new ConnectionError('redis connection is closed'));
    const timer = setTimeout(() => done(new TimeoutError(`redis: not connected to ${redis.options.host}:${redis.options.port} within ${timeoutMs} ms`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
  });
}

/**
 * Go's libkv turns keyspace notifications on when it connects (`CONFIG SET
 * notify-keyspace-events KEA`); watches depend on them. Done after every (re)connect, since a
 * restarted Redis forgets it. A server that refuses `CONFIG` (a managed Redis) must have
 * them configured already; the refusal is returned for a warning.
 */
export async function enableKeyspaceEvents(redis: Redis): Promise<Error | undefined> {
  try {
    await redis.config('SET', 'notify-keyspace-events', 'KEA');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

import type { Redis } from 'ioredis';
import { ConfigError } from '@rpcx/core';
import { RegistryRegisterPlugin, decodeUtf8, withRates, type RegistryRegisterPluginOptions } from '@rpcx/registry-kit';
import { DEFAULT_TIMEOUT_MS, createRedis, enableKeyspaceEvents, ready, type RedisConnectionOptions } from './connection.js';
import { decodeEnvelope, encodeEnvelope, normalize } from './layout.js';

export interface RedisRegisterPluginOptions extends RedisConnectionOptions, RegistryRegisterPluginOptions {
  /**
   * Root of the registry, used as given, as Go does (`/rpcx_test` is stored under the Redis
   * key `//rpcx_test`; the discovery must spell it the same). Required.
   */
  basePath: string;
  /**
   * Every this many ms each node is re-read, given `calls`/`connections` rates and written
   * back with a fresh TTL, and re-created if it vanished. The node's TTL is twice this, as in
   * Go. `0` turns the refresh off and writes the node without a TTL: it then outlives a dead
   * server, as in Go. Default 60000.
   */
  updateIntervalMs?: number;
}

/**
 * Publishes this server's services in Redis with the layout of Go rpcx's `RedisRegisterPlugin`
 * (rpcxio/libkv's Redis store):
 *
 * - `/<basePath>` = `rpcx_path`, no TTL
 * - `/<basePath>/<service>` = the service name, no TTL
 * - `/<basePath>/<service>/<serviceAddress>` = the metadata, TTL 2 × `updateIntervalMs`
 *
 * Each Redis key is libkv's normalized key (`"/"` + the key) and each value libkv's JSON
 * `KVPair` (`{"Key":…,"Value":"<base64>","LastIndex":…}`). The TTL is refreshed by every
 * refresh tick; after a reconnect everything is written again, so a Redis that came back
 * empty is filled at once.
 */
export class RedisRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'redis-register';

  private readonly basePath: string;
  private readonly timeoutMs: number;
  private redis: Redis | undefined;

  constructor(private readonly options: RedisRegisterPluginOptions) {
    super('redis', options, 60_000);
    if (!options.basePath) throw new ConfigError('redis register plugin: basePath is required');
    this.basePath = options.basePath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The key (as Go passes it to libkv) of this server's node for `serviceName`. */
  nodeKey(serviceName: string): string {
    return `${this.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /** Connect, turn keyspace notifications on, write `<basePath>` (Go `Start`). */
  protected async open(epoch: number): Promise<void> {
    if (!this.redis) {
      const redis = createRedis(this.options);
      redis.on('error', () => undefined); // reported through failed requests and reconnects
      let connected = false;
      redis.on('ready', () => {
        void enableKeyspaceEvents(redis).then((error) => {
          if (error) this.logger.warn('redis: cannot turn keyspace notifications on (watches need them):', error.message);
        });
        // After a reconnect Redis may have lost everything (restarted without persistence).
        if (connected && this.redis === redis && this.services.size > 0) void this.recover(epoch);
        connected = true;
      });
      redis.on('reconnecting', () => {
        if (connected) this.logger.warn(`redis: disconnected from ${redis.options.host}:${redis.options.port}, reconnecting`);
      });
      this.redis = redis;
    }
    await this.serial(() => this.put(this.basePath, 'rpcx_path', 0));
  }

  protected async close(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    redis?.disconnect();
  }

  protected where(serviceName: string): string {
    return normalize(this.nodeKey(serviceName));
  }

  /** Go's Register: both dirs without a TTL, then the node with one. */
  protected async publish(serviceName: string, metadata: string): Promise<void> {
    await this.put(this.basePath, 'rpcx_path', 0);
    await this.put(`${this.basePath}/${serviceName}`, serviceName, 0);
    await this.put(this.nodeKey(serviceName), metadata, 2 * this.updateIntervalMs);
  }

  protected async remove(serviceName: string): Promise<void> {
    if (this.redis) await (await this.connection()).del(normalize(this.nodeKey(serviceName)));
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    const text = await (await this.connection()).get(normalize(this.nodeKey(serviceName)));
    if (text === null) return undefined;
    try {
      return decodeUtf8(decodeEnvelope(text).value) ?? '';
    } catch {
      return ''; // not libkv's format: written again, with our metadata's rates
    }
  }

  protected writeNode(serviceName: string, value: string): Promise<void> {
    return this.put(this.nodeKey(serviceName), value, 2 * this.updateIntervalMs);
  }

  /**
   * Go's tick rewrites every present node, which also renews its TTL: with `metrics: false`
   * the value is written back as it is, or the node would expire.
   */
  protected override async refreshAll(epoch: number, calls: number, connections: number): Promise<void> {
    for (const [name, metadata] of this.services) {
      if (epoch !== this.epoch) return;
      const current = await this.readNode(name);
      if (current === undefined) {
        this.logger.warn(`redis: ${this.where(name)} is missing, registering it again`);
        await this.publish(name, metadata);
      } else {
        await this.writeNode(name, this.metrics ? withRates(current, calls, connections) : current);
      }
    }
  }

  private async connection(): Promise<Redis> {
    const redis = this.redis;
    if (!redis) throw new ConfigError('redis register plugin is stopped');
    await ready(redis, this.timeoutMs);
    return redis;
  }

  /** libkv `Put`: SET the normalized key to the JSON envelope, with a TTL when `ttlMs` > 0. */
  private async put(key: string, value: string, ttlMs: number): Promise<void> {
    const redis = await this.connection();
    const envelope = encodeEnvelope(key, value);
    if (ttlMs > 0) await redis.set(normalize(key), envelope, 'PX', ttlMs);
    else await redis.set(normalize(key), envelope);
  }
}

/** A Redis register plugin for `server.use(...)`. */
export function redisRegisterPlugin(options: RedisRegisterPluginOptions): RedisRegisterPlugin {
  return new RedisRegisterPlugin(options);
}

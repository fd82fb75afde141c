import type { Redis } from 'ioredis';
import { RegistryDiscovery, RegistryKeyNotFoundError, servicesUnder, type RawEntry, type RegistryDiscoveryOptions } from '@rpcx/registry-kit';
import { DEFAULT_TIMEOUT_MS, createRedis, enableKeyspaceEvents, ready, type RedisConnectionOptions } from './connection.js';
import { decodeEnvelope, normalize, prefixPattern } from './layout.js';

export interface RedisDiscoveryOptions extends RedisConnectionOptions, RegistryDiscoveryOptions {
  /** The register plugin's basePath, spelled the same (libkv keys are literal). Required. */
  basePath: string;
  /** The service to find. Required. */
  servicePath: string;
  /**
   * When nothing at all is stored under `<basePath>/<servicePath>`, the first `getServices()`
   * resolves to `[]` instead of rejecting (Go's `NewRedisDiscovery` fails). Default false.
   */
  allowKeyNotFound?: boolean;
}

/** One command connection for a discovery and its clones; closed with the last of them. */
class SharedRedis {
  private refs = 1;
  private warned = false;
  constructor(readonly redis: Redis) {}

  static create(options: RedisDiscoveryOptions): SharedRedis {
    const redis = createRedis(options);
    const shared = new SharedRedis(redis);
    redis.on('error', () => undefined); // reported through failed listings
    // Every (re)connect: a restarted Redis has forgotten the notification setting.
    redis.on('ready', () => {
      void enableKeyspaceEvents(redis).then((error) => {
        if (error && !shared.warned) {
          shared.warned = true;
          options.logger?.warn('redis: cannot turn keyspace notifications on; they must be on (notify-keyspace-events KEA) for watches:', error.message);
        }
      });
    });
    return shared;
  }

  acquire(): SharedRedis {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.redis.disconnect();
  }
}

/**
 * Client-side discovery over Redis, reading the layout Go rpcx's Redis plugin writes (libkv):
 * every key under `/<basePath>/<servicePath>/` is a server, the rest of the key its
 * `network@address`, the value libkv's JSON `KVPair` whose base64 `Value` is the metadata.
 * It lists with `SCAN` + `MGET` and follows keyspace notifications on that prefix
 * (`PSUBSCRIBE __keyspace@<db>__:<prefix>*`), listing again on every event and after every
 * reconnect, as libkv's `WatchTree` does.
 *
 * While Redis is unreachable the last list is kept, never emptied.
 */
export class RedisDiscovery extends RegistryDiscovery {
  private readonly prefix: string;
  private readonly dirKey: string;
  private readonly baseKey: string;
  private readonly timeoutMs: number;
  private subscriber: Redis | undefined;
  /** Values that are not libkv envelopes, already warned about (key + text), once each. */
  private warnedValues = new Set<string>();

  constructor(
    private readonly options: RedisDiscoveryOptions,
    private readonly shared: SharedRedis = SharedRedis.create(options),
  ) {
    let dir = `${options.basePath}/${options.servicePath}`;
    // Go trims one trailing slash from the joined path.
    if (dir.length > 1 && dir.endsWith('/')) dir = dir.slice(0, -1);
    super('redis', `${normalize(dir)}/`, options);
    this.dirKey = normalize(dir);
    this.prefix = `${this.dirKey}/`;
    this.baseKey = normalize(options.basePath.length > 1 ? options.basePath.replace(/\/$/, '') : options.basePath);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  clone(servicePath: string): RedisDiscovery {
    return new RedisDiscovery({ ...this.options, servicePath }, this.shared.acquire());
  }

  protected onStart(): void {
    // Its own connection: a subscribed connection can run nothing else.
    const subscriber = this.shared.redis.duplicate();
    this.subscriber = subscriber;
    const pattern = `__keyspace@${this.options.db ?? 0}__:${prefixPattern(this.prefix)}`;
    const changed = () => void this.refresh().catch(() => undefined);
    subscriber.on('error', () => undefined);
    subscriber.on('pmessage', changed);
    let connected = false;
    subscriber.on('ready', () => {
      // Subscribed again (ioredis does it on reconnect too): list, since changes were missed.
      void subscriber.psubscribe(pattern).then(changed, (error: Error) => this.logger.warn(`redis: cannot watch ${this.prefix}:`, error.message));
      connected = true;
    });
    subscriber.on('reconnecting', () => {
      if (connected) this.logger.warn(`redis: watch of ${this.prefix} disconnected, reconnecting`);
    });
    subscriber.connect().catch(() => undefined); // retried by ioredis; failures show in listings
    if (!this.known) changed();
  }

  protected onClose(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.shared.release();
  }

  protected async list(): Promise<RawEntry[]> {
    const entries = (await this.read(this.prefix)).map(({ redisKey, value }) => ({ key: redisKey.slice(this.prefix.length), value, location: redisKey }));
    if (entries.length === 0 && this.known === undefined && !this.options.allowKeyNotFound) {
      // Only a service with no key at all is "not found": its dir key alone is an empty list.
      if ((await this.shared.redis.exists(this.dirKey)) === 0) throw new RegistryKeyNotFoundError(this.dirKey);
    }
    return entries;
  }

  /** Every key under `/<basePath>/`, grouped by service. */
  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const prefix = `${this.baseKey}/`;
    return servicesUnder(prefix, (await this.read(prefix)).map(({ redisKey, value }) => ({ key: redisKey, value })));
  }

  /**
   * `SCAN MATCH <prefix>*` + `MGET`: every key under `prefix` with its envelope's value. Keys
   * that expired in between are left out; values that are not libkv envelopes are skipped
   * with a warning (once per key and text).
   */
  private async read(prefix: string): Promise<{ redisKey: string; value: Buffer }[]> {
    const redis = this.shared.redis;
    await ready(redis, this.timeoutMs);
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 100);
      for (const key of batch) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
    const sorted = [...keys].sort();
    const values = sorted.length > 0 ? await redis.mget(...sorted) : [];
    const out: { redisKey: string; value: Buffer }[] = [];
    const warned = new Set<string>();
    sorted.forEach((redisKey, i) => {
      const text = values[i];
      if (text === null || text === undefined) return;
      try {
        out.push({ redisKey, value: decodeEnvelope(text).value });
      } catch (error) {
        const id = `${redisKey}\u0000${text}`;
        warned.add(id);
        if (!this.warnedValues.has(id)) this.logger.warn(`redis: skipping ${redisKey}: ${(error as Error).message}`);
      }
    });
    if (prefix === this.prefix) this.warnedValues = warned;
    return out;
  }
}

/** A Redis discovery for an xclient. Connects on first use. */
export function redisDiscovery(options: RedisDiscoveryOptions): RedisDiscovery {
  return new RedisDiscovery(options);
}

import type { Etcd3, Lease } from 'etcd3';
import { EtcdLeaseInvalidError } from 'etcd3';
import {
  ConfigError,
  parseServerKey,
  silentLogger,
  type Connection,
  type Logger,
  type RequestContext,
  type ServerPlugin,
  type Startable,
} from '@rpcx/core';
import { createEtcdClient, deadline, sleep, DEFAULT_TIMEOUT_MS, type EtcdConnectionOptions } from './client.js';
import { RateMeter, withRates } from './metrics.js';

export interface EtcdRegisterPluginOptions extends EtcdConnectionOptions {
  /** This server's key, `network@host:port`, e.g. `tcp@10.0.0.1:8972`. Required. */
  serviceAddress: string;
  /** Root of the registry, used verbatim (a leading `/` is kept, as in Go). Required. */
  basePath: string;
  /**
   * Every this many ms, each node is re-read, given `calls`/`connections` rates and written
   * back, and re-created if it vanished. `0` turns the refresh off. Default 60000 (a minute,
   * as in rpcx's examples).
   */
  updateIntervalMs?: number;
  /** TTL of the lease every key is attached to, in seconds (Go: 30). Default 30. */
  leaseTtlSeconds?: number;
  /** Add `calls` and `connections` rates on refresh (Go: when `Metrics` is set). Default true. */
  metrics?: boolean;
  /** Where warnings go. Default: silent. */
  logger?: Logger;
}

/**
 * Publishes this server's services in etcd v3 with the key layout of rpcx-etcd's
 * `EtcdV3RegisterPlugin`:
 *
 * - `<basePath>` = `rpcx_path`
 * - `<basePath>/<service>` = the service name
 * - `<basePath>/<service>/<serviceAddress>` = the metadata (URL query)
 *
 * All keys hang on one lease that is kept alive; if the process dies they vanish after the
 * lease TTL. If the lease is lost (etcd unreachable for too long, or revoked) a new one is
 * granted and every key written again.
 */
export class EtcdRegisterPlugin implements ServerPlugin, Startable {
  readonly name = 'etcd-register';

  private readonly serviceAddress: string;
  private readonly basePath: string;
  private readonly updateIntervalMs: number;
  private readonly ttl: number;
  private readonly timeoutMs: number;
  private readonly metrics: boolean;
  private readonly logger: Logger;

  /** Registered services: name → metadata as given to `register`. */
  private readonly services = new Map<string, string>();
  private client: Etcd3 | undefined;
  private lease: Lease | undefined;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private recovering = false;
  /** Bumped by stop(); background work from an older epoch quits. */
  private epoch = 0;
  /** Registry writes run one at a time so a refresh never races a register or unregister. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly calls = new RateMeter();
  private readonly connections = new RateMeter();

  constructor(private readonly options: EtcdRegisterPluginOptions) {
    if (!options.serviceAddress) throw new ConfigError('etcd register plugin: serviceAddress is required');
    parseServerKey(options.serviceAddress);
    if (!options.basePath) throw new ConfigError('etcd register plugin: basePath is required');
    this.serviceAddress = options.serviceAddress;
    this.basePath = options.basePath;
    this.updateIntervalMs = options.updateIntervalMs ?? 60_000;
    this.ttl = options.leaseTtlSeconds ?? 30;
    if (!Number.isInteger(this.ttl) || this.ttl < 1) throw new ConfigError('etcd register plugin: leaseTtlSeconds must be an integer >= 1');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.metrics = options.metrics ?? true;
    this.logger = options.logger ?? silentLogger;
  }

  /** The key this server's node for `serviceName` is stored at. */
  nodeKey(serviceName: string): string {
    return `${this.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /** The ID (decimal string) of the lease currently holding the keys, for diagnostics. */
  async leaseId(): Promise<string | undefined> {
    return this.lease && !this.lease.revoked() ? this.lease.grant() : undefined;
  }

  /** Connect, grant the lease and write `<basePath>`. Called by the server, or lazily. */
  start(): Promise<void> {
    this.starting ??= this.doStart().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const epoch = this.epoch;
    this.client ??= this.options.client ?? createEtcdClient(this.options);
    await this.serial(async () => {
      await this.ensureLease(epoch);
      await this.put(this.basePath, 'rpcx_path');
    });
    if (this.updateIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.refresh(epoch), this.updateIntervalMs);
      this.timer.unref();
    }
  }

  /** Remove this server's nodes, revoke the lease and disconnect (Go `Stop`). */
  async stop(): Promise<void> {
    this.epoch++;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const client = this.client;
    if (!client) return;
    await this.starting?.catch(() => undefined);
    await this.serial(async () => {
      await Promise.all(
        [...this.services.keys()].map((name) =>
          client
            .delete()
            .key(this.nodeKey(name))
            .options(deadline(this.timeoutMs))
            .exec()
            .catch((error: unknown) => this.logger.warn(`etcd: cannot delete ${this.nodeKey(name)}:`, error)),
        ),
      );
      this.services.clear();
      // Go lets the lease expire; revoking removes our `<basePath>` keys now rather than in TTL s.
      const lease = this.lease;
      this.lease = undefined;
      if (lease && !lease.revoked()) await lease.revoke(deadline(this.timeoutMs)).catch(() => lease.release());
    });
    if (!this.options.client) client.close();
    this.client = undefined;
    this.starting = undefined;
  }

  async register(serviceName: string, _service: unknown, metadata: string): Promise<void> {
    if (serviceName.trim() === '') throw new ConfigError("Register service `name` can't be empty");
    await this.start();
    const epoch = this.epoch;
    await this.serial(async () => {
      const previous = this.services.get(serviceName);
      this.services.set(serviceName, metadata);
      try {
        await this.withLeaseRetry(epoch, () => this.putService(serviceName, metadata));
      } catch (error) {
        if (previous === undefined) this.services.delete(serviceName);
        else this.services.set(serviceName, previous);
        throw error;
      }
    });
  }

  /** Go registers the function's service name with the same metadata. */
  registerFunction(serviceName: string, _methodName: string, fn: unknown, metadata: string): Promise<void> {
    return this.register(serviceName, fn, metadata);
  }

  async unregister(serviceName: string): Promise<void> {
    if (!this.services.has(serviceName)) return;
    const client = this.client;
    await this.serial(async () => {
      this.services.delete(serviceName);
      if (client) await client.delete().key(this.nodeKey(serviceName)).options(deadline(this.timeoutMs));
    });
  }

  connAccept(_connection: Connection): void {
    this.connections.mark();
  }

  preCall(_ctx: RequestContext, _serviceName: string, _methodName: string, args: unknown): unknown {
    this.calls.mark();
    return args;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private put(key: string, value: string): Promise<unknown> {
    const lease = this.lease;
    if (!lease) throw new EtcdLeaseInvalidError('none');
    return lease.put(key).value(value).options(deadline(this.timeoutMs)).exec();
  }

  /** The three keys of one service, in Go's order. */
  private async putService(name: string, metadata: string): Promise<void> {
    await this.put(this.basePath, 'rpcx_path');
    await this.put(`${this.basePath}/${name}`, name);
    await this.put(this.nodeKey(name), metadata);
  }

  /** Grant a lease if there is none alive. */
  private async ensureLease(epoch: number): Promise<Lease> {
    if (this.lease && !this.lease.revoked()) return this.lease;
    const client = this.client;
    if (!client || epoch !== this.epoch) throw new ConfigError('etcd register plugin is stopped');
    const lease = client.lease(this.ttl, { autoKeepAlive: true, ...deadline(this.timeoutMs) });
    lease.on('lost', (error: Error) => this.onLeaseLost(lease, epoch, error));
    await lease.grant();
    if (epoch !== this.epoch) {
      await lease.revoke().catch(() => undefined);
      throw new ConfigError('etcd register plugin is stopped');
    }
    this.lease = lease;
    return lease;
  }

  /** A put may find the lease gone on the server before keepalive noticed: grant and retry once. */
  private async withLeaseRetry(epoch: number, fn: () => Promise<void>): Promise<void> {
    await this.ensureLease(epoch);
    try {
      await fn();
    } catch (error) {
      if (!(error instanceof EtcdLeaseInvalidError)) throw error;
      this.lease?.release();
      this.lease = undefined;
      await this.ensureLease(epoch);
      await fn();
    }
  }

  private onLeaseLost(lease: Lease, epoch: number, error: Error): void {
    // Only the installed lease matters: one that failed its first grant is reported by start().
    if (epoch !== this.epoch || this.lease !== lease) return;
    this.logger.warn('etcd: lease lost, granting a new one and registering again:', error.message);
    this.lease = undefined;
    void this.recover(epoch);
  }

  /** Grant a new lease and write every key again, retrying until it works or we stop. */
  private async recover(epoch: number): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      let delay = 250;
      while (epoch === this.epoch) {
        try {
          await this.serial(async () => {
            if (epoch !== this.epoch) return;
            await this.withLeaseRetry(epoch, async () => {
              await this.put(this.basePath, 'rpcx_path');
              for (const [name, metadata] of this.services) await this.putService(name, metadata);
            });
          });
          if (epoch === this.epoch) this.logger.info(`etcd: registered again under lease ${await this.leaseId()}`);
          return;
        } catch (error) {
          if (epoch !== this.epoch) return;
          this.logger.warn(`etcd: cannot register again, retrying in ${delay} ms:`, error);
          await sleep(delay);
          delay = Math.min(delay * 2, 2000);
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  /** Go's UpdateInterval tick: re-create missing nodes, write the rates into present ones. */
  private refresh(epoch: number): void {
    if (this.refreshing || this.recovering || !this.lease) return;
    this.refreshing = true;
    void this.serial(async () => {
      const client = this.client;
      if (!client || epoch !== this.epoch) return;
      const calls = this.calls.rateMean();
      const connections = this.connections.rateMean();
      for (const [name, metadata] of this.services) {
        const key = this.nodeKey(name);
        const current = await client.get(key).options(deadline(this.timeoutMs)).string();
        if (current === null) {
          this.logger.warn(`etcd: ${key} is missing, registering it again`);
          await this.withLeaseRetry(epoch, () => this.putService(name, metadata));
        } else if (this.metrics) {
          await this.withLeaseRetry(epoch, () => this.put(key, withRates(current, calls, connections)).then(() => undefined));
        }
      }
    })
      .catch((error: unknown) => this.logger.warn('etcd: refresh failed:', error))
      .finally(() => {
        this.refreshing = false;
      });
  }
}

/** An etcd v3 register plugin for `server.use(...)`. */
export function etcdRegisterPlugin(options: EtcdRegisterPluginOptions): EtcdRegisterPlugin {
  return new EtcdRegisterPlugin(options);
}

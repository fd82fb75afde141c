import type { Etcd3, Lease } from 'etcd3';
import { EtcdLeaseInvalidError } from 'etcd3';
import { ConfigError } from '@rpcx/core';
import { RegistryRegisterPlugin, type RegistryRegisterPluginOptions } from '@rpcx/registry-kit';
import { createEtcdClient, deadline, DEFAULT_TIMEOUT_MS, type EtcdConnectionOptions } from './client.js';

export interface EtcdRegisterPluginOptions extends EtcdConnectionOptions, RegistryRegisterPluginOptions {
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
export class EtcdRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'etcd-register';

  private readonly basePath: string;
  private readonly ttl: number;
  private readonly timeoutMs: number;
  private client: Etcd3 | undefined;
  private lease: Lease | undefined;

  constructor(private readonly options: EtcdRegisterPluginOptions) {
    super('etcd', options, 60_000);
    if (!options.basePath) throw new ConfigError('etcd register plugin: basePath is required');
    this.basePath = options.basePath;
    this.ttl = options.leaseTtlSeconds ?? 30;
    if (!Number.isInteger(this.ttl) || this.ttl < 1) throw new ConfigError('etcd register plugin: leaseTtlSeconds must be an integer >= 1');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The key this server's node for `serviceName` is stored at. */
  nodeKey(serviceName: string): string {
    return `${this.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /** The ID (decimal string) of the lease currently holding the keys, for diagnostics. */
  async leaseId(): Promise<string | undefined> {
    return this.lease && !this.lease.revoked() ? this.lease.grant() : undefined;
  }

  /** Connect, grant the lease and write `<basePath>`. */
  protected async open(epoch: number): Promise<void> {
    this.client ??= this.options.client ?? createEtcdClient(this.options);
    await this.serial(async () => {
      await this.ensureLease(epoch);
      await this.put(this.basePath, 'rpcx_path');
    });
  }

  /** Go lets the lease expire; revoking removes our `<basePath>` keys now rather than in TTL s. */
  protected async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (lease && !lease.revoked()) await lease.revoke(deadline(this.timeoutMs)).catch(() => lease.release());
    if (client && !this.options.client) client.close();
  }

  protected where(serviceName: string): string {
    return this.nodeKey(serviceName);
  }

  protected publish(serviceName: string, metadata: string, epoch: number): Promise<void> {
    return this.withLeaseRetry(epoch, () => this.putService(serviceName, metadata));
  }

  protected async remove(serviceName: string): Promise<void> {
    if (this.client) await this.client.delete().key(this.nodeKey(serviceName)).options(deadline(this.timeoutMs));
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    if (!this.client) throw new ConfigError('etcd register plugin is stopped');
    return (await this.client.get(this.nodeKey(serviceName)).options(deadline(this.timeoutMs)).string()) ?? undefined;
  }

  protected writeNode(serviceName: string, value: string, epoch: number): Promise<void> {
    return this.withLeaseRetry(epoch, () => this.put(this.nodeKey(serviceName), value).then(() => undefined));
  }

  protected override canRefresh(): boolean {
    return this.lease !== undefined;
  }

  protected override republish(epoch: number): Promise<void> {
    return this.withLeaseRetry(epoch, async () => {
      await this.put(this.basePath, 'rpcx_path');
      for (const [name, metadata] of this.services) await this.putService(name, metadata);
    });
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
}

/** An etcd v3 register plugin for `server.use(...)`. */
export function etcdRegisterPlugin(options: EtcdRegisterPluginOptions): EtcdRegisterPlugin {
  return new EtcdRegisterPlugin(options);
}

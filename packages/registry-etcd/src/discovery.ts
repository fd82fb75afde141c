import type { IWatchResponse, Watcher } from 'etcd3';
import { RegistryDiscovery, RegistryKeyNotFoundError, servicesUnder, type RawEntry, type RegistryDiscoveryOptions, type VersionedEntry } from '@rpcx/registry-kit';
import { DEFAULT_TIMEOUT_MS, SharedClient, deadline, type EtcdConnectionOptions } from './client.js';

export interface EtcdDiscoveryOptions extends EtcdConnectionOptions, RegistryDiscoveryOptions {
  /** The register plugin's basePath, spelled the same (etcd prefixes are literal). Required. */
  basePath: string;
  /** The service to find. Required. */
  servicePath: string;
  /**
   * When nothing at all is stored under `<basePath>/<servicePath>`, the first `getServices()`
   * resolves to `[]` instead of rejecting (Go's `allowKeyNotFound`). Default false, as Go.
   */
  allowKeyNotFound?: boolean;
}

/**
 * Client-side discovery over etcd v3, reading the layout rpcx-etcd writes: every key under
 * `<basePath>/<servicePath>/` is a server, the rest of the key its `network@address`, the
 * value its metadata. The prefix is watched; on every change (and after every reconnect of
 * the watch) it is listed again and the whole list handed to watchers.
 *
 * While etcd is unreachable the last list is kept, never emptied.
 */
export class EtcdDiscovery extends RegistryDiscovery {
  private readonly prefix: string;
  private readonly dirKey: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private watcher: Watcher | undefined;

  constructor(
    private readonly options: EtcdDiscoveryOptions,
    private readonly shared: SharedClient = SharedClient.from(options),
  ) {
    let basePath = options.basePath;
    // Go trims one trailing slash from the joined path.
    if (basePath.length > 1 && basePath.endsWith('/')) basePath = basePath.slice(0, -1);
    const dirKey = `${basePath}/${options.servicePath}`;
    super('etcd', `${dirKey}/`, options);
    this.dirKey = dirKey;
    this.basePath = basePath;
    this.prefix = `${dirKey}/`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  clone(servicePath: string): EtcdDiscovery {
    return new EtcdDiscovery({ ...this.options, servicePath }, this.shared.acquire());
  }

  protected onStart(): void {
    void this.openWatch();
  }

  protected async onClose(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) {
      // Cancelling waits for etcd to confirm; do not hang on an unreachable etcd.
      await Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.shared.release();
  }

  /** Watch the prefix; etcd3 re-establishes the stream by itself after a disconnect. */
  private async openWatch(): Promise<void> {
    const watcher = this.shared.client.watch().prefix(this.prefix).watcher();
    // Known before it connects, so close() can cancel a watch still waiting for etcd.
    this.watcher = watcher;
    let created: IWatchResponse;
    try {
      created = await new Promise<IWatchResponse>((resolve, reject) => {
        watcher.once('connected', resolve);
        watcher.once('error', reject);
      });
    } catch (error) {
      if (this.watcher === watcher) this.watcher = undefined;
      if (this.closed) return;
      this.logger.warn(`etcd: cannot watch ${this.prefix}, retrying:`, error);
      setTimeout(() => void this.openWatch(), 1000).unref();
      return;
    }
    if (this.closed || this.watcher !== watcher) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    const changed = () => void this.refresh().catch(() => undefined);
    // Which etcd history this watch follows, to notice an etcd that came back without it.
    let cluster = created.header.cluster_id;
    let revision = BigInt(created.header.revision);
    const seen = (res: IWatchResponse) => {
      cluster = res.header.cluster_id;
      const rev = BigInt(res.header.revision);
      if (rev > revision) revision = rev;
    };
    watcher
      .on('data', seen)
      .on('put', changed)
      .on('delete', changed)
      .on('connected', (res: IWatchResponse) => {
        if (res.header.cluster_id !== cluster || BigInt(res.header.revision) < revision) {
          // etcd3 resumes from our old revision, which a wiped etcd will not reach for a
          // long time: events until then would be lost. Watch afresh from now instead.
          this.logger.warn(`etcd: ${this.prefix}: etcd came back without its history, watching again`);
          if (this.watcher === watcher) this.watcher = undefined;
          void watcher.cancel().catch(() => undefined);
          void this.openWatch();
          return;
        }
        seen(res);
        // Reconnected: missed events are replayed, but list anyway to be sure.
        changed();
      })
      .on('disconnected', (error: Error) => this.logger.warn(`etcd: watch of ${this.prefix} disconnected:`, error?.message))
      .on('error', (error: Error) => {
        // The server cancelled the watch (e.g. compaction): start a new one.
        this.logger.warn(`etcd: watch of ${this.prefix} cancelled, watching again:`, error?.message);
        if (this.watcher === watcher) this.watcher = undefined;
        if (!this.closed) setTimeout(() => void this.openWatch(), 500).unref();
      });
    changed(); // anything written between the first list and the watch starting
  }

  protected async list(): Promise<RawEntry[]> {
    const client = this.shared.client;
    const kvs = await client.getAll().prefix(this.prefix).options(deadline(this.timeoutMs)).buffers();
    const keys = Object.keys(kvs);
    if (keys.length === 0 && this.known === undefined && !this.options.allowKeyNotFound) {
      // Go lists `<basePath>/<servicePath>` itself too: only an absent service dir is "not found".
      const dir = await client.get(this.dirKey).options(deadline(this.timeoutMs)).buffer();
      if (dir === null) throw new RegistryKeyNotFoundError(this.dirKey);
    }
    return keys
      .map((fullKey) => ({ key: fullKey.slice(this.prefix.length), value: kvs[fullKey], location: fullKey }))
      .filter((entry) => entry.key !== '');
  }

  /** Every key under `<basePath>/`, grouped by service. */
  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const prefix = `${this.basePath}/`;
    const kvs = await this.shared.client.getAll().prefix(prefix).options(deadline(this.timeoutMs)).buffers();
    return servicesUnder(prefix, Object.entries(kvs).map(([key, value]) => ({ key, value })));
  }

  /** The node at `<basePath>/<service>/<serverKey>`, with its mod revision. */
  protected override async readEntry(servicePath: string, serverKey: string): Promise<VersionedEntry> {
    const key = `${this.basePath}/${servicePath}/${serverKey}`;
    const { kvs } = await this.shared.client.get(key).options(deadline(this.timeoutMs)).exec();
    if (kvs.length === 0) throw new RegistryKeyNotFoundError(key);
    return { value: kvs[0].value, location: key, version: kvs[0].mod_revision };
  }

  /** One transaction: put only if the key's mod revision is the one read, keeping its lease. */
  protected override async writeEntry(servicePath: string, serverKey: string, value: string, version: VersionedEntry['version']): Promise<boolean> {
    const key = `${this.basePath}/${servicePath}/${serverKey}`;
    const client = this.shared.client;
    const result = await client
      .if(key, 'Mod', '==', String(version))
      .then(client.put(key).value(value).ignoreLease())
      .options(deadline(this.timeoutMs))
      .commit();
    return result.succeeded;
  }
}

/** An etcd v3 discovery for an xclient. Connects on first use. */
export function etcdDiscovery(options: EtcdDiscoveryOptions): EtcdDiscovery {
  return new EtcdDiscovery(options);
}

import type { IWatchResponse, Watcher } from 'etcd3';
import { RpcxError, silentLogger, type Logger, type ServiceDiscovery, type ServiceEntry } from '@rpcx/core';
import { DEFAULT_TIMEOUT_MS, SharedClient, deadline, type EtcdConnectionOptions } from './client.js';
import { DEFAULT_NETWORKS, decodeUtf8, keyProblem, metadataProblem, sameEntries, sortEntries } from './entries.js';

export interface EtcdDiscoveryOptions extends EtcdConnectionOptions {
  /** The register plugin's basePath, spelled the same (etcd prefixes are literal). Required. */
  basePath: string;
  /** The service to find. Required. */
  servicePath: string;
  /**
   * When nothing at all is stored under `<basePath>/<servicePath>`, the first `getServices()`
   * resolves to `[]` instead of rejecting (Go's `allowKeyNotFound`). Default false, as Go.
   */
  allowKeyNotFound?: boolean;
  /** Networks a server key may use; others are skipped with a warning. Default: Go's. */
  networks?: readonly string[];
  /** Where warnings about skipped entries and lost connections go. Default: silent. */
  logger?: Logger;
}

/** Thrown by the first `getServices()` when the service has no key at all (Go `ErrKeyNotFound`). */
export class RegistryKeyNotFoundError extends RpcxError {
  constructor(key: string) {
    super(`Key not found in store: ${key}`, 'RPCX_ERR_REGISTRY_KEY_NOT_FOUND');
  }
}

/**
 * Client-side discovery over etcd v3, reading the layout rpcx-etcd writes: every key under
 * `<basePath>/<servicePath>/` is a server, the rest of the key its `network@address`, the
 * value its metadata. The prefix is watched; on every change (and after every reconnect of
 * the watch) it is listed again and the whole list handed to watchers.
 *
 * While etcd is unreachable the last list is kept, never emptied.
 */
export class EtcdDiscovery implements ServiceDiscovery {
  private readonly prefix: string;
  private readonly dirKey: string;
  private readonly timeoutMs: number;
  private readonly networks: ReadonlySet<string>;
  private readonly logger: Logger;
  private readonly listeners = new Set<(entries: ServiceEntry[]) => void>();

  private entries: ServiceEntry[] | undefined;
  private started = false;
  private closed = false;
  private watcher: Watcher | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Entries already warned about, so a bad entry is reported once, not on every change. */
  private warned = new Set<string>();

  constructor(
    private readonly options: EtcdDiscoveryOptions,
    private readonly shared: SharedClient = SharedClient.from(options),
  ) {
    let basePath = options.basePath;
    // Go trims one trailing slash from the joined path.
    if (basePath.length > 1 && basePath.endsWith('/')) basePath = basePath.slice(0, -1);
    this.dirKey = `${basePath}/${options.servicePath}`;
    this.prefix = `${this.dirKey}/`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.networks = new Set(options.networks ?? DEFAULT_NETWORKS);
    this.logger = options.logger ?? silentLogger;
  }

  async getServices(): Promise<ServiceEntry[]> {
    this.start();
    if (!this.entries && !this.closed) await this.refresh();
    return this.entries ? this.entries.slice() : [];
  }

  watch(listener: (entries: ServiceEntry[]) => void): () => void {
    this.start();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  clone(servicePath: string): EtcdDiscovery {
    return new EtcdDiscovery({ ...this.options, servicePath }, this.shared.acquire());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) {
      // Cancelling waits for etcd to confirm; do not hang on an unreachable etcd.
      await Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.shared.release();
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.openWatch();
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

  /** List the prefix; concurrent requests share one listing, and one more runs after it. */
  private refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    const run = (async () => {
      try {
        do {
          this.again = false;
          await this.listOnce();
        } while (this.again && !this.closed);
        this.failures = 0;
      } catch (error) {
        if (!(error instanceof RegistryKeyNotFoundError)) this.scheduleRetry(error);
        throw error;
      } finally {
        this.refreshing = undefined;
      }
    })();
    this.refreshing = run;
    return run;
  }

  /** etcd unreachable: keep the last list and try again (the watch also triggers a list). */
  private scheduleRetry(error: unknown): void {
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(250 * 2 ** this.failures++, 5000);
    this.logger.warn(`etcd: cannot list ${this.prefix}, keeping the last list, retrying in ${delay} ms:`, error);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.refresh().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  private async listOnce(): Promise<void> {
    const client = this.shared.client;
    const kvs = await client.getAll().prefix(this.prefix).options(deadline(this.timeoutMs)).buffers();
    const keys = Object.keys(kvs);
    if (keys.length === 0 && this.entries === undefined && !this.options.allowKeyNotFound) {
      // Go lists `<basePath>/<servicePath>` itself too: only an absent service dir is "not found".
      const dir = await client.get(this.dirKey).options(deadline(this.timeoutMs)).buffer();
      if (dir === null) throw new RegistryKeyNotFoundError(this.dirKey);
    }
    if (this.closed) return;
    const next: ServiceEntry[] = [];
    const seen = new Set<string>();
    for (const fullKey of keys) {
      const key = fullKey.slice(this.prefix.length);
      if (key === '') continue;
      const value = decodeUtf8(kvs[fullKey]);
      const problem = value === undefined ? 'metadata is not UTF-8' : (keyProblem(key, this.networks) ?? metadataProblem(value));
      if (problem) {
        const id = `${key}\u0000${value ?? ''}`;
        seen.add(id);
        if (!this.warned.has(id)) this.logger.warn(`etcd: skipping ${fullKey}: ${problem}`);
        continue;
      }
      next.push({ key, value: value as string });
    }
    this.warned = seen;
    sortEntries(next);
    if (sameEntries(this.entries, next)) return;
    this.entries = next;
    for (const listener of this.listeners) {
      try {
        listener(next.slice());
      } catch (error) {
        this.logger.error('etcd: discovery listener threw:', error);
      }
    }
  }
}

/** An etcd v3 discovery for an xclient. Connects on first use. */
export function etcdDiscovery(options: EtcdDiscoveryOptions): EtcdDiscovery {
  return new EtcdDiscovery(options);
}

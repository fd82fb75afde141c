import { RpcxError, silentLogger, type Logger, type ServiceDiscovery, type ServiceEntry } from '@rpcx/core';
import { DEFAULT_NETWORKS, decodeUtf8, keyProblem, metadataProblem, sameEntries, sortEntries } from './entries.js';
import { ZkConnection, constants, isNoNode, type ZooKeeperConnectionOptions } from './session.js';

export interface ZooKeeperDiscoveryOptions extends ZooKeeperConnectionOptions {
  /** The register plugin's basePath (a leading `/` is optional, as in Go). Required. */
  basePath: string;
  /** The service to find. Required. */
  servicePath: string;
  /**
   * When `/<basePath>/<servicePath>` does not exist, the first `getServices()` resolves to
   * `[]` and the path is watched until it appears. Default false: it rejects, as Go's
   * `NewZookeeperDiscovery` fails.
   */
  allowKeyNotFound?: boolean;
  /** Networks a server key may use; others are skipped with a warning. Default: Go's. */
  networks?: readonly string[];
  /** Where warnings about skipped entries and lost connections go. Default: silent. */
  logger?: Logger;
}

/** Thrown by the first `getServices()` when the service's znode does not exist (Go `ErrKeyNotFound`). */
export class RegistryKeyNotFoundError extends RpcxError {
  constructor(key: string) {
    super(`Key not found in store: ${key}`, 'RPCX_ERR_REGISTRY_KEY_NOT_FOUND');
  }
}

type WatchCallback = (type: number, state: number, path: string) => void;

/**
 * Client-side discovery over ZooKeeper, reading the layout rpcx-zookeeper writes: each child
 * of `/<basePath>/<servicePath>` is a server (`network@address`), its data the metadata.
 *
 * Unlike Go, which watches only the children list, the data of every child is watched too,
 * so a metadata edit on a live node (say its weight) reaches the client.
 *
 * While ZooKeeper is unreachable the last list is kept, never emptied; after a reconnect or
 * a new session everything is listed and watched again.
 */
export class ZooKeeperDiscovery implements ServiceDiscovery {
  private readonly path: string;
  private readonly networks: ReadonlySet<string>;
  private readonly logger: Logger;
  private readonly listeners = new Set<(entries: ServiceEntry[]) => void>();

  private entries: ServiceEntry[] | undefined;
  private started = false;
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private warned = new Set<string>();

  /**
   * ZooKeeper watches fire once. Which are armed, and in which generation, so a re-list does
   * not pile up duplicates. The generation changes with the session or connection, which
   * disowns every callback armed before it (their flags no longer match either).
   */
  private generation = 0;
  private childWatch = -1;
  private existsWatch = -1;
  private readonly dataWatches = new Map<string, number>();

  private readonly onSession = () => this.rearm();
  private readonly onReconnect = () => this.rearm();

  constructor(
    private readonly options: ZooKeeperDiscoveryOptions,
    private readonly conn: ZkConnection = new ZkConnection(options, options.logger),
  ) {
    let basePath = options.basePath;
    if (basePath.startsWith('/')) basePath = basePath.slice(1);
    if (basePath.length > 1 && basePath.endsWith('/')) basePath = basePath.slice(0, -1);
    this.path = `/${basePath}/${options.servicePath}`;
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

  clone(servicePath: string): ZooKeeperDiscovery {
    return new ZooKeeperDiscovery({ ...this.options, servicePath }, this.conn.acquire());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.listeners.clear();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.conn.off('session', this.onSession);
    this.conn.off('reconnect', this.onReconnect);
    this.conn.release();
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.conn.on('session', this.onSession);
    this.conn.on('reconnect', this.onReconnect);
    if (!this.entries) void this.refresh().catch(() => undefined);
  }

  /** New session or connection: forget armed watches, list and watch everything again. */
  private rearm(): void {
    this.generation++;
    this.dataWatches.clear();
    void this.refresh().catch(() => undefined);
  }

  /** A one-shot watch callback; `child` names the data watch it is, if any. */
  private watcher(generation: number, kind: 'child' | 'exists' | 'data', child = ''): WatchCallback {
    return (type) => {
      // Session events (-1) are delivered to every watch; the watch itself stays armed.
      if (type === constants.ZOO_SESSION_EVENT || type === constants.ZOO_NOTWATCHING_EVENT) return;
      if (generation !== this.generation || this.closed) return;
      if (kind === 'child') this.childWatch = -1;
      else if (kind === 'exists') this.existsWatch = -1;
      else this.dataWatches.delete(child);
      void this.refresh().catch(() => undefined);
    };
  }

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

  private scheduleRetry(error: unknown): void {
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(250 * 2 ** this.failures++, 5000);
    this.logger.warn(`zookeeper: cannot list ${this.path}, keeping the last list, retrying in ${delay} ms:`, error);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.refresh().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  private async listOnce(): Promise<void> {
    const conn = this.conn;
    const generation = this.generation;
    let children: string[];
    try {
      if (this.childWatch === generation) {
        children = await conn.run(`children of ${this.path}`, (zk) => zk.get_children(this.path, false));
      } else {
        const watch = this.watcher(generation, 'child');
        children = await conn.run(`children of ${this.path}`, (zk) => zk.w_get_children(this.path, watch));
        this.childWatch = generation;
      }
    } catch (error) {
      if (!isNoNode(error)) throw error;
      if (this.entries === undefined && !this.options.allowKeyNotFound) throw new RegistryKeyNotFoundError(this.path);
      // A missing node takes no child watch; an exists watch tells us when it appears.
      if (this.existsWatch !== generation) {
        const watch = this.watcher(generation, 'exists');
        try {
          await conn.run(`exists ${this.path}`, (zk) => zk.w_exists(this.path, watch));
          this.again = true; // it appeared in between: list it
        } catch (existsError) {
          if (!isNoNode(existsError)) throw existsError;
        }
        this.existsWatch = generation;
      }
      children = [];
    }

    const values = await Promise.all(
      children.map(async (child): Promise<[string, string | undefined] | undefined> => {
        const path = `${this.path}/${child}`;
        try {
          let data: unknown;
          if (this.dataWatches.get(child) === generation) {
            [, data] = await conn.run(`get ${path}`, (zk) => zk.get(path, false));
          } else {
            const watch = this.watcher(generation, 'data', child);
            [, data] = await conn.run(`get ${path}`, (zk) => zk.w_get(path, watch));
            this.dataWatches.set(child, generation);
          }
          return [child, decodeUtf8(data as Buffer | null)];
        } catch (error) {
          // Deleted since the children were listed: the child watch brings the next list.
          if (isNoNode(error)) return undefined;
          throw error;
        }
      }),
    );
    if (generation !== this.generation) this.again = true;
    if (this.closed) return;

    const next: ServiceEntry[] = [];
    const seen = new Set<string>();
    for (const pair of values) {
      if (!pair) continue;
      const [key, value] = pair;
      const problem = value === undefined ? 'metadata is not UTF-8' : (keyProblem(key, this.networks) ?? metadataProblem(value));
      if (problem) {
        const id = `${key}\u0000${value ?? ''}`;
        seen.add(id);
        if (!this.warned.has(id)) this.logger.warn(`zookeeper: skipping ${this.path}/${key}: ${problem}`);
        continue;
      }
      next.push({ key, value: value as string });
    }
    this.warned = seen;
    for (const child of [...this.dataWatches.keys()]) if (!children.includes(child)) this.dataWatches.delete(child);
    sortEntries(next);
    if (sameEntries(this.entries, next)) return;
    this.entries = next;
    for (const listener of this.listeners) {
      try {
        listener(next.slice());
      } catch (error) {
        this.logger.error('zookeeper: discovery listener threw:', error);
      }
    }
  }
}

/** A ZooKeeper discovery for an xclient. Connects on first use. */
export function zookeeperDiscovery(options: ZooKeeperDiscoveryOptions): ZooKeeperDiscovery {
  return new ZooKeeperDiscovery(options);
}

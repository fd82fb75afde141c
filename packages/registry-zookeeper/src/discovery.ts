import { RegistryDiscovery, RegistryKeyNotFoundError, type RawEntry, type RegistryDiscoveryOptions, type VersionedEntry } from '@rpcx/registry-kit';
import { ZkConnection, ZooKeeperError, constants, isNoNode, type ZooKeeperConnectionOptions } from './session.js';

export interface ZooKeeperDiscoveryOptions extends ZooKeeperConnectionOptions, RegistryDiscoveryOptions {
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
export class ZooKeeperDiscovery extends RegistryDiscovery {
  private readonly path: string;
  private readonly basePath: string;

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
    const path = `/${basePath}/${options.servicePath}`;
    super('zookeeper', path, options);
    this.path = path;
    this.basePath = `/${basePath}`;
  }

  clone(servicePath: string): ZooKeeperDiscovery {
    return new ZooKeeperDiscovery({ ...this.options, servicePath }, this.conn.acquire());
  }

  protected onStart(): void {
    this.conn.on('session', this.onSession);
    this.conn.on('reconnect', this.onReconnect);
    if (!this.known) void this.refresh().catch(() => undefined);
  }

  protected onClose(): void {
    this.generation++;
    this.conn.off('session', this.onSession);
    this.conn.off('reconnect', this.onReconnect);
    this.conn.release();
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

  protected async list(): Promise<RawEntry[]> {
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
      if (this.known === undefined && !this.options.allowKeyNotFound) throw new RegistryKeyNotFoundError(this.path);
      // A missing node takes no child watch; an exists watch tells us when it appears.
      if (this.existsWatch !== generation) {
        const watch = this.watcher(generation, 'exists');
        try {
          await conn.run(`exists ${this.path}`, (zk) => zk.w_exists(this.path, watch));
          this.listAgain(); // it appeared in between: list it
        } catch (existsError) {
          if (!isNoNode(existsError)) throw existsError;
        }
        this.existsWatch = generation;
      }
      children = [];
    }

    const values = await Promise.all(
      children.map(async (child): Promise<RawEntry | undefined> => {
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
          return { key: child, value: data as Buffer | null, location: path };
        } catch (error) {
          // Deleted since the children were listed: the child watch brings the next list.
          if (isNoNode(error)) return undefined;
          throw error;
        }
      }),
    );
    if (generation !== this.generation) this.listAgain();
    for (const child of [...this.dataWatches.keys()]) if (!children.includes(child)) this.dataWatches.delete(child);
    return values.filter((entry): entry is RawEntry => entry !== undefined);
  }

  /** The children of `/<basePath>` are services, theirs servers; nothing is watched. */
  protected async listServices(): Promise<Map<string, RawEntry[]>> {
    const conn = this.conn;
    const children = async (path: string) => {
      try {
        return await conn.run(`children of ${path}`, (zk) => zk.get_children(path, false));
      } catch (error) {
        if (isNoNode(error)) return [];
        throw error;
      }
    };
    const services = new Map<string, RawEntry[]>();
    for (const service of (await children(this.basePath)).sort()) {
      const dir = `${this.basePath}/${service}`;
      const servers = await Promise.all(
        (await children(dir)).map(async (child): Promise<RawEntry | undefined> => {
          const path = `${dir}/${child}`;
          try {
            const [, data] = await conn.run(`get ${path}`, (zk) => zk.get(path, false));
            return { key: child, value: data as Buffer | null, location: path };
          } catch (error) {
            if (isNoNode(error)) return undefined; // gone since the children were read
            throw error;
          }
        }),
      );
      services.set(service, servers.filter((entry): entry is RawEntry => entry !== undefined));
    }
    return services;
  }
  /** The node `/<basePath>/<service>/<serverKey>`, with its data version. */
  protected override async readEntry(servicePath: string, serverKey: string): Promise<VersionedEntry> {
    const path = `${this.basePath}/${servicePath}/${serverKey}`;
    try {
      const [stat, data] = (await this.conn.run(`get ${path}`, (zk) => zk.get(path, false))) as [{ version: number }, Buffer | null];
      return { value: data, location: path, version: stat.version };
    } catch (error) {
      if (isNoNode(error)) throw new RegistryKeyNotFoundError(path);
      throw error;
    }
  }

  /**
   * `setData` at the version read. Any session may set an ephemeral node's data; the node
   * stays owned by its server's session.
   */
  protected override async writeEntry(servicePath: string, serverKey: string, value: string, version: VersionedEntry['version']): Promise<boolean> {
    const path = `${this.basePath}/${servicePath}/${serverKey}`;
    try {
      await this.conn.run(`set ${path}`, (zk) => zk.set(path, value, Number(version)));
      return true;
    } catch (error) {
      if (isNoNode(error) || (error instanceof ZooKeeperError && error.rc === constants.ZBADVERSION)) return false;
      throw error;
    }
  }
}

/** A ZooKeeper discovery for an xclient. Connects on first use. */
export function zookeeperDiscovery(options: ZooKeeperDiscoveryOptions): ZooKeeperDiscovery {
  return new ZooKeeperDiscovery(options);
}

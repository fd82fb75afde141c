import type ZooKeeper from 'zookeeper';
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
import { RateMeter, withRates } from './metrics.js';
import { ZkConnection, constants, isNoNode, isNodeExists, sleep, type ZooKeeperConnectionOptions } from './session.js';
import { decodeUtf8 } from './entries.js';

export interface ZooKeeperRegisterPluginOptions extends ZooKeeperConnectionOptions {
  /** This server's key, `network@host:port`, e.g. `tcp@10.0.0.1:8972`. Required. */
  serviceAddress: string;
  /** Root of the registry; one leading `/` is dropped and the path rooted at `/`, as Go. Required. */
  basePath: string;
  /**
   * Every this many ms each node is re-read, given `calls`/`connections` rates and written
   * back, and re-created if it vanished. Also decides the node type, as Go: ephemeral when
   * > 0, persistent when 0 (then nothing refreshes and nothing removes a dead server's node).
   * Default 60000.
   */
  updateIntervalMs?: number;
  /** Add `calls` and `connections` rates on refresh (Go: when `Metrics` is set). Default true. */
  metrics?: boolean;
  /** Where warnings go. Default: silent. */
  logger?: Logger;
}

/**
 * Publishes this server's services in ZooKeeper with the layout of rpcx-zookeeper (libkv):
 *
 * - `/<basePath>` persistent, data `rpcx_path`
 * - `/<basePath>/<service>` persistent, data = the service name
 * - `/<basePath>/<service>/<serviceAddress>` ephemeral, data = the metadata (URL query)
 *
 * The node dies with the session. When a session expires a new one is opened and every
 * node created again.
 */
export class ZooKeeperRegisterPlugin implements ServerPlugin, Startable {
  readonly name = 'zookeeper-register';

  private readonly serviceAddress: string;
  private readonly basePath: string;
  private readonly updateIntervalMs: number;
  private readonly metrics: boolean;
  private readonly logger: Logger;

  private readonly services = new Map<string, string>();
  private conn: ZkConnection | undefined;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private recovering = false;
  private epoch = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly calls = new RateMeter();
  private readonly connections = new RateMeter();

  constructor(private readonly options: ZooKeeperRegisterPluginOptions) {
    if (!options.serviceAddress) throw new ConfigError('zookeeper register plugin: serviceAddress is required');
    parseServerKey(options.serviceAddress);
    // A `/` would make libkv create nested nodes nobody can discover (e.g. `unix@/tmp/s`).
    if (options.serviceAddress.includes('/')) {
      throw new ConfigError(`zookeeper register plugin: a node name cannot contain "/": ${options.serviceAddress}`);
    }
    let basePath = options.basePath ?? '';
    if (basePath.startsWith('/')) basePath = basePath.slice(1);
    basePath = basePath.replace(/\/+$/, '');
    if (!basePath) throw new ConfigError('zookeeper register plugin: basePath is required');
    this.serviceAddress = options.serviceAddress;
    this.basePath = `/${basePath}`;
    this.updateIntervalMs = options.updateIntervalMs ?? 60_000;
    this.metrics = options.metrics ?? true;
    this.logger = options.logger ?? silentLogger;
  }

  /** The znode path of this server's node for `serviceName`. */
  nodePath(serviceName: string): string {
    return `${this.basePath}/${serviceName}/${this.serviceAddress}`;
  }

  /**
   * The native client of the current session (undefined while disconnected). For
   * diagnostics and tests; closing it ends the session, and the plugin starts a new one.
   */
  get zookeeper(): ZooKeeper | undefined {
    return this.conn?.client;
  }

  /** Connect and write `/<basePath>` (Go `Start`). Called by the server, or lazily. */
  start(): Promise<void> {
    this.starting ??= this.doStart().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const epoch = this.epoch;
    if (!this.conn) {
      const conn = new ZkConnection(this.options, this.logger);
      // A new session has none of our ephemeral nodes: write them again.
      conn.on('session', () => {
        if (this.conn === conn && this.services.size > 0) void this.recover(epoch);
      });
      this.conn = conn;
    }
    await this.serial(() => this.putPersistent(this.basePath, 'rpcx_path'));
    if (this.updateIntervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.refresh(epoch), this.updateIntervalMs);
      this.timer.unref();
    }
  }

  /** Delete this server's nodes and close the session (Go `Stop`). */
  async stop(): Promise<void> {
    this.epoch++;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const conn = this.conn;
    if (!conn) return;
    await this.starting?.catch(() => undefined);
    await this.serial(async () => {
      // Closing the session removes ephemeral nodes by itself; only persistent ones
      // (updateIntervalMs 0) are worth waiting for a connection to delete.
      if (conn.client || this.updateIntervalMs === 0) {
        await Promise.all(
          [...this.services.keys()].map((name) =>
            this.deleteNode(this.nodePath(name)).catch((error: unknown) =>
              this.logger.warn(`zookeeper: cannot delete ${this.nodePath(name)}:`, error),
            ),
          ),
        );
      }
      this.services.clear();
    });
    conn.close();
    this.conn = undefined;
    this.starting = undefined;
  }

  async register(serviceName: string, _service: unknown, metadata: string): Promise<void> {
    if (serviceName.trim() === '') throw new ConfigError("Register service `name` can't be empty");
    if (serviceName.includes('/')) throw new ConfigError(`zookeeper: a service name cannot contain "/": ${serviceName}`);
    await this.start();
    await this.serial(async () => {
      const previous = this.services.get(serviceName);
      this.services.set(serviceName, metadata);
      try {
        await this.putService(serviceName, metadata);
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
    await this.serial(async () => {
      this.services.delete(serviceName);
      if (this.conn) await this.deleteNode(this.nodePath(serviceName));
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

  private get connection(): ZkConnection {
    if (!this.conn) throw new ConfigError('zookeeper register plugin is stopped');
    return this.conn;
  }

  /** Go's register sequence: both "dirs", then delete any old node and create it afresh. */
  private async putService(name: string, metadata: string): Promise<void> {
    await this.putPersistent(this.basePath, 'rpcx_path');
    await this.putPersistent(`${this.basePath}/${name}`, name);
    const node = this.nodePath(name);
    await this.deleteNode(node);
    await this.createNode(node, metadata, this.updateIntervalMs > 0 ? constants.ZOO_EPHEMERAL : constants.ZOO_PERSISTENT);
  }

  private async deleteNode(path: string): Promise<void> {
    try {
      await this.connection.run(`delete ${path}`, (zk) => zk.delete_(path, -1));
    } catch (error) {
      if (!isNoNode(error)) throw error;
    }
  }

  /** libkv `Put`: create the node (and empty parents) if missing, then set its data. */
  private async putPersistent(path: string, data: string): Promise<void> {
    try {
      await this.createNode(path, data, constants.ZOO_PERSISTENT);
    } catch (error) {
      if (!isNodeExists(error)) throw error;
      await this.connection.run(`set ${path}`, (zk) => zk.set(path, data, -1));
    }
  }

  /** libkv `AtomicPut` with no previous value: create, making missing parents (empty, persistent). */
  private async createNode(path: string, data: string, flags: number): Promise<void> {
    const conn = this.connection;
    try {
      await conn.run(`create ${path}`, (zk) => zk.create(path, data, flags));
    } catch (error) {
      if (!isNoNode(error)) throw error;
      const parts = path.split('/').slice(1, -1);
      for (let i = 1; i <= parts.length; i++) {
        const parent = `/${parts.slice(0, i).join('/')}`;
        try {
          await conn.run(`create ${parent}`, (zk) => zk.create(parent, '', constants.ZOO_PERSISTENT));
        } catch (parentError) {
          if (!isNodeExists(parentError)) throw parentError;
        }
      }
      await conn.run(`create ${path}`, (zk) => zk.create(path, data, flags));
    }
  }

  /** A new session: write every node again, retrying until it works or we stop. */
  private async recover(epoch: number): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      let delay = 250;
      while (epoch === this.epoch) {
        try {
          await this.serial(async () => {
            if (epoch !== this.epoch) return;
            for (const [name, metadata] of this.services) await this.putService(name, metadata);
          });
          if (epoch === this.epoch) this.logger.info('zookeeper: registered again in a new session');
          return;
        } catch (error) {
          if (epoch !== this.epoch) return;
          this.logger.warn(`zookeeper: cannot register again, retrying in ${delay} ms:`, error);
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
    if (this.refreshing || this.recovering || !this.conn?.client) return;
    this.refreshing = true;
    void this.serial(async () => {
      if (epoch !== this.epoch) return;
      const calls = this.calls.rateMean();
      const connections = this.connections.rateMean();
      for (const [name, metadata] of this.services) {
        const node = this.nodePath(name);
        let current: string | undefined;
        try {
          const [, data] = await this.connection.run(`get ${node}`, (zk) => zk.get(node, false));
          current = decodeUtf8(data as Buffer | null) ?? '';
        } catch (error) {
          if (!isNoNode(error)) throw error;
          this.logger.warn(`zookeeper: ${node} is missing, registering it again`);
          await this.putService(name, metadata);
          continue;
        }
        if (this.metrics) {
          const value = withRates(current, calls, connections);
          await this.connection.run(`set ${node}`, (zk) => zk.set(node, value, -1));
        }
      }
    })
      .catch((error: unknown) => this.logger.warn('zookeeper: refresh failed:', error))
      .finally(() => {
        this.refreshing = false;
      });
  }
}

/** A ZooKeeper register plugin for `server.use(...)`. */
export function zookeeperRegisterPlugin(options: ZooKeeperRegisterPluginOptions): ZooKeeperRegisterPlugin {
  return new ZooKeeperRegisterPlugin(options);
}

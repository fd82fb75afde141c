import type ZooKeeper from 'zookeeper';
import { ConfigError } from '@rpcx/core';
import { RegistryRegisterPlugin, decodeUtf8, type RegistryRegisterPluginOptions } from '@rpcx/registry-kit';
import { ZkConnection, constants, isNoNode, isNodeExists, type ZooKeeperConnectionOptions } from './session.js';

export interface ZooKeeperRegisterPluginOptions extends ZooKeeperConnectionOptions, RegistryRegisterPluginOptions {
  /** Root of the registry; one leading `/` is dropped and the path rooted at `/`, as Go. Required. */
  basePath: string;
  /**
   * Every this many ms each node is re-read, given `calls`/`connections` rates and written
   * back, and re-created if it vanished. Also decides the node type, as Go: ephemeral when
   * > 0, persistent when 0 (then nothing refreshes and nothing removes a dead server's node).
   * Default 60000.
   */
  updateIntervalMs?: number;
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
export class ZooKeeperRegisterPlugin extends RegistryRegisterPlugin {
  readonly name = 'zookeeper-register';

  private readonly basePath: string;
  private conn: ZkConnection | undefined;

  constructor(private readonly options: ZooKeeperRegisterPluginOptions) {
    super('zookeeper', options, 60_000);
    // A `/` would make libkv create nested nodes nobody can discover (e.g. `unix@/tmp/s`).
    if (options.serviceAddress.includes('/')) {
      throw new ConfigError(`zookeeper register plugin: a node name cannot contain "/": ${options.serviceAddress}`);
    }
    let basePath = options.basePath ?? '';
    if (basePath.startsWith('/')) basePath = basePath.slice(1);
    basePath = basePath.replace(/\/+$/, '');
    if (!basePath) throw new ConfigError('zookeeper register plugin: basePath is required');
    this.basePath = `/${basePath}`;
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

  /** Connect and write `/<basePath>` (Go `Start`). */
  protected async open(epoch: number): Promise<void> {
    if (!this.conn) {
      const conn = new ZkConnection(this.options, this.logger);
      // A new session has none of our ephemeral nodes: write them again.
      conn.on('session', () => {
        if (this.conn === conn && this.services.size > 0) void this.recover(epoch);
      });
      this.conn = conn;
    }
    await this.serial(() => this.putPersistent(this.basePath, 'rpcx_path'));
  }

  protected close(): void {
    this.conn?.close();
    this.conn = undefined;
  }

  /** Closing the session removes ephemeral nodes by itself; only persistent ones
   * (updateIntervalMs 0) are worth waiting for a connection to delete. */
  protected override async withdraw(serviceNames: string[]): Promise<void> {
    if (this.conn?.client || this.updateIntervalMs === 0) await super.withdraw(serviceNames);
  }

  protected override checkServiceName(serviceName: string): void {
    if (serviceName.includes('/')) throw new ConfigError(`zookeeper: a service name cannot contain "/": ${serviceName}`);
  }

  protected where(serviceName: string): string {
    return this.nodePath(serviceName);
  }

  /** Go's register sequence: both "dirs", then delete any old node and create it afresh. */
  protected async publish(name: string, metadata: string): Promise<void> {
    await this.putPersistent(this.basePath, 'rpcx_path');
    await this.putPersistent(`${this.basePath}/${name}`, name);
    const node = this.nodePath(name);
    await this.deleteNode(node);
    await this.createNode(node, metadata, this.updateIntervalMs > 0 ? constants.ZOO_EPHEMERAL : constants.ZOO_PERSISTENT);
  }

  protected async remove(serviceName: string): Promise<void> {
    if (this.conn) await this.deleteNode(this.nodePath(serviceName));
  }

  protected override canRefresh(): boolean {
    return this.conn?.client !== undefined;
  }

  protected async readNode(serviceName: string): Promise<string | undefined> {
    const node = this.nodePath(serviceName);
    try {
      const [, data] = await this.connection.run(`get ${node}`, (zk) => zk.get(node, false));
      return decodeUtf8(data as Buffer | null) ?? '';
    } catch (error) {
      if (isNoNode(error)) return undefined;
      throw error;
    }
  }

  protected async writeNode(serviceName: string, value: string): Promise<void> {
    const node = this.nodePath(serviceName);
    await this.connection.run(`set ${node}`, (zk) => zk.set(node, value, -1));
  }

  private get connection(): ZkConnection {
    if (!this.conn) throw new ConfigError('zookeeper register plugin is stopped');
    return this.conn;
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
}

/** A ZooKeeper register plugin for `server.use(...)`. */
export function zookeeperRegisterPlugin(options: ZooKeeperRegisterPluginOptions): ZooKeeperRegisterPlugin {
  return new ZooKeeperRegisterPlugin(options);
}

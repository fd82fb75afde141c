import { EventEmitter } from 'node:events';
import ZooKeeper from 'zookeeper';
import {
  ConnectionError,
  RpcxError,
  TimeoutError,
  silentLogger,
  RegistryError,
  type Logger,
} from '@rpcx/core';

/** How to reach ZooKeeper; shared by the register plugin and the discovery. */
export interface ZooKeeperConnectionOptions {
  /** `host:port` of each server (Go `ZooKeeperServers`). Default `['127.0.0.1:2181']`. */
  servers?: readonly string[];
  /** Session timeout asked of the server, in ms (Go libkv: 10 s). The server clamps it to
   * [2, 20] × its tickTime. Default 10000. */
  sessionTimeoutMs?: number;
  /** How long one request, or waiting for a connection, may take, in ms. Default 10000. */
  timeoutMs?: number;
  /** Log level of the bundled ZooKeeper C client, written to stderr: 0 = off (default),
   * 1 = error, 2 = warn, 3 = info, 4 = debug. */
  nativeLogLevel?: 0 | 1 | 2 | 3 | 4;
}

export const { constants } = ZooKeeper;

/** A ZooKeeper call failed; `rc` is the C client's return code (e.g. -101 = no node). */
export class ZooKeeperError extends RegistryError {
  readonly rc: number | undefined;
  constructor(message: string, rc: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.rc = rc;
  }
}

/** The library rejects with `Error("<rc> <text>")` or `... result: "ZNONODE -101"`. */
function toZkError(error: unknown, what: string): ZooKeeperError {
  const message = error instanceof Error ? error.message : String(error);
  const match = /(-\d+)/.exec(message);
  return new ZooKeeperError(`zookeeper: ${what}: ${message}`, match ? Number(match[1]) : undefined, { cause: error });
}

export const isNoNode = (error: unknown) => error instanceof ZooKeeperError && error.rc === constants.ZNONODE;
export const isNodeExists = (error: unknown) => error instanceof ZooKeeperError && error.rc === constants.ZNODEEXISTS;

/**
 * One ZooKeeper session that survives its own expiry: the native client is unusable once it
 * emits `close` (the library may even crash if used afterwards), so a new one is made.
 *
 * Events: `session` (a new session is up: ephemeral nodes and watches are gone),
 * `reconnect` (the same session is back after a disconnect), `disconnect`.
 */
export class ZkConnection extends EventEmitter {
  private zk: ZooKeeper | undefined;
  private connected = false;
  private closed = false;
  private refs = 1;
  private waiters = new Set<() => void>();
  /** Sessions in a row that closed before connecting. */
  private quickDeaths = 0;
  private readonly servers: string;
  private readonly sessionTimeoutMs: number;
  readonly timeoutMs: number;
  private readonly nativeLogLevel: number;

  constructor(
    options: ZooKeeperConnectionOptions,
    private readonly logger: Logger = silentLogger,
  ) {
    super();
    const servers = options.servers && options.servers.length > 0 ? options.servers : ['127.0.0.1:2181'];
    this.servers = servers.join(',');
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.nativeLogLevel = options.nativeLogLevel ?? 0;
  }

  /** The native client of the current session, if connected. */
  get client(): ZooKeeper | undefined {
    return this.connected ? this.zk : undefined;
  }

  acquire(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const zk = this.zk;
    this.zk = undefined;
    this.connected = false;
    for (const wake of this.waiters) wake();
    if (zk) zk.close();
  }

  /** The connected client, connecting first if needed; rejects after `timeoutMs`. */
  async ready(): Promise<ZooKeeper> {
    if (this.closed) throw new ConnectionError('zookeeper connection is closed');
    if (!this.zk) this.open();
    if (this.connected && this.zk) return this.zk;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new TimeoutError(`zookeeper: not connected to ${this.servers} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
    if (this.closed || !this.zk || !this.connected) throw new ConnectionError('zookeeper connection is closed');
    return this.zk;
  }

  /** Run one request on the current session, with the request timeout. */
  async run<T>(what: string, fn: (zk: ZooKeeper) => Promise<T>): Promise<T> {
    const zk = await this.ready();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(zk),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`zookeeper: ${what} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (error) {
      throw error instanceof RpcxError ? error : toZkError(error, what);
    } finally {
      clearTimeout(timer);
    }
  }

  private open(): void {
    let firstConnect = true;
    const zk = new ZooKeeper({
      connect: this.servers,
      timeout: this.sessionTimeoutMs,
      debug_level: this.nativeLogLevel,
      host_order_deterministic: false,
      // The binding closes a client itself, as if expired, after this many polls in a row
      // without a server response (default 10). On a busy machine, or while a server starts,
      // that killed fresh sessions one after another; the C client has its own timeouts.
      response_counter_limit: 10_000,
    });
    this.zk = zk;
    let recycle: NodeJS.Timeout | undefined;
    zk.on('connect', () => {
      if (this.zk !== zk) return;
      clearTimeout(recycle);
      this.connected = true;
      for (const wake of this.waiters) wake();
      if (firstConnect) {
        firstConnect = false;
        this.emit('session');
      } else {
        this.emit('reconnect');
      }
    });
    zk.on('connecting', () => {
      if (this.zk !== zk || !this.connected) return;
      this.connected = false;
      this.logger.warn(`zookeeper: disconnected from ${this.servers}, reconnecting`);
      this.emit('disconnect');
      // A server that lost its data refuses a client that has seen a newer zxid, forever,
      // and never says the session expired. Long after the session would have expired
      // anyway, give up on it and open a fresh one (whose lastZxid is 0).
      recycle = setTimeout(() => {
        if (this.zk !== zk || this.connected || this.closed) return;
        this.logger.warn(`zookeeper: no connection for ${2 * this.sessionTimeoutMs} ms, starting a new session`);
        this.zk = undefined;
        zk.close();
        this.open();
      }, 2 * this.sessionTimeoutMs);
      recycle.unref();
    });
    zk.on('close', (_self: unknown, code: number) => {
      clearTimeout(recycle);
      if (this.zk !== zk || this.closed) return;
      // The session expired (or auth failed): this client is dead, start a new session.
      this.logger.warn(`zookeeper: session closed (${code}), starting a new one`);
      this.connected = false;
      this.zk = undefined;
      this.emit('disconnect');
      // Back off when sessions die before they ever connect.
      this.quickDeaths = firstConnect ? this.quickDeaths + 1 : 0;
      const delay = this.quickDeaths === 0 ? 0 : Math.min(100 * 2 ** (this.quickDeaths - 1), 2000);
      setTimeout(() => {
        if (!this.closed && !this.zk) this.open();
      }, delay).unref();
    });
    zk.init({});
  }
}

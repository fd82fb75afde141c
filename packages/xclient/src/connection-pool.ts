import {
  BreakerOpenError,
  ClientClosedError,
  ConfigError,
  DialError,
  RpcxError,
  parseServerKey,
  type Breaker,
  type Connection,
  type DialOptions,
  type Transport,
} from '@rpcx/core';
import { untilAborted } from './abort.js';
import { RpcClient, type RpcClientConfig, type ServerMessage } from './rpc-client.js';

export interface ConnectionPoolOptions {
  /** Transports to dial with, chosen by the network of each server key. */
  transports: readonly Transport[];
  /** Settings of every connection (codecs, heartbeat, idle timeout, plugins, logger). */
  config: RpcClientConfig;
  /** Time limit of each dial; undefined leaves each transport's own connect timeout in force. */
  connectTimeoutMs?: number;
  /** A circuit breaker per server (Go `GenBreaker`). */
  breaker?: () => Breaker;
  /** A dial to `key` failed. */
  onDialFailed?(key: string, error: Error): void;
  /** A server pushed a message on one of the connections. */
  onMessage(message: ServerMessage): void;
  /** The connection to `key` closed (`error` set when it failed). */
  onDisconnect(key: string, error: Error | undefined): void;
}

/**
 * One connection per server (Go's `getCachedClient`): a dial is shared by every caller waiting
 * for that server, a connection that closes is forgotten at once (the next call dials again),
 * and each server's breaker is asked before a connection is handed out and told how each dial
 * went.
 *
 * Idle connections close themselves (`RpcClientConfig.idleTimeoutMs`) and are forgotten like
 * any other closed one. `close()` closes every connection and aborts the dials under way.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, RpcClient>();
  private readonly dialing = new Map<string, Promise<RpcClient>>();
  private readonly breakers = new Map<string, Breaker>();
  /** Aborted by `close()`: dials still running give up. */
  private readonly closing = new AbortController();
  private readonly dialOptions: DialOptions;

  constructor(private readonly options: ConnectionPoolOptions) {
    const { connectTimeoutMs } = options;
    // No timeoutMs unless the user chose one: the transport's own connect timeout applies then.
    this.dialOptions = {
      signal: this.closing.signal,
      ...(connectTimeoutMs === undefined ? {} : { timeoutMs: connectTimeoutMs }),
    };
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Whether an open connection to `key` exists (sticky routing keeps to it). */
  isOpen(key: string): boolean {
    const c = this.connections.get(key);
    return c !== undefined && !c.closed;
  }

  /**
   * The connection to `key`: the open one, or one dialled for it (once, however many callers
   * wait). Throws `BreakerOpenError` when the server's breaker refuses, even with a connection
   * open (as Go), and `ClientClosedError` after `close()`. `signal` ends this caller's wait
   * with `AbortError`; the dial goes on for the others. `askBreaker` false skips the breaker
   * for a caller that asked it already for this request (a half-open breaker admits a set
   * number of requests, so each request asks once).
   */
  acquire(key: string, signal?: AbortSignal, askBreaker = true): RpcClient | Promise<RpcClient> {
    if (this.closed) throw new ClientClosedError();
    const breaker = this.breaker(key);
    if (askBreaker && breaker && !breaker.ready()) throw new BreakerOpenError();
    const open = this.connections.get(key);
    if (open && !open.closed) return open;
    let dial = this.dialing.get(key);
    if (!dial) {
      dial = this.dial(key, breaker).finally(() => this.dialing.delete(key));
      this.dialing.set(key, dial);
    }
    return signal ? untilAborted(dial, signal) : dial;
  }

  /** The breaker of `key`, made on first use; undefined without the `breaker` option. */
  breaker(key: string): Breaker | undefined {
    if (!this.options.breaker) return undefined;
    let b = this.breakers.get(key);
    if (!b) {
      b = this.options.breaker();
      this.breakers.set(key, b);
    }
    return b;
  }

  /** Close the connections to servers that are no longer listed, and forget their breakers. */
  retain(servers: ReadonlyMap<string, unknown>): void {
    // Unlike Go, which closes them only on their next error.
    for (const [key, client] of this.connections) {
      if (servers.has(key)) continue;
      this.connections.delete(key);
      void client.close();
    }
    for (const key of this.breakers.keys()) if (!servers.has(key)) this.breakers.delete(key);
  }

  /** Close every connection and abort the dials under way. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing.abort(new ClientClosedError());
    const open = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(open.map((c) => c.close()));
  }

  private async dial(key: string, breaker: Breaker | undefined): Promise<RpcClient> {
    const { network, address } = parseServerKey(key);
    const { transports, config } = this.options;
    const transport = transports.find((t) => t.networks.includes(network));
    if (!transport) throw new ConfigError(`no transport for network "${network}": install and pass the @rpcx/transport-* package that serves it`);
    let connection: Connection;
    try {
      connection = await transport.dial(network, address, this.dialOptions);
    } catch (err) {
      if (this.closed) throw new ClientClosedError();
      const error = err instanceof RpcxError ? err : new DialError(`dial ${network} ${address}: ${(err as Error).message}`, { cause: err });
      breaker?.fail();
      for (const p of config.plugins) p.connCreateFailed?.(network, address, error);
      this.options.onDialFailed?.(key, error);
      throw error;
    }
    // Go reports only failed dials; a breaker that closes on successes (rateBreaker) needs these.
    breaker?.success();
    for (const p of config.plugins) {
      const wrapped: Connection | void = p.connCreated?.(connection);
      if (wrapped) connection = wrapped;
    }
    const client = new RpcClient(connection, key, config);
    client.on('message', (m) => this.options.onMessage(m));
    client.once('close', (err) => {
      if (this.connections.get(key) === client) this.connections.delete(key);
      this.options.onDisconnect(key, err);
    });
    if (this.closed) {
      void client.close();
      throw new ClientClosedError();
    }
    this.connections.set(key, client);
    for (const p of config.plugins) p.clientConnected?.(connection);
    return client;
  }
}

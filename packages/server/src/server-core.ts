import {
  ShutdownError,
  TooManyConnectionsError,
  type Connection,
  type Logger,
  type Metadata,
} from '@rpcx/core';
import { Message, encodeMessage, type CompressorRegistry } from '@rpcx/protocol';
import { ServerConnection } from './connection.js';
import { asError, type Dispatcher } from './dispatch.js';
import { BufferBudget, type ServerLimits } from './limits.js';
import type { PluginContainer } from './plugins.js';
import type { ForeignProtocol, ForeignProtocolHandler, ProtocolHost } from './protocol.js';

/** What the running part of a server is built from (resolved from `ServerOptions` by the Server). */
export interface ServerCoreParts {
  readonly dispatcher: Dispatcher;
  readonly plugins: PluginContainer;
  readonly compressors: CompressorRegistry;
  readonly logger: Logger;
  readonly limits: ServerLimits;
  readonly authRequired: boolean;
  readonly foreign: ForeignProtocol | undefined;
}

/**
 * The running part of a Server, shared by its connections and its foreign protocol: the open
 * connections, the dispatcher their calls go to, the limits and the byte budget they keep,
 * server push, and whether shutdown has begun. The Server owns registration, listeners and
 * the plugin life cycle.
 */
export class ServerCore implements ProtocolHost {
  readonly dispatcher: Dispatcher;
  readonly plugins: PluginContainer;
  readonly compressors: CompressorRegistry;
  readonly logger: Logger;
  readonly limits: ServerLimits;
  readonly budget: BufferBudget;
  /** The server has `auth`: a connection's first call is checked before more is read. */
  readonly authRequired: boolean;
  /** Where connections that do not start with rpcx's magic byte go, when set. */
  readonly foreign: ForeignProtocolHandler | undefined;
  private readonly connections = new Set<ServerConnection>();
  private readonly byConnection = new WeakMap<Connection, ServerConnection>();
  private pushSeq = 0;
  private state: 'open' | 'shutting-down' | 'closed' = 'open';

  constructor(parts: ServerCoreParts) {
    this.dispatcher = parts.dispatcher;
    this.plugins = parts.plugins;
    this.compressors = parts.compressors;
    this.logger = parts.logger;
    this.limits = parts.limits;
    this.authRequired = parts.authRequired;
    this.budget = new BufferBudget(parts.limits.maxBufferedBytes);
    this.foreign = parts.foreign?.attach(this);
  }

  get shuttingDown(): boolean {
    return this.state !== 'open';
  }

  get open(): boolean {
    return this.state === 'open';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  activeConnections(): Connection[] {
    return [...this.connections].map((c) => c.connection);
  }

  /** A connection a listener accepted: refused when closing or full, else through the connAccept hooks. */
  accept(connection: Connection): void {
    if (this.state !== 'open') {
      connection.destroy();
      return;
    }
    const max = this.limits.maxConnections;
    if (max > 0 && this.connections.size >= max) {
      const error = new TooManyConnectionsError(max);
      this.logger.warn(`rpcx: refusing ${connection.remoteAddress}: ${error.message}`);
      connection.destroy(error);
      return;
    }
    const hooks = this.plugins.hooks.connAccept;
    if (hooks.length === 0) {
      this.track(connection);
      return;
    }
    void (async () => {
      let conn = connection;
      for (const p of hooks) {
        const r = await p.connAccept(conn);
        if (r === false) {
          conn.destroy();
          return;
        }
        if (r && typeof r === 'object') conn = r;
      }
      this.track(conn);
    })().catch((err) => {
      this.logger.warn(`rpcx: connAccept plugin: ${asError(err).message}`);
      connection.destroy();
    });
  }

  private track(connection: Connection): void {
    const conn = new ServerConnection(this, connection);
    this.connections.add(conn);
    this.byConnection.set(connection, conn);
  }

  /** A connection closed: forget it and run the connClose hooks. */
  connectionClosed(conn: ServerConnection): void {
    this.connections.delete(conn);
    for (const p of this.plugins.hooks.connClose) {
      try {
        if (p.connClose(conn.connection) === false) break;
      } catch (err) {
        this.logger.warn(`rpcx: connClose plugin: ${asError(err).message}`);
      }
    }
  }

  /** Shutdown has begun: accept nothing more, and (see `stopReading`) take no new requests. */
  beginShutdown(): void {
    if (this.state === 'open') this.state = 'shutting-down';
  }

  /** Read no new requests; calls in flight still answer (graceful shutdown). */
  stopReading(): void {
    for (const c of this.connections) c.stopReading();
  }

  /** Close every connection: gracefully (letting queued bytes out) or at once. */
  async closeConnections(graceful: boolean): Promise<void> {
    this.state = 'closed';
    if (graceful) await Promise.all([...this.connections].map((c) => c.connection.close()));
    else for (const c of this.connections) c.connection.destroy();
  }

  /** See `Server.sendMessage`. */
  async sendMessage(
    connection: Connection,
    servicePath: string,
    serviceMethod: string,
    metadata: Metadata | undefined,
    payload: Uint8Array | string,
  ): Promise<void> {
    const m = new Message({
      oneway: true,
      seq: ++this.pushSeq,
      servicePath,
      serviceMethod,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    });
    if (metadata) m.metadata = metadata;
    for (const p of this.plugins.hooks.preWriteRequest) await p.preWriteRequest(connection, m);
    let error: Error | undefined;
    try {
      if (connection.closed) throw new ShutdownError();
      const owner = this.byConnection.get(connection);
      const frame = encodeMessage(m, this.compressors);
      if (owner) {
        await owner.writable();
        owner.send(frame);
      } else {
        connection.write(frame);
      }
    } catch (err) {
      error = asError(err);
    }
    for (const p of this.plugins.hooks.postWriteRequest) await p.postWriteRequest(connection, m, error);
    if (error) throw error;
  }
}

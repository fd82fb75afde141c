import {
  ConfigError,
  ServerClosedError,
  ShutdownError,
  TooManyConnectionsError,
  isStartable,
  silentLogger,
  type Codec,
  type Connection,
  type Listener,
  type Logger,
  type Metadata,
  type RequestContext,
  type ServerPlugin,
  type Transport,
} from '@rpcx/core';
import { CodecRegistry, CompressorRegistry, Message, encodeMessage, type Compressor } from '@rpcx/protocol';
import { ServerConnection, type ServerCore } from './connection.js';
import { HttpFront, type HttpOptions } from './http/front.js';
import { BufferBudget, resolveLimits } from './limits.js';
import { PluginContainer } from './plugins.js';
import {
  ServiceTable,
  metadataString,
  type Handler,
  type RegisterFunctionOptions,
  type RegisterOptions,
  type ServiceMethod,
} from './service.js';

export interface ServerOptions {
  /** Transports to listen with, chosen by network name (e.g. `tcpTransport()` for tcp/unix). */
  transports?: Transport[];
  /** Codecs by serialize type. Raw bytes (type 0) is always there. */
  codecs?: Codec[];
  /** Extra compressors by compress type (gzip, type 1, is built in). */
  compressors?: Record<number, Compressor>;
  plugins?: ServerPlugin[];
  /**
   * Check the `__AUTH` token of every request but heartbeats; throw to refuse. A refused
   * request is answered with the error and the connection is closed, as in Go. Until a
   * connection's first call has passed, its frames are held to `maxPreAuthLength` and it is
   * read one frame at a time.
   */
  auth?: (ctx: RequestContext, token: string | undefined) => void | Promise<void>;
  /** Rewrite the `__rpcx_error__` text (Go `ServerErrorFunc`). Default: the error's message. */
  errorText?: (response: Message, error: Error) => string;
  /**
   * Close a connection that has sent nothing for this long while none of its calls runs and
   * nothing waits to be sent (`IdleTimeoutError`). 0 = never. Go: `WithReadTimeout`, none by
   * default. @default 300000 (5 min)
   */
  idleTimeoutMs?: number;
  /**
   * Close a connection whose frame, once begun, is not complete this long after (a peer
   * trickling bytes; `FrameTimeoutError`), or whose first frame is not complete this long
   * after the accept. Time spent not reading (back-pressure) does not count. 0 = never. Go has
   * none. @default 60000
   */
  frameTimeoutMs?: number;
  /**
   * Close a connection whose unsent bytes make no progress for this long: the peer does not
   * read (`WriteTimeoutError`). Progress is seen when a write is fully handed to the OS, so a
   * single reply must get out within it. 0 = never. Go: `WithWriteTimeout`, none by default.
   * @default 60000
   */
  writeTimeoutMs?: number;
  /**
   * Stop reading a connection while this many bytes of its replies (and pushes) are unsent;
   * read on once the peer has taken them below it. At least 64 KiB. Go has none: it keeps
   * reading and its writers block. @default 1048576 (1 MiB)
   */
  writeHighWaterMark?: number;
  /** See `DecodeOptions.maxMessageLength`. @default 64 MiB */
  maxMessageLength?: number;
  /**
   * See `DecodeOptions.maxDecompressedLength`; inflation runs on zlib's thread pool, one frame
   * per connection at a time. @default 32 MiB
   */
  maxDecompressedLength?: number;
  /**
   * With `auth`: the largest frame, and the largest inflated payload, accepted from a
   * connection before its first call has passed auth (heartbeats included). Larger ones close
   * it (`UnauthenticatedMessageTooLongError`, `DecompressedTooLongError`). 0 = no separate
   * limit. @default 1048576 (1 MiB)
   */
  maxPreAuthLength?: number;
  /** See `DecodeOptions.maxMetadataKeys`. @default 1024 */
  maxMetadataKeys?: number;
  /** See `DecodeOptions.maxMetadataLength`. @default 1 MiB */
  maxMetadataLength?: number;
  /**
   * Most bytes held for incomplete requests (partial frames, HTTP bodies being read) over all
   * connections; the connection whose bytes would pass it is closed (`ServerBufferFullError`).
   * 0 = no cap. @default 268435456 (256 MiB)
   */
  maxBufferedBytes?: number;
  /** Most connections open at once; more are closed on accept (`TooManyConnectionsError`). 0 = no limit. @default 0 */
  maxConnections?: number;
  /** @default silent */
  logger?: Logger;
  /**
   * The HTTP gateway and JSON-RPC 2.0 on the same port as rpcx, as Go's server has them: a
   * TCP connection whose first byte is not rpcx's magic is read as HTTP. Both are on by
   * default; `false` (or both switched off) keeps the port rpcx-only. See the README.
   */
  http?: HttpOptions | false;
}

export interface ShutdownOptions {
  /** Give up waiting for in-flight calls after this long and close anyway. @default 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * An rpcx server. Register services, listen on one or more addresses, and shut down
 * gracefully. Speaks to Go rpcx clients and to `@rpcx/xclient` alike.
 *
 * ```ts
 * const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
 * await server.register(new Arith());
 * await server.listen('tcp', '127.0.0.1:8972');
 * ```
 */
export class Server {
  private readonly core: ServerCore;
  private readonly services = new ServiceTable();
  private readonly plugins = new PluginContainer();
  private readonly transports: Transport[];
  private readonly listeners: Listener[] = [];
  private readonly connections = new Set<ServerConnection>();
  private readonly byConnection = new WeakMap<Connection, ServerConnection>();
  private readonly serviceMetadata = new Map<string, string>();
  private readonly logger: Logger;
  private pushSeq = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private state: 'open' | 'shutting-down' | 'closed' = 'open';

  constructor(options: ServerOptions = {}) {
    this.transports = options.transports ?? [];
    const limits = resolveLimits(options);
    this.logger = options.logger ?? silentLogger;
    const codecs = new CodecRegistry(options.codecs);
    const compressors = new CompressorRegistry();
    for (const [type, c] of Object.entries(options.compressors ?? {})) compressors.register(Number(type), c);
    for (const p of options.plugins ?? []) this.plugins.add(p);
    const self = this;
    this.core = {
      services: this.services,
      codecs,
      compressors,
      plugins: this.plugins,
      logger: this.logger,
      auth: options.auth,
      errorText: options.errorText,
      limits,
      budget: new BufferBudget(limits.maxBufferedBytes),
      http: undefined,
      get shuttingDown() {
        return self.state !== 'open';
      },
      callStarted() {
        self.inFlight++;
      },
      callEnded() {
        if (--self.inFlight === 0 && self.drained) self.drained();
      },
      connectionClosed(conn) {
        self.connections.delete(conn);
        for (const p of self.plugins.with('connClose')) {
          try {
            if (p.connClose(conn.connection) === false) break;
          } catch (err) {
            self.logger.warn(`rpcx: connClose plugin: ${(err as Error).message}`);
          }
        }
      },
      sendMessage: (connection, servicePath, serviceMethod, metadata, payload) =>
        this.sendMessage(connection, servicePath, serviceMethod, metadata, payload),
    };
    if (options.http !== false) {
      const front = new HttpFront(this.core, options.http ?? {});
      if (front.enabled) (this.core as { http: ServerCore['http'] }).http = front;
    }
  }

  /**
   * Register an object's methods as a service, under `options.name` or its class name.
   * Every own or inherited method not starting with `_` becomes callable; a method
   * receives `(args, ctx)` and returns the reply (or a Promise of it).
   */
  async register(service: object, options: RegisterOptions = {}): Promise<string> {
    const { name } = this.services.addService(service, options);
    const metadata = metadataString(options.metadata);
    this.serviceMetadata.set(name, metadata);
    await this.plugins.runAll('register', (p) => p.register(name, service, metadata));
    return name;
  }

  /** Register a plain function as `servicePath.<name>` (Go `RegisterFunction`). */
  async registerFunction(servicePath: string, fn: ServiceMethod, options: RegisterFunctionOptions = {}): Promise<string> {
    const name = this.services.addFunction(servicePath, fn, options);
    const metadata = metadataString(options.metadata);
    this.serviceMetadata.set(servicePath, metadata);
    await this.plugins.runAll('registerFunction', (p) => p.registerFunction(servicePath, name, fn, metadata));
    return name;
  }

  /** A reflection-free handler for `servicePath.serviceMethod`, consulted before services. */
  addHandler(servicePath: string, serviceMethod: string, handler: Handler): void {
    this.services.addHandler(servicePath, serviceMethod, handler);
  }

  /**
   * Add a plugin. Services registered earlier are announced to its `register` hook, so a
   * registry plugin created after `listen` (when the port is known) publishes them all.
   */
  async use(plugin: ServerPlugin): Promise<void> {
    this.plugins.add(plugin);
    if (plugin.register) {
      for (const [name, metadata] of this.serviceMetadata) await plugin.register(name, undefined, metadata);
    }
  }

  /** Service paths and their method names. */
  listServices(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const name of this.services.names()) out[name] = this.services.methods(name);
    return out;
  }

  /**
   * Listen on `address` with the transport serving `network` (`tcp`, `unix`, …). Resolves
   * once listening; the listener's `address` holds the bound port. Settings such as TLS are
   * the transport's (`tcpTransport({ serverTls })`).
   */
  async listen(network: string, address: string): Promise<Listener> {
    if (this.state !== 'open') throw new ServerClosedError();
    const transport = this.transports.find((t) => t.networks.includes(network));
    if (!transport) {
      throw new ConfigError(`no transport for network "${network}": install and pass the @rpcx/transport-* package that serves it`);
    }
    const listener = await transport.listen(network, address, (c) => this.accept(c));
    this.listeners.push(listener);
    return listener;
  }

  /** Addresses listened on, as `network@address`. */
  addresses(): string[] {
    return this.listeners.map((l) => `${l.network}@${l.address}`);
  }

  /** Connections currently open. */
  activeConnections(): Connection[] {
    return [...this.connections].map((c) => c.connection);
  }

  /**
   * Push a message to a connected client (Go `SendMessage`): a oneway request frame with
   * raw payload and a server-wide sequence starting at 1. While the client has more unsent
   * bytes than `writeHighWaterMark`, the push waits for it to read them.
   */
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
    for (const p of this.plugins.with('preWriteRequest')) await p.preWriteRequest(connection, m);
    let error: Error | undefined;
    try {
      if (connection.closed) throw new ShutdownError();
      const owner = this.byConnection.get(connection);
      const frame = encodeMessage(m, this.core.compressors);
      if (owner) {
        await owner.writable();
        owner.send(frame);
      } else {
        connection.write(frame);
      }
    } catch (err) {
      error = err as Error;
    }
    for (const p of this.plugins.with('postWriteRequest')) await p.postWriteRequest(connection, m, error);
    if (error) throw error;
  }

  /**
   * Graceful shutdown (Go `Shutdown`): unregister services from registries, stop accepting,
   * stop reading new requests, let in-flight calls answer, then close everything.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'shutting-down';
    await this.unregisterAll();
    await this.closeListeners();
    for (const c of this.connections) c.stopReading();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.timeoutMs ?? 30_000);
        const onAbort = () => done();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        this.drained = done;
      });
      this.drained = undefined;
    }
    await Promise.all([...this.connections].map((c) => c.connection.close()));
    await this.stopPlugins();
    this.state = 'closed';
  }

  /** Close at once (Go `Close`): listeners and connections, without waiting for calls. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.closeListeners();
    for (const c of this.connections) c.connection.destroy();
    await this.stopPlugins();
  }

  private accept(connection: Connection): void {
    if (this.state !== 'open') {
      connection.destroy();
      return;
    }
    const max = this.core.limits.maxConnections;
    if (max > 0 && this.connections.size >= max) {
      const error = new TooManyConnectionsError(max);
      this.logger.warn(`rpcx: refusing ${connection.remoteAddress}: ${error.message}`);
      connection.destroy(error);
      return;
    }
    const hooks = this.plugins.with('connAccept');
    if (hooks.length === 0) {
      this.track(new ServerConnection(this.core, connection));
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
      this.track(new ServerConnection(this.core, conn));
    })().catch((err) => {
      this.logger.warn(`rpcx: connAccept plugin: ${(err as Error).message}`);
      connection.destroy();
    });
  }

  private track(conn: ServerConnection): void {
    this.connections.add(conn);
    this.byConnection.set(conn.connection, conn);
  }

  private async unregisterAll(): Promise<void> {
    for (const name of this.serviceMetadata.keys()) {
      try {
        await this.plugins.runAll('unregister', (p) => p.unregister(name));
      } catch (err) {
        this.logger.warn(`rpcx: unregister ${name}: ${(err as Error).message}`);
      }
    }
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners.splice(0);
    await Promise.all(ls.map((l) => l.close()));
  }

  private async stopPlugins(): Promise<void> {
    for (const p of this.plugins.list()) {
      if (!isStartable(p)) continue;
      try {
        await p.stop();
      } catch (err) {
        this.logger.warn(`rpcx: stopping plugin ${p.name ?? ''}: ${(err as Error).message}`);
      }
    }
  }
}

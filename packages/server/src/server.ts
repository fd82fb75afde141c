import {
  ConfigError,
  ServerClosedError,
  isStartable,
  silentLogger,
  type Codec,
  type Connection,
  type Listener,
  type Logger,
  type Metadata,
  type ServerInterceptor,
  type ServerPlugin,
  type Transport,
} from '@rpcx/core';
import { CodecRegistry, CompressorRegistry, type Compressor } from '@rpcx/protocol';
import { Dispatcher, asError, type AuthFunction, type ErrorTextFunction } from './dispatch.js';
import { resolveLimits } from './limits.js';
import { PluginContainer } from './plugins.js';
import type { ForeignProtocol } from './protocol.js';
import { ServerCore } from './server-core.js';
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
  /** Go's plugins (hooks at each step of a connection and a call), run in the order given. */
  plugins?: ServerPlugin[];
  /**
   * Functions wrapping every call, whichever way it came in (rpcx, the HTTP gateway, JSON-RPC):
   * rate limits, access control, metrics, tracing. The first is the outermost; see
   * `ServerInterceptor` in `@rpcx/core`. @default none
   */
  interceptors?: ServerInterceptor[];
  /**
   * Check the `__AUTH` token of every request but heartbeats; throw to refuse. A refused
   * request is answered with the error and the connection is closed, as in Go. Until a
   * connection's first call has passed, its frames are held to `maxPreAuthLength` and it is
   * read one frame at a time.
   */
  auth?: AuthFunction;
  /**
   * Rewrite the `__rpcx_error__` text of rpcx error responses (Go `ServerErrorFunc`). The HTTP
   * gateway and JSON-RPC send the error's message, as Go does. Default: the error's message.
   */
  errorText?: ErrorTextFunction;
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
   * A protocol served on the rpcx port for connections whose first byte is not rpcx's magic:
   * the HTTP gateway and JSON-RPC 2.0, as Go's server has them, are
   * `http: httpGateway()` from `@rpcx/server-http`. @default none (the port speaks rpcx only)
   */
  http?: ForeignProtocol;
}

export interface ShutdownOptions {
  /** Give up waiting for in-flight calls after this long and close anyway. @default 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A registration, kept to announce it to plugins added later. */
type Registration =
  | { kind: 'service'; name: string; service: object; metadata: string }
  | { kind: 'function'; servicePath: string; name: string; fn: ServiceMethod; metadata: string };

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
  private readonly registrations: Registration[] = [];
  private readonly logger: Logger;
  /** Startable plugins started by this server. */
  private readonly started = new Set<ServerPlugin>();
  /** `listen` was called: plugins added from now on are started when added. */
  private listening = false;

  constructor(options: ServerOptions = {}) {
    this.transports = options.transports ?? [];
    this.logger = options.logger ?? silentLogger;
    const compressors = new CompressorRegistry();
    for (const [type, c] of Object.entries(options.compressors ?? {})) compressors.register(Number(type), c);
    for (const p of options.plugins ?? []) this.plugins.add(p);
    const dispatcher = new Dispatcher({
      services: this.services,
      codecs: new CodecRegistry(options.codecs),
      plugins: this.plugins,
      logger: this.logger,
      auth: options.auth,
      errorText: options.errorText,
      interceptors: options.interceptors ?? [],
    });
    this.core = new ServerCore({
      dispatcher,
      plugins: this.plugins,
      compressors,
      logger: this.logger,
      limits: resolveLimits(options),
      authRequired: options.auth !== undefined,
      foreign: options.http,
    });
  }

  /**
   * Register an object's methods as a service, under `options.name` or its class name.
   * Every own or inherited method not starting with `_` becomes callable (only `methods`, when
   * given); a method receives `(args, ctx)` and returns the reply (or a Promise of it).
   */
  async register(service: object, options: RegisterOptions = {}): Promise<string> {
    const { name } = this.services.addService(service, options);
    const metadata = metadataString(options.metadata);
    this.registrations.push({ kind: 'service', name, service, metadata });
    await this.plugins.runAll('register', (p) => p.register(name, service, metadata));
    return name;
  }

  /** Register a plain function as `servicePath.<name>` (Go `RegisterFunction`). */
  async registerFunction(servicePath: string, fn: ServiceMethod, options: RegisterFunctionOptions = {}): Promise<string> {
    const name = this.services.addFunction(servicePath, fn, options);
    const metadata = metadataString(options.metadata);
    this.registrations.push({ kind: 'function', servicePath, name, fn, metadata });
    await this.plugins.runAll('registerFunction', (p) => p.registerFunction(servicePath, name, fn, metadata));
    return name;
  }

  /** A reflection-free handler for `servicePath.serviceMethod`, consulted before services. */
  addHandler(servicePath: string, serviceMethod: string, handler: Handler): void {
    this.services.addHandler(servicePath, serviceMethod, handler);
  }

  /**
   * Add a plugin. A `Startable` plugin is started now when the server listens already (else
   * when it first listens). Services and functions registered earlier are announced to its
   * `register` / `registerFunction` hooks as they were registered, so a registry plugin created
   * after `listen` (when the port is known) publishes them all.
   */
  async use(plugin: ServerPlugin): Promise<void> {
    this.plugins.add(plugin);
    if (this.listening) await this.start(plugin);
    for (const r of this.registrations) {
      if (r.kind === 'service') await plugin.register?.(r.name, r.service, r.metadata);
      else await plugin.registerFunction?.(r.servicePath, r.name, r.fn, r.metadata);
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
    if (!this.core.open) throw new ServerClosedError();
    const transport = this.transports.find((t) => t.networks.includes(network));
    if (!transport) {
      throw new ConfigError(`no transport for network "${network}": install and pass the @rpcx/transport-* package that serves it`);
    }
    // Startable plugins start with the server's first listen, before it takes connections.
    this.listening = true;
    for (const p of this.plugins.list()) await this.start(p);
    const listener = await transport.listen(network, address, (c) => this.core.accept(c));
    this.listeners.push(listener);
    return listener;
  }

  /** Addresses listened on, as `network@address`. */
  addresses(): string[] {
    return this.listeners.map((l) => `${l.network}@${l.address}`);
  }

  /** Connections currently open. */
  activeConnections(): Connection[] {
    return this.core.activeConnections();
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
    return this.core.sendMessage(connection, servicePath, serviceMethod, metadata, payload);
  }

  /**
   * Graceful shutdown (Go `Shutdown`): unregister services from registries, stop accepting,
   * stop reading new requests, let in-flight calls answer, then close everything.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (!this.core.open) return;
    this.core.beginShutdown();
    await this.unregisterAll();
    await this.closeListeners();
    this.core.stopReading();
    await this.core.dispatcher.whenIdle(options.timeoutMs ?? 30_000, options.signal);
    await this.core.closeConnections(true);
    await this.stopPlugins();
  }

  /** Close at once (Go `Close`): listeners and connections, without waiting for calls. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    await Promise.all([this.core.closeConnections(false), this.closeListeners()]);
    await this.stopPlugins();
  }

  /** Start a `Startable` plugin once. */
  private async start(plugin: ServerPlugin): Promise<void> {
    if (!isStartable(plugin) || this.started.has(plugin)) return;
    await plugin.start();
    this.started.add(plugin);
  }

  /** Each registered service path, once. */
  private registeredNames(): Set<string> {
    return new Set(this.registrations.map((r) => (r.kind === 'service' ? r.name : r.servicePath)));
  }

  private async unregisterAll(): Promise<void> {
    for (const name of this.registeredNames()) {
      try {
        await this.plugins.runAll('unregister', (p) => p.unregister(name));
      } catch (err) {
        this.logger.warn(`rpcx: unregister ${name}: ${asError(err).message}`);
      }
    }
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners.splice(0);
    await Promise.all(ls.map((l) => l.close()));
  }

  /** Stop every `Startable` plugin (the server was given them to run), started here or not. */
  private async stopPlugins(): Promise<void> {
    for (const p of this.plugins.list()) {
      if (!isStartable(p)) continue;
      try {
        await p.stop();
      } catch (err) {
        this.logger.warn(`rpcx: stopping plugin ${p.name ?? ''}: ${asError(err).message}`);
      }
    }
    this.started.clear();
  }
}

import {
  AbortError,
  BreakerOpenError,
  ClientClosedError,
  CodecError,
  ConfigError,
  ConnectionError,
  FailMode,
  MetaKey,
  MultiError,
  NoServerError,
  SerializeType,
  ServiceError,
  parseServerKey,
  silentLogger,
  CallTimeoutError,
  type Breaker,
  type ClientCallInfo,
  type ClientPlugin,
  type Codec,
  type Connection,
  type Logger,
  type SelectFunction,
  type Selector,
  type ServiceDiscovery,
  type ServiceEntry,
  type Transport,
} from '@rpcx/core';
import { CodecRegistry, CompressorRegistry, type Compressor, type Message } from '@rpcx/protocol';
import { filterServers, selectorFor } from '@rpcx/selector';
import { RpcClient, type CallOptions, type RpcClientConfig, type ServerMessage } from './rpc-client.js';
import { Emitter, events } from './emitter.js';

export interface XClientOptions {
  /** The service every call of this client goes to (Go: one XClient per servicePath). */
  servicePath: string;
  /** Where the servers are: `peer2peer(...)`, `multipleServers(...)` or a registry package. */
  discovery: ServiceDiscovery;
  /** Transports to dial with, chosen by the network of each server key. */
  transports: Transport[];
  /**
   * Codecs by serialize type; raw bytes is always there. Must hold the codec of `serializeType`
   * (msgpack by default), and one codec per type: otherwise the constructor throws ConfigError.
   */
  codecs?: Codec[];
  compressors?: Record<number, Compressor>;
  /** @default FailMode.Failfast */
  failMode?: FailMode;
  /** A Go `SelectMode` number, or your own `Selector`. @default random */
  selector?: Selector | number;
  /** Attempts after the first for Failover / Failtry. @default 3 */
  retries?: number;
  /** Pause between attempts. @default 0 */
  retryIntervalMs?: number;
  /** Failbackup: send a second request if the first has not answered in this long. @default 10 */
  backupLatencyMs?: number;
  /** @default 1000 */
  connectTimeoutMs?: number;
  /** Default per-call timeout, 0 = none. @default 0 */
  timeoutMs?: number;
  /** @default SerializeType.MsgPack (Go's default) */
  serializeType?: number;
  /** @default CompressType.None */
  compressType?: number;
  /** Auth token sent as `__AUTH` with every call (Go `Auth`). */
  auth?: string;
  /** Use only servers whose `group` metadata contains this. */
  group?: string;
  /** Send heartbeats and close a connection whose heartbeat is not answered. */
  heartbeat?: { intervalMs: number; timeoutMs?: number };
  /** A circuit breaker per server (Go `GenBreaker`). */
  breaker?: () => Breaker;
  /** Feed call failures (not only dial failures, as Go does) to the breaker. @default false */
  breakerCountsCallErrors?: boolean;
  /** Keep using the selected server until its connection closes. @default false */
  sticky?: boolean;
  plugins?: ClientPlugin[];
  /**
   * Largest reply frame accepted, counted as Go counts it (the bytes after the 16-byte prefix);
   * a bigger one closes that connection before it is buffered. 0 = no limit. @default 64 MiB
   */
  maxMessageLength?: number;
  /** Largest reply payload after decompression. 0 = no limit. @default 64 MiB */
  maxDecompressedLength?: number;
  /** @default silent */
  logger?: Logger;
}

/** One server's outcome in `inform()`. */
export interface Receipt<R = unknown> {
  /** The server's address, without `network@` (as Go). */
  address: string;
  reply?: R;
  error?: Error;
}

/** A typed view of a service: `client.typed<Arith>().Mul({A: 1, B: 2})`. */
export type ServiceClient<S> = {
  [K in keyof S]: S[K] extends (args: infer A, ...rest: any[]) => infer R ? (args: A, options?: CallOptions) => Promise<Awaited<R>> : never;
};

export interface XClientEvents {
  /** A server pushed a message on one of this client's connections. */
  message: [ServerMessage];
  /** A connection to `server` closed. */
  disconnect: [server: string, error: Error | undefined];
}

/**
 * The service-governance client (Go `XClient`): finds servers through discovery, picks one
 * per call with a selector, keeps one connection per server, and handles failures according
 * to the fail mode.
 */
export class XClient extends Emitter<XClientEvents> {
  readonly servicePath: string;
  private readonly options: XClientOptions;
  private readonly config: RpcClientConfig;
  private readonly selector: Selector;
  private readonly select: SelectFunction;
  private readonly failMode: FailMode;
  private readonly clients = new Map<string, RpcClient>();
  private readonly dialing = new Map<string, Promise<RpcClient>>();
  private readonly breakers = new Map<string, Breaker>();
  private servers = new Map<string, string>();
  private ready: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private stickyKey: string | undefined;
  private closed = false;
  /** The server list has been loaded once; calls skip the start-up await from then on. */
  private started = false;
  /** Whether any plugin has preCall / postCall, so plain calls skip both loops. */
  private readonly hasCallHooks: boolean;

  constructor(options: XClientOptions) {
    super();
    if (!options.servicePath) throw new ConfigError('servicePath is required');
    this.options = options;
    this.servicePath = options.servicePath;
    this.failMode = options.failMode ?? FailMode.Failfast;
    this.selector =
      typeof options.selector === 'object' ? options.selector : selectorFor(options.selector ?? 0);
    const plugins = options.plugins ?? [];
    let select: SelectFunction = (info) => this.selector.select(info);
    for (const p of plugins) if (p.wrapSelect) select = p.wrapSelect(select);
    this.select = select;
    this.hasCallHooks = plugins.some((p) => p.preCall || p.postCall);
    const compressors = new CompressorRegistry();
    for (const [t, c] of Object.entries(options.compressors ?? {})) compressors.register(Number(t), c);
    const codecs = new CodecRegistry(options.codecs);
    const serializeType = options.serializeType ?? SerializeType.MsgPack;
    // Say now, not at the first call, that the codec of the calls' serialize type is missing.
    codecs.required(serializeType, options.serializeType === undefined ? `XClient (default serializeType ${serializeType}, as in Go)` : 'XClient serializeType');
    this.config = {
      codecs,
      compressors,
      serializeType,
      compressType: options.compressType ?? 0,
      timeoutMs: options.timeoutMs ?? 0,
      heartbeatIntervalMs: options.heartbeat?.intervalMs ?? 0,
      heartbeatTimeoutMs: options.heartbeat?.timeoutMs ?? 30_000,
      maxMessageLength: options.maxMessageLength,
      maxDecompressedLength: options.maxDecompressedLength,
      plugins,
      logger: options.logger ?? silentLogger,
    };
  }

  /** Call `method` with the fail mode's retries; resolves with the decoded reply. */
  async call<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    if (!this.started) await this.start();
    const info = this.callInfo(method, args, options);
    if (!this.hasCallHooks) return this.withFailMode(info, options) as Promise<R>;
    await this.preCall(info);
    let reply: unknown;
    let error: Error | undefined;
    try {
      reply = await this.withFailMode(info, options);
      return reply as R;
    } catch (err) {
      error = err as Error;
      throw err;
    } finally {
      await this.postCall(info, reply, error);
    }
  }

  /** Send oneway to one selected server (Go `Oneshot`): resolves once sent, no reply. */
  async oneshot(method: string, args: unknown, options: CallOptions = {}): Promise<void> {
    await this.start();
    const info = this.callInfo(method, args, options);
    const key = this.pick(info);
    const client = await this.client(key);
    await client.oneway(this.servicePath, method, args, this.withAuth(options));
  }

  /** Send a ready-made frame to a selected server with the fail mode's retries (Go `SendRaw`). */
  async sendRaw(message: Message, options: Pick<CallOptions, 'signal' | 'timeoutMs'> = {}): Promise<Message> {
    await this.start();
    const info = this.callInfo(message.serviceMethod, message.payload, { metadata: message.metadata });
    return this.withFailMode(info, options, (client) => client.sendRaw(message, options)) as Promise<Message>;
  }

  /** Call every server; succeed only if all do (Go `Broadcast`). Rejects with the first failure. */
  async broadcast<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    const keys = await this.allServers();
    const results = keys.map((k) => this.callOn(k, method, args, options));
    let first: R | undefined;
    let got = false;
    await new Promise<void>((resolve, reject) => {
      let left = results.length;
      for (const r of results) {
        r.then(
          (v) => {
            if (!got) {
              got = true;
              first = v as R;
            }
            if (--left === 0) resolve();
          },
          (e) => reject(new MultiError([e as Error])),
        );
      }
    });
    return first as R;
  }

  /** Call every server; resolve with the first success (Go `Fork`), else reject with all errors. */
  async fork<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    const keys = await this.allServers();
    try {
      return (await Promise.any(keys.map((k) => this.callOn(k, method, args, options)))) as R;
    } catch (err) {
      throw new MultiError((err as AggregateError).errors as Error[]);
    }
  }

  /**
   * Call every server and report each one's reply or error (Go `Inform`). Unlike Go, each
   * receipt carries its own server's error, not the shared list.
   */
  async inform<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<Receipt<R>[]> {
    const keys = await this.allServers();
    const settled = await Promise.allSettled(keys.map((k) => this.callOn(k, method, args, options)));
    return settled.map((s, i) => {
      const address = parseServerKey(keys[i]).address;
      return s.status === 'fulfilled' ? { address, reply: s.value as R } : { address, error: s.reason as Error };
    });
  }

  /** Typed calls through a shared interface: `client.typed<ArithService>().Mul({A, B})`. */
  typed<S>(): ServiceClient<S> {
    return new Proxy({} as ServiceClient<S>, {
      get: (_target, method) => {
        if (typeof method !== 'string' || method === 'then') return undefined;
        return (args: unknown, options?: CallOptions) => this.call(method, args, options);
      },
    });
  }

  /** Server pushes from every connection of this client, as an async iterator. */
  async *messages(signal?: AbortSignal): AsyncGenerator<ServerMessage> {
    yield* events(this, 'message', signal);
  }

  /** The servers this client currently sees (after state / group filtering). */
  get serverList(): ReadonlyMap<string, string> {
    return this.servers;
  }

  /** Close every connection and stop watching discovery. Later calls fail with "xClient is shut down". */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }

  /** Load the server list once and follow discovery afterwards. */
  private start(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (!this.ready) {
      this.ready = (async () => {
        this.unwatch = this.options.discovery.watch((entries) => this.updateServers(entries));
        this.updateServers(await this.options.discovery.getServices());
        this.started = true;
      })();
      this.ready.catch(() => (this.ready = undefined));
    }
    return this.ready;
  }

  private updateServers(entries: ServiceEntry[]): void {
    const map = new Map<string, string>();
    for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) map.set(e.key, e.value);
    this.servers = filterServers(map, { group: this.options.group });
    this.selector.updateServers(this.servers);
    // Unlike Go, connections to servers that left are closed now rather than on their next error.
    for (const [key, client] of this.clients) {
      if (!this.servers.has(key)) {
        this.clients.delete(key);
        void client.close();
      }
    }
    if (this.stickyKey && !this.servers.has(this.stickyKey)) this.stickyKey = undefined;
  }

  private callInfo(method: string, args: unknown, options: CallOptions): ClientCallInfo {
    return { servicePath: this.servicePath, serviceMethod: method, args, metadata: options.metadata ?? {} };
  }

  private withAuth(options: CallOptions): CallOptions {
    if (this.options.auth === undefined) return options;
    return { ...options, metadata: { ...options.metadata, [MetaKey.Auth]: this.options.auth } };
  }

  private pick(info: ClientCallInfo): string {
    if (this.options.sticky && this.stickyKey) {
      const c = this.clients.get(this.stickyKey);
      if (c && !c.closed) return this.stickyKey;
    }
    const key = this.servers.size === 0 ? undefined : this.select(info);
    if (!key) throw new NoServerError();
    if (this.options.sticky) this.stickyKey = key;
    return key;
  }

  /**
   * Failover's re-select. Unlike Go, which may pick the server that just failed again, ask
   * the selector a few times for one that has not failed in this call, then take any such
   * server; only when every server has failed is a failed one retried.
   */
  private pickAvoiding(info: ClientCallInfo, failed: ReadonlySet<string>): string {
    for (let i = 0; i < 3; i++) {
      const key = this.pick(info);
      if (!failed.has(key)) return key;
    }
    for (const key of this.servers.keys()) if (!failed.has(key)) return key;
    return this.pick(info);
  }

  private async allServers(): Promise<string[]> {
    await this.start();
    const keys = [...this.servers.keys()];
    if (keys.length === 0) throw new NoServerError();
    return keys;
  }

  /** The open cached connection to `key` when there is one and its breaker lets calls through. */
  private cached(key: string): RpcClient | undefined {
    const c = this.clients.get(key);
    if (!c || c.closed || this.closed) return undefined;
    const breaker = this.options.breaker ? this.breakerFor(key) : undefined;
    return breaker && !breaker.ready() ? undefined : c;
  }

  /** The cached connection to `key`, dialling once however many callers wait for it. */
  private async client(key: string): Promise<RpcClient> {
    if (this.closed) throw new ClientClosedError();
    // As Go's getCachedClient: an open breaker refuses even when a connection is cached.
    const breaker = this.breakerFor(key);
    if (breaker && !breaker.ready()) throw new BreakerOpenError();
    const cached = this.clients.get(key);
    if (cached && !cached.closed) return cached;
    let dial = this.dialing.get(key);
    if (!dial) {
      dial = this.dial(key, breaker).finally(() => this.dialing.delete(key));
      this.dialing.set(key, dial);
    }
    return dial;
  }

  private async dial(key: string, breaker: Breaker | undefined): Promise<RpcClient> {
    const { network, address } = parseServerKey(key);
    const transport = this.options.transports.find((t) => t.networks.includes(network));
    if (!transport) throw new ConfigError(`no transport for network "${network}": install and pass the @rpcx/transport-* package that serves it`);
    let connection;
    try {
      connection = await transport.dial(network, address, { timeoutMs: this.options.connectTimeoutMs ?? 1000 });
    } catch (err) {
      breaker?.fail();
      for (const p of this.config.plugins) p.connCreateFailed?.(network, address, err as Error);
      throw err;
    }
    for (const p of this.config.plugins) {
      const wrapped: Connection | void = p.connCreated?.(connection);
      if (wrapped) connection = wrapped;
    }
    const client = new RpcClient(connection, key, this.config);
    client.on('message', (m) => this.emit('message', m));
    client.once('close', (err) => {
      if (this.clients.get(key) === client) this.clients.delete(key);
      this.emit('disconnect', key, err);
    });
    if (this.closed) {
      void client.close();
      throw new ClientClosedError();
    }
    this.clients.set(key, client);
    for (const p of this.config.plugins) p.clientConnected?.(connection);
    return client;
  }

  private breakerFor(key: string): Breaker | undefined {
    if (!this.options.breaker) return undefined;
    let b = this.breakers.get(key);
    if (!b) {
      b = this.options.breaker();
      this.breakers.set(key, b);
    }
    return b;
  }

  /** One call to one server, reporting the outcome to its breaker when asked to. */
  private async callOn(key: string, method: string, args: unknown, options: CallOptions): Promise<unknown> {
    const client = await this.client(key);
    return this.observe(key, client.call(this.servicePath, method, args, this.withAuth(options)));
  }

  private observe<T>(key: string, call: Promise<T>): Promise<T> {
    if (!this.options.breakerCountsCallErrors) return call;
    return this.observed(key, call);
  }

  private async observed<T>(key: string, call: Promise<T>): Promise<T> {
    const breaker = this.breakerFor(key);
    try {
      const r = await call;
      breaker?.success();
      return r;
    } catch (err) {
      // An answer, even one that does not decode, is no sign of a broken server.
      if (!(err instanceof ServiceError || err instanceof CodecError)) breaker?.fail();
      throw err;
    }
  }

  private async withFailMode(
    info: ClientCallInfo,
    options: CallOptions,
    send: (client: RpcClient) => Promise<unknown> = (client) =>
      client.call(this.servicePath, info.serviceMethod, info.args, this.withAuth(options)),
  ): Promise<unknown> {
    const attempt = (key: string): Promise<unknown> => {
      const cached = this.cached(key);
      if (cached) return this.observe(key, send(cached));
      return this.client(key).then((client) => this.observe(key, send(client)));
    };
    const retries = this.options.retries ?? 3;
    switch (this.failMode) {
      case FailMode.Failfast:
        return attempt(this.pick(info));
      case FailMode.Failbackup:
        return this.backup(info, options, attempt);
      case FailMode.Failtry:
      case FailMode.Failover: {
        let key = this.pick(info);
        const failed = new Set<string>();
        let lastError: Error | undefined;
        for (let i = 0; i <= retries; i++) {
          try {
            return await attempt(key);
          } catch (err) {
            lastError = err as Error;
            if (!this.retryable(lastError, options)) throw lastError;
            this.dropBroken(key, lastError);
            failed.add(key);
            if (i === retries) break;
            if (this.options.retryIntervalMs) await sleep(this.options.retryIntervalMs, options.signal);
            if (this.failMode === FailMode.Failover) {
              try {
                key = this.pickAvoiding(info, failed);
              } catch (pickErr) {
                throw pickErr instanceof NoServerError ? lastError : pickErr;
              }
            }
          }
        }
        throw lastError!;
      }
      default:
        throw new ConfigError(`unknown fail mode ${String(this.failMode)}`);
    }
  }

  /**
   * Failbackup: if the first server has not answered within the backup latency, ask a
   * second one; the first answer (even an error) wins, as in Go.
   */
  private backup(info: ClientCallInfo, options: CallOptions, attempt: (key: string) => Promise<unknown>): Promise<unknown> {
    const first = attempt(this.pick(info));
    const latency = this.options.backupLatencyMs ?? 10;
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (ok: boolean, v: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ok ? resolve(v) : reject(v);
      };
      first.then((v) => finish(true, v), (e) => finish(false, e));
      const timer = setTimeout(() => {
        let second: Promise<unknown>;
        try {
          second = attempt(this.pick(info));
        } catch (e) {
          return; // no second server: keep waiting for the first
        }
        second.then((v) => finish(true, v), (e) => finish(false, e));
      }, latency);
      options.signal?.addEventListener('abort', () => finish(false, new AbortError({ cause: options.signal!.reason })), { once: true });
    });
  }

  /** Service errors and the caller's own cancellation are final; everything else may be retried. */
  private retryable(error: Error, options: CallOptions): boolean {
    if (error instanceof ServiceError || error instanceof CodecError) return false;
    if (error instanceof AbortError || options.signal?.aborted) return false;
    if (error instanceof CallTimeoutError) return false;
    if (error instanceof ClientClosedError || error instanceof ConfigError) return false;
    return true;
  }

  /** Go drops a connection after any "uncover" error so the next attempt re-dials. */
  private dropBroken(key: string, error: Error): void {
    if (!(error instanceof ConnectionError)) return;
    const c = this.clients.get(key);
    if (c && c.closed) this.clients.delete(key);
  }

  private async preCall(info: ClientCallInfo): Promise<void> {
    for (const p of this.config.plugins) if (p.preCall) await p.preCall(info);
  }

  private async postCall(info: ClientCallInfo, reply: unknown, error: Error | undefined): Promise<void> {
    for (const p of this.config.plugins) {
      if (!p.postCall) continue;
      try {
        await p.postCall(info, reply, error);
      } catch (err) {
        this.config.logger.warn(`rpcx: postCall plugin: ${(err as Error).message}`);
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError({ cause: signal.reason }));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortError({ cause: signal!.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

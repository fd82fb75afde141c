import {
  AbortError,
  ClientClosedError,
  CodecError,
  ConfigError,
  FailMode,
  MetaKey,
  SerializeType,
  ServiceError,
  isStartable,
  silentLogger,
  type Breaker,
  type ClientAttempt,
  type ClientCall,
  type ClientCallKind,
  type ClientCallResult,
  type ClientPlugin,
  type Codec,
  type Logger,
  type Metadata,
  type SelectFunction,
  type Selector,
  type ServiceDiscovery,
  type ServiceEntry,
  type Transport,
} from '@rpcx/core';
import { CodecRegistry, CompressorRegistry, Message, type Compressor } from '@rpcx/protocol';
import { randomSelector } from '@rpcx/selector';
import { ConnectionPool } from './connection-pool.js';
import { Emitter, events } from './emitter.js';
import { failModeStrategy, type AttemptRunner, type FailModeStrategy } from './fail-modes.js';
import { fanOut, type FanOutRunner, type Receipt } from './fan-out.js';
import { buildChains, pluginCallHooks, type InterceptorList } from './interceptors.js';
import { RpcClient, type CallOptions, type RpcClientConfig, type ServerMessage } from './rpc-client.js';
import { ServerSelection } from './selection.js';

export interface XClientOptions {
  /** The service every call of this client goes to (Go: one XClient per servicePath). */
  servicePath: string;
  /**
   * Where the servers are: `peer2peer(...)`, `multipleServers(...)` or a registry package.
   * The client watches it but does not close it unless `ownDiscovery` is set.
   */
  discovery: ServiceDiscovery;
  /** `close()` closes the discovery too. @default false (you gave it; you close it) */
  ownDiscovery?: boolean;
  /** Transports to dial with, chosen by the network of each server key. */
  transports: Transport[];
  /**
   * Codecs by serialize type; raw bytes is always there. Must hold the codec of `serializeType`
   * (msgpack by default), and one codec per type: otherwise the constructor throws ConfigError.
   */
  codecs?: Codec[];
  compressors?: Record<number, Compressor>;
  /** A Go `FailMode` number; any other number is a ConfigError. @default FailMode.Failfast */
  failMode?: FailMode;
  /**
   * Makes the selector (from `@rpcx/selector`, or your own object). The client calls it once
   * and owns the result: a `Startable` selector is started and stopped with the client. For a
   * Go `SelectMode` number: `() => selectorFor(mode, options)`. @default random
   */
  selector?: () => Selector;
  /** Interceptors around every call and every attempt (see README); the first is outermost. */
  interceptors?: InterceptorList;
  /** Attempts after the first for Failover / Failtry. @default 3 */
  retries?: number;
  /** Pause between attempts. @default 0 */
  retryIntervalMs?: number;
  /** Failbackup: send a second request if the first has not answered in this long. @default 10 */
  backupLatencyMs?: number;
  /**
   * Time limit of each dial. @default the transport's own connect timeout (1000 in every
   * `@rpcx/transport-*`, as Go's `ConnectTimeout`)
   */
  connectTimeoutMs?: number;
  /**
   * Close a connection once nothing was sent or received on it for this long and no call
   * waits on it (Go `IdleTimeout`); the next call dials again. 0 = never. @default 0
   */
  idleTimeoutMs?: number;
  /**
   * After a failed dial, pass that server over in selection for this long while others are
   * available (Go declares `TimeToDisallow`, 1 min, but never applies it). 0 = never. @default 0
   */
  timeToDisallowMs?: number;
  /**
   * Time limit of a whole `broadcast` / `fork` / `inform` (Go's fixed one-minute guard);
   * 0 = none. @default 60000
   */
  fanOutTimeoutMs?: number;
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
  /** Makes a circuit breaker per server (Go `GenBreaker`). */
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

/** A typed view of a service: `client.typed<Arith>().Mul({A: 1, B: 2})`. */
export type ServiceClient<S> = {
  [K in keyof S]: S[K] extends (args: infer A, ...rest: any[]) => infer R ? (args: A, options?: CallOptions) => Promise<Awaited<R>> : never;
};

const replyOf = (result: ClientCallResult): unknown => result.reply;

/** The metadata a selector sees for a plain call without any. */
const NO_METADATA: Metadata = Object.freeze({});

/** `start()`'s promise, with a synchronous throw turned into a rejection. */
function settle<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (err) {
    return Promise.reject(err);
  }
}

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
 *
 * It is a facade over four parts: the server list and selection (`ServerSelection`), the
 * connections (`ConnectionPool`), the fail modes (`failModeStrategy`) and fan-out
 * (`fanOut`); interceptors wrap the calls and attempts that pass between them.
 */
export class XClient extends Emitter<XClientEvents> {
  readonly servicePath: string;
  private readonly options: XClientOptions;
  private readonly config: RpcClientConfig;
  private readonly selector: Selector;
  private readonly selection: ServerSelection;
  private readonly pool: ConnectionPool;
  private readonly strategy: FailModeStrategy;
  /** Failfast: a `call` is one request, never retried. */
  private readonly failfast: boolean;
  private readonly handleCall: (call: ClientCall) => Promise<ClientCallResult>;
  private readonly handleAttempt: (attempt: ClientAttempt) => Promise<ClientCallResult>;
  private readonly callHooks: ReturnType<typeof pluginCallHooks>;
  /** Whether attempts need their own copy of the call's metadata (something may change it). */
  private readonly copyMetadata: boolean;
  /**
   * Nothing watches a `call` between the caller and its one request (Failfast, no interceptors,
   * no preCall / postCall, no breaker fed with call errors): `callPlain` sends it straight.
   */
  private readonly plainCalls: boolean;
  /** Aborts when the client closes: pauses between attempts end. */
  private readonly closing = new AbortController();
  private ready: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  /** The server list has been loaded once; calls skip the start-up await from then on. */
  private started = false;

  constructor(options: XClientOptions) {
    super();
    if (!options.servicePath) throw new ConfigError('servicePath is required');
    this.options = options;
    this.servicePath = options.servicePath;
    const plugins = options.plugins ?? [];
    const logger = options.logger ?? silentLogger;

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
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      maxMessageLength: options.maxMessageLength,
      maxDecompressedLength: options.maxDecompressedLength,
      plugins,
      logger,
    };
    this.failfast = (options.failMode ?? FailMode.Failfast) === FailMode.Failfast;
    this.strategy = failModeStrategy(options.failMode ?? FailMode.Failfast, {
      retries: options.retries ?? 3,
      retryIntervalMs: options.retryIntervalMs ?? 0,
      backupLatencyMs: options.backupLatencyMs ?? 10,
      closed: this.closing.signal,
    });
    this.callHooks = pluginCallHooks(plugins, logger);
    const chains = buildChains(
      options.interceptors ?? [],
      (call) => this.dispatch(call),
      (attempt) => this.send(attempt),
    );
    this.handleCall = chains.call;
    this.handleAttempt = chains.attempt;
    this.copyMetadata = chains.hasAttemptInterceptors || this.callHooks !== undefined;
    this.plainCalls = this.failfast && chains.empty && this.callHooks === undefined && !options.breakerCountsCallErrors;

    // Made last, once every option was accepted: the client owns it from here on.
    this.selector = options.selector ? options.selector() : randomSelector();
    let select: SelectFunction = (request) => this.selector.select(request);
    for (const p of plugins) if (p.wrapSelect) select = p.wrapSelect(select);
    this.pool = new ConnectionPool({
      transports: options.transports,
      config: this.config,
      connectTimeoutMs: options.connectTimeoutMs,
      breaker: options.breaker,
      onDialFailed: (key) => this.selection.disallow(key),
      onMessage: (m) => this.emit('message', m),
      onDisconnect: (key, error) => this.emit('disconnect', key, error),
    });
    this.selection = new ServerSelection({
      selector: this.selector,
      select,
      group: options.group,
      sticky: options.sticky ?? false,
      isOpen: (key) => this.pool.isOpen(key),
      timeToDisallowMs: options.timeToDisallowMs ?? 0,
    });
  }

  /** Call `method` with the fail mode's retries; resolves with the decoded reply. */
  call<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    if (this.plainCalls && this.started && !options.responseMetadata && !this.closing.signal.aborted) return this.callPlain(method, args, options) as Promise<R>;
    return this.run('call', method, args, options).then(replyOf) as Promise<R>;
  }

  /** Send oneway to one selected server (Go `Oneshot`): resolves once sent, no reply. */
  async oneshot(method: string, args: unknown, options: CallOptions = {}): Promise<void> {
    await this.run('oneshot', method, args, options);
  }

  /**
   * Send a ready-made frame to a selected server with the fail mode's retries (Go `SendRaw`).
   * The frame is not changed: each attempt sends a copy with its own seq.
   */
  async sendRaw(message: Message, options: Pick<CallOptions, 'signal' | 'timeoutMs'> = {}): Promise<Message> {
    return (await this.run('sendRaw', message.serviceMethod, message, { ...options, metadata: message.metadata })).reply as Message;
  }

  /**
   * Call every server that can be connected to; succeed only if all do (Go `Broadcast`).
   * Resolves with the first reply; rejects with the first failure in a `MultiError`.
   */
  async broadcast<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    return (await this.run('broadcast', method, args, options)).reply as R;
  }

  /** Call every server that can be connected to; the first success wins (Go `Fork`), else a `MultiError`. */
  async fork<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<R> {
    return (await this.run('fork', method, args, options)).reply as R;
  }

  /**
   * Call every server that can be connected to and report each one's reply or error (Go
   * `Inform`). Unlike Go, each receipt carries its own server's error, not the shared list.
   */
  async inform<R = unknown>(method: string, args: unknown, options: CallOptions = {}): Promise<Receipt<R>[]> {
    return (await this.run('inform', method, args, options)).reply as Receipt<R>[];
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
    return this.selection.servers;
  }

  /**
   * Close every connection, stop watching discovery and stop the selector (which the client
   * made); close the discovery only with `ownDiscovery`. Later calls fail with "xClient is
   * shut down".
   */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.unwatch?.();
    await this.pool.close();
    if (isStartable(this.selector)) await this.selector.stop();
    if (this.options.ownDiscovery) await this.options.discovery.close();
  }

  /** Load the server list once and follow discovery afterwards. */
  private start(): Promise<void> {
    if (this.closing.signal.aborted) return Promise.reject(new ClientClosedError());
    if (!this.ready) {
      this.ready = (async () => {
        if (isStartable(this.selector)) await this.selector.start();
        this.unwatch = this.options.discovery.watch((entries) => this.updateServers(entries));
        this.updateServers(await this.options.discovery.getServices());
        this.started = true;
      })();
      this.ready.catch(() => (this.ready = undefined));
    }
    return this.ready;
  }

  private updateServers(entries: ServiceEntry[]): void {
    this.pool.retain(this.selection.update(entries));
  }

  /**
   * One call from the public methods through the call interceptors. The path of a plain call
   * is kept free of extra async frames: each costs a promise and microtask turns per call.
   */
  private run(kind: ClientCallKind, method: string, args: unknown, options: CallOptions): Promise<ClientCallResult> {
    if (this.closing.signal.aborted) return Promise.reject(new ClientClosedError());
    if (!this.started) return this.start().then(() => this.run(kind, method, args, options));
    const call = this.newCall(kind, method, args, options);
    const result = settle(() => this.handleCall(call));
    const sink = options.responseMetadata;
    if (!sink) return result;
    return result.then(
      (r) => {
        Object.assign(sink, r.metadata);
        return r;
      },
      (err: unknown) => {
        if (err instanceof ServiceError && err.metadata) Object.assign(sink, err.metadata);
        throw err;
      },
    );
  }

  private newCall(kind: ClientCallKind, method: string, args: unknown, options: CallOptions): ClientCall {
    const auth = kind === 'sendRaw' ? undefined : this.options.auth;
    return {
      kind,
      servicePath: this.servicePath,
      serviceMethod: method,
      args,
      metadata: auth === undefined ? { ...options.metadata } : { ...options.metadata, [MetaKey.Auth]: auth },
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.config.timeoutMs,
      encoding: { serializeType: options.serializeType, compressType: options.compressType, schema: options.schema },
      values: new Map(),
      singleAttempt: kind === 'oneshot' || ((kind === 'call' || kind === 'sendRaw') && this.failfast),
    };
  }

  /**
   * A `call` with nothing watching it (`plainCalls`): what `run` → Failfast → `send` does for
   * it, without the call, attempt and result objects and their promise layers, which cost
   * a good part of a call's time on the client. The outcome is the same: one server selected,
   * its connection (dialled if needed, breaker asked), one request.
   */
  private callPlain(method: string, args: unknown, options: CallOptions): Promise<unknown> {
    const auth = this.options.auth;
    const metadata = auth === undefined ? options.metadata : { ...options.metadata, [MetaKey.Auth]: auth };
    let acquired: RpcClient | Promise<RpcClient>;
    try {
      const server = this.selection.pick({ servicePath: this.servicePath, serviceMethod: method, args, metadata: metadata ?? NO_METADATA });
      acquired = this.pool.acquire(server, options.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    const request = metadata === options.metadata ? options : { ...options, metadata };
    if (acquired instanceof RpcClient) return acquired.call(this.servicePath, method, args, request);
    return acquired.then((client) => client.call(this.servicePath, method, args, request));
  }

  /** The end of the call chain: a fail mode, one oneway attempt, or a fan-out. */
  private dispatch(call: ClientCall): Promise<ClientCallResult> {
    switch (call.kind) {
      case 'call':
      case 'sendRaw':
        return this.strategy(call, this.attemptRunner);
      case 'oneshot':
        return settle(() => this.attempt(call, this.selection.pick(call), 1, undefined, call.signal));
      default:
        return fanOut(call, this.fanOutRunner, this.options.fanOutTimeoutMs ?? 60_000);
    }
  }

  private readonly attemptRunner: AttemptRunner = {
    select: (call, avoid) => this.selection.pick(call, avoid),
    send: (call, server, attempt, signal = call.signal) => this.attempt(call, server, attempt, undefined, signal),
  };

  private readonly fanOutRunner: FanOutRunner = {
    servers: () => [...this.selection.servers.keys()],
    connect: async (server, signal) => this.pool.acquire(server, signal),
    send: (call, server, index, count, signal) => this.attempt(call, server, 1, { index, count }, signal),
  };

  /** One attempt through the attempt interceptors. */
  private attempt(
    call: ClientCall,
    server: string,
    attempt: number,
    target: ClientAttempt['target'],
    signal: AbortSignal | undefined,
  ): Promise<ClientCallResult> {
    return this.handleAttempt({
      call,
      servicePath: call.servicePath,
      serviceMethod: call.serviceMethod,
      server,
      attempt,
      target,
      args: call.args,
      metadata: this.copyMetadata ? { ...call.metadata } : call.metadata,
      signal,
      timeoutMs: call.timeoutMs,
    });
  }

  /**
   * The end of the attempt chain: the server's connection (dialled if needed), the plugins'
   * preCall / postCall, the request.
   */
  private send(attempt: ClientAttempt): Promise<ClientCallResult> {
    let acquired: RpcClient | Promise<RpcClient>;
    try {
      // A fan-out target's breaker was asked when it was connected to.
      acquired = this.pool.acquire(attempt.server, attempt.signal, attempt.target === undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    if (acquired instanceof RpcClient) return this.sendOn(acquired, attempt);
    return acquired.then((client) => this.sendOn(client, attempt));
  }

  private sendOn(client: RpcClient, attempt: ClientAttempt): Promise<ClientCallResult> {
    if (!this.callHooks) return this.observe(attempt.server, this.request(client, attempt));
    return this.callHooks(attempt, (a) => this.observe(a.server, this.request(client, a)));
  }

  private request(client: RpcClient, attempt: ClientAttempt): Promise<ClientCallResult> {
    const { call, signal, timeoutMs, metadata } = attempt;
    if (call.kind === 'sendRaw') {
      const frame = new Message({ ...(attempt.args as Message), metadata });
      return client.sendRaw(frame, { signal, timeoutMs }).then((reply) => ({ reply, metadata: reply.metadata }));
    }
    const { serializeType, compressType, schema } = call.encoding;
    const options: CallOptions = { signal, timeoutMs, metadata, serializeType, compressType, schema };
    if (call.kind === 'oneshot') {
      return client.oneway(call.servicePath, call.serviceMethod, attempt.args, options).then(() => ({ reply: undefined, metadata: {} }));
    }
    return client.request(call.servicePath, call.serviceMethod, attempt.args, options);
  }

  /** With `breakerCountsCallErrors`, report the outcome of a request to its server's breaker. */
  private observe<T>(server: string, request: Promise<T>): Promise<T> {
    const breaker = this.options.breakerCountsCallErrors ? this.pool.breaker(server) : undefined;
    if (!breaker) return request;
    return request.then(
      (result) => {
        breaker.success();
        return result;
      },
      (err: unknown) => {
        // An answer, even one that does not decode, is no sign of a broken server; nor is the caller's abort.
        if (!(err instanceof ServiceError || err instanceof CodecError || err instanceof AbortError)) breaker.fail();
        throw err;
      },
    );
  }
}
